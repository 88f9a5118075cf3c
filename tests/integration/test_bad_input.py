"""Hostile and malformed input on the Kafka port, over raw sockets: the broker
closes the connection (or answers with an error, as Kafka does) and keeps
serving everyone else."""

import os
import socket
import struct
import subprocess
import time

import braidtest
from kafka.protocol.admin import CreateTopicsRequest, CreateTopicsResponse
from kafka.protocol.api import RequestHeader
from kafka.protocol.metadata import MetadataRequest, MetadataResponse
from kafka.protocol.offset import OffsetRequest, OffsetResponse
from kafka.protocol.produce import ProduceRequest, ProduceResponse
from kafka.record.default_records import DefaultRecordBatchBuilder

CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_TOPIC_EXCEPTION = 17
UNSUPPORTED_VERSION = 35


def batch(values, ts=1_700_000_000_000):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 30)
    for i, v in enumerate(values):
        b.append(i, timestamp=ts + i, key=None, value=v, headers=[])
    return bytes(b.build())


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.corr = 0

    def close(self):
        self.s.close()

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, request):
        self.corr += 1
        # kafka-python binds encode() weakly: keep the header object alive.
        header = RequestHeader(request, correlation_id=self.corr, client_id="bad-input")
        payload = header.encode() + request.encode()
        self.s.sendall(struct.pack(">i", len(payload)) + payload)
        return self.corr

    def read_frame(self):
        head = self._read(4)
        if len(head) < 4:
            return None
        (n,) = struct.unpack(">i", head)
        return self._read(n)

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                break
            out += chunk
        return out

    def call(self, request, response_type):
        corr = self.send(request)
        frame = self.read_frame()
        assert frame is not None, "connection closed"
        (got,) = struct.unpack(">i", frame[:4])
        assert got == corr, (got, corr)
        return response_type.decode(frame[4:])

    def closed_by_peer(self, timeout=10):
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


class BadInputTest(braidtest.BraidTestCase):

    def conn(self):
        c = Conn(self.braid.port)
        self.addCleanup(c.close)
        return c

    def assert_still_serving(self):
        c = self.conn()
        resp = c.call(MetadataRequest[1](topics=None), MetadataResponse[1])
        self.assertEqual(resp.brokers[0][0], 0)

    def produce(self, topic, records, version=7):
        req = ProduceRequest[version](transactional_id=None, required_acks=1, timeout=5000,
                                      topics=[(topic, [(0, records)])])
        resp = self.conn().call(req, ProduceResponse[version])
        return resp.topics[0][1][0]  # (partition, error, offset, ...)

    def latest(self, topic):
        req = OffsetRequest[1](replica_id=-1, topics=[(topic, [(0, -1)])])
        resp = self.conn().call(req, OffsetResponse[1])
        return resp.topics[0][1][0][3]

    def test_truncated_frame_then_eof(self):
        c = self.conn()
        c.send_raw(struct.pack(">i", 100) + b"\x00\x03\x00\x01")
        c.s.shutdown(socket.SHUT_WR)
        self.assertTrue(c.closed_by_peer())
        self.assert_still_serving()

    def test_garbage(self):
        for seed in range(20):
            c = self.conn()
            data = os.urandom(64 + seed * 37)
            # A small declared size so that the garbage is actually parsed.
            c.send_raw(struct.pack(">i", len(data)) + data)
            c.closed_by_peer(timeout=2)
        c = self.conn()
        c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(c.closed_by_peer())
        self.assert_still_serving()

    def test_huge_and_negative_declared_sizes(self):
        for size in [0x7fffffff, 104857601, -1, -100]:
            c = self.conn()
            c.send_raw(struct.pack(">i", size) + b"\x00" * 16)
            self.assertTrue(c.closed_by_peer(), size)
        self.assert_still_serving()

    def test_unknown_api_key_and_version(self):
        c = self.conn()
        payload = struct.pack(">hhih", 999, 0, 1, -1)
        c.send_raw(struct.pack(">i", len(payload)) + payload)
        self.assertTrue(c.closed_by_peer())
        c = self.conn()
        payload = struct.pack(">hhih", 0, 99, 1, -1) + b"\x00" * 10  # Produce v99
        c.send_raw(struct.pack(">i", len(payload)) + payload)
        self.assertTrue(c.closed_by_peer())
        # ApiVersions v99: a v0-format UNSUPPORTED_VERSION answer, connection kept.
        c = self.conn()
        payload = struct.pack(">hhih", 18, 99, 42, 1) + b"x" + b"\x00" + b"\x00"
        c.send_raw(struct.pack(">i", len(payload)) + payload)
        frame = c.read_frame()
        corr, err, count = struct.unpack(">ihi", frame[:10])
        self.assertEqual((corr, err), (42, UNSUPPORTED_VERSION))
        self.assertEqual(count, 1)
        self.assertEqual(struct.unpack(">hhh", frame[10:16])[0], 18)
        self.assert_still_serving()

    def test_bad_crc_is_corrupt_message_and_nothing_appended(self):
        topic = self.unique_topic()
        self.assertEqual(self.produce(topic, batch([b"good"]))[1], 0)
        bad = bytearray(batch([b"one", b"two"]))
        bad[-1] ^= 0x55
        part = self.produce(topic, bytes(bad))
        self.assertEqual(part[1], CORRUPT_MESSAGE)
        self.assertEqual(self.latest(topic), 1)
        # Truncated batch (length field larger than the bytes).
        part = self.produce(topic, batch([b"x"])[:-3])
        self.assertNotEqual(part[1], 0)
        self.assertEqual(self.latest(topic), 1)
        self.assert_still_serving()

    def test_too_large_batch(self):
        topic = self.unique_topic()
        req = CreateTopicsRequest[1](create_topic_requests=[
            (topic, 1, 1, [], [("max.message.bytes", "1000")])], timeout=5000,
            validate_only=False)
        resp = self.conn().call(req, CreateTopicsResponse[1])
        self.assertEqual(resp.topic_errors[0][1], 0, resp)
        part = self.produce(topic, batch([b"x" * 5000]))
        self.assertEqual(part[1], MESSAGE_TOO_LARGE)
        self.assertEqual(self.latest(topic), 0)
        self.assertEqual(self.produce(topic, batch([b"small"]))[1], 0)
        # Default max.message.bytes (1048588): a 2 MB batch is refused too.
        topic2 = self.unique_topic("big")
        self.assertEqual(self.produce(topic2, batch([b"y" * (2 << 20)]))[1], MESSAGE_TOO_LARGE)
        self.assert_still_serving()

    def test_invalid_topic_names(self):
        c = self.conn()
        resp = c.call(MetadataRequest[1](topics=["bad/name", "a" * 300, ".."]), MetadataResponse[1])
        self.assertEqual([t[0] for t in resp.topics], [INVALID_TOPIC_EXCEPTION] * 3)
        self.assertEqual(self.produce("bad name", batch([b"x"]))[1], INVALID_TOPIC_EXCEPTION)
        self.assert_still_serving()

    def test_many_pipelined_requests_answered_in_order(self):
        c = self.conn()
        corrs = [c.send(MetadataRequest[0](topics=[])) for _ in range(200)]
        for corr in corrs:
            frame = c.read_frame()
            self.assertEqual(struct.unpack(">i", frame[:4])[0], corr)

    def test_kcat_after_abuse(self):
        out = subprocess.run(["kcat", "-b", self.braid.bootstrap, "-L"], capture_output=True,
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(b"1 brokers", out.stdout)


if __name__ == "__main__":
    braidtest.main()
