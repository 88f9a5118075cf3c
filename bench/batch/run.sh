#!/usr/bin/env bash
# The batch views benchmark (docs/benchmarks.md "Batch views"):
#   bench/batch/run.sh BUILD_DIR [EVENTS=10000000] [REPS=3]
# 1. batch_bench_gen writes EVENTS PageView events through a braid log and the
#    real archiver into one master dataset per codec (null, snappy, zstandard,
#    deflate) and the same events as CSV (once; reused while EVENTS matches).
# 2. Per repetition and codec: `braid batch run` of the two views of
#    views.yaml (2 threads, --memory-mb 256), timed by /usr/bin/time (peak
#    RSS); the page cache is warm (each dataset was just written or read).
# 3. The DuckDB peer (duckdb_peer.mjs, @duckdb/node-api, 2 threads, in-memory
#    table loaded from the CSV) computes the same aggregations REPS times.
# Prints a table: rows/s min / median / max, dataset size, peak RSS, spills.
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [EVENTS] [REPS]}
events=${2:-10000000}
reps=${3:-3}
here="$(cd "$(dirname "$0")" && pwd)"
dir=${BRAID_BENCH_DIR:-/tmp/braid-batch-bench}
braid="$build/braid"
[ -x "$braid" ] || braid="$build/programs/braid/braid"
codecs="null snappy zstandard deflate"
mkdir -p "$dir"
if [ "$(cat "$dir/EVENTS" 2>/dev/null)" != "$events" ]; then
  rm -rf "$dir"/*
  "$build/bench/batch/batch_bench_gen" --dir "$dir" --events "$events" \
      --codecs "$(echo $codecs | tr ' ' ,)"
  echo "$events" > "$dir/EVENTS"
fi
if [ ! -d "$here/node_modules/@duckdb/node-api" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
results="$dir/results.jsonl"
: > "$results"
echo "load before: $(cat /proc/loadavg)"
for rep in $(seq 1 "$reps"); do
  for codec in $codecs; do
    data="$dir/data-$codec"
    out=$(/usr/bin/time -f 'TIME %e %M' "$braid" batch run --data "$data" \
          --views "$here/views.yaml" --threads 2 --memory-mb 256 --json 2>"$dir/stderr")
    t=$(grep '^TIME' "$dir/stderr" | tail -1)
    bytes=$(du -sb "$data/archive" | cut -f1)
    echo "{\"peer\": \"braid\", \"codec\": \"$codec\", \"rep\": $rep, \"wall\": $(echo "$t" | cut -d' ' -f2), \"rss_kb\": $(echo "$t" | cut -d' ' -f3), \"dataset_bytes\": $bytes, \"run\": $out}" >> "$results"
  done
done
node "$here/duckdb_peer.mjs" "$dir/events.csv" "$reps" 2 | while read -r line; do
  echo "{\"peer\": \"duckdb\", \"run\": $line}" >> "$results"
done
echo "load after: $(cat /proc/loadavg)"
/usr/bin/python3 - "$results" "$events" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
events = int(sys.argv[2])
def line(name, rates, extra=""):
    rates = sorted(rates)
    print("| %-16s | %6.2f / %6.2f / %6.2f | %s" % (name, rates[0] / 1e6, statistics.median(rates) / 1e6,
                                                     rates[-1] / 1e6, extra))
print("| run              | M rows/s min / median / max | dataset MB | rows/s per GB stored (median) | peak RSS MB | spilled MB | build s (median) |")
print("|---|---|---|---|---|---|---|")
duck = [r["run"] for r in rows if r["peer"] == "duckdb"]
for codec in ("null", "snappy", "zstandard", "deflate"):
    rs = [r for r in rows if r["peer"] == "braid" and r["codec"] == codec]
    if not rs:
        continue
    rates = [events / r["wall"] for r in rs]
    mb = rs[0]["dataset_bytes"] / 1e6
    spilled = max(j["spilled_bytes"] for r in rs for j in r["run"]["jobs"]) / 1e6
    rss = max(r["rss_kb"] for r in rs) / 1024
    line("braid " + codec, rates, "%10.1f | %12.0f M | %8.0f | %8.1f | %.2f |" % (
        mb, statistics.median(rates) / (mb / 1000) / 1e6, rss, spilled,
        statistics.median(r["wall"] for r in rs)))
if duck:
    line("duckdb (memory)", [d["rows"] / d["seconds"] for d in duck],
         "- | - | - | - | %.2f |" % statistics.median(d["seconds"] for d in duck))
    print("duckdb cells: pageviews %d, uniques %d" % (duck[0]["pageviews_cells"], duck[0]["uniques_cells"]))
for r in rows:
    if r["peer"] == "braid":
        cells = {v["view"]: v["cells"] for v in r["run"]["views"]}
        print("braid cells (%s): pageviews %d, uniques %d" % (r["codec"], cells["pageviews"], cells["uniques"]))
        break
PY
