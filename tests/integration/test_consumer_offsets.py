"""The `__consumer_offsets` topic against braid: committed offsets and group
metadata as Kafka 3.x writes them, readable by any consumer.

* kafka-python's consumer reads `__consumer_offsets`; the records decode with
  Kafka's key and value schemas (decoded here independently of braid:
  OffsetCommitKey v1 / OffsetCommitValue v3, GroupMetadataKey v2 /
  GroupMetadataValue v3 whose member assignment is the consumer protocol's).
* Group deletion leaves tombstones.
* Metadata for internal names (`__transaction_state`, `_schemas`, `__x`)
  creates nothing, even with auto-creation on; `__consumer_offsets` is listed
  as internal; client writes to internal topics are refused.
* A data directory of an older braid (offsets in
  `__consumer_offsets/offsets.log`) keeps its committed offsets: they are
  migrated into the topic on the first start.
"""

import os
import struct
import subprocess
import time

import braidtest
import rawkafka

from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.produce import ProduceRequest


class Buf:
    def __init__(self, b):
        self.b, self.i = b, 0

    def take(self, n):
        assert self.i + n <= len(self.b), "truncated"
        v = self.b[self.i:self.i + n]
        self.i += n
        return v

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self, nullable=False):
        n = self.i16()
        if n == -1 and nullable:
            return None
        return self.take(n).decode()

    def bytes_(self):
        return self.take(self.i32())


def decode_key(key):
    b = Buf(key)
    v = b.i16()
    if v in (0, 1):
        return ("offset", b.string(), b.string(), b.i32())
    assert v == 2, v
    return ("group", b.string())


def decode_offset_value(value):
    b = Buf(value)
    v = b.i16()
    assert v == 3, "Kafka 3.x writes OffsetCommitValue v3, got %d" % v
    out = {"offset": b.i64(), "leader_epoch": b.i32(), "metadata": b.string(),
           "commit_timestamp": b.i64()}
    assert b.i == len(value)
    return out


def decode_group_value(value):
    b = Buf(value)
    v = b.i16()
    assert v == 3, "Kafka 3.x writes GroupMetadataValue v3, got %d" % v
    g = {"protocol_type": b.string(), "generation": b.i32(), "protocol": b.string(True),
         "leader": b.string(True), "state_timestamp": b.i64(), "members": []}
    for _ in range(b.i32()):
        g["members"].append({"member_id": b.string(), "instance_id": b.string(True),
                             "client_id": b.string(), "client_host": b.string(),
                             "rebalance_timeout": b.i32(), "session_timeout": b.i32(),
                             "subscription": b.bytes_(), "assignment": b.bytes_()})
    assert b.i == len(value)
    return g


def read_offsets_topic(bootstrap, until):
    """Every record of __consumer_offsets with kafka-python, as (key, value)
    decoded, polling until `until(records)` holds."""
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                      consumer_timeout_ms=1000)
    parts = [TopicPartition("__consumer_offsets", p)
             for p in c.partitions_for_topic("__consumer_offsets")]
    c.assign(parts)
    c.seek_to_beginning()
    records = []
    deadline = time.time() + 30
    while time.time() < deadline:
        for m in c:
            key = decode_key(m.key)
            if m.value is None:
                val = None
            elif key[0] == "offset":
                val = decode_offset_value(m.value)
            else:
                val = decode_group_value(m.value)
            records.append((m.partition, key, val))
        if until(records):
            break
    c.close()
    return records


