"""ACLs (--acl) with real clients: ACLs created, described and deleted with
kafka-python's KafkaAdminClient (CreateAcls/DescribeAcls/DeleteAcls v1) by
a super user over SASL; a user allowed to write one topic and read one
group can do exactly that (librdkafka sees TOPIC_AUTHORIZATION_FAILED and
GROUP_AUTHORIZATION_FAILED for the rest, and Metadata hides the topics it
may not describe); prefixed and deny rules; the ACLs survive kill -9 and a
restart."""

import time

import braidtest
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
