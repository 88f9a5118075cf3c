"""The group and offset admin APIs against braid, driven through librdkafka
(2.0.2): confluent-kafka-python's AdminClient (list_groups) and consumer,
and librdkafka's admin C API (c/rdkafka_admin.c, compiled here: the Python
binding 1.7 does not expose ListConsumerGroups & co. yet). Each answer is
checked against what Kafka's documentation says these calls return:

* ListConsumerGroups (ListGroups v4, KIP-518) reports each group's state
  and filters by state; DescribeConsumerGroups reports state, assignor and
  members with their assignment.
* DeleteGroups deletes an empty group right after its consumers closed;
  an active group is NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND.
* AlterConsumerGroupOffsets / ListConsumerGroupOffsets (all partitions or
  the requested ones) / DeleteConsumerGroupOffsets (OffsetDelete, KIP-496:
  GROUP_SUBSCRIBED_TO_TOPIC while a member consumes the topic).
* An OffsetCommit to a topic that does not exist fails per partition with
  UNKNOWN_TOPIC_OR_PARTITION (consumer commit and AlterConsumerGroupOffsets).
* A cooperative-sticky consumer whose topic is deleted closes cleanly.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import braidtest
import rawkafka

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "c", "rdkafka_admin.c")

UNKNOWN_TOPIC_OR_PARTITION = 3
UNKNOWN_MEMBER_ID = 25
NON_EMPTY_GROUP = 68
GROUP_ID_NOT_FOUND = 69
GROUP_SUBSCRIBED_TO_TOPIC = 86


class GroupAdminTest(braidtest.BraidTestCase):
    braid_args = ["--group-initial-rebalance-delay-ms", "0"]

    @classmethod
    def setUpClass(cls):
        if shutil.which("cc") is None:
            raise braidtest.unittest.SkipTest("no C compiler")
        cls.tmp = tempfile.mkdtemp(prefix="braid-rdadmin-")
        cls.tool = os.path.join(cls.tmp, "rdkafka_admin")
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "rdkafka"],
                               capture_output=True, text=True)
        if flags.returncode != 0:
            raise braidtest.unittest.SkipTest("librdkafka-dev missing")
        p = subprocess.run(["cc", "-O1", "-o", cls.tool, SRC] + flags.stdout.split(),
                           capture_output=True, timeout=120)
        if p.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("cc failed: " + p.stderr.decode(errors="replace"))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def admin(self, *args, request_error=False):
        p = subprocess.run([self.tool, self.braid.bootstrap] + list(args), capture_output=True,
                           timeout=90)
        lines = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
        self.assertEqual(p.returncode, 1 if request_error else 0,
                         (args, lines, p.stderr.decode(errors="replace")))
        return lines

    def create_topic(self, name, partitions):
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.braid.bootstrap})
        for f in a.create_topics([NewTopic(name, partitions, 1)]).values():
            f.result(30)

    def produce(self, topic, n, partitions):
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.braid.bootstrap})
        for i in range(n):
            p.produce(topic, b"v%d" % i, partition=i % partitions)
        self.assertEqual(p.flush(30), 0)

    def consumer(self, group, **extra):
        from confluent_kafka import Consumer
        conf = {"bootstrap.servers": self.braid.bootstrap, "group.id": group,
                "client.id": "admin-test", "auto.offset.reset": "earliest",
                "enable.auto.commit": False, "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500}
        conf.update(extra)
        return Consumer(conf)

    def consume(self, c, n, commit=True):
        got = 0
        deadline = time.time() + 60
        while got < n and time.time() < deadline:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            got += 1
        self.assertEqual(got, n)
        if commit:
            c.commit(asynchronous=False)

    def all_committed(self, group):
        from kafka.admin import KafkaAdminClient
        a = KafkaAdminClient(bootstrap_servers=self.braid.bootstrap)
        try:
            return {tp.partition: om.offset
                    for tp, om in a.list_consumer_group_offsets(group).items()}
        finally:
            a.close()

    def wait_state(self, group, state):
        def ok():
            gs = {g["group"]: g for g in self.admin("list-groups")}
            return gs.get(group, {}).get("state") == state
        braidtest.wait_until(ok, timeout=30, what="group %s in state %s" % (group, state))

    def test_list_describe_delete_groups(self):
        topic, group = "adm-topic", "adm-group"
        self.create_topic(topic, 2)
        self.produce(topic, 10, 2)
        c = self.consumer(group)
        c.subscribe([topic])
        self.consume(c, 10)
        self.wait_state(group, "Stable")
        # A simple (assign()-style) group: committed offsets only.
        from confluent_kafka import TopicPartition
        s = self.consumer("adm-simple")
        s.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)
        s.close()

        groups = {g["group"]: g for g in self.admin("list-groups")}
        self.assertEqual(groups[group]["state"], "Stable")
        self.assertFalse(groups[group]["simple"])
        self.assertEqual(groups["adm-simple"]["state"], "Empty")
        self.assertTrue(groups["adm-simple"]["simple"])
        # The state filter (ListGroups v4 StatesFilter).
        stable = [g["group"] for g in self.admin("list-groups", "Stable")]
        self.assertIn(group, stable)
        self.assertNotIn("adm-simple", stable)
        empty = [g["group"] for g in self.admin("list-groups", "Empty")]
        self.assertIn("adm-simple", empty)
        self.assertNotIn(group, empty)
        # The classic list_groups of confluent-kafka-python (ListGroups +
        # DescribeGroups).
        from confluent_kafka.admin import AdminClient
        listed = {g.id: g for g in AdminClient(
            {"bootstrap.servers": self.braid.bootstrap}).list_groups(timeout=30)}
        self.assertEqual(listed[group].state, "Stable")
        self.assertEqual(listed[group].protocol, "range")

        d, = self.admin("describe", group)
        self.assertIsNone(d["error"])
        self.assertEqual(d["state"], "Stable")
        self.assertEqual(d["assignor"], "range")
        self.assertFalse(d["simple"])
        self.assertEqual(len(d["members"]), 1)
        m = d["members"][0]
        self.assertEqual(m["client_id"], "admin-test")
        self.assertEqual(m["host"], "/127.0.0.1")
        self.assertEqual(sorted((p["topic"], p["partition"]) for p in m["assignment"]),
                         [(topic, 0), (topic, 1)])

        # Deleting an active group is refused; an unknown one is not found.
        r = {g["group"]: g for g in self.admin("delete", group, "adm-nope")}
        self.assertEqual(r[group]["error"]["code"], NON_EMPTY_GROUP)
        self.assertEqual(r["adm-nope"]["error"]["code"], GROUP_ID_NOT_FOUND)
        # Right after its consumer closed, the group is empty and deletable.
        c.close()
        r, = self.admin("delete", group)
        self.assertIsNone(r["error"], r)
        self.assertNotIn(group, [g["group"] for g in self.admin("list-groups")])
        offsets, = self.admin("list-offsets", group, "%s:0,%s:1" % (topic, topic))
        self.assertEqual([p["offset"] for p in offsets["partitions"]], [-1001, -1001])

    def test_group_offsets_alter_list_delete(self):
        topic, group = "off-topic", "off-group"
        self.create_topic(topic, 3)
        self.produce(topic, 30, 3)
        r, = self.admin("alter-offsets", group, "%s:0:4,%s:1:5,%s:2:6" % (topic, topic, topic))
        self.assertIsNone(r["error"])
        self.assertEqual([p["error"] for p in r["partitions"]], [0, 0, 0])
        # All committed partitions, through kafka-python's admin client
        # (OffsetFetch with a null topic list). librdkafka 2.0.2 sends an
        # empty list instead of null for "all", which Kafka (and braid)
        # answer with no partitions (fixed in librdkafka 2.1).
        self.assertEqual(self.all_committed(group), {0: 4, 1: 5, 2: 6})
        r, = self.admin("list-offsets", group)
        self.assertEqual(r["partitions"], [])
        # Explicitly requested partitions (one without a commit).
        r, = self.admin("list-offsets", group, "%s:2,%s:0" % (topic, topic))
        self.assertEqual(sorted((p["partition"], p["offset"], p["error"])
                                for p in r["partitions"]), [(0, 4, 0), (2, 6, 0)])
        # OffsetDelete (KIP-496) on an empty group deletes the offsets.
        r, = self.admin("delete-offsets", group, "%s:1" % topic)
        self.assertIsNone(r["error"])
        self.assertEqual([(p["partition"], p["error"]) for p in r["partitions"]], [(1, 0)])
        self.assertEqual(self.all_committed(group), {0: 4, 2: 6})
        # An unknown group: a group-level error (librdkafka reports it as the
        # request's).
        r, = self.admin("delete-offsets", "off-nope", "%s:1" % topic, request_error=True)
        self.assertEqual(r["code"], GROUP_ID_NOT_FOUND)
        # While a member consumes the topic: GROUP_SUBSCRIBED_TO_TOPIC.
        c = self.consumer(group)
        c.subscribe([topic])
        self.consume(c, 30 - 4 - 6, commit=False)
        self.wait_state(group, "Stable")
        r, = self.admin("delete-offsets", group, "%s:0" % topic)
        self.assertEqual([(p["partition"], p["error"]) for p in r["partitions"]],
                         [(0, GROUP_SUBSCRIBED_TO_TOPIC)])
        # Altering offsets of an active group is refused (Kafka: the group
        # must be empty; a generation -1 commit gets UNKNOWN_MEMBER_ID).
        r, = self.admin("alter-offsets", group, "%s:0:1" % topic)
        self.assertEqual([p["error"] for p in r["partitions"]], [UNKNOWN_MEMBER_ID])
        c.close()

    def test_commit_to_unknown_topic_fails_per_partition(self):
        from confluent_kafka import TopicPartition
        topic = "known-topic"
        self.create_topic(topic, 1)
        results = []
        c = self.consumer("unknown-commit",
                          on_commit=lambda err, parts: results.append((err, parts)))
        c.commit(offsets=[TopicPartition(topic, 0, 1), TopicPartition("no-such-topic", 0, 1),
                          TopicPartition(topic, 5, 1)], asynchronous=True)
        deadline = time.time() + 30
        while not results and time.time() < deadline:
            c.poll(0.2)
        c.close()
        # librdkafka 2.0.2 reports the first partition error for the whole
        # commit (rd_kafka_cgrp_update_committed_offsets)...
        self.assertEqual(len(results), 1)
        self.assertEqual(results[0][0].code(), UNKNOWN_TOPIC_OR_PARTITION)
        # ...but the broker answered per partition: the existing one is stored.
        r, = self.admin("list-offsets", "unknown-commit", "%s:0" % topic)
        self.assertEqual([(p["offset"], p["error"]) for p in r["partitions"]], [(1, 0)])
        from kafka.protocol.commit import OffsetCommitRequest
        with rawkafka.RawConnection(self.braid.bootstrap) as raw:
            resp = raw.call(OffsetCommitRequest[2]("unknown-commit", -1, "", -1, [
                (topic, [(0, 2, ""), (5, 2, "")]), ("no-such-topic", [(0, 2, "")])]))
        self.assertEqual([(t, [tuple(p) for p in ps]) for t, ps in resp.topics],
                         [(topic, [(0, 0), (5, UNKNOWN_TOPIC_OR_PARTITION)]),
                          ("no-such-topic", [(0, UNKNOWN_TOPIC_OR_PARTITION)])])
        r, = self.admin("alter-offsets", "unknown-commit", "no-such-topic:0:3")
        self.assertEqual([p["error"] for p in r["partitions"]], [UNKNOWN_TOPIC_OR_PARTITION])

    def test_consumers_close_cleanly_after_their_topic_is_deleted(self):
        """A cooperative-sticky librdkafka consumer that loses the partitions
        of a deleted topic keeps consuming its other topic and leaves the group
        cleanly on close (its LeaveGroup empties the group). librdkafka 2.0.2
        itself may then hang in rd_kafka_destroy: a reference cycle on the
        lost partitions, librdkafka's own bug #4187 (fixed in 2.1.0, seen with
        Kafka too); the process is then killed here. kafka-python's consumer,
        which has no such bug, closes cleanly after its topic is deleted."""
        from confluent_kafka import Producer
        from confluent_kafka.admin import AdminClient
        keep, gone, group = "close-keep", "close-gone", "close-group"
        self.create_topic(keep, 2)
        self.create_topic(gone, 2)
        self.produce(keep, 10, 2)
        self.produce(gone, 10, 2)
        script = r"""
