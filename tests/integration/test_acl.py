"""ACLs (--acl) with real clients: ACLs created, described and deleted with
kafka-python's KafkaAdminClient (CreateAcls/DescribeAcls/DeleteAcls v1) by
a super user over SASL; a user allowed to write one topic and read one
group can do exactly that (librdkafka sees TOPIC_AUTHORIZATION_FAILED and
GROUP_AUTHORIZATION_FAILED for the rest, and Metadata hides the topics it
may not describe); prefixed and deny rules; the ACLs survive kill -9 and a
restart. Per-resource authorization as Kafka's KafkaApis (raw requests on
the PLAINTEXT listener, principal User:ANONYMOUS): one request naming an
allowed and a denied topic or group serves the allowed part and answers the
denied part with TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED, and a denied
admin request is answered, the connection staying usable."""

import struct
import time

import braidtest
import rawkafka
import securitytest
from securitytest import PASSWORDS

from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType,
                         ACLResourcePatternType, KafkaAdminClient, NewTopic, ResourcePattern,
                         ResourcePatternFilter, ResourceType)


class AclTest(securitytest.SecureBraidTestCase):
    extra_braid_args = ["--acl"]

    def admin(self, user="admin"):
        return KafkaAdminClient(bootstrap_servers="127.0.0.1:%d" % self.sasl_port,
                                security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                                sasl_plain_username=user, sasl_plain_password=PASSWORDS[user],
                                request_timeout_ms=10000)

    def conf(self, user):
        return self.rdkafka_conf("SASL_PLAINTEXT", user=user, mechanism="PLAIN")

    def produce(self, user, topic, n=3):
        from confluent_kafka import Producer
        p = Producer(dict(self.conf(user), **{"message.timeout.ms": 8000}))
        errors = []
        for i in range(n):
            p.produce(topic, b"%s-%d" % (user.encode(), i),
                      on_delivery=lambda err, msg: errors.append(err))
        p.flush(20)
        return [e.name() if e is not None else None for e in errors]

    def consume(self, user, topic, group, n, timeout=20):
        from confluent_kafka import Consumer
        c = Consumer(dict(self.conf(user), **{"group.id": group,
                                              "auto.offset.reset": "earliest"}))
        c.subscribe([topic])
        got, errors = [], []
        deadline = time.time() + timeout
        while len(got) < n and time.time() < deadline and not errors:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                errors.append(m.error().name())
            else:
                got.append(m.value())
        c.close()
        return got, errors

    def visible_topics(self, user):
        from confluent_kafka import Producer
        return set(Producer(self.conf(user)).list_topics(timeout=10).topics)

    def test_acls_enforced_managed_and_durable(self):
        securitytest.add_user(self.braid.data_dir, "bob", "bob-pw-5")
        PASSWORDS["bob"] = "bob-pw-5"
        admin = self.admin()
        admin.create_topics([NewTopic(t, 1, 1) for t in
                             ("orders", "secret", "logs-a", "logs-private")])
        acls = [
            ACL("User:alice", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW,
                ResourcePattern(ResourceType.TOPIC, "orders")),
            ACL("User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                ResourcePattern(ResourceType.GROUP, "g1")),
            ACL("User:bob", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                ResourcePattern(ResourceType.TOPIC, "logs-", ACLResourcePatternType.PREFIXED)),
            ACL("User:bob", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                ResourcePattern(ResourceType.GROUP, "bob-", ACLResourcePatternType.PREFIXED)),
            ACL("User:bob", "*", ACLOperation.READ, ACLPermissionType.DENY,
                ResourcePattern(ResourceType.TOPIC, "logs-private")),
        ]
        result = admin.create_acls(acls)
        self.assertEqual(len(result["succeeded"]), 5, result)
        self.assertEqual(result["failed"], [])
        # The super user writes the test data.
        self.assertEqual(self.produce("admin", "logs-a"), [None] * 3)
        self.assertEqual(self.produce("admin", "logs-private"), [None] * 3)

        def check_enforced(run):
            # alice: writes orders, nothing else.
            self.assertEqual(self.produce("alice", "orders"), [None] * 3)
            self.assertEqual(set(self.produce("alice", "secret")),
                             {"TOPIC_AUTHORIZATION_FAILED"})
            self.assertEqual(self.visible_topics("alice"), {"orders"})
            # alice may use group g1 but not read the topic; another group is refused.
            _, errors = self.consume("alice", "orders", "g2", 1, timeout=10)
            self.assertIn("GROUP_AUTHORIZATION_FAILED", errors)
            # bob: prefixed READ on logs-*, DENY on logs-private.
            got, errors = self.consume("bob", "logs-a", "bob-1-%d" % run, 3)
            self.assertEqual(errors, [])
            self.assertEqual(len(got), 3)
            got, errors = self.consume("bob", "logs-private", "bob-2", 1, timeout=10)
            self.assertEqual(got, [])
            self.assertIn("TOPIC_AUTHORIZATION_FAILED", errors)
            self.assertIn("DENIED User:bob from 127.0.0.1 READ on TOPIC 'logs-private' (Fetch",
                          self.braid.output_since_last_start())
            self.assertEqual(self.visible_topics("bob"), {"logs-a", "logs-private"})
            self.assertEqual(set(self.produce("bob", "logs-a")), {"TOPIC_AUTHORIZATION_FAILED"})

        check_enforced(1)
        # Only the super user may see or change ACLs.
        everything = ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                               ResourcePatternFilter(ResourceType.ANY, None,
                                                     ACLResourcePatternType.ANY))
        described, error = admin.describe_acls(everything)
        self.assertEqual(len(described), 5)
        with self.assertRaises(Exception):
            self.admin("alice").describe_acls(everything)
        admin.close()

        # kill -9 and a restart: the ACLs are still there and enforced.
        self.braid.kill()
        self.braid.start()
        admin = self.admin()
        described, _ = admin.describe_acls(everything)
        self.assertEqual(len(described), 5)
        check_enforced(2)
        # Deleting alice's WRITE ACL takes it away.
        admin.delete_acls([ACLFilter("User:alice", None, ACLOperation.WRITE,
                                     ACLPermissionType.ALLOW,
                                     ResourcePatternFilter(ResourceType.TOPIC, "orders",
                                                           ACLResourcePatternType.LITERAL))])
        self.assertEqual(set(self.produce("alice", "orders")), {"TOPIC_AUTHORIZATION_FAILED"})
        admin.close()
        self.assertIn("authorizer: DENIED User:alice", self.braid.output())

    def test_per_resource_authorization(self):
        from confluent_kafka import Consumer, TopicPartition
        from kafka.protocol.admin import (CreatePartitionsRequest, DeleteGroupsRequest,
                                          DescribeConfigsRequest, DescribeGroupsRequest,
                                          ListGroupsRequest)
        from kafka.protocol.commit import OffsetCommitRequest, OffsetFetchRequest
        from kafka.protocol.fetch import FetchRequest
        from kafka.protocol.produce import ProduceRequest
        from kafka.record.memory_records import MemoryRecordsBuilder

        admin = self.admin()
        admin.create_topics([NewTopic(t, 1, 1) for t in ("acl-a", "acl-b")])
        anon = "User:ANONYMOUS"

        def allow(op, rtype, name):
            return ACL(anon, "*", op, ACLPermissionType.ALLOW, ResourcePattern(rtype, name))

        acls = [allow(op, ResourceType.TOPIC, "acl-a") for op in
                (ACLOperation.WRITE, ACLOperation.READ, ACLOperation.DESCRIBE_CONFIGS,
                 ACLOperation.ALTER, ACLOperation.DELETE)]
        acls += [allow(op, ResourceType.GROUP, "grp-a") for op in
                 (ACLOperation.READ, ACLOperation.DESCRIBE, ACLOperation.DELETE)]
        result = admin.create_acls(acls)
        self.assertEqual(result["failed"], [])
        self.assertEqual(self.produce("admin", "acl-b", 1), [None])
        # The super user makes group grp-b (committed offsets, no members).
        c = Consumer(dict(self.conf("admin"), **{"group.id": "grp-b"}))
        c.commit(offsets=[TopicPartition("acl-b", 0, 1)], asynchronous=False)
        c.close()

        def batch(value):
            b = MemoryRecordsBuilder(2, 0, 1 << 20)
            b.append(0, None, value, [])
            b.close()
            return bytes(b.buffer())

        def s16(text):
            data = text.encode()
            return struct.pack(">h", len(data)) + data

        with rawkafka.RawConnection(self.braid.bootstrap) as conn:
            # Produce to an allowed and a denied topic in one request.
            resp = conn.call(ProduceRequest[3](None, 1, 10000, [
                ("acl-a", [(0, batch(b"to-a"))]), ("acl-b", [(0, batch(b"to-b"))])]))
            got = {t: parts[0][1] for t, parts in resp.topics}
            self.assertEqual(got, {"acl-a": 0, "acl-b": 29})
            # Fetch both: acl-a's record; acl-b answered 29 without records.
            resp = conn.call(FetchRequest[4](-1, 0, 1, 1 << 20, 0, [
                ("acl-a", [(0, 0, 1 << 20)]), ("acl-b", [(0, 0, 1 << 20)])]))
            got = {t: parts[0] for t, parts in resp.topics}
            self.assertEqual(got["acl-a"][1], 0)
            self.assertIn(b"to-a", got["acl-a"][5])
            self.assertEqual(got["acl-b"][1], 29)
            self.assertEqual(got["acl-b"][2], -1)
            self.assertFalse(got["acl-b"][5])
            # acl-b holds the super user's record only.
            self.assertEqual(self.consume("admin", "acl-b", "grp-check", 1)[0], [b"admin-0"])

            # DescribeConfigs: per resource; a broker needs the cluster.
            resp = conn.call(DescribeConfigsRequest[1](
                [(2, "acl-a", None), (2, "acl-b", None), (4, "0", None)], False))
            got = {r[3]: r for r in resp.resources}
            self.assertEqual(got["acl-a"][0], 0)
            self.assertTrue(got["acl-a"][4])
            self.assertEqual(got["acl-b"][0], 29)
            self.assertEqual(got["acl-b"][4], [])
            self.assertEqual(got["0"][0], 31)
            self.assertIn("DENIED User:ANONYMOUS from 127.0.0.1 DESCRIBE_CONFIGS on TOPIC "
                          "'acl-b' (DescribeConfigs v1)", self.braid.output_since_last_start())

            # CreatePartitions denied: answered, and the connection still works.
            resp = conn.call(CreatePartitionsRequest[0]([("acl-b", (2, None))], 10000, False))
            self.assertEqual([e[:2] for e in resp.topic_errors], [("acl-b", 29)])
            resp = conn.call(CreatePartitionsRequest[0]([("acl-a", (2, None))], 10000, False))
            self.assertEqual([e[:2] for e in resp.topic_errors], [("acl-a", 0)])

            # DeleteRecords v0 (raw): DELETE per topic.
            body = (struct.pack(">i", 2) + s16("acl-b") + struct.pack(">iiq", 1, 0, 1) +
                    s16("acl-a") + struct.pack(">iiq", 1, 0, 1) + struct.pack(">i", 10000))
            raw = conn.call_raw(21, 0, body)
            self.assertIn(s16("acl-b") + struct.pack(">iiqh", 1, 0, -1, 29), raw)
            self.assertIn(s16("acl-a") + struct.pack(">iiqh", 1, 0, 1, 0), raw)

            # OffsetCommit / OffsetFetch: READ / DESCRIBE per topic.
            resp = conn.call(OffsetCommitRequest[2]("grp-a", -1, "", -1, [
                ("acl-a", [(0, 1, "")]), ("acl-b", [(0, 1, "")])]))
            self.assertEqual({t: p[0][1] for t, p in resp.topics}, {"acl-a": 0, "acl-b": 29})
            resp = conn.call(OffsetFetchRequest[1]("grp-a", [("acl-a", [0]), ("acl-b", [0])]))
            got = {t: p[0] for t, p in resp.topics}
            self.assertEqual((got["acl-a"][1], got["acl-a"][3]), (1, 0))
            self.assertEqual((got["acl-b"][1], got["acl-b"][3]), (-1, 29))

            # DescribeGroups: per group.
            resp = conn.call(DescribeGroupsRequest[0](["grp-a", "grp-b"]))
            self.assertEqual({g[1]: g[0] for g in resp.groups}, {"grp-a": 0, "grp-b": 30})
            # ListGroups: only the describable groups, no error.
            resp = conn.call(ListGroupsRequest[0]())
            self.assertEqual(resp.error_code, 0)
            self.assertEqual([g[0] for g in resp.groups], ["grp-a"])
            listed = {g[0] for g in admin.list_consumer_groups()}
            self.assertTrue({"grp-a", "grp-b"} <= listed, listed)

            # OffsetDelete v0 (raw): DELETE group, READ per topic.
            body = (s16("grp-a") + struct.pack(">i", 2) + s16("acl-a") + struct.pack(">ii", 1, 0) +
                    s16("acl-b") + struct.pack(">ii", 1, 0))
            raw = conn.call_raw(47, 0, body)
            self.assertEqual(struct.unpack(">hi", raw[:6]), (0, 0))
            self.assertIn(s16("acl-a") + struct.pack(">iih", 1, 0, 0), raw)
            self.assertIn(s16("acl-b") + struct.pack(">iih", 1, 0, 29), raw)
            raw = conn.call_raw(47, 0, s16("grp-b") + struct.pack(">i", 0))
            self.assertEqual(struct.unpack(">h", raw[:2]), (30,))

            # DeleteGroups: per group.
            resp = conn.call(DeleteGroupsRequest[0](["grp-a", "grp-b"]))
            self.assertEqual(dict(resp.results), {"grp-a": 0, "grp-b": 30})
        listed = {g[0] for g in admin.list_consumer_groups()}
        self.assertNotIn("grp-a", listed)
        self.assertIn("grp-b", listed)
        admin.close()

    def test_tls_client_certificate_principal(self):
        # A verified client certificate without SASL: the principal is
        # "User:" + its subject, as Kafka's default principal builder.
        from test_sasl import kcat
        admin = self.admin()
        admin.create_topics([NewTopic("mtls-orders", 1, 1)])
        admin.create_acls([ACL("User:CN=client-one", "*", ACLOperation.WRITE,
                               ACLPermissionType.ALLOW,
                               ResourcePattern(ResourceType.TOPIC, "mtls-orders"))])
        admin.close()
        with_cert = dict(self.rdkafka_conf("SSL"), **{
            "ssl.certificate.location": self.certs["client"],
            "ssl.key.location": self.certs["client_key"]})
        p = kcat(with_cert, "-P", "-t", "mtls-orders", input=b"x\ny\n")
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        # Without a certificate the same client is User:ANONYMOUS: denied.
        p = kcat(self.rdkafka_conf("SSL"), "-P", "-t", "mtls-orders", input=b"z\n")
        self.assertIn("authorization failed", p.stderr.decode(errors="replace").lower())
        self.assertIn("DENIED User:ANONYMOUS", self.braid.output_since_last_start())


if __name__ == "__main__":
    braidtest.main()
