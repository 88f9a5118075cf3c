#!/usr/bin/env bash
# `make run`: the whole system on ./data with the SuperWebAnalytics.com views
# (examples/superwebanalytics). Prints where to point producers, the registry
# and a browser, and the first queries to try; then runs `braid up` in the
# foreground (Ctrl-C stops it cleanly; the data stays in DATA).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
BRAID="${BRAID:-$here/build/braid}"
DATA="${DATA:-$here/data}"
KAFKA="${KAFKA_LISTEN:-127.0.0.1:9092}"
REGISTRY="${REGISTRY_LISTEN:-127.0.0.1:8081}"
HTTP="${HTTP_LISTEN:-127.0.0.1:8080}"
VIEWS="${VIEWS:-$here/examples/superwebanalytics/views.yaml}"
BATCH_INTERVAL_MS="${BATCH_INTERVAL_MS:-60000}"

cat <<MSG
braid: the Lambda Architecture in one process, with the SuperWebAnalytics.com views
  data directory   $DATA
  Kafka bootstrap  $KAFKA        (any Kafka client)
  schema registry  http://$REGISTRY   (Confluent REST API; subject pageviews-value)
  HTTP API         http://$HTTP/v1/views   (/health, /metrics)
  web console      http://$HTTP/console    (open it in a browser)
  batch runs       every $((BATCH_INTERVAL_MS / 1000)) s and on POST /v1/batch/run

In another terminal:
  # 100,000 realistic page views (Zipf urls, sessions, late events)
  build/braid example swa produce --bootstrap $KAFKA --registry http://$REGISTRY --count 100000

  curl -s http://$HTTP/v1/views
  curl -s 'http://$HTTP/v1/views/pageviews/keys?limit=5'
  curl -s 'http://$HTTP/v1/views/pageviews/value?key=http://site0.example/p/1'
  curl -s 'http://$HTTP/v1/views/uniques/value?key=http://site0.example/p/1&from=2026-01-01&to=2027-01-01'
  curl -s 'http://$HTTP/v1/views/pageviews/series?key=http://site0.example/p/1&granularity=day&from=$(date -u -d '7 days ago' +%F)&to=$(date -u -d tomorrow +%F)'
  curl -s -XPOST 'http://$HTTP/v1/batch/run?wait=true'

Walkthrough: examples/superwebanalytics/README.md
MSG
exec "$BRAID" up --data "$DATA" --listen "$KAFKA" --registry-listen "$REGISTRY" \
  --http-listen "$HTTP" --views "$VIEWS" --batch-interval-ms "$BATCH_INTERVAL_MS" "$@"
