#!/bin/bash
# Avro decode benchmark: braid's compiled decoder and generic decoder vs avro-c's
# generic value API, on 1,000,000 PageView records with the null and deflate codecs;
# plus braid's field extractor (url, user and timestamp only) beside the compiled
# decoder.
#
# Usage: bench/avro_decode/run.sh [BUILD_DIR] [RECORDS] [RUNS]
#   BUILD_DIR  a release build with -DBRAID_BUILD_BENCH=ON (default build/release);
#              the targets avro_decode_bench and avroc_decode are built if missing.
#   RECORDS    default 1000000; RUNS default 5.
# The data files go to $BENCH_TMP (default /tmp/braid-avro-decode) and are reused.
# Each tool runs RUNS times per file, one process at a time, interleaved, on
# one core (taskset -c 0 when available); braid-blocks-only only reads and
# decompresses the blocks (the floor under every decoder). Every run times opening the file, reading and
# decompressing the blocks and decoding every record touching every field; all
# tools must report the same checksum. braid-extract decodes every record with a
# FieldExtractor for url, user and timestamp (the other fields are skipped) and
# must report the same proj_checksum as braid-compiled. MB/s is file bytes on
# disk per second. Last, `avro_decode_bench values` times the same decoders on
# one value per input (see avro_decode_bench.cc).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build/release}"
RECORDS="${2:-1000000}"
RUNS="${3:-5}"
TMP="${BENCH_TMP:-/tmp/braid-avro-decode}"
mkdir -p "$TMP"

cmake --build "$BUILD" -j1 --target avro_decode_bench >/dev/null
BENCH="$BUILD/bench/avro_decode/avro_decode_bench"
AVROC="$BUILD/bench/avro_decode/avroc_decode"
if ! cmake --build "$BUILD" -j1 --target avroc_decode >/dev/null 2>&1; then
  echo "note: avroc_decode not built (avro-c not found); skipping the avro-c peer" >&2
  AVROC=""
fi
PIN=""
if command -v taskset >/dev/null; then PIN="taskset -c 0"; fi

for codec in null deflate; do
  f="$TMP/pageview-$RECORDS-$codec.avro"
  if [ ! -s "$f" ]; then
    if ! "$BENCH" generate "$RECORDS" "$codec" "$f"; then
      echo "braid generator failed; falling back to python3-avro" >&2
      /usr/bin/python3 "$ROOT/bench/avro_decode/gen_pageviews.py" "$RECORDS" "$codec" "$f"
    fi
  fi
done

stats() {  # stats NAME FILE_BYTES SECONDS... -> one table row
  /usr/bin/python3 - "$@" <<'PY'
import statistics, sys
name, size, recs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
secs = sorted(float(x) for x in sys.argv[4:])
med = statistics.median(secs)
rps = lambda s: recs / s / 1e6
mbs = lambda s: size / s / 1e6
print(f"| {name:<22} | {rps(secs[-1]):6.2f} / {rps(med):6.2f} / {rps(secs[0]):6.2f} "
      f"| {mbs(secs[-1]):7.1f} / {mbs(med):7.1f} / {mbs(secs[0]):7.1f} | {med:.3f} |")
PY
}

echo "records: $RECORDS, runs: $RUNS, $(nproc) cpus, pinned: ${PIN:-no}"
echo "$(uname -srm); $(gcc --version | head -1)"
for codec in null deflate; do
  f="$TMP/pageview-$RECORDS-$codec.avro"
  size=$(stat -c %s "$f")
  echo
  echo "codec $codec: $f ($size bytes)"
  echo "| decoder                | Mrecords/s min / median / max | MB/s min / median / max | median s |"
  echo "|------------------------|-------------------------------|-------------------------|----------|"
  tools=(braid-compiled braid-extract braid-generic)
  [ -n "$AVROC" ] && tools+=(avro-c)
  tools+=(braid-blocks-only)
  declare -A times=()
  ref_sum=""
  ref_proj=""
  # Interleaved (run i of every tool, then run i+1) so that load changes on a
  # shared machine hit all tools alike.
  for ((i = 0; i < RUNS; i++)); do
    for tool in "${tools[@]}"; do
      case $tool in
        braid-compiled) cmd=("$BENCH" decode "$f" compiled) ;;
        braid-extract) cmd=("$BENCH" decode "$f" extract) ;;
        braid-generic) cmd=("$BENCH" decode "$f" generic) ;;
        braid-blocks-only) cmd=("$BENCH" decode "$f" blocks) ;;
        avro-c) cmd=("$AVROC" "$f") ;;
      esac
      out=$($PIN "${cmd[@]}")
      proj=$(echo "$out" | sed -n 's/.*records=\([0-9]*\) .*proj_bytes=\([0-9]*\) proj_checksum=\([0-9]*\).*/\1 \2 \3/p')
      if [ "$tool" = braid-compiled ] && [ -z "$ref_proj" ]; then ref_proj="$proj"; fi
      if [ "$tool" = braid-extract ]; then
        if [ "$proj" != "$ref_proj" ]; then
          echo "projection checksum mismatch: braid-extract: $proj vs braid-compiled: $ref_proj" >&2
          exit 1
        fi
      elif [ "$tool" != braid-blocks-only ]; then
        sum=$(echo "$out" | sed -n 's/.*records=\([0-9]*\) bytes_touched=\([0-9]*\) checksum=\([0-9]*\).*/\1 \2 \3/p')
        if [ -z "$ref_sum" ]; then ref_sum="$sum"; fi
        if [ "$sum" != "$ref_sum" ]; then
          echo "checksum mismatch: $tool: $sum vs $ref_sum" >&2
          exit 1
        fi
      fi
      times[$tool]+="$(echo "$out" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p') "
    done
  done
  declare -A med=()
  for tool in "${tools[@]}"; do
    # shellcheck disable=SC2086
    stats "$tool" "$size" "$RECORDS" ${times[$tool]}
    med[$tool]=$(printf '%s\n' ${times[$tool]} | sort -g | sed -n "$(((RUNS + 1) / 2))p")
  done
  echo "checksums agree: records bytes_touched checksum = $ref_sum"
  echo "projection checksums agree (compiled, extract): records proj_bytes proj_checksum = $ref_proj"
  /usr/bin/python3 -c "import sys; c, e = map(float, sys.argv[1:]); print(f'ratio (median time extract / compiled): {e/c:.2f} (extract {c/e:.2f}x the speed of the full compiled decoder)')" \
    "${med[braid-compiled]}" "${med[braid-extract]}"
  if [ -n "${med[avro-c]:-}" ]; then
    /usr/bin/python3 -c "import sys; c, g, a = map(float, sys.argv[1:]); print(f'ratio (median time avro-c / braid): compiled {a/c:.2f}x, generic {a/g:.2f}x')" \
      "${med[braid-compiled]}" "${med[braid-generic]}" "${med[avro-c]}"
  fi
  unset med times
done

# One value per input (Kafka message values, as the speed layer and the archiver
# see them): the full compiled decoder vs the field extractor, whole value or
# stopping after the last wanted field (ExtractorOptions::read_to_end = false).
echo
echo "per-record values (null-codec file's records copied to memory first):"
$PIN "$BENCH" values "$TMP/pageview-$RECORDS-null.avro" "$RUNS"
