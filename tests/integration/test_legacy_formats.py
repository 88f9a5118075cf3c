"""The old message formats against braid, as Kafka 3.x serves them:

* Produce v0/v1/v2 carrying magic 0 and magic 1 MessageSets (plain and
  compressed wrappers, built by kafka-python's LegacyRecordBatchBuilder) are
  up-converted to RecordBatch v2; librdkafka reads back every record with its
  offset, key, value and (magic 1) timestamp.
* kafka-python with api_version (0, 9) and (0, 10) (Produce v1 magic 0 /
  Produce v2 magic 1, Fetch v1 / v2) produces with every codec it has and
  consumes everything back through the down-converting Fetch.
* Fetch v0-v3 raw: magic 0 for v0-1, magic 1 for v2-3, records below the
  fetch offset left out, zstd batches answered UNSUPPORTED_COMPRESSION_TYPE.
* ListOffsets v0 (sarama/Burrow's high-watermark query).
"""

import struct
import time

import braidtest
import rawkafka

from kafka.protocol.fetch import FetchRequest
from kafka.protocol.offset import OffsetRequest
from kafka.protocol.produce import ProduceRequest
from kafka.record import MemoryRecords
from kafka.record.legacy_records import LegacyRecordBatchBuilder

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3}


def message_set(magic, codec, keys_values, ts0=1700000000000):
    b = LegacyRecordBatchBuilder(magic=magic, compression_type=codec, batch_size=1 << 20)
    for i, (k, v) in enumerate(keys_values):
        assert b.append(i, ts0 + i if magic else None, k, v) is not None
    return bytes(b.build())


def decode_records(data):
    """(offset, timestamp, key, value) of every record in a Fetch's records."""
    out = []
    recs = MemoryRecords(data)
    while True:
        batch = recs.next_batch()
        if batch is None:
            break
        for r in batch:
            out.append((r.offset, r.timestamp, r.key, r.value))
    return out


def first_magic(data):
    return data[16] if len(data) > 16 else None


