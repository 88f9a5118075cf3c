#!/usr/bin/env bash
# End-to-end tour: start `braid up` in a temp dir, produce and consume with
# kcat, register a schema, read metrics, stop braid by PID.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BRAID="${BRAID:-$ROOT/build/braid}"
DATA="$(mktemp -d)"
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
K=$(port); H=$(port); R=$(port)
"$BRAID" up --data "$DATA" --listen 127.0.0.1:$K --http-listen 127.0.0.1:$H \
  --registry-listen 127.0.0.1:$R >"$DATA.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA" "$DATA.log"' EXIT
for _ in $(seq 100); do grep -q "braid: ready" "$DATA.log" && break; sleep 0.1; done
kcat -b 127.0.0.1:$K -t pageviews -P -l "$ROOT/examples/pageviews.jsonl"
kcat -b 127.0.0.1:$K -t pageviews -C -o beginning -e -q
"$BRAID" schemas --registry http://127.0.0.1:$R register pageview-value "$ROOT/examples/pageview.avsc"
curl -s 127.0.0.1:$H/health; echo
