"""Fetch responses at the edges clients hit, through raw Fetch v4 requests
(tests/integration/rawkafka.py) and real consumers: max_bytes smaller than
one batch (the first batch still comes whole), a fetch offset inside a
batch, segment boundaries (a response never spans two segments; the next
fetch continues where it stopped), a retention cut while a fetch waits,
and compressed batches (returned as stored, decoded by librdkafka)."""

import struct
import threading
import time

import braidtest
import rawkafka
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka.protocol.fetch import FetchRequest

OFFSET_OUT_OF_RANGE = 1
LZ4 = 3


def parse_batches(data):
    """[(base_offset, last_offset, record_count, codec, size)] of the
    RecordBatch v2 batches in `data`; fails on a partial batch."""
    out = []
    pos = 0
    while pos < len(data):
        assert len(data) - pos >= 61, "partial batch header at byte %d" % pos
        base, length = struct.unpack_from(">qi", data, pos)
        size = 12 + length
        assert pos + size <= len(data), "partial batch at byte %d" % pos
        magic = data[pos + 16]
        assert magic == 2, magic
        attributes, last_delta = struct.unpack_from(">hi", data, pos + 21)
        count = struct.unpack_from(">i", data, pos + 57)[0]
        out.append((base, base + last_delta, count, attributes & 7, size))
        pos += size
    return out


