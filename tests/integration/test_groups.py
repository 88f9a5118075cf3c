"""Consumer groups against braid with real clients: kcat -G, confluent-kafka
(librdkafka 2.0.2) and kafka-python 2.0.2 group consumers, and kafkajs 2.2.4
(node/kafkajs_group.js) when node is installed.

* 2 then 3 members split the partitions without overlap;
* every record is consumed exactly once while members join, leave and are
  killed with SIGKILL; a killed member is taken over after its session
  timeout (3 s in these tests, 6 s for kafkajs), as in Kafka: a closed connection alone does
  not end a membership (consumers commit synchronously before reporting a
  record; kills happen only when the group is idle, so the commit/report
  window cannot be hit; a clean leave is SIGTERM, on which the consumer
  finishes the record in hand and closes);
* a braid restart resumes from the committed offsets;
* `braid groups list|describe|reset-offsets`.

Runs against the real braid binary (BRAID_BIN, `braid broker`); skipped when
it does not advertise JoinGroup.
"""

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import braidtest
import rawkafka

PY = "/usr/bin/python3"
NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
KAFKAJS_CONSUMER = ["node", os.path.join(NODE_DIR, "kafkajs_group.js")]


def advertised_apis(bootstrap):
    """{api_key: (min, max)} from a raw ApiVersions v0 request."""
    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        body = struct.pack(">hhih", 18, 0, 1, 4) + b"probe"[:4]
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", _recv(s, 4))[0]
        data = _recv(s, size)
    _, err, n = struct.unpack(">ihi", data[:10])
    out = {}
    for i in range(n):
        k, lo, hi = struct.unpack(">hhh", data[10 + 6 * i:16 + 6 * i])
        out[k] = (lo, hi)
    return out


