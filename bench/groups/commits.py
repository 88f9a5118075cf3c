#!/usr/bin/python3
"""OffsetCommit benchmark: synchronous commits (each acknowledged only once
durable) from one librdkafka client (confluent-kafka-python), against a real
`braid broker`, next to the same workload against a peer binary.

braid keeps committed offsets in the `__consumer_offsets` topic (one batch
appended and fsynced per commit); the peer is any other braid binary, e.g.
one built from before the topic (a CRC-framed file, one fsync per commit).

Workloads (simple commits, generation -1, to a 50-partition topic):
  single: COMMITS commits of 1 partition each;
  wide:   COMMITS/10 commits of 50 partitions each.
Reported: commits/s and committed partitions/s, min / median / max of RUNS.

Usage: BRAID_BIN=build/braid [PEER_BIN=/path/to/other/braid] \\
       /usr/bin/python3 bench/groups/commits.py [COMMITS] [RUNS]
"""
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("BRAID_BIN", os.path.join(ROOT, "build", "braid"))
import braidtest  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PARTS = 50


def run_once(binary, commits):
    braidtest.BRAID_BIN = binary
    b = braidtest.Braid("broker", http=False)
    b.start()
    try:
        a = AdminClient({"bootstrap.servers": b.bootstrap})
        for f in a.create_topics([NewTopic("commits", PARTS, 1)]).values():
            f.result(30)
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "bench-commits",
                      "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition("commits", 0, 0)], asynchronous=False)  # warm up
        t0 = time.perf_counter()
        for i in range(commits):
            c.commit(offsets=[TopicPartition("commits", i % PARTS, i + 1)], asynchronous=False)
        single = commits / (time.perf_counter() - t0)
        wide_n = max(1, commits // 10)
        t0 = time.perf_counter()
        for i in range(wide_n):
            c.commit(offsets=[TopicPartition("commits", p, i + 1) for p in range(PARTS)],
                     asynchronous=False)
        wide = wide_n / (time.perf_counter() - t0)
        c.close()
        return single, wide
    finally:
        b.stop()
        b.cleanup()


def summary(name, values, unit):
    return "%-34s min %8.0f median %8.0f max %8.0f %s" % (
        name, min(values), statistics.median(values), max(values), unit)


def main():
    commits = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    binaries = [("braid", os.environ["BRAID_BIN"])]
    if os.environ.get("PEER_BIN"):
        binaries.append(("peer", os.environ["PEER_BIN"]))
    results = {name: [] for name, _ in binaries}
    for _ in range(runs):
        for name, binary in binaries:  # interleaved: the machine is noisy
            results[name].append(run_once(binary, commits))
    for name, _ in binaries:
        single = [s for s, _ in results[name]]
        wide = [w for _, w in results[name]]
        print(summary("%s single (1 partition)" % name, single, "commits/s"))
        print(summary("%s wide (50 partitions)" % name, wide, "commits/s"))
        print(summary("%s wide partitions" % name, [w * PARTS for w in wide],
                      "partitions/s"))


if __name__ == "__main__":
    main()
