#!/usr/bin/env bash
# The serving benchmark (issue 13): wrk on keep-alive connections against
# `braid up` serving a 1,000,000-key view (point reads of random keys) and
# one-year daily series; redis-benchmark GET against redis-server on the same
# machine in the same run as the reference. Repeats each measurement
# ROUNDS times and prints every round (median and spread in docs/benchmarks.md).
#
#   bench/serving/run.sh            # KEYS=1000000 ROUNDS=3 DURATION=10s CONNS=32
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
BRAID="${BRAID:-$here/build/braid}"
KEYS="${KEYS:-1000000}"
SERIES_KEYS="${SERIES_KEYS:-100}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-32}"
THREADS="${THREADS:-2}"
work="$(mktemp -d /tmp/braid-serving-bench.XXXXXX)"
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
KP=$(port); RP=$(port); HP=$(port); REDIS_PORT=$(port)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$BRAID" --log-level warn up --data "$work/data" --listen 127.0.0.1:$KP --registry-listen 127.0.0.1:$RP \
  --http-listen 127.0.0.1:$HP --views "$here/bench/serving/views.yaml" --batch-interval-ms 0 \
  > "$work/braid.out" 2>&1 &
pids+=($!)
braid_pid=$!
for _ in $(seq 100); do grep -q "braid: ready" "$work/braid.out" && break; sleep 0.1; done
echo "== braid up pid $braid_pid; producing $KEYS keys + $SERIES_KEYS x 366 series events"
/usr/bin/python3 "$here/bench/serving/gen.py" 127.0.0.1:$KP http://127.0.0.1:$RP "$KEYS" "$SERIES_KEYS"
total=$((KEYS + SERIES_KEYS * 366))
for _ in $(seq 600); do
  got=$(curl -s "http://127.0.0.1:$HP/v1/views" | /usr/bin/python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["views"][0]["coverage"]["realtime"]["offsets"].values()))')
  [ "$got" = "$total" ] && break; sleep 0.5
done
echo "== speed layer caught up ($got events); batch run"
curl -s -XPOST "http://127.0.0.1:$HP/v1/batch/run?wait=true" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print("batch run: %.1f s (phases %s), %s cells" % (r["seconds"], r["phases"], r["views"][0]["cells"]))'
curl -s "http://127.0.0.1:$HP/v1/views/bench/value?key=k1"; echo
echo "== braid RSS: $(grep VmRSS /proc/$braid_pid/status)"

redis-server --port $REDIS_PORT --save '' --appendonly no --daemonize no > "$work/redis.out" 2>&1 &
pids+=($!)
sleep 0.5
redis-benchmark -p $REDIS_PORT -t set -n "$KEYS" -r "$KEYS" -q > /dev/null

export KEYS SERIES_KEYS TO_MS=$(( $(date +%s) * 1000 + 86400000 ))
for r in $(seq "$ROUNDS"); do
  echo "== round $r: braid value (wrk -t$THREADS -c$CONNS -d$DURATION)"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$here/bench/serving/value.lua" "http://127.0.0.1:$HP" \
    | grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors"
  echo "== round $r: braid series, one year daily"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$here/bench/serving/series.lua" "http://127.0.0.1:$HP" \
    | grep -E "Requests/sec|50%|90%|99%|Non-2xx|Socket errors"
  echo "== round $r: redis GET (redis-benchmark -c$CONNS, random keys of $KEYS)"
  redis-benchmark -p $REDIS_PORT -t get -n 1000000 -r "$KEYS" -c "$CONNS" --threads "$THREADS" \
    --precision 3 2>/dev/null | grep -E "requests per second|^ *50.000%|^ *99.000%|throughput summary|latency summary" -A2 | grep -vE "^--$" | head -8
done
