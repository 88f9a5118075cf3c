"""The request log: at --log-level debug braid writes one line per Kafka
request (API, version, correlation id, client id, client address, sizes,
latency, error code), rate-limited per client address and API with a count
of the suppressed lines; client ids are escaped."""

import re
import struct
import time

import braidtest
import rawkafka

from kafka.protocol.metadata import MetadataRequest

LINE = re.compile(r"kafka: (\w+) v(\d+) corr (\d+) client '([^']*)' from (\S+) \(conn (\d+)\): "
                  r"(\d+) B in, (.*), ([\d.]+) ms")


class RequestLogTest(braidtest.BraidTestCase):
    braid_log_level = "debug"
    braid_args = ["--auto-create-topics", "false"]

    def lines(self):
        return [m.groups() for m in map(LINE.search, self.braid.output().splitlines()) if m]

    def test_one_line_per_request_with_version_client_and_error(self):
        with rawkafka.RawConnection(self.braid.bootstrap, client_id="req-log-test") as c:
            c.call(MetadataRequest[1](["missing-topic"]))  # UNKNOWN_TOPIC_OR_PARTITION
            c.call(MetadataRequest[4](None, False))

        def found():
            mine = [l for l in self.lines() if l[3] == "req-log-test"]
            return mine if len(mine) >= 2 else None
        mine = braidtest.wait_until(found, timeout=10, what="request log lines")
        api, version, corr, client, peer, conn, size, outcome, ms = mine[0]
        self.assertEqual((api, version, corr), ("Metadata", "1", "1"))
        self.assertTrue(peer.startswith("127.0.0.1:"))
        self.assertIn("error 3 UNKNOWN_TOPIC_OR_PARTITION", outcome)
        self.assertGreater(int(size), 0)
        self.assertEqual(mine[1][:3], ("Metadata", "4", "2"))
        self.assertIn("error 0 NONE", mine[1][7])

    def test_client_ids_are_escaped(self):
        with rawkafka.RawConnection(self.braid.bootstrap, client_id="evil\nid\x01") as c:
            c.call(MetadataRequest[1]([]))
        braidtest.wait_until(lambda: any(l[3] == "evil\\x0aid\\x01" for l in self.lines()),
                             timeout=10, what="an escaped client id")

    def test_rate_limited_with_a_suppressed_count(self):
        with rawkafka.RawConnection(self.braid.bootstrap, client_id="flood") as c:
            for _ in range(300):
                c.call(MetadataRequest[1]([]))
            time.sleep(1.1)  # the next second's first line reports the rest
            c.call(MetadataRequest[1]([]))
        time.sleep(0.5)
        flood = [l for l in self.lines() if l[3] == "flood"]
        self.assertLess(len(flood), 100)
        self.assertGreaterEqual(len(flood), 10)  # 20 per second per address and API
        self.assertRegex(self.braid.output(), r"client 'flood'.*\((\d+) similar lines suppressed\)")


if __name__ == "__main__":
    braidtest.main()
