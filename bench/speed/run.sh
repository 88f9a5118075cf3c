#!/usr/bin/env bash
# The speed layer benchmark (docs/benchmarks.md "Speed layer (bench/speed)"):
#   bench/speed/run.sh BUILD_DIR [REPS=3] [RECORDS=4000000]
# 1. Throughput, REPS times: speed_bench writes RECORDS PageView events to a
#    braid log (8 partitions, once), then a fresh speed layer runs the view
#    of views.yaml (count per (url, hour/day/week/month)) over them: events/s
#    until every partition's offsets and cells are committed.
# 2. Latency, REPS times: 100,000 events/s appended for SECONDS (env, default
#    20) to an empty topic while a reader polls the realtime store: per event,
#    the time from its append call to the first read that reflects it.
# 3. The batch layer's rate for the same view, REPS times, if BATCH_EVENTS
#    (env, default 2000000; 0: skip) > 0: batch_bench_gen archives that many
#    events (zstandard, the default codec) and `braid batch run --threads 2`
#    builds views.yaml over them.
# Both speed figures use 2 map tasks and 1 commit task (2 cores). Prints the
# runs as JSON lines and a summary (min / median / max) with the load average.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [REPS] [RECORDS]}
reps=${2:-3}
records=${3:-4000000}
seconds=${SECONDS_LATENCY:-20}
batch_events=${BATCH_EVENTS:-2000000}
here="$(cd "$(dirname "$0")" && pwd)"
dir=${BRAID_BENCH_DIR:-/tmp/braid-speed-bench}
bench="$build/bench/speed/speed_bench"
braid="$build/braid"
[ -x "$braid" ] || braid="$build/programs/braid/braid"
mkdir -p "$dir"
results="$dir/results.jsonl"
: > "$results"
echo "load before: $(uptime)"
for rep in $(seq 1 "$reps"); do
  "$bench" throughput --views "$here/views.yaml" --records "$records" --partitions 8 \
      --map-threads 2 --dir "$dir/throughput" 2>"$dir/throughput.err" \
      | grep '^{"mode"' | tee -a "$results"
  echo "  load: $(cat /proc/loadavg)"
done
for rep in $(seq 1 "$reps"); do
  "$bench" latency --views "$here/views.yaml" --rate 100000 --seconds "$seconds" \
      --partitions 8 --map-threads 2 --dir "$dir/latency" 2>"$dir/latency.err" \
      | grep '^{"mode"' | tee -a "$results"
  echo "  load: $(cat /proc/loadavg)"
done
if [ "$batch_events" -gt 0 ]; then
  bdir="$dir/batch"
  if [ "$(cat "$bdir/EVENTS" 2>/dev/null)" != "$batch_events" ]; then
    rm -rf "$bdir" && mkdir -p "$bdir"
    "$build/bench/batch/batch_bench_gen" --dir "$bdir" --events "$batch_events" \
        --codecs zstandard >/dev/null
    echo "$batch_events" > "$bdir/EVENTS"
  fi
  for rep in $(seq 1 "$reps"); do
    start=$(date +%s.%N)
    "$braid" batch run --data "$bdir/data-zstandard" --views "$here/views.yaml" --threads 2 \
        --memory-mb 256 --json >"$dir/batch.out" 2>"$dir/batch.err"
    end=$(date +%s.%N)
    echo "{\"mode\":\"batch\",\"records\":$batch_events,\"seconds\":$(/usr/bin/python3 -c "print(round($end - $start, 3))")}" \
        | tee -a "$results"
    echo "  load: $(cat /proc/loadavg)"
  done
fi
echo "load after: $(uptime)"
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def mmm(xs, f="%.2f"):
    xs = sorted(xs)
    return (f + " / " + f + " / " + f) % (xs[0], statistics.median(xs), xs[-1])
tp = [r for r in rows if r["mode"] == "throughput"]
lat = [r for r in rows if r["mode"] == "latency"]
bt = [r for r in rows if r["mode"] == "batch"]
if tp:
    assert all(r["exact"] for r in tp), "a throughput run's cells were not exact"
    print("speed throughput, M events/s (min / median / max): " +
          mmm([r["events_per_s"] / 1e6 for r in tp]))
if lat:
    for k in ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"):
        print("latency at 100,000 events/s, %-7s (min / median / max): %s" % (
            k, mmm([r[k] for r in lat], "%.1f")))
if bt:
    print("batch (braid batch run, same view, zstandard), M events/s (min / median / max): " +
          mmm([r["records"] / r["seconds"] / 1e6 for r in bt]))
PY