import sys
from confluent_kafka import Consumer
bs, group, keep, gone = sys.argv[1:5]
c = Consumer({"bootstrap.servers": bs, "group.id": group, "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "partition.assignment.strategy": "cooperative-sticky",
              "topic.metadata.refresh.interval.ms": 500, "session.timeout.ms": 6000})
c.subscribe([keep, gone])
seen, after = 0, 0
while after < 5:
    m = c.poll(0.2)
    if m is None or m.error():
        continue
    seen += 1
    if seen == 20:
        print("READY", flush=True)
    if m.value().startswith(b"after-"):
        after += 1
print("CONTINUED", flush=True)
print("CLOSING", flush=True)
c.close()
print("CLOSED", flush=True)
"""
        proc = subprocess.Popen(["/usr/bin/python3", "-c", script, self.braid.bootstrap, group,
                                 keep, gone], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        lines = []
        reader = threading.Thread(
            target=lambda: [lines.append(l.decode().strip()) for l in proc.stdout], daemon=True)
        reader.start()
        try:
            braidtest.wait_until(lambda: "READY" in lines, timeout=60, what="consumer ready")
            admin = AdminClient({"bootstrap.servers": self.braid.bootstrap})
            for f in admin.delete_topics([gone]).values():
                f.result(30)
            time.sleep(2)  # the consumer notices the deletion and rebalances
            p = Producer({"bootstrap.servers": self.braid.bootstrap})
            for i in range(5):
                p.produce(keep, b"after-%d" % i, partition=i % 2)
            self.assertEqual(p.flush(30), 0)
            braidtest.wait_until(lambda: "CONTINUED" in lines, timeout=60,
                                 what="the consumer consuming its remaining topic")
            # Its LeaveGroup empties the group.
            self.wait_state(group, "Empty")
            try:
                proc.wait(20)
                self.assertIn("CLOSED", lines)
            except subprocess.TimeoutExpired:
                sys.stderr.write("librdkafka 2.0.2 consumer hung in rd_kafka_destroy after a "
                                 "clean LeaveGroup (librdkafka bug #4187); killing it\n")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join(5)
            proc.stdout.close()

        # kafka-python: close() returns after the topic is deleted.
        from kafka import KafkaConsumer
        keep2, gone2 = "close-keep2", "close-gone2"
        self.create_topic(keep2, 1)
        self.create_topic(gone2, 1)
        self.produce(gone2, 3, 1)
        kc = KafkaConsumer(bootstrap_servers=self.braid.bootstrap, group_id="close-group2",
                           auto_offset_reset="earliest", session_timeout_ms=6000,
                           heartbeat_interval_ms=500, metadata_max_age_ms=500)
        kc.subscribe([keep2, gone2])
        got = 0
        deadline = time.time() + 60
        while got < 3 and time.time() < deadline:
            got += sum(len(v) for v in kc.poll(timeout_ms=200).values())
        self.assertEqual(got, 3)
        for f in admin.delete_topics([gone2]).values():
            f.result(30)
        end = time.time() + 3
        while time.time() < end:
            kc.poll(timeout_ms=200)
        t0 = time.time()
        kc.close()
        self.assertLess(time.time() - t0, 15)
        self.wait_state("close-group2", "Empty")


if __name__ == "__main__":
    braidtest.main()
