#!/usr/bin/python3
"""Produce throughput with schema validation on vs off, in one run (`braid up`:
broker + embedded registry), through librdkafka (confluent-kafka-python).

Records: Confluent-framed Avro (magic 0, 4-byte schema id, body), 100-byte
values of {"type":"record","name":"Ev","fields":[{"name":"s","type":"string"},
{"name":"n","type":"long"}]}. Two topics of 4 partitions, one with
braid.value.schema.validation=true; RECORDS records each, acks=all,
linger.ms=5, alternating topics RUNS times.

Usage: BRAID_BIN=build/braid /usr/bin/python3 bench/validation/run.py [RECORDS] [RUNS]
"""
import json
import os
import statistics
import struct
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("BRAID_BIN", os.path.join(ROOT, "build", "braid"))
import braidtest  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

SCHEMA = {"type": "record", "name": "Ev",
          "fields": [{"name": "s", "type": "string"}, {"name": "n", "type": "long"}]}


def register(registry_port, subject):
    req = urllib.request.Request(
        "http://127.0.0.1:%d/subjects/%s/versions" % (registry_port, subject),
        data=json.dumps({"schema": json.dumps(SCHEMA)}).encode(),
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"}, method="POST")
    return json.loads(urllib.request.urlopen(req).read())["id"]


def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def produce(bootstrap, topic, values, records):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                  "batch.num.messages": 10000, "queue.buffering.max.messages": 1000000,
                  "retries": 0})
    errors = [0]

    def cb(err, msg):
        if err is not None:
            errors[0] += 1
    t0 = time.time()
    for i in range(records):
        while True:
            try:
                p.produce(topic, values[i % len(values)], on_delivery=cb)
                break
            except BufferError:
                p.poll(0.005)
    p.flush(120)
    return time.time() - t0, errors[0]


def main():
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    b = braidtest.Braid("up", http=True)
    b.start()
    try:
        topics = {"on": "bench-valid-on", "off": "bench-valid-off"}
        a = AdminClient({"bootstrap.servers": b.bootstrap})
        for mode, t in topics.items():
            cfg = {"braid.value.schema.validation": "true" if mode == "on" else "false"}
            a.create_topics([NewTopic(t, 4, 1, config=cfg)])[t].result()
        ids = {mode: register(b.registry_port, t + "-value") for mode, t in topics.items()}
        vals = {}
        for mode in topics:
            vals[mode] = []
            for i in range(64):
                s = ("event-%06d-" % i + "p" * 80)[:89].encode()
                body = zigzag(len(s)) + s + zigzag(1700000000000 + i)
                vals[mode].append(b"\x00" + struct.pack(">I", ids[mode]) + body)
        print("value size: %d bytes" % len(vals["on"][0]))
        res = {"on": [], "off": []}
        for r in range(runs):
            for mode in (("off", "on") if r % 2 == 0 else ("on", "off")):
                t, err = produce(b.bootstrap, topics[mode], vals[mode], records)
                if err:
                    raise SystemExit("%d delivery errors with validation %s" % (err, mode))
                res[mode].append(records / t)
        for mode, v in res.items():
            print("validation %-3s: min %.0f median %.0f max %.0f rec/s"
                  % (mode, min(v), statistics.median(v), max(v)))
        cost = 1 - statistics.median(res["on"]) / statistics.median(res["off"])
        print("validation cost (median): %.1f%% of throughput" % (100 * cost))
    finally:
        b.stop()
        b.cleanup()


if __name__ == "__main__":
    main()