class FetchEdgesTest(braidtest.BraidTestCase):
    braid_args = ["--maintenance-interval-ms", "100"]

    def setUp(self):
        self.admin = AdminClient({"bootstrap.servers": self.braid.bootstrap})

    def create(self, topic, config=None):
        self.admin.create_topics([NewTopic(topic, 1, 1, config=config or {})])[topic].result(10)

    def produce_batch(self, topic, values, compression="none"):
        """Sends `values` as one batch (linger long, batch.num.messages = n)."""
        p = Producer({"bootstrap.servers": self.braid.bootstrap, "linger.ms": 2000,
                      "batch.num.messages": len(values), "compression.codec": compression})
        p.list_topics(topic, timeout=10)  # the leader is known before the first record
        for v in values:
            p.produce(topic, v, partition=0)
        self.assertEqual(p.flush(30), 0)

    def produce_each(self, topic, n, size=200, start=0):
        """One batch per record."""
        p = Producer({"bootstrap.servers": self.braid.bootstrap, "linger.ms": 0,
                      "batch.num.messages": 1})
        for i in range(start, start + n):
            p.produce(topic, b"%06d" % i + b"x" * size, partition=0)
            p.flush(10)
        self.assertEqual(p.flush(30), 0)

    def fetch(self, topic, offset, max_bytes=1 << 20, partition_max_bytes=1 << 20, wait_ms=0,
              conn=None):
        """(error_code, high_watermark, records bytes) of one raw Fetch v4."""
        req = FetchRequest[4](replica_id=-1, max_wait_time=wait_ms, min_bytes=1,
                              max_bytes=max_bytes, isolation_level=0,
                              topics=[(topic, [(0, offset, partition_max_bytes)])])
        if conn is None:
            with rawkafka.RawConnection(self.braid.bootstrap) as c:
                resp = c.call(req)
        else:
            resp = conn.call(req)
        (name, parts), = resp.topics
        self.assertEqual(name, topic)
        (_, error_code, high_watermark, _, _, records), = parts
        return error_code, high_watermark, records or b""

    def consume_all(self, topic, n, offset=0):
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "edges",
                      "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        got = []
        try:
            c.assign([TopicPartition(topic, 0, offset)])
            deadline = time.time() + 30
            while len(got) < n and time.time() < deadline:
                m = c.poll(0.2)
                if m is not None and m.error() is None:
                    got.append((m.offset(), m.value()))
        finally:
            c.close()
        return got

    def test_max_bytes_below_one_batch_returns_the_first_batch_whole(self):
        topic = self.unique_topic("small-max")
        self.create(topic)
        self.produce_batch(topic, [b"a%04d" % i for i in range(500)])
        self.produce_batch(topic, [b"b%04d" % i for i in range(500)])
        for max_bytes, part_max in ((1, 1), (100, 1 << 20), (1 << 20, 100)):
            err, hw, records = self.fetch(topic, 0, max_bytes, part_max)
            self.assertEqual((err, hw), (0, 1000))
            batches = parse_batches(records)
            self.assertEqual(len(batches), 1, (max_bytes, part_max))
            base, last, count, _, size = batches[0]
            self.assertEqual((base, last, count), (0, 499, 500))
            self.assertGreater(size, 100)
        # Enough for both: both come.
        err, _, records = self.fetch(topic, 0)
        self.assertEqual([b[:3] for b in parse_batches(records)], [(0, 499, 500),
                                                                 (500, 999, 500)])

    def test_fetch_offset_inside_a_batch(self):
        topic = self.unique_topic("inside")
        self.create(topic)
        self.produce_batch(topic, [b"v%d" % i for i in range(300)])
        err, _, records = self.fetch(topic, 123)
        self.assertEqual(err, 0)
        # The batch that contains 123, whole; clients drop the records below.
        self.assertEqual(parse_batches(records)[0][:3], (0, 299, 300))
        got = self.consume_all(topic, 300 - 123, offset=123)
        self.assertEqual(got, [(i, b"v%d" % i) for i in range(123, 300)])

    def test_segment_boundaries(self):
        topic = self.unique_topic("segments")
        self.create(topic, {"segment.bytes": "2048"})
        n = 60
        self.produce_each(topic, n)
        offset, segments_seen = 0, 0
        with rawkafka.RawConnection(self.braid.bootstrap) as conn:
            while offset < n:
                err, hw, records = self.fetch(topic, offset, conn=conn)
                self.assertEqual((err, hw), (0, n))
                batches = parse_batches(records)
                self.assertTrue(batches, offset)
                # One segment per response: at most segment.bytes of batches.
                self.assertLessEqual(sum(b[4] for b in batches), 2048)
                self.assertEqual(batches[0][0], offset)
                for prev, nxt in zip(batches, batches[1:]):
                    self.assertEqual(nxt[0], prev[1] + 1)
                offset = batches[-1][1] + 1
                segments_seen += 1
        self.assertGreater(segments_seen, 3)
        got = self.consume_all(topic, n)
        self.assertEqual([o for o, _ in got], list(range(n)))
        self.assertEqual([v[:6] for _, v in got], [b"%06d" % i for i in range(n)])

    def test_retention_cut_while_a_fetch_waits(self):
        topic = self.unique_topic("cut")
        self.create(topic, {"segment.bytes": "2048", "retention.bytes": "4096"})
        self.produce_each(topic, 40)
        # Retention moves the log start; below it, OFFSET_OUT_OF_RANGE.
        start = braidtest.wait_until(
            lambda: self.fetch(topic, 0)[0] == OFFSET_OUT_OF_RANGE or None, timeout=30,
            what="offset 0 deleted by retention")
        self.assertTrue(start)
        # A fetch parked at the end of the log while more appends make
        # retention delete segments under it: it wakes with the new record.
        result = {}

        def waiting_fetch():
            result["r"] = self.fetch(topic, 40, wait_ms=5000)
            result["t"] = time.time()
        t = threading.Thread(target=waiting_fetch)
        t.start()
        time.sleep(0.3)
        sent = time.time()
        self.produce_each(topic, 40, start=40)
        t.join(20)
        err, hw, records = result["r"]
        self.assertEqual(err, 0)
        self.assertEqual(parse_batches(records)[0][0], 40)
        self.assertLess(result["t"] - sent, 2.0)
        # A consumer from offset 0 is reset to the log start and reads on.
        got = self.consume_all(topic, 1)
        self.assertEqual(len(got), 1)
        self.assertGreater(got[0][0], 0)

    def test_compressed_batches_come_back_as_stored(self):
        topic = self.unique_topic("lz4")
        self.create(topic)
        values = [b"value-%d-" % i + b"z" * 50 for i in range(400)]
        self.produce_batch(topic, values, compression="lz4")
        err, _, records = self.fetch(topic, 0)
        self.assertEqual(err, 0)
        (base, last, count, codec, size), = parse_batches(records)
        self.assertEqual((base, last, count, codec), (0, 399, 400, LZ4))
        self.assertLess(size, sum(len(v) for v in values) // 2)  # still compressed
        # An offset inside the compressed batch: the whole batch, and the
        # client decodes and drops what lies below.
        self.assertEqual(parse_batches(self.fetch(topic, 250)[2])[0][:3], (0, 399, 400))
        for codec in ("gzip", "snappy", "zstd"):
            self.produce_batch(topic, [b"%s-%d" % (codec.encode(), i) for i in range(100)],
                               compression=codec)
        got = self.consume_all(topic, 700)
        self.assertEqual([o for o, _ in got], list(range(700)))
        self.assertEqual([v for _, v in got[:400]], values)
        self.assertEqual(got[699][1], b"zstd-99")


if __name__ == "__main__":
    braidtest.main()
