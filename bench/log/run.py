#!/usr/bin/python3
"""The log through a real Kafka client, braid next to librdkafka's mock cluster.

One command runs every measurement of issue 14 with the same C++ librdkafka
client (bench/log/log_bench.cc) against a fresh `braid broker` and against
the in-process mock cluster (rd_kafka_mock), alternating, RUNS times each,
and prints median [min-max] and the ratio braid/mock:

  A. produce and consume, 100 B and 1 KiB records, uncompressed and lz4,
     one partition, one producer and one consumer; the consumer with a
     pre-fetch queue that never fills (--queue large), and again with
     librdkafka's default queue (--queue default, what a new user gets).
     The mock keeps only the last 5 MiB of a partition, so both are consumed
     in passes over the same window (the last 30000 100 B / 3000 1 KiB
     records), with fetch.wait.max.ms=0 (see log_bench.cc).
  A2. the issue's scenario, braid alone: 1,000,000 records consumed from
     offset 0 in one pass with librdkafka's default consumer settings.
  B. end-to-end latency (produce call to consumer delivery) at 50% of
     braid's end-to-end peak (producer and consumer running together,
     unpaced): p50, p99, p99.9; the mock at the same rate.
  C. scaling: 1/16/128 partitions with one client; 4 and 16 producer and
     consumer clients on 16 partitions; 16 clients on 128 partitions:
     throughput, and p99 latency at the rate of B.
  D. durable: braid with --fsync-every-append and acks=all against the
     default (acks=all and acks=1).
  E. braid's Fetch with sendfile(2) against --fetch-sendfile false (the
     stored batches read and copied).

Usage: /usr/bin/python3 bench/log/run.py   (QUICK=1: fewer records, shorter
latency runs; RUNS=n, default 3; BRAID_BUILD=build/release).
Needs build/release/braid and build/release/bench/log/log_bench
(cmake --build build/release --target braid log_bench).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BRAID_BUILD", os.path.join(ROOT, "build", "release"))
os.environ.setdefault("BRAID_BIN", os.path.join(BUILD, "braid"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import braidtest  # noqa: E402

BENCH = os.path.join(BUILD, "bench", "log", "log_bench")
QUICK = os.environ.get("QUICK", "") not in ("", "0")
RUNS = int(os.environ.get("RUNS", "3"))
SCALE = 0.3 if QUICK else 1.0
LAT_SECONDS = 2 if QUICK else 3
RESULTS = []


def bench(target, **kw):
    args = [BENCH] + (["--mock"] if target == "mock" else ["--bootstrap", target])
    for k, v in kw.items():
        args += ["--" + k.replace("_", "-"), str(v)]
    for attempt in range(2):
        p = subprocess.run(args, capture_output=True, text=True, timeout=600)
        if p.returncode == 0:
            r = json.loads(p.stdout.strip().splitlines()[-1])
            RESULTS.append({"target": "mock" if target == "mock" else "braid", "args": kw,
                            "result": r})
            return r
        sys.stderr.write("log_bench %s failed (%d): %s\n" % (" ".join(args[1:]), p.returncode,
                                                           p.stderr.strip()[-500:]))
    return None


def stats(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None, None
    return statistics.median(xs), min(xs), max(xs)


def fmt(xs, unit="", scale=1.0, digits=2):
    med, lo, hi = stats(xs)
    if med is None:
        return "n/a"
    f = "%%.%df" % digits
    return (f % (med * scale)) + unit + " [" + (f % (lo * scale)) + "–" + (f % (hi * scale)) + "]"


def ratio(a, b):
    ma, mb = stats(a)[0], stats(b)[0]
    if not ma or not mb:
        return "n/a"
    return "%.2f×" % (ma / mb)


def side_by_side(braid, runs, key_list, **kw):
    """Runs braid and the mock alternately; returns {target: {key: [values]}}."""
    out = {"braid": {k: [] for k in key_list}, "mock": {k: [] for k in key_list}}
    for _ in range(runs):
        for target in (braid, "mock"):
            name = "mock" if target == "mock" else "braid"
            r = bench(target, **kw)
            for k in key_list:
                out[name][k].append(r.get(k) if r else None)
    return out


def line(*cols):
    print("| " + " | ".join(str(c) for c in cols) + " |", flush=True)


def main():
    for path in (BENCH, os.environ["BRAID_BIN"]):
        if not os.path.exists(path):
            sys.exit("missing %s: cmake --build %s --target braid log_bench" % (path, BUILD))
    print("# bench/log  %s  QUICK=%s RUNS=%d" % (time.strftime("%Y-%m-%d %H:%M:%S"), QUICK, RUNS))
    print("# uptime: " + subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print("# nproc: %d; librdkafka client for both; mock = rd_kafka_mock in the client process"
          % os.cpu_count())
    data = tempfile.mkdtemp(prefix="braid-logbench-", dir=os.environ.get("BRAID_BENCH_DIR"))
    b = braidtest.Braid(data_dir=os.path.join(data, "default"), log_level="warn", http=False)
    b.own_dir = True
    b.start()
    try:
        boot = b.bootstrap
        # ---- A. produce and consume ----
        print("\n## A. produce and consume, 1 partition, 1 producer + 1 consumer (records/s)\n")
        line("records", "codec", "consumer queue", "braid produce", "mock produce", "ratio",
             "braid consume", "mock consume", "ratio", "braid min/median")
        line(*["---"] * 10)
        for size, n, window in ((100, 1000000, 30000), (1024, 200000, 3000)):
            for codec in ("none", "lz4"):
                for queue in ("large", "default"):
                    if queue == "default" and size != 100:
                        continue
                    r = side_by_side(boot, RUNS, ["produce_rps", "consume_rps"],
                                     mode="throughput", records=int(n * SCALE), size=size,
                                     compression=codec, queue=queue, window=window,
                                     fetch_wait_ms=0)
                    bc = [x for x in r["braid"]["consume_rps"] if x]
                    line("%d × %d B" % (int(n * SCALE), size), codec, queue,
                         fmt(r["braid"]["produce_rps"], "M", 1e-6),
                         fmt(r["mock"]["produce_rps"], "M", 1e-6),
                         ratio(r["braid"]["produce_rps"], r["mock"]["produce_rps"]),
                         fmt(r["braid"]["consume_rps"], "M", 1e-6),
                         fmt(r["mock"]["consume_rps"], "M", 1e-6),
                         ratio(r["braid"]["consume_rps"], r["mock"]["consume_rps"]),
                         "%.2f" % (min(bc) / statistics.median(bc)) if bc else "n/a")
        # ---- A2. the scenario, braid alone ----
        n = int(1000000 * SCALE)
        print("\n## A2. braid alone: %d × 100 B produced, then consumed from offset 0 in one "
              "pass, librdkafka's default consumer settings (fetch.wait.max.ms=500, default "
              "queue)\n" % n)
        line("codec", "produce", "consume", "consume runs (M/s)", "min/median")
        line(*["---"] * 5)
        for codec in ("none", "lz4"):
            pr, cr = [], []
            for _ in range(RUNS):
                r = bench(boot, mode="throughput", records=n, size=100, compression=codec,
                          queue="default", fetch_wait_ms=500)
                pr.append(r["produce_rps"] if r else None)
                cr.append(r["consume_rps"] if r else None)
            ok = [x for x in cr if x]
            line(codec, fmt(pr, "M", 1e-6), fmt(cr, "M", 1e-6),
                 " ".join("%.2f" % (x / 1e6) for x in ok),
                 "%.2f" % (min(ok) / statistics.median(ok)) if ok else "n/a")
        # ---- B. latency at 50% of peak ----
        # The peak: producer and consumer running together, unpaced
        # (what a producer can push end to end; braid's, the lower of
        # its runs' median).
        pk = [bench(boot, mode="latency", rate=100000000, seconds=LAT_SECONDS, size=100)
              for _ in range(RUNS)]
        peaks = [r["achieved_rps"] for r in pk if r]
        peak = statistics.median(peaks) if peaks else 200000
        rate = int(peak * 0.5)
        print("\n## B. end-to-end latency, 100 B, 1 partition, at %d records/s "
              "(50%% of braid's end-to-end peak %d: producer and consumer together, unpaced), "
              "fetch.wait.max.ms=100, linger.ms=1, acks=1 (ms)\n" % (rate, peak))
        line("target", "achieved rate", "p50", "p99", "p99.9", "max", "lost")
        line(*["---"] * 7)
        keys = ["achieved_rps", "p50_ms", "p99_ms", "p999_ms", "max_ms", "sent", "received"]
        r = side_by_side(boot, RUNS, keys, mode="latency", rate=rate, seconds=LAT_SECONDS,
                         size=100)
        for name in ("braid", "mock"):
            lost = sum((s or 0) - (v or 0) for s, v in zip(r[name]["sent"], r[name]["received"]))
            line(name, fmt(r[name]["achieved_rps"], "M", 1e-6), fmt(r[name]["p50_ms"]),
                 fmt(r[name]["p99_ms"]), fmt(r[name]["p999_ms"]), fmt(r[name]["max_ms"]), lost)
        # ---- C. scaling ----
        print("\n## C. scaling, 100 B uncompressed: throughput (records/s) and p99 latency "
              "at %d records/s (ms)\n" % rate)
        line("partitions", "clients", "braid produce", "braid consume", "braid p99",
             "mock produce", "mock consume", "mock p99")
        line(*["---"] * 8)
        base = None
        for parts, clients in ((1, 1), (16, 1), (128, 1), (16, 4), (16, 16), (128, 16)):
            t = side_by_side(boot, RUNS, ["produce_rps", "consume_rps"], mode="throughput",
                             records=int(400000 * SCALE), size=100, partitions=parts,
                             clients=clients, window=30000, fetch_wait_ms=0)
            lat = side_by_side(boot, RUNS, ["p99_ms", "achieved_rps"], mode="latency",
                               rate=rate, seconds=LAT_SECONDS, size=100, partitions=parts,
                               clients=clients)
            bp, bc = stats(t["braid"]["produce_rps"])[0], stats(t["braid"]["consume_rps"])[0]
            if base is None:
                base = (bp, bc)
            keep = ""
            if base[0] and base[1] and bp and bc:
                keep = " (%.0f%% / %.0f%% of 1×1)" % (100 * bp / base[0], 100 * bc / base[1])
            line(parts, clients, fmt(t["braid"]["produce_rps"], "M", 1e-6),
                 fmt(t["braid"]["consume_rps"], "M", 1e-6) + keep,
                 fmt(lat["braid"]["p99_ms"]), fmt(t["mock"]["produce_rps"], "M", 1e-6),
                 fmt(t["mock"]["consume_rps"], "M", 1e-6), fmt(lat["mock"]["p99_ms"]))
    finally:
        b.stop()
        b.cleanup()
    # ---- D. durable ----
    print("\n## D. durable mode, 100 B, 1 partition, 1 producer (produce records/s)\n")
    line("broker", "acks", "produce", "vs default acks=all")
    line(*["---"] * 4)
    d = braidtest.Braid(data_dir=os.path.join(data, "durable"), log_level="warn", http=False,
                        extra_args=["--fsync-every-append"])
    d.own_dir = True
    b = braidtest.Braid(data_dir=os.path.join(data, "default2"), log_level="warn", http=False)
    b.own_dir = True
    d.start()
    b.start()
    try:
        res = {}
        for _ in range(RUNS):
            for name, boot, acks in (("default", b.bootstrap, "1"), ("default", b.bootstrap, "all"),
                                     ("--fsync-every-append", d.bootstrap, "all")):
                r = bench(boot, mode="throughput", records=int(300000 * SCALE), size=100,
                          acks=acks)
                res.setdefault((name, acks), []).append(r["produce_rps"] if r else None)
        ref = res[("default", "all")]
        for key, xs in res.items():
            line(key[0], key[1], fmt(xs, "M", 1e-6), ratio(xs, ref))
    finally:
        d.stop()
        d.cleanup()
        b.stop()
        b.cleanup()
    # ---- E. sendfile vs copy ----
    print("\n## E. Fetch with sendfile(2) vs reading and copying the stored batches "
          "(--fetch-sendfile false): consume from offset 0 in one pass (records/s)\n")
    line("records", "sendfile", "copy", "ratio")
    line(*["---"] * 4)
    on = braidtest.Braid(data_dir=os.path.join(data, "sendfile"), log_level="warn", http=False)
    off = braidtest.Braid(data_dir=os.path.join(data, "copy"), log_level="warn", http=False,
                          extra_args=["--fetch-sendfile", "false"])
    for x in (on, off):
        x.own_dir = True
        x.start()
    try:
        for size, n in ((100, 1000000), (1024, 200000)):
            res = {"on": [], "off": []}
            for _ in range(RUNS):
                for name, x in (("on", on), ("off", off)):
                    r = bench(x.bootstrap, mode="throughput", records=int(n * SCALE), size=size,
                              fetch_wait_ms=0)
                    res[name].append(r["consume_rps"] if r else None)
            line("%d × %d B" % (int(n * SCALE), size), fmt(res["on"], "M", 1e-6),
                 fmt(res["off"], "M", 1e-6), ratio(res["on"], res["off"]))
    finally:
        for x in (on, off):
            x.stop()
            x.cleanup()
        try:
            os.rmdir(data)
        except OSError:
            pass
    print("\n# uptime: " + subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    out = os.path.join(tempfile.gettempdir(), "bench-log-%d.json" % int(time.time()))
    with open(out, "w") as f:
        json.dump(RESULTS, f, indent=1)
    print("# raw results: " + out)


if __name__ == "__main__":
    main()
