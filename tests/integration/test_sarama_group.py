"""Go sarama 1.22 ConsumerGroup (Debian package, GOPATH mode) against braid,
through go/sarama_group: two members, then a third, share a 6-partition
topic; at the end the partitions are split without overlap and every record
is consumed exactly once across the group after clean (SIGTERM) stops."""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import braidtest

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go", "sarama_group")
GOPATH = "/usr/share/gocode"
PARTITIONS = 6
RECORDS = 600


class Member:
    """One sarama_group process; collects its stdout lines in a thread."""

    def __init__(self, binary, bootstrap, group, topic):
        self.proc = subprocess.Popen([binary, bootstrap, group, topic],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = []
        self.err = b""
        self.lock = threading.Lock()
        self.t_out = threading.Thread(target=self._read_out, daemon=True)
        self.t_err = threading.Thread(target=self._read_err, daemon=True)
        self.t_out.start()
        self.t_err.start()

    def _read_out(self):
        for line in self.proc.stdout:
            with self.lock:
                self.lines.append(line.decode().rstrip("\n"))

    def _read_err(self):
        self.err = self.proc.stderr.read()

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def current_claims(self):
        """Partitions of the latest session (None before the first one)."""
        claims = None
        for line in self.snapshot():
            if line.startswith("setup "):
                claims = []
            elif line.startswith("claim partition ") and claims is not None:
                claims.append(int(line.split()[2]))
        return claims

    def in_session(self):
        lines = [l for l in self.snapshot() if l.startswith(("setup ", "cleanup"))]
        return bool(lines) and lines[-1].startswith("setup ")

    def records(self):
        out = []
        for line in self.snapshot():
            if line.startswith("record "):
                _, p, off, value = line.split(" ", 3)
                out.append((int(p), int(off), value))
        return out

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            rc = self.proc.wait()
        self.t_out.join(5)
        self.t_err.join(5)
        return rc


class SaramaGroupTest(braidtest.BraidTestCase):

    braid_args = ["--group-initial-rebalance-delay-ms", "500"]

    @classmethod
    def setUpClass(cls):
        if shutil.which("go") is None or not os.path.isdir(
                os.path.join(GOPATH, "src", "github.com", "Shopify", "sarama")):
            raise unittest.SkipTest("go or sarama (golang-github-shopify-sarama-dev) missing")
        cls.tmp = tempfile.mkdtemp(prefix="braid-sarama-group-")
        cls.bin = os.path.join(cls.tmp, "sarama_group")
        env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH,
                   GOCACHE=os.path.join(cls.tmp, "gocache"), GOFLAGS="")
        p = subprocess.run(["go", "build", "-o", cls.bin, "main.go"], cwd=SRC, env=env,
                           capture_output=True, timeout=600)
        if p.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("go build failed: " + p.stderr.decode(errors="replace"))
        try:
            super().setUpClass()
        except Exception:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def produce(self, topic, start, n):
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.braid.bootstrap, "linger.ms": 5})
        for i in range(start, start + n):
            p.produce(topic, b"v%d" % i, partition=i % PARTITIONS)
        self.assertEqual(p.flush(30), 0)

    def test_group_split_and_exactly_once(self):
        from confluent_kafka.admin import AdminClient, NewTopic
        topic = self.unique_topic("sgroup")
        group = topic + "-g"
        admin = AdminClient({"bootstrap.servers": self.braid.bootstrap})
        for f in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
            f.result(30)
        half = RECORDS // 2
        self.produce(topic, 0, half)

        members = []

        def cleanup():
            for m in members:
                if m.proc.poll() is None:
                    os.kill(m.proc.pid, signal.SIGKILL)
                    m.proc.wait()
                m.t_out.join(5)
                m.t_err.join(5)
                m.proc.stdout.close()
                m.proc.stderr.close()
        self.addCleanup(cleanup)

        def describe():
            return "\n".join("member %d (rc %s): stdout tail %r stderr %r"
                             % (i, m.proc.poll(), m.snapshot()[-15:], m.err[-2000:])
                             for i, m in enumerate(members))

        def all_consumed():
            seen = set()
            for m in members:
                seen.update(v for _, _, v in m.records())
            return len(seen)

        def split_ok(count):
            claims = [m.current_claims() for m in members]
            if any(c is None or not m.in_session() for c, m in zip(claims, members)):
                return False
            flat = sorted(p for c in claims for p in c)
            return (len(members) == count and flat == list(range(PARTITIONS))
                    and all(len(c) == PARTITIONS // count for c in claims))

        for _ in range(2):
            members.append(Member(self.bin, self.braid.bootstrap, group, topic))
        try:
            braidtest.wait_until(lambda: split_ok(2), timeout=30, what="2-member split")
            braidtest.wait_until(lambda: all_consumed() >= half, timeout=30,
                                 what="first half consumed")
            members.append(Member(self.bin, self.braid.bootstrap, group, topic))
            braidtest.wait_until(lambda: split_ok(3), timeout=30, what="3-member split")
            self.produce(topic, half, RECORDS - half)
            braidtest.wait_until(lambda: all_consumed() >= RECORDS, timeout=30,
                                 what="all records consumed")
            # The third member must have got records of the second half.
            self.assertTrue(members[2].records(), describe())
        except AssertionError as e:
            raise AssertionError("%s\n%s" % (e, describe()))

        final = [m.current_claims() for m in members]
        flat = sorted(p for c in final for p in c)
        self.assertEqual(flat, list(range(PARTITIONS)), describe())
        self.assertTrue(all(len(c) == 2 for c in final), final)

        rcs = [m.stop() for m in members]
        self.assertEqual(rcs, [0, 0, 0], describe())
        for m in members:
            self.assertEqual(m.snapshot()[-1], "closed", describe())

        records = [r for m in members for r in m.records()]
        values = sorted(v for _, _, v in records)
        self.assertEqual(len(values), RECORDS, "duplicates: %d records read" % len(values))
        self.assertEqual(values, sorted("v%d" % i for i in range(RECORDS)))
        # Per partition: offsets 0..99 each exactly once, value matches.
        by_part = {}
        for p, off, v in records:
            by_part.setdefault(p, []).append((off, v))
        for p in range(PARTITIONS):
            got = sorted(by_part.get(p, []))
            self.assertEqual([o for o, _ in got], list(range(RECORDS // PARTITIONS)))
            self.assertTrue(all(int(v[1:]) % PARTITIONS == p for _, v in got))

        # Committed offsets: the group resumes at the end of every partition.
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": group,
                      "enable.auto.commit": False})
        try:
            committed = c.committed([TopicPartition(topic, p) for p in range(PARTITIONS)],
                                    timeout=30)
        finally:
            c.close()
        self.assertEqual(sorted((tp.partition, tp.offset) for tp in committed),
                         [(p, RECORDS // PARTITIONS) for p in range(PARTITIONS)])


if __name__ == "__main__":
    braidtest.main()
