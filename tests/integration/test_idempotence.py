"""Idempotent producers against braid.

* librdkafka (confluent-kafka) with enable.idempotence=true: every record
  once, in order; also while a TCP proxy in front of braid drops every
  connection several times, loses responses to handled requests (so that
  appended batches are retried) and braid itself is restarted (no duplicate,
  no gap);
* raw Produce v3 requests with hand-set producer id / epoch / sequence
  (batches built by kafka-python's DefaultRecordBatchBuilder): a retried batch
  is answered with error 0 and its original offset and is not appended
  again, also after a braid restart; a sequence gap gets
  OUT_OF_ORDER_SEQUENCE_NUMBER (45), an old epoch INVALID_PRODUCER_EPOCH
  (47), an unknown producer with a non-zero sequence UNKNOWN_PRODUCER_ID (59).

Skipped when the broker does not advertise InitProducerId.
"""

import random
import socket
import struct
import threading
import time
import unittest

import braidtest
from test_groups import GROUP_BROKER_ARGS, advertised_apis, new_broker

from kafka.record.default_records import DefaultRecordBatchBuilder


def _s(v):
    b = v.encode()
    return struct.pack(">h", len(b)) + b


class RawClient:
    def __init__(self, bootstrap):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.corr = 0

    def close(self):
        self.sock.close()

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise IOError("connection closed")
            buf += chunk
        return buf

    def produce(self, topic, partition, batch):
        """Produce v3, acks=-1; returns (error_code, base_offset)."""
        self.corr += 1
        body = struct.pack(">hhi", 0, 3, self.corr) + _s("raw")
        body += struct.pack(">h", -1)            # transactional_id null
        body += struct.pack(">hi", -1, 30000)    # acks, timeout
        body += struct.pack(">i", 1) + _s(topic)
        body += struct.pack(">i", 1) + struct.pack(">i", partition)
        body += struct.pack(">i", len(batch)) + bytes(batch)
        self.sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", self._recv(4))[0]
        data = self._recv(size)
        corr, ntopics = struct.unpack(">ii", data[:8])
        assert corr == self.corr and ntopics == 1
        pos = 8
        (tlen,) = struct.unpack(">h", data[pos:pos + 2])
        pos += 2 + tlen
        (nparts,) = struct.unpack(">i", data[pos:pos + 4])
        pos += 4
        assert nparts == 1
        _, err, base = struct.unpack(">ihq", data[pos:pos + 14])
        return err, base


def batch(pid, epoch, seq, n, tag):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0,
                                  producer_id=pid, producer_epoch=epoch, base_sequence=seq,
                                  batch_size=1 << 20)
    now = int(time.time() * 1000)
    for i in range(n):
        b.append(i, timestamp=now, key=None, value=("%s-%d" % (tag, i)).encode(), headers=[])
    return b.build()


class Proxy:
    """A TCP proxy 127.0.0.1:port -> 127.0.0.1:upstream_port that can drop
    every open connection (drop_all) and be re-pointed (upstream_port)."""

    def __init__(self):
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.upstream_port = None
        self.lock = threading.Lock()
        self.socks = []
        self.swallow = False
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, True), daemon=True).start()

    def lose_next_response(self):
        """The next bytes braid sends are not forwarded and that connection is
        closed: the request was handled (e.g. a batch appended) but the client
        never learns it, so it retries."""
        with self.lock:
            self.swallow = True

    def _pump(self, a, b, from_upstream):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if from_upstream:
                    with self.lock:
                        lose, self.swallow = self.swallow, False
                    if lose:
                        break
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop_all(self):
        with self.lock:
            socks, self.socks = self.socks, []
        for x in socks:
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def close(self):
        self.closed = True
        self.lsock.close()
        self.drop_all()


