"""kafka-python 2.0.2 (pure Python protocol engine) against braid."""

import time

import braidtest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError

CODECS = [None, "gzip", "snappy", "lz4", "zstd"]


def codec_available(codec):
    from kafka import codec as kc
    return {None: True, "gzip": kc.has_gzip(), "snappy": kc.has_snappy(), "lz4": kc.has_lz4(),
            "zstd": kc.has_zstd()}[codec]


class KafkaPythonTest(braidtest.BraidTestCase):

    def consumer(self):
        return KafkaConsumer(bootstrap_servers=self.braid.bootstrap, enable_auto_commit=False,
                             group_id=None, consumer_timeout_ms=10000)

    def consume(self, topic, count, partition=0, seek=None):
        c = self.consumer()
        try:
            tp = TopicPartition(topic, partition)
            c.assign([tp])
            if seek is None:
                c.seek_to_beginning(tp)
            else:
                c.seek(tp, seek)
            out = []
            deadline = time.time() + 30
            while len(out) < count and time.time() < deadline:
                for records in c.poll(timeout_ms=500).values():
                    out.extend(records)
            return out
        finally:
            c.close()

    def test_producer_acks_and_compression(self):
        for acks in [0, 1, "all"]:
            for codec in CODECS:
                if not codec_available(codec):
                    continue
                with self.subTest(acks=acks, codec=codec):
                    topic = self.unique_topic("kp-%s-%s" % (acks, codec))
                    p = KafkaProducer(bootstrap_servers=self.braid.bootstrap, acks=acks,
                                      compression_type=codec, linger_ms=5)
                    values = [("%s/%s/%d" % (acks, codec, i)).encode() * 4 for i in range(200)]
                    futures = [p.send(topic, v, key=b"k") for v in values]
                    p.flush(30)
                    metas = [f.get(30) for f in futures]
                    p.close()
                    if acks != 0:
                        self.assertEqual([m.offset for m in metas], list(range(200)))
                    got = self.consume(topic, 200)
                    self.assertEqual([r.value for r in got], values)
                    self.assertEqual([r.offset for r in got], list(range(200)))

    def test_offsets_for_times(self):
        topic = self.unique_topic()
        base = 1_700_000_000_000
        p = KafkaProducer(bootstrap_servers=self.braid.bootstrap, linger_ms=20)
        for i in range(10):
            p.send(topic, b"v%d" % i, timestamp_ms=base + 1000 * i)
        p.flush(30)
        p.close()
        c = self.consumer()
        try:
            tp = TopicPartition(topic, 0)
            c.assign([tp])
            self.assertEqual(c.beginning_offsets([tp])[tp], 0)
            self.assertEqual(c.end_offsets([tp])[tp], 10)
            found = c.offsets_for_times({tp: base + 4500})
            self.assertEqual(found[tp].offset, 5)
            self.assertEqual(found[tp].timestamp, base + 5000)
            self.assertIsNone(c.offsets_for_times({tp: base + 10**9})[tp])
        finally:
            c.close()
        got = self.consume(topic, 5, seek=5)
        self.assertEqual([r.value for r in got], [b"v%d" % i for i in range(5, 10)])

    def test_admin(self):
        admin = KafkaAdminClient(bootstrap_servers=self.braid.bootstrap)
        try:
            topic = self.unique_topic("kpadmin")
            admin.create_topics([NewTopic(topic, 2, 1, topic_configs={"retention.ms": "60000"})])
            with self.assertRaises(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(topic, 2, 1)])
            self.assertIn(topic, admin.list_topics())
            admin.create_partitions({topic: NewPartitions(4)})
            c = self.consumer()
            try:
                self.assertEqual(len(c.partitions_for_topic(topic)), 4)
            finally:
                c.close()
            res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            entries = {e[0]: e[1] for e in res[0].resources[0][4]}
            self.assertEqual(entries["retention.ms"], "60000")
            admin.delete_topics([topic])
            self.assertNotIn(topic, admin.list_topics())
            with self.assertRaises(UnknownTopicOrPartitionError):
                admin.delete_topics([topic])
        finally:
            admin.close()


if __name__ == "__main__":
    braidtest.main()
