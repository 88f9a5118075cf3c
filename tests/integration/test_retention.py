"""Retention through topic configs set with the AdminClient: small
segment.bytes plus retention.ms / retention.bytes move the log start offset
(ListOffsets earliest) and old data disappears."""

import time

import braidtest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic


class RetentionTest(braidtest.BraidTestCase):
    braid_args = ["--maintenance-interval-ms", "100"]

    def setUp(self):
        self.admin = AdminClient({"bootstrap.servers": self.braid.bootstrap})

    def produce(self, topic, n, size=200):
        p = Producer({"bootstrap.servers": self.braid.bootstrap, "acks": "all",
                      "linger.ms": 0, "batch.num.messages": 1})
        for i in range(n):
            p.produce(topic, b"%06d" % i + b"x" * size, partition=0)
            p.poll(0)
        self.assertEqual(p.flush(30), 0)

    def watermarks(self, topic):
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "ret"})
        try:
            return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        finally:
            c.close()

    def settled_log_start(self, topic):
        """Waits until the log start offset is > 0 and stops moving."""
        prev = braidtest.wait_until(lambda: self.watermarks(topic)[0] or None, timeout=30,
                                    what="log start offset > 0")
        while True:
            time.sleep(0.5)
            lo = self.watermarks(topic)[0]
            if lo == prev:
                return lo
            prev = lo

    def first_record(self, topic):
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "ret",
                      "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        try:
            c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
            deadline = time.time() + 20
            while time.time() < deadline:
                m = c.poll(0.5)
                if m is not None and not m.error():
                    return m.offset(), m.value()
            return None
        finally:
            c.close()

    def test_retention_ms_set_later_with_alter_configs(self):
        topic = self.unique_topic("ret-ms")
        self.admin.create_topics([NewTopic(topic, 1, 1, config={
            "segment.bytes": "2048", "retention.ms": "3600000"})])[topic].result(10)
        self.produce(topic, 100)
        lo, hi = self.watermarks(topic)
        self.assertEqual((lo, hi), (0, 100))
        time.sleep(1.0)
        self.assertEqual(self.watermarks(topic)[0], 0)  # one hour: nothing expires
        res = ConfigResource("topic", topic, set_config={
            "segment.bytes": "2048", "retention.ms": "500"})
        self.admin.alter_configs([res])[res].result(10)
        lo = self.settled_log_start(topic)
        self.assertGreater(lo, 0)
        self.assertLessEqual(lo, 100)
        first = self.first_record(topic)
        if lo < 100:
            self.assertEqual(first[0], lo)
            self.assertEqual(first[1][:6], b"%06d" % lo)
        # New records are still accepted and readable.
        self.produce(topic, 1)
        self.assertEqual(self.watermarks(topic)[1], 101)

    def test_retention_bytes(self):
        topic = self.unique_topic("ret-bytes")
        self.admin.create_topics([NewTopic(topic, 1, 1, config={
            "segment.bytes": "2048", "retention.bytes": "4096",
            "retention.ms": "-1"})])[topic].result(10)
        self.produce(topic, 200)
        lo2 = self.settled_log_start(topic)
        hi = self.watermarks(topic)[1]
        self.assertGreater(lo2, 100)
        self.assertEqual(hi, 200)
        first = self.first_record(topic)
        self.assertEqual(first[0], lo2)


if __name__ == "__main__":
    braidtest.main()