class LegacyFormatsTest(braidtest.BraidTestCase):

    def create_topic(self, name, partitions=1):
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.braid.bootstrap})
        for f in a.create_topics([NewTopic(name, partitions, 1)]).values():
            f.result(30)

    def rdkafka_read(self, topic, n, partition=0):
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "legacy-reader",
                      "enable.auto.commit": False})
        c.assign([TopicPartition(topic, partition, 0)])
        out = []
        deadline = time.time() + 30
        while len(out) < n and time.time() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            out.append((m.offset(), m.timestamp(), m.key(), m.value()))
        c.close()
        return out

    def produce_raw(self, version, topic, records, partition=0):
        with rawkafka.RawConnection(self.braid.bootstrap) as c:
            resp = c.call(ProduceRequest[version](
                required_acks=1, timeout=10000, topics=[(topic, [(partition, records)])]))
        (_, parts), = resp.topics
        return parts[0]  # (partition, error_code, offset, ...)

    def test_produce_v0_v2_magic_0_and_1_read_by_librdkafka(self):
        topic = self.unique_topic("legacy-produce")
        self.create_topic(topic)
        expected = []
        offset = 0
        for version, magic in ((0, 0), (1, 0), (2, 0), (2, 1)):
            for name, codec in CODECS.items():
                kvs = [(None if i == 1 else b"k-%d-%d-%s-%d" % (version, magic, name.encode(), i),
                        None if i == 2 else b"v-%d-%d-%s-%d" % (version, magic, name.encode(), i))
                       for i in range(4)]
                part = self.produce_raw(version, topic, message_set(magic, codec, kvs))
                self.assertEqual(part[1], 0, "v%d magic %d %s: error %d" % (version, magic,
                                                                          name, part[1]))
                self.assertEqual(part[2], offset)  # base offset
                for i, (k, v) in enumerate(kvs):
                    expected.append((offset + i, magic, k, v, 1700000000000 + i))
                offset += len(kvs)
        got = self.rdkafka_read(topic, len(expected))
        self.assertEqual(len(got), len(expected))
        for (off, magic, k, v, ts), (goff, gts, gk, gv) in zip(expected, got):
            self.assertEqual((goff, gk, gv), (off, k, v))
            if magic == 1:
                self.assertEqual(gts[1], ts)  # CreateTime from the magic 1 message

    def test_bad_message_sets_get_kafkas_errors(self):
        topic = self.unique_topic("legacy-bad")
        self.create_topic(topic)
        good = message_set(1, 0, [(b"k", b"v")])
        bad_crc = bytearray(good)
        bad_crc[-1] ^= 1
        self.assertEqual(self.produce_raw(2, topic, bytes(bad_crc))[1], 2)  # CORRUPT_MESSAGE
        mixed = message_set(0, 0, [(b"k", b"v")]) + good
        self.assertEqual(self.produce_raw(2, topic, mixed)[1], 87)  # INVALID_RECORD
        gz = message_set(1, 1, [(b"k", b"v")])
        self.assertEqual(self.produce_raw(2, topic, gz + gz)[1], 87)
        # Nothing was appended; a good set still works.
        part = self.produce_raw(2, topic, good)
        self.assertEqual((part[1], part[2]), (0, 0))

    def _kafka_python_round_trip(self, api_version, magic):
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition
        topic = self.unique_topic("kp-%d%d" % api_version[:2])
        self.create_topic(topic)
        sent = []
        for codec in (None, "gzip", "snappy", "lz4"):
            p = KafkaProducer(bootstrap_servers=self.braid.bootstrap, api_version=api_version,
                              compression_type=codec, linger_ms=20)
            for i in range(30):
                v = ("%s-%s-%d" % (codec, api_version, i)).encode()
                p.send(topic, key=b"key-%d" % i, value=v, partition=0)
                sent.append((b"key-%d" % i, v))
            p.flush(30)
            p.close()
        c = KafkaConsumer(bootstrap_servers=self.braid.bootstrap, api_version=api_version,
                          consumer_timeout_ms=5000, auto_offset_reset="earliest")
        tp = TopicPartition(topic, 0)
        c.assign([tp])
        c.seek(tp, 7)  # a fetch offset inside the first batch
        got = [(m.offset, m.key, m.value) for m in c]
        c.close()
        self.assertEqual([(k, v) for _, k, v in got], sent[7:])
        self.assertEqual([o for o, _, _ in got], list(range(7, len(sent))))
        # librdkafka sees the same records (stored as RecordBatch v2).
        rd = self.rdkafka_read(topic, len(sent))
        self.assertEqual([(k, v) for _, _, k, v in rd], sent)

    def test_kafka_python_0_9_magic_0(self):
        self._kafka_python_round_trip((0, 9), 0)

    def test_kafka_python_0_10_magic_1(self):
        self._kafka_python_round_trip((0, 10), 1)

    def test_fetch_v0_to_v3_down_convert(self):
        from confluent_kafka import Producer
        topic = self.unique_topic("legacy-fetch")
        self.create_topic(topic, 2)
        for codec, part in (("gzip", 0), ("zstd", 1)):
            p = Producer({"bootstrap.servers": self.braid.bootstrap, "compression.type": codec,
                          "linger.ms": 50})
            for i in range(10):
                p.produce(topic, b"value-%d" % i, key=b"key-%d" % i, partition=part,
                          timestamp=1700000000000 + i)
            self.assertEqual(p.flush(30), 0)
        with rawkafka.RawConnection(self.braid.bootstrap) as c:
            for version in range(4):
                want_magic = 0 if version <= 1 else 1
                topics = [(topic, [(0, 4, 1 << 20), (1, 0, 1 << 20)])]
                if version == 3:
                    req = FetchRequest[3](-1, 100, 1, 1 << 20, topics)
                else:
                    req = FetchRequest[version](-1, 100, 1, topics)
                resp = c.call(req)
                (_, parts), = resp.topics
                by_part = {p[0]: p for p in parts}
                p0 = by_part[0]
                self.assertEqual(p0[1], 0)
                self.assertEqual(p0[2], 10)  # high watermark
                data = p0[-1]
                self.assertEqual(first_magic(data), want_magic)
                recs = decode_records(data)
                # Records below the fetch offset (4) are left out.
                self.assertEqual([(o, k, v) for o, _, k, v in recs],
                                 [(i, b"key-%d" % i, b"value-%d" % i) for i in range(4, 10)])
                if want_magic == 1:
                    self.assertEqual([ts for _, ts, _, _ in recs],
                                     [1700000000000 + i for i in range(4, 10)])
                # zstd cannot be carried by magic 0/1: Kafka's error 76.
                self.assertEqual(by_part[1][1], 76)

    def test_list_offsets_v0(self):
        from confluent_kafka import Producer
        topic = self.unique_topic("legacy-lo")
        self.create_topic(topic)
        p = Producer({"bootstrap.servers": self.braid.bootstrap})
        for i in range(5):
            p.produce(topic, b"x", partition=0)
        self.assertEqual(p.flush(30), 0)
        with rawkafka.RawConnection(self.braid.bootstrap) as c:
            resp = c.call(OffsetRequest[0](-1, [(topic, [(0, -1, 1), (0, -2, 1)])]))
            (_, parts), = resp.topics
            self.assertEqual(parts[0], (0, 0, [5]))
            self.assertEqual(parts[1], (0, 0, [0]))
            resp = c.call(OffsetRequest[0](-1, [("no-such-topic", [(0, -1, 1)])]))
            self.assertEqual(resp.topics[0][1][0][1], 3)


if __name__ == "__main__":
    braidtest.main()