class ConsumerOffsetsTest(braidtest.BraidTestCase):
    braid_args = ["--group-initial-rebalance-delay-ms", "0"]

    def create_topic(self, name, partitions):
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.braid.bootstrap})
        for f in a.create_topics([NewTopic(name, partitions, 1)]).values():
            f.result(30)

    def test_kafka_python_decodes_offsets_and_group_metadata(self):
        from confluent_kafka import Consumer, Producer
        from kafka.coordinator.protocol import ConsumerProtocolMemberAssignment
        topic, group = "co-topic", "co-group"
        self.create_topic(topic, 2)
        p = Producer({"bootstrap.servers": self.braid.bootstrap})
        for i in range(10):
            p.produce(topic, b"v%d" % i, partition=i % 2)
        self.assertEqual(p.flush(30), 0)
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": group,
                      "client.id": "co-client", "auto.offset.reset": "earliest",
                      "enable.auto.commit": False})
        c.subscribe([topic])
        n = 0
        deadline = time.time() + 60
        while n < 10 and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                n += 1
        self.assertEqual(n, 10)
        c.commit(asynchronous=False)
        c.close()

        def complete(recs):
            groups = [v for _, k, v in recs if k == ("group", group)]
            return any(v and not v["members"] for v in groups)
        recs = read_offsets_topic(self.braid.bootstrap, complete)
        mine = [(p, k, v) for p, k, v in recs if k[1] == group]
        self.assertTrue(mine, recs)
        # One group, one partition of the topic (Kafka's partitioner).
        self.assertEqual(len(set(p for p, _, _ in mine)), 1)
        offsets = {(k[2], k[3]): v["offset"] for _, k, v in mine if k[0] == "offset" and v}
        self.assertEqual(offsets, {(topic, 0): 5, (topic, 1): 5})
        metas = [v for _, k, v in mine if k[0] == "group" and v]
        stable = [g for g in metas if g["members"]]
        self.assertTrue(stable, metas)
        g = stable[-1]
        self.assertEqual(g["protocol_type"], "consumer")
        self.assertEqual(g["leader"], g["members"][0]["member_id"])
        self.assertEqual(g["members"][0]["client_id"], "co-client")
        self.assertEqual(g["members"][0]["client_host"], "/127.0.0.1")
        asg = ConsumerProtocolMemberAssignment.decode(g["members"][0]["assignment"])
        self.assertEqual(sorted(p for t, ps in asg.assignment for p in ps), [0, 1])
        # After the consumer left: an empty group record, a later generation.
        self.assertEqual(metas[-1]["members"], [])
        self.assertGreater(metas[-1]["generation"], g["generation"])
        self.assertGreater(metas[-1]["state_timestamp"], 0)

        # DeleteGroups: tombstones for the offsets and the group.
        from confluent_kafka.admin import AdminClient
        out = subprocess.run([braidtest.BRAID_BIN, "groups", "delete", "--group", group,
                              "--bootstrap-server", self.braid.bootstrap],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)

        def tombstoned(recs):
            return any(k == ("group", group) and v is None for _, k, v in recs)
        recs = read_offsets_topic(self.braid.bootstrap, tombstoned)
        dead = [k for _, k, v in recs if k[1] == group and v is None]
        self.assertIn(("group", group), dead)
        self.assertIn(("offset", group, topic, 0), dead)
        self.assertIn(("offset", group, topic, 1), dead)

    def test_internal_names_are_never_auto_created_and_refuse_writes(self):
        with rawkafka.RawConnection(self.braid.bootstrap) as c:
            names = ["__transaction_state", "_schemas", "__private", "__consumer_offsets"]
            resp = c.call(MetadataRequest[4](names, True))
            by_name = {t[1]: t for t in resp.topics}
            for n in names[:3]:
                self.assertEqual(by_name[n][0], 3, n)  # UNKNOWN_TOPIC_OR_PARTITION
            co = by_name["__consumer_offsets"]
            self.assertEqual(co[0], 0)
            self.assertTrue(co[2])  # is_internal
            self.assertEqual(len(co[3]), 50)  # offsets.topic.num.partitions
            # Nothing was created.
            all_topics = [t[1] for t in c.call(MetadataRequest[1](None)).topics]
            for n in names[:3]:
                self.assertNotIn(n, all_topics)
            # Writes are refused: INVALID_TOPIC_EXCEPTION (Kafka: "Cannot
            # append to internal topic").
            from kafka.record.memory_records import MemoryRecordsBuilder
            for n in ("__consumer_offsets", "_schemas"):
                b = MemoryRecordsBuilder(2, 0, 1 << 20)
                b.append(0, b"k", b"v", [])
                b.close()
                resp = c.call(ProduceRequest[7](None, 1, 10000, [(n, [(0, b.buffer())])]))
                self.assertEqual(resp.topics[0][1][0][1], 17, n)

    def test_legacy_offsets_file_is_migrated(self):
        # The offsets file of an older braid (format in
        # src/kafka/group/legacy_offsets_file.h), written before the start.
        def crc32c(data):
            crc = 0xFFFFFFFF
            for byte in data:
                crc ^= byte
                for _ in range(8):
                    crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
            return crc ^ 0xFFFFFFFF

        def s(x):
            return struct.pack(">I", len(x)) + x

        def frame(payload):
            return struct.pack(">II", len(payload), crc32c(payload)) + payload

        data = b""
        data += frame(b"\x04" + s(b"oldgroup") + s(b"consumer") + struct.pack(">q", 1234))
        for part, off in ((0, 17), (1, 23)):
            data += frame(b"\x01" + s(b"oldgroup") + s(b"oldtopic") +
                          struct.pack(">iqi", part, off, -1) + s(b"meta") +
                          struct.pack(">q", 1700000000000))
        b = braidtest.Braid("broker", extra_args=["--offsets-topic-num-partitions", "4"])
        try:
            os.makedirs(os.path.join(b.data_dir, "__consumer_offsets"))
            path = os.path.join(b.data_dir, "__consumer_offsets", "offsets.log")
            with open(path, "wb") as f:
                f.write(data)
            b.start()
            self.assertIn("migrated 1 groups and 2 committed offsets", b.output())
            self.assertFalse(os.path.exists(path))
            self.assertTrue(os.path.exists(path + ".migrated"))
            self.create_topic_on(b, "oldtopic", 2)
            from kafka.protocol.commit import OffsetFetchRequest
            for _ in range(2):  # and again after a restart (no second migration)
                with rawkafka.RawConnection(b.bootstrap) as c:
                    resp = c.call(OffsetFetchRequest[1]("oldgroup", [("oldtopic", [0, 1])]))
                (_, parts), = resp.topics
                self.assertEqual([(p[1], p[2], p[3]) for p in parts],
                                 [(17, "meta", 0), (23, "meta", 0)])
                b.stop()
                b.start()
            self.assertEqual(b.output().count("migrated 1 groups"), 1)
        finally:
            b.stop()
            b.cleanup()

    def create_topic_on(self, braid, name, partitions):
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": braid.bootstrap})
        for f in a.create_topics([NewTopic(name, partitions, 1)]).values():
            f.result(30)


if __name__ == "__main__":
    braidtest.main()