def _recv(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise IOError("connection closed")
        buf += chunk
    return buf


# `braid broker` options of these tests: a 1 s initial rebalance delay.
GROUP_BROKER_ARGS = ["--group-initial-rebalance-delay-ms", "1000"]


def new_broker(data_dir=None, extra_args=None):
    """`braid broker` (BRAID_BIN) with GROUP_BROKER_ARGS."""
    return braidtest.Braid("broker", data_dir=data_dir,
                           extra_args=GROUP_BROKER_ARGS + list(extra_args or []))


# A consumer process: prints "ASSIGN t:p,..." on every assignment and
# "MSG <value>" for every record, after committing it synchronously.
CONFLUENT_CONSUMER = r"""
import signal, sys
from confluent_kafka import Consumer
bootstrap, group, topic, assignor = sys.argv[1:5]
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))  # leave cleanly
def on_assign(c, parts):
    print("ASSIGN " + ",".join(str(p.partition) for p in parts), flush=True)
def on_revoke(c, parts):
    print("REVOKE", flush=True)
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
              "enable.auto.commit": False, "auto.offset.reset": "earliest",
              "session.timeout.ms": 3000, "heartbeat.interval.ms": 500,
              "partition.assignment.strategy": assignor})
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
try:
    while not stop:
        m = c.poll(0.2)
        if m is None or m.error():
            continue
        c.commit(message=m, asynchronous=False)
        print("MSG " + m.value().decode(), flush=True)
finally:
    c.close()
"""

KAFKA_PYTHON_CONSUMER = r"""
import signal, sys, logging
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
bootstrap, group, topic, assignor = sys.argv[1:5]
class L(ConsumerRebalanceListener):
    def on_partitions_assigned(self, parts):
        print("ASSIGN " + ",".join(str(p.partition) for p in parts), flush=True)
    def on_partitions_revoked(self, parts):
        print("REVOKE", flush=True)
c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                  auto_offset_reset="earliest", session_timeout_ms=3000,
                  heartbeat_interval_ms=500, consumer_timeout_ms=-1)
c.subscribe([topic], listener=L())
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))  # leave cleanly
while not stop:
    for tp, msgs in c.poll(timeout_ms=200).items():
        for m in msgs:
            c.commit({tp: OffsetAndMetadata(m.offset + 1, "")})
            print("MSG " + m.value.decode(), flush=True)
c.close()
"""


class ConsumerProc:
    def __init__(self, script, bootstrap, group, topic, assignor="range"):
        self.lines = []
        self.lock = threading.Lock()
        # `script`: Python source, or an argv prefix (e.g. a node script).
        argv = list(script) if isinstance(script, list) else [PY, "-c", script]
        self.proc = subprocess.Popen(argv + [bootstrap, group, topic, assignor],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     cwd=NODE_DIR if os.path.isdir(NODE_DIR) else None)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.lock:
                self.lines.append(raw.decode().rstrip("\n"))

    def messages(self):
        with self.lock:
            return [l[4:] for l in self.lines if l.startswith("MSG ")]

    def assignment(self):
        """The partitions of the latest ASSIGN (None after a REVOKE)."""
        with self.lock:
            for l in reversed(self.lines):
                if l.startswith("ASSIGN"):
                    rest = l[7:]
                    return set(int(x) for x in rest.split(",") if x)
                if l == "REVOKE":
                    return None
        return None

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


class GroupsTest(braidtest.BraidTestCase):
    braid_args = GROUP_BROKER_ARGS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = cls.braid
        if 11 not in advertised_apis(cls.broker.bootstrap):
            super().tearDownClass()
            raise unittest.SkipTest("the broker does not advertise JoinGroup")

    def create_topic(self, name, partitions):
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        for f in a.create_topics([NewTopic(name, partitions, 1)]).values():
            f.result(30)

    def produce(self, topic, values):
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 5})
        for i, v in enumerate(values):
            p.produce(topic, v.encode(), key=str(i).encode())
            p.poll(0)
        self.assertEqual(p.flush(30), 0)

    def wait_split(self, consumers, partitions, timeout=60):
        """Waits until the consumers' assignments are disjoint and cover all."""
        def ok():
            sets = [c.assignment() for c in consumers]
            if any(s is None for s in sets):
                return False
            union = set().union(*sets)
            return sum(len(s) for s in sets) == partitions and union == set(range(partitions))
        braidtest.wait_until(ok, timeout=timeout, interval=0.2,
                             what="disjoint assignment of %d partitions over %d members"
                             % (partitions, len(consumers)))

    def wait_consumed(self, consumers, expected, timeout=60):
        def done():
            got = [m for c in consumers for m in c.messages()]
            return len(got) >= len(expected) and set(got) >= set(expected)
        braidtest.wait_until(done, timeout=timeout, interval=0.2, what="all records consumed")
        time.sleep(1.0)  # let any duplicate show up

    def check_exactly_once(self, consumers, expected):
        got = [m for c in consumers for m in c.messages()]
        dups = sorted(set(m for m in got if got.count(m) > 1))
        self.assertEqual(dups, [], "records consumed twice")
        self.assertEqual(sorted(got), sorted(expected))

    def _members_join_leave_kill(self, script, group):
        topic = "grp-" + group
        self.create_topic(topic, 6)
        batch1 = ["a%d" % i for i in range(300)]
        batch2 = ["b%d" % i for i in range(300)]
        batch3 = ["c%d" % i for i in range(300)]
        batch4 = ["d%d" % i for i in range(300)]
        cs = [ConsumerProc(script, self.broker.bootstrap, group, topic)]
        all_cs = list(cs)
        try:
            cs.append(ConsumerProc(script, self.broker.bootstrap, group, topic))
            all_cs.append(cs[-1])
            self.wait_split(cs, 6)
            self.produce(topic, batch1)
            self.wait_consumed(all_cs, batch1)
            # A third member joins while records flow.
            t = threading.Thread(target=self.produce, args=(topic, batch2))
            t.start()
            cs.append(ConsumerProc(script, self.broker.bootstrap, group, topic))
            all_cs.append(cs[-1])
            t.join()
            self.wait_split(cs, 6)
            for c in cs:
                self.assertEqual(len(c.assignment()), 2)
            self.wait_consumed(all_cs, batch1 + batch2)
            # An idle member is killed with SIGKILL: the others take over
            # once its session (3 s) has expired.
            cs[0].kill9()
            cs = cs[1:]
            self.wait_split(cs, 6, timeout=60)
            self.produce(topic, batch3)
            self.wait_consumed(all_cs, batch1 + batch2 + batch3)
            # A member leaves cleanly while records flow.
            t = threading.Thread(target=self.produce, args=(topic, batch4))
            t.start()
            cs[0].stop()
            cs = cs[1:]
            t.join()
            self.wait_split(cs, 6)
            self.wait_consumed(all_cs, batch1 + batch2 + batch3 + batch4)
            self.check_exactly_once(all_cs, batch1 + batch2 + batch3 + batch4)
        finally:
            for c in all_cs:
                c.stop()
        return topic

    def test_confluent_members_join_leave_kill(self):
        self._members_join_leave_kill(CONFLUENT_CONSUMER, "confluent")

    def test_kafka_python_members_join_leave_kill(self):
        self._members_join_leave_kill(KAFKA_PYTHON_CONSUMER, "kpython")

    def test_kafkajs_members_join_leave_kill(self):
        if shutil.which("node") is None:
            self.skipTest("node is not installed")
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "kafkajs")):
            self.skipTest("kafkajs not installed: run `npm ci` in %s" % NODE_DIR)
        self._members_join_leave_kill(KAFKAJS_CONSUMER, "kafkajs")

    def test_member_survives_connection_close_raw_protocol(self):
        """Kafka keeps a member until its session times out or it leaves: a
        closed connection means nothing. Old kafka-go sends JoinGroup and
        SyncGroup on separate short connections; current kafka-go rejoins with
        its member id on a new connection after each generation."""
        from kafka.protocol.group import (HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest,
                                          SyncGroupRequest)
        from kafka.coordinator.protocol import (ConsumerProtocolMemberAssignment,
                                                ConsumerProtocolMemberMetadata)
        topic, group = "grp-raw", "rawgroup"
        self.create_topic(topic, 2)
        # (kafka-python's Struct.encode is a weak method: keep the struct alive.)
        meta_struct = ConsumerProtocolMemberMetadata(0, [topic], b"")
        meta = meta_struct.encode()

        def join(member_id):
            with rawkafka.RawConnection(self.broker.bootstrap) as c:
                return c.call(JoinGroupRequest[1](group, 6000, 10000, member_id, "consumer",
                                                  [("range", meta)]))

        j = join("")
        self.assertEqual(j.error_code, 0)
        member, gen = j.member_id, j.generation_id
        self.assertEqual(j.leader_id, member)
        assignment_struct = ConsumerProtocolMemberAssignment(0, [(topic, [0, 1])], b"")
        assignment = assignment_struct.encode()
        with rawkafka.RawConnection(self.broker.bootstrap) as c:
            s = c.call(SyncGroupRequest[0](group, gen, member, [(member, assignment)]))
            self.assertEqual(s.error_code, 0)
            self.assertEqual(s.member_assignment, assignment)
            self.assertEqual(c.call(HeartbeatRequest[0](group, gen, member)).error_code, 0)
        # A rejoin with the known member id on yet another connection keeps
        # the member (no UNKNOWN_MEMBER_ID, same generation: nothing changed).
        j2 = join(member)
        self.assertEqual(j2.error_code, 0)
        self.assertEqual(j2.member_id, member)
        with rawkafka.RawConnection(self.broker.bootstrap) as c:
            s = c.call(SyncGroupRequest[0](group, j2.generation_id, member,
                                           [(member, assignment)]))
            self.assertEqual(s.error_code, 0)
            self.assertEqual(c.call(HeartbeatRequest[0](group, j2.generation_id,
                                                        member)).error_code, 0)
            self.assertEqual(c.call(LeaveGroupRequest[0](group, member)).error_code, 0)

    def test_kcat_balanced_consumer_resumes(self):
        topic = "grp-kcat"
        self.create_topic(topic, 3)
        self.produce(topic, ["k%d" % i for i in range(50)])

        def kcat_consume(expect):
            out = subprocess.run(
                ["kcat", "-b", self.broker.bootstrap, "-G", "kcatgroup",
                 "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\n", "-X", "enable.auto.commit=true",
                 "-X", "auto.commit.interval.ms=100", topic],
                capture_output=True, timeout=90)
            return out.stdout.decode().split()

        got = kcat_consume(50)
        self.assertEqual(sorted(got), sorted("k%d" % i for i in range(50)))
        self.produce(topic, ["m%d" % i for i in range(10)])
        got = kcat_consume(10)
        self.assertEqual(sorted(got), sorted("m%d" % i for i in range(10)))

    def test_kill9_restart_resumes_from_committed_offsets_and_cli(self):
        from confluent_kafka import Consumer, TopicPartition
        topic, group = "grp-restart", "restartgroup"
        self.create_topic(topic, 2)
        self.produce(topic, ["r%d" % i for i in range(40)])
        c = ConsumerProc(CONFLUENT_CONSUMER, self.broker.bootstrap, group, topic)
        try:
            self.wait_consumed([c], ["r%d" % i for i in range(40)])
        finally:
            c.stop()
        # A simple (assign-style) commit, checked after the restart.
        k = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "simplegroup"})
        k.commit(offsets=[TopicPartition(topic, 0, 7)], asynchronous=False)
        k.close()
        # kill -9 the broker and restart it on the same data directory:
        # committed offsets are fsynced before OffsetCommit is answered.
        self.broker.kill()
        self.broker.start()  # the same data directory, new ports
        k = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "simplegroup"})
        self.assertEqual(k.committed([TopicPartition(topic, 0)], timeout=30)[0].offset, 7)
        k.close()
        self.produce(topic, ["s%d" % i for i in range(20)])
        c = ConsumerProc(CONFLUENT_CONSUMER, self.broker.bootstrap, group, topic)
        try:
            self.wait_consumed([c], ["s%d" % i for i in range(20)])
            self.check_exactly_once([c], ["s%d" % i for i in range(20)])
        finally:
            c.stop()
        braid = braidtest.BRAID_BIN
        out = subprocess.run([braid, "groups", "list", "--bootstrap-server",
                              self.broker.bootstrap], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(group, out.stdout.decode().split())
        out = subprocess.run([braid, "groups", "describe", "--group", group,
                              "--bootstrap-server", self.broker.bootstrap],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(topic, out.stdout.decode())
        base = [braid, "groups", "reset-offsets", "--group", group, "--topic", topic,
                "--bootstrap-server", self.broker.bootstrap]
        out = subprocess.run(base + ["--to-earliest"], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)  # dry run
        out = subprocess.run(base + ["--to-earliest", "--execute"], capture_output=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        c = ConsumerProc(CONFLUENT_CONSUMER, self.broker.bootstrap, group, topic)
        try:
            allv = ["r%d" % i for i in range(40)] + ["s%d" % i for i in range(20)]
            self.wait_consumed([c], allv)
            self.check_exactly_once([c], allv)
            # Reset is refused while the group is active.
            out = subprocess.run(base + ["--to-latest", "--execute"], capture_output=True,
                                 timeout=30)
            self.assertNotEqual(out.returncode, 0)
        finally:
            c.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
