"""confluent-kafka-python 1.7.0 (librdkafka 2.0.2) against braid."""

import time

import braidtest
from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic


class ConfluentKafkaTest(braidtest.BraidTestCase):

    def producer(self, **conf):
        c = {"bootstrap.servers": self.braid.bootstrap}
        c.update(conf)
        return Producer(c)

    def consumer(self):
        return Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "it",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         "enable.partition.eof": False})

    def produce_all(self, topic, values, timestamps=None, partition=None, **conf):
        p = self.producer(**conf)
        reports = []

        def on_delivery(err, msg):
            reports.append((err, msg.offset() if msg is not None else None))

        for i, v in enumerate(values):
            kw = {"on_delivery": on_delivery}
            if timestamps:
                kw["timestamp"] = timestamps[i]
            if partition is not None:
                kw["partition"] = partition
            p.produce(topic, v, key=b"k%d" % i, **kw)
            p.poll(0)
        self.assertEqual(p.flush(30), 0)
        return reports

    def consume(self, topic, count, start=OFFSET_BEGINNING, partition=0, timeout=30):
        c = self.consumer()
        try:
            c.assign([TopicPartition(topic, partition, start)])
            out = []
            deadline = time.time() + timeout
            while len(out) < count and time.time() < deadline:
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    self.fail("consumer error: %s" % m.error())
                out.append((m.offset(), m.key(), m.value(), m.timestamp()[1]))
            return out
        finally:
            c.close()

    def test_acks_and_compression(self):
        for acks in ["0", "1", "all"]:
            for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
                with self.subTest(acks=acks, codec=codec):
                    topic = self.unique_topic("ck-%s-%s" % (acks, codec))
                    values = [("%s/%s/%d" % (acks, codec, i)).encode() * 3 for i in range(300)]
                    reports = self.produce_all(topic, values, acks=acks, **{
                        "compression.type": codec, "linger.ms": 5})
                    self.assertTrue(all(err is None for err, _ in reports), reports[:3])
                    if acks != "0":
                        self.assertEqual(sorted(o for _, o in reports), list(range(300)))
                    got = self.consume(topic, 300)
                    self.assertEqual([v for _, _, v, _ in got], values)
                    self.assertEqual([o for o, _, _, _ in got], list(range(300)))
                    self.assertEqual(got[5][1], b"k5")

    def test_offsets_for_times_and_watermarks(self):
        topic = self.unique_topic()
        base = 1_700_000_000_000
        ts = [base + 1000 * i for i in range(20)]
        self.produce_all(topic, [b"v%d" % i for i in range(20)], timestamps=ts,
                         **{"linger.ms": 50})
        c = self.consumer()
        try:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
            self.assertEqual((lo, hi), (0, 20))
            found = c.offsets_for_times([TopicPartition(topic, 0, base + 7500)], timeout=10)
            self.assertEqual(found[0].offset, 8)
            found = c.offsets_for_times([TopicPartition(topic, 0, base + 10**9)], timeout=10)
            self.assertEqual(found[0].offset, -1)
        finally:
            c.close()
        got = self.consume(topic, 12, start=8)
        self.assertEqual(got[0][0], 8)
        self.assertEqual(got[0][3], base + 8000)
        self.assertEqual(len(got), 12)

    def test_admin(self):
        admin = AdminClient({"bootstrap.servers": self.braid.bootstrap})
        topic = self.unique_topic("admin")
        fs = admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1,
                                           config={"retention.ms": "3600000"})],
                                 operation_timeout=10)
        fs[topic].result(10)
        # Replication factor 3 is impossible on one broker.
        fs = admin.create_topics([NewTopic(topic + "-rf3", num_partitions=1,
                                           replication_factor=3)])
        with self.assertRaises(KafkaException) as cm:
            fs[topic + "-rf3"].result(10)
        self.assertIn("REPLICATION_FACTOR", str(cm.exception).upper())
        # Already exists.
        fs = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        with self.assertRaises(KafkaException):
            fs[topic].result(10)

        md = admin.list_topics(timeout=10)
        self.assertEqual(len(md.topics[topic].partitions), 3)
        self.assertEqual(md.controller_id, 0)

        fs = admin.create_partitions([NewPartitions(topic, 5)])
        fs[topic].result(10)
        md = admin.list_topics(timeout=10)
        self.assertEqual(len(md.topics[topic].partitions), 5)

        res = ConfigResource("topic", topic)
        configs = admin.describe_configs([res])[res].result(10)
        self.assertEqual(configs["retention.ms"].value, "3600000")
        self.assertIn("segment.bytes", configs)
        self.assertEqual(configs["cleanup.policy"].value, "delete")
        broker = ConfigResource("broker", "0")
        bconf = admin.describe_configs([broker])[broker].result(10)
        self.assertIn("auto.create.topics.enable", bconf)

        res = ConfigResource("topic", topic, set_config={"retention.ms": "7200000"})
        admin.alter_configs([res])[res].result(10)
        res = ConfigResource("topic", topic)
        configs = admin.describe_configs([res])[res].result(10)
        self.assertEqual(configs["retention.ms"].value, "7200000")

        # Produce to partition 4, then delete the topic.
        self.produce_all(topic, [b"p4"], partition=4)
        self.assertEqual(self.consume(topic, 1, partition=4)[0][2], b"p4")
        admin.delete_topics([topic], operation_timeout=10)[topic].result(10)
        md = admin.list_topics(timeout=10)
        self.assertNotIn(topic, md.topics)
        fs = admin.delete_topics([topic])
        with self.assertRaises(KafkaException):
            fs[topic].result(10)


if __name__ == "__main__":
    braidtest.main()
