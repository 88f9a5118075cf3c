#!/usr/bin/python3
"""Produce and consume throughput through SASL_SSL (SCRAM-SHA-512, TLS 1.3)
against PLAINTEXT, same client (librdkafka via confluent-kafka-python), same
braid broker, alternating in one run; and the connection set-up time (a new
client's first Metadata answer) with SCRAM-SHA-512 over TLS against
plaintext.

Usage: BRAID_BIN=build/braid /usr/bin/python3 bench/security/run.py [RECORDS] [RUNS]
"""
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("BRAID_BIN", os.path.join(ROOT, "build", "braid"))
import braidtest  # noqa: E402
import securitytest  # noqa: E402
from confluent_kafka import Consumer, Producer  # noqa: E402

VALUE = b"x" * 100


def produce(conf, topic, records):
    p = Producer(dict(conf, **{"acks": "all", "linger.ms": 5, "batch.num.messages": 10000,
                               "queue.buffering.max.messages": 1000000}))
    t0 = time.time()
    for i in range(records):
        while True:
            try:
                p.produce(topic, VALUE)
                break
            except BufferError:
                p.poll(0.01)
    assert p.flush(120) == 0
    return records / (time.time() - t0)


def consume(conf, topic, records):
    c = Consumer(dict(conf, **{"group.id": "bench-" + topic, "auto.offset.reset": "earliest",
                               "enable.auto.commit": False, "fetch.min.bytes": 1}))
    c.subscribe([topic])
    n = 0
    t0 = None
    while n < records:
        msgs = c.consume(10000, 1.0)
        if msgs and t0 is None:
            t0 = time.time()
        n += sum(1 for m in msgs if not m.error())
    rate = records / (time.time() - t0)
    c.close()
    return rate


def connect_ms(conf, n=20):
    out = []
    for _ in range(n):
        t0 = time.time()
        p = Producer(conf)
        p.list_topics(timeout=10)
        out.append((time.time() - t0) * 1000)
        del p
    return out


def main():
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    tmp = tempfile.mkdtemp(prefix="braid-bench-sec-")
    certs = securitytest.make_certs(tmp)
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    securitytest.add_user(data, "alice", "alice-secret-1")
    port = braidtest.free_port()
    b = braidtest.Braid("broker", data_dir=data, log_level="warn", extra_args=[
        "--listen", "SASL_SSL://127.0.0.1:%d" % port, "--tls-cert", certs["server"],
        "--tls-key", certs["server_key"]])
    b.start()
    try:
        plain = {"bootstrap.servers": b.bootstrap}
        secure = {"bootstrap.servers": "127.0.0.1:%d" % port, "security.protocol": "SASL_SSL",
                  "sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": "alice",
                  "sasl.password": "alice-secret-1", "ssl.ca.location": certs["ca"]}
        res = {k: [] for k in ("p_plain", "p_sec", "c_plain", "c_sec")}
        for r in range(runs):
            for name, conf in (("plain", plain), ("sec", secure)):
                topic = "bench-%s-%d" % (name, r)
                res["p_" + name].append(produce(conf, topic, records))
                res["c_" + name].append(consume(conf, topic, records))
        print("records: %d x %d bytes, %d runs" % (records, len(VALUE), runs))
        for k, label in (("p", "produce"), ("c", "consume")):
            for name in ("plain", "sec"):
                v = res["%s_%s" % (k, name)]
                print("%-8s %-9s: min %8.0f median %8.0f max %8.0f rec/s" % (
                    label, "PLAINTEXT" if name == "plain" else "SASL_SSL", min(v),
                    statistics.median(v), max(v)))
            ratio = statistics.median(res[k + "_sec"]) / statistics.median(res[k + "_plain"])
            print("%-8s SASL_SSL / PLAINTEXT (median): %.0f%%" % (label, ratio * 100))
        for name, conf in (("PLAINTEXT", plain), ("SASL_SSL SCRAM-SHA-512", secure)):
            v = connect_ms(conf)
            print("connect + first Metadata, %s: min %.1f median %.1f max %.1f ms" % (
                name, min(v), statistics.median(v), max(v)))
    finally:
        b.stop()
        b.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
