"""kcat (librdkafka 2.0.2) against braid: metadata, produce/consume with each
codec, start offsets, acks."""

import json
import subprocess
import time

import braidtest

KCAT = "kcat"


class KcatTest(braidtest.BraidTestCase):

    def kcat(self, *args, input=None, timeout=60):
        cmd = [KCAT, "-b", self.braid.bootstrap] + list(args)
        p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
        if p.returncode != 0:
            self.fail("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                             p.stderr.decode(errors="replace")))
        return p.stdout.decode()

    def produce(self, topic, lines, *extra):
        data = "".join(l + "\n" for l in lines).encode()
        self.kcat("-P", "-t", topic, *extra, input=data)

    def consume(self, topic, offset="beginning", *extra):
        out = self.kcat("-C", "-t", topic, "-o", offset, "-e", "-f", "%o %s\n", *extra)
        rows = []
        for line in out.splitlines():
            o, _, v = line.partition(" ")
            rows.append((int(o), v))
        return rows

    def test_metadata_list(self):
        topic = self.unique_topic()
        self.produce(topic, ["x"])
        md = json.loads(self.kcat("-L", "-J"))
        self.assertEqual(md["brokers"][0]["id"], 0)
        self.assertEqual(md["brokers"][0]["name"], self.braid.bootstrap)
        topics = {t["topic"]: t for t in md["topics"]}
        self.assertIn(topic, topics)
        self.assertEqual(len(topics[topic]["partitions"]), 1)
        self.assertEqual(topics[topic]["partitions"][0]["leader"], 0)
        text = self.kcat("-L")
        self.assertIn('topic "%s"' % topic, text)

    def test_each_codec_round_trips(self):
        for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
            with self.subTest(codec=codec):
                topic = self.unique_topic("codec-" + codec)
                lines = ["%s message %d %s" % (codec, i, "x" * (i % 50)) for i in range(200)]
                self.produce(topic, lines, "-z", codec)
                rows = self.consume(topic)
                self.assertEqual([v for _, v in rows], lines)
                self.assertEqual([o for o, _ in rows], list(range(200)))

    def test_start_offsets(self):
        topic = self.unique_topic()
        self.produce(topic, ["a%d" % i for i in range(10)])
        time.sleep(0.05)
        ts = int(time.time() * 1000)
        time.sleep(0.05)
        self.produce(topic, ["b%d" % i for i in range(5)])
        rows = self.consume(topic, "beginning")
        self.assertEqual(len(rows), 15)
        self.assertEqual(self.consume(topic, "end"), [])
        self.assertEqual(self.consume(topic, "-3"), [(12, "b2"), (13, "b3"), (14, "b4")])
        self.assertEqual(self.consume(topic, "12"), [(12, "b2"), (13, "b3"), (14, "b4")])
        self.assertEqual([v for _, v in self.consume(topic, "s@%d" % ts)],
                         ["b%d" % i for i in range(5)])

    def test_acks(self):
        for acks in ["0", "1", "all", "-1"]:
            with self.subTest(acks=acks):
                topic = self.unique_topic("acks" + acks.replace("-", "m"))
                lines = ["acks %s %d" % (acks, i) for i in range(50)]
                self.produce(topic, lines, "-X", "acks=" + acks)
                rows = braidtest.wait_until(
                    lambda: (lambda r: r if len(r) == 50 else None)(self.consume(topic)),
                    what="50 records")
                self.assertEqual([v for _, v in rows], lines)

    def test_keys_and_partitions(self):
        topic = self.unique_topic()
        # Explicit partition on a multi-partition topic created through kcat's
        # auto-create is not possible; produce keyed messages to partition 0.
        self.produce(topic, ["k1:v1", "k2:v2"], "-K:", "-p", "0")
        out = self.kcat("-C", "-t", topic, "-o", "beginning", "-e", "-f", "%k=%s\n")
        self.assertEqual(out.splitlines(), ["k1=v1", "k2=v2"])

    def test_http_health_and_metrics(self):
        status, body = self.braid.http_get("/health")
        self.assertEqual(status, 200)
        health = json.loads(body)
        self.assertEqual(health["status"], "ok")
        self.assertIn("broker", health["roles"])
        self.produce(self.unique_topic("metrics"), ["m"])
        status, text = self.braid.http_get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn('braid_kafka_requests_total{api="Produce"}', text)
        self.assertIn("braid_kafka_produce_latency_seconds_bucket", text)
        self.assertIn("braid_log_end_offset{topic=", text)
        self.assertIn("braid_log_fsync_total", text)
        self.assertIn("braid_kafka_connections", text)


if __name__ == "__main__":
    braidtest.main()
