#!/usr/bin/env bash
# Installs every Debian package braid's build, tests and benchmarks need.
# Idempotent: packages already present are skipped quickly by apt. Uses sudo
# when not run as root. Also installs the npm test clients (kafkajs) into
# tests/integration/node/node_modules from its lock file, and DuckDB (the
# batch benchmark's peer) into bench/batch/node_modules from its lock file.
set -euo pipefail

PKGS=(
  # toolchain
  build-essential cmake pkg-config git clang clang-format libclang-rt-14-dev
  # libraries
  libboost-dev librdkafka-dev librocksdb-dev libspdlog-dev libfmt-dev
  libcli11-dev nlohmann-json3-dev zlib1g-dev libsnappy-dev liblz4-dev
  libzstd-dev libbz2-dev liblzma-dev libxxhash-dev libgtest-dev libgmock-dev
  libbenchmark-dev libssl-dev libdeflate-dev libyaml-cpp-dev
  # test peers and oracles
  kcat python3 python3-kafka python3-confluent-kafka python3-avro python3-snappy
  python3-zstandard python3-lz4 python3-xxhash python3-requests avro-bin libavro-dev
  golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev
  burrow zookeeper redis-server redis-tools wrk nodejs npm
  procps psmisc curl openssl
)

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# nodejs may come from elsewhere (a preinstalled node); accept a working `node`+`npm`.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=()
  for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || tmp+=("$p"); done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

here="$(cd "$(dirname "$0")/.." && pwd)"
nodedir="$here/tests/integration/node"
if [ -f "$nodedir/package.json" ] && [ ! -d "$nodedir/node_modules/kafkajs" ]; then
  echo "install-deps: npm ci in $nodedir"
  (cd "$nodedir" && npm ci --no-audit --no-fund --loglevel=error)
fi
benchdir="$here/bench/batch"
if [ -f "$benchdir/package.json" ] && [ ! -d "$benchdir/node_modules/@duckdb/node-api" ]; then
  echo "install-deps: npm ci in $benchdir (DuckDB, the batch benchmark's peer)"
  (cd "$benchdir" && npm ci --no-audit --no-fund --loglevel=error)
fi