class IdempotenceTest(braidtest.BraidTestCase):
    braid_args = GROUP_BROKER_ARGS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = cls.braid
        if 22 not in advertised_apis(cls.broker.bootstrap):
            super().tearDownClass()
            raise unittest.SkipTest("the broker does not advertise InitProducerId")

    def create_topic(self, name, partitions=1):
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        for f in a.create_topics([NewTopic(name, partitions, 1)]).values():
            f.result(30)

    def end_offset(self, topic):
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "wm"})
        try:
            return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=30)[1]
        finally:
            c.close()

    def test_librdkafka_idempotent_producer(self):
        from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
        topic = "idem-rdkafka"
        self.create_topic(topic)
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "enable.idempotence": True,
                      "linger.ms": 2})
        errors = []
        for i in range(2000):
            p.produce(topic, b"v%d" % i, partition=0,
                      on_delivery=lambda err, m: err and errors.append(err))
            p.poll(0)
        self.assertEqual(p.flush(60), 0)
        self.assertEqual(errors, [])
        c = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "idem"})
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        got = []
        deadline = time.time() + 60
        while len(got) < 2000 and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got.append(m.value())
        c.close()
        self.assertEqual(got, [b"v%d" % i for i in range(2000)])

    def test_librdkafka_idempotent_through_drops_and_restart(self):
        from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
        proxy = Proxy()
        self.addCleanup(proxy.close)
        b = new_broker(extra_args=["--advertise", "127.0.0.1:%d" % proxy.port])
        self.addCleanup(b.cleanup)
        b.start()
        proxy.upstream_port = b.port
        bootstrap = "127.0.0.1:%d" % proxy.port
        topic = "idem-drops"
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
            f.result(30)
        p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                      "linger.ms": 5, "batch.num.messages": 50, "message.timeout.ms": 120000,
                      "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500})
        errors = []
        n = 6000
        for i in range(n):
            p.produce(topic, b"v%d" % i, partition=0,
                      on_delivery=lambda err, m: err and errors.append(err))
            p.poll(0)
            if i % 1000 == 500:
                proxy.drop_all()  # in-flight batches are retried
            if i % 400 == 200:
                proxy.lose_next_response()  # appended, unacknowledged: retried
            if i == 3200:
                self.assertEqual(b.stop(), 0)  # SIGTERM: producer state snapshotted
                proxy.drop_all()
                b.start()
                proxy.upstream_port = b.port
            time.sleep(0.0005)
        self.assertEqual(p.flush(120), 0)
        self.assertEqual(errors, [])
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "idem-drops"})
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        got = []
        deadline = time.time() + 60
        while len(got) < n and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got.append(m.value())
        time.sleep(0.5)
        m = c.poll(1.0)
        while m is not None:
            if not m.error():
                got.append(m.value())
            m = c.poll(0.5)
        c.close()
        self.assertEqual(b.stop(), 0)
        self.assertEqual(len(got), n, "duplicates or gaps")
        self.assertEqual(got, [b"v%d" % i for i in range(n)])

    def test_sequence_rules_and_restart(self):
        topic = "idem-raw"
        self.create_topic(topic)
        pid = random.randint(10**9, 2 * 10**9)
        c = RawClient(self.broker.bootstrap)
        b0 = batch(pid, 0, 0, 5, "a")
        b1 = batch(pid, 0, 5, 5, "b")
        self.assertEqual(c.produce(topic, 0, b0), (0, 0))
        self.assertEqual(c.produce(topic, 0, b1), (0, 5))
        # Retries: success with the original offsets, nothing appended.
        self.assertEqual(c.produce(topic, 0, b1), (0, 5))
        self.assertEqual(c.produce(topic, 0, b0), (0, 0))
        self.assertEqual(self.end_offset(topic), 10)
        # A gap.
        self.assertEqual(c.produce(topic, 0, batch(pid, 0, 12, 1, "x"))[0], 45)
        # Unknown producer with a non-zero sequence.
        self.assertEqual(c.produce(topic, 0, batch(pid + 1, 0, 3, 1, "y"))[0], 59)
        # A new epoch starts at 0 and fences the old one.
        self.assertEqual(c.produce(topic, 0, batch(pid, 1, 0, 2, "c")), (0, 10))
        self.assertEqual(c.produce(topic, 0, batch(pid, 0, 10, 1, "z"))[0], 47)
        c.close()
        # After a restart the retry of the last batch is still a duplicate.
        self.assertEqual(self.broker.stop(), 0)
        self.broker.start()  # the same data directory, new ports
        c = RawClient(self.broker.bootstrap)
        self.assertEqual(c.produce(topic, 0, batch(pid, 1, 0, 2, "c")), (0, 10))
        self.assertEqual(c.produce(topic, 0, batch(pid, 1, 2, 1, "d")), (0, 12))
        c.close()
        self.assertEqual(self.end_offset(topic), 13)


if __name__ == "__main__":
    unittest.main(verbosity=2)
