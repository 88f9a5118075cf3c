#!/usr/bin/python3
"""Consumer-group benchmark against a real `braid broker` (librdkafka through
confluent-kafka-python), each measurement next to the same one without a group.

1. Rebalance: 3 group members consume a topic of 8 partitions; a 4th joins.
   Measured: time from the 4th member's subscribe() until every member holds its
   new assignment and the 4th received its first record. Peer: a 4th consumer
   that assign()s its partitions, time until its first record.
2. Throughput: RECORDS records of 100 bytes on 8 partitions, consumed by 2
   processes in one group (subscribe, includes the join) vs 2 processes with
   assign() (4 partitions each). Time until both together consumed every record.

Usage: BRAID_BIN=build/braid /usr/bin/python3 bench/groups/run.py [RECORDS] [RUNS]
Member settings: heartbeat.interval.ms=300, session.timeout.ms=6000, range assignor.
"""
import multiprocessing as mp
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("BRAID_BIN", os.path.join(ROOT, "build", "braid"))
import braidtest  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PARTS = 8


def conf(bootstrap, group=None):
    c = {"bootstrap.servers": bootstrap, "enable.auto.commit": False,
         "auto.offset.reset": "earliest", "fetch.wait.max.ms": 50,
         "heartbeat.interval.ms": 300, "session.timeout.ms": 6000,
         "partition.assignment.strategy": "range"}
    c["group.id"] = group or "bench-nogroup"
    return c


def member(bootstrap, topic, group, parts, q, stop, name):
    """A consumer process: reports ('assigned', name, t, n) and ('first', name, t)
    and ('count', name, n) at the end."""
    c = Consumer(conf(bootstrap, group))
    first = [False]

    def on_assign(cons, tps):
        q.put(("assigned", name, time.time(), len(tps)))
    if parts is None:
        c.subscribe([topic], on_assign=on_assign)
    else:
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        q.put(("assigned", name, time.time(), len(parts)))
    n = 0
    while not stop.is_set():
        for m in c.consume(num_messages=5000, timeout=0.05):
            if m.error():
                continue
            n += 1
            if not first[0]:
                first[0] = True
                q.put(("first", name, time.time()))
    q.put(("count", name, n))
    c.close()


def fill(bootstrap, topic, records):
    a = AdminClient({"bootstrap.servers": bootstrap})
    a.create_topics([NewTopic(topic, PARTS, 1)])[topic].result()
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "batch.num.messages": 10000,
                  "queue.buffering.max.messages": 1000000})
    v = b"x" * 100
    for i in range(records):
        while True:
            try:
                p.produce(topic, v, partition=i % PARTS)
                break
            except BufferError:
                p.poll(0.01)
    p.flush(60)


def rebalance_once(bootstrap, topic, group):
    ctx = mp.get_context("fork")
    q, stop = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=member, args=(bootstrap, topic, group,
                                              None if group else [i, i + 4], q, stop, "m%d" % i))
             for i in range(3)]
    for pr in procs:
        pr.start()
    time.sleep(4 if group else 1)  # let the first three settle
    while not q.empty():
        q.get()
    t0 = time.time()
    fourth = ctx.Process(target=member, args=(bootstrap, topic, group,
                                              None if group else [3, 7], q, stop, "m3"))
    fourth.start()
    seen_first, assigned = None, set()
    deadline = t0 + 60
    while time.time() < deadline:
        try:
            ev = q.get(timeout=0.5)
        except Exception:
            continue
        if ev[0] == "assigned" and ev[2] >= t0:
            assigned.add(ev[1])
        if ev[0] == "first" and ev[1] == "m3":
            seen_first = ev[2]
        if seen_first and (not group or len(assigned) == 4):
            break
    stop.set()
    for pr in procs + [fourth]:
        pr.join(20)
    return (seen_first or deadline) - t0


def main():
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 400000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    b = braidtest.Braid("broker", http=False)
    b.start()
    try:
        topic = "bench-groups"
        fill(b.bootstrap, topic, records)
        reb = {"group": [], "assign": []}
        for r in range(runs):
            reb["group"].append(rebalance_once(b.bootstrap, topic, "bench-reb-%d" % r))
            reb["assign"].append(rebalance_once(b.bootstrap, topic, None))
        for k, v in reb.items():
            print("4th member to first record (%s): min %.3f s median %.3f s max %.3f s"
                  % (k, min(v), statistics.median(v), max(v)))
        total = {"group": [], "assign": []}
        steady = {"group": [], "assign": []}
        for r in range(runs):
            for mode in ("group", "assign"):
                t, t_after, n = throughput_run(
                    b.bootstrap, topic, "bench-thr-%d" % r if mode == "group" else None, records)
                total[mode].append(n / t)
                steady[mode].append(n / t_after)
        for name, res in (("from start, incl. join", total), ("after assignment", steady)):
            for k, v in res.items():
                print("2 consumers, 8 partitions, %d x 100 B, %s (%s): min %.0f median %.0f "
                      "max %.0f rec/s" % (records, name, k, min(v), statistics.median(v), max(v)))
            print("ratio group/assign (%s, median): %.2f" % (
                name, statistics.median(res["group"]) / statistics.median(res["assign"])))
    finally:
        b.stop()
        b.cleanup()


def counting_member(bootstrap, topic, group, parts, counter, stop, assigned_at):
    c = Consumer(conf(bootstrap, group))

    def mark(*_):
        with assigned_at.get_lock():
            assigned_at.value = max(assigned_at.value, time.time())
    if parts is None:
        c.subscribe([topic], on_assign=mark)
    else:
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        mark()
    while not stop.is_set():
        ms = c.consume(num_messages=5000, timeout=0.05)
        good = sum(1 for m in ms if not m.error())
        if good:
            with counter.get_lock():
                counter.value += good
    c.close()


def throughput_run(bootstrap, topic, group, records):
    """Two processes; returns (seconds from start until `records` consumed in
    total, seconds from the last member's assignment until then, count)."""
    ctx = mp.get_context("fork")
    counter, stop = ctx.Value("q", 0), ctx.Event()
    assigned_at = ctx.Value("d", 0.0)
    t0 = time.time()
    procs = [ctx.Process(target=counting_member,
                         args=(bootstrap, topic, group,
                               None if group else list(range(i * 4, i * 4 + 4)), counter, stop,
                               assigned_at))
             for i in range(2)]
    for pr in procs:
        pr.start()
    while counter.value < records and time.time() - t0 < 300:
        time.sleep(0.01)
    t_end = time.time()
    stop.set()
    for pr in procs:
        pr.join(20)
    return t_end - t0, t_end - max(assigned_at.value, t0), counter.value


if __name__ == "__main__":
    main()
