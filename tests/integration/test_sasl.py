"""SASL on the Kafka listener with real clients: librdkafka (kcat and
confluent-kafka-python), kafka-python (raw tokens after SaslHandshake v0),
kafkajs and Go sarama, with SASL_PLAINTEXT PLAIN and SASL_SSL SCRAM-SHA-512;
wrong passwords, unknown users and unauthenticated requests are refused
while braid keeps serving the others; users made with `braid users add`
(also while braid runs) and through KIP-554 AlterUserScramCredentials."""

import hashlib
import hmac
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile
import time

import braidtest
import securitytest
from securitytest import PASSWORDS

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
GO_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go", "sarama_sasl")
GOPATH = "/usr/share/gocode"


def kcat(conf, *args, input=None, timeout=60):
    cmd = ["kcat"]
    for k, v in conf.items():
        if k == "bootstrap.servers":
            cmd += ["-b", v]
        else:
            cmd += ["-X", "%s=%s" % (k, v)]
    return subprocess.run(cmd + list(args), input=input, capture_output=True, timeout=timeout)


# ------------------------------------------------------- a minimal raw client

def frame(api_key, version, corr, body, flexible=False):
    header = struct.pack(">hhi", api_key, version, corr) + struct.pack(">h", 4) + b"test"
    if flexible:
        header += b"\x00"  # no tagged fields
    msg = header + body
    return struct.pack(">i", len(msg)) + msg


def read_frame(sock):
    def exact(n):
        out = b""
        while len(out) < n:
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out
    (n,) = struct.unpack(">i", exact(4))
    return exact(n)


def kstring(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def uvarint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def compact_string(s):
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


class Raw:
    """One connection speaking SaslHandshake v1 + SaslAuthenticate v0 PLAIN."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.corr = 0

    def call(self, api_key, version, body, flexible=False):
        self.corr += 1
        self.sock.sendall(frame(api_key, version, self.corr, body, flexible))
        resp = read_frame(self.sock)
        assert struct.unpack(">i", resp[:4])[0] == self.corr
        return resp[5:] if flexible else resp[4:]  # skip header (and its tags)

    def login_plain(self, user, password):
        r = self.call(17, 1, kstring("PLAIN"))
        assert struct.unpack(">h", r[:2])[0] == 0, r
        token = b"\x00" + user.encode() + b"\x00" + password.encode()
        r = self.call(36, 0, struct.pack(">i", len(token)) + token)
        return struct.unpack(">h", r[:2])[0]

    def close(self):
        self.sock.close()


class SaslTest(securitytest.SecureBraidTestCase):

    def produce_consume_kcat(self, conf, n=5):
        topic = self.unique_topic("kcat")
        msgs = "".join("m%d\n" % i for i in range(n)).encode()
        p = kcat(conf, "-P", "-t", topic, input=msgs)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        p = kcat(conf, "-C", "-t", topic, "-o", "beginning", "-e", "-q")
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertEqual(p.stdout.decode().split(), ["m%d" % i for i in range(n)])

    def assert_refused_kcat(self, conf):
        p = kcat(conf, "-L", "-m", "5", timeout=30)
        self.assertNotEqual(p.returncode, 0, p.stdout.decode(errors="replace"))
        return p.stderr.decode(errors="replace")

    # --------------------------------------------------------------- librdkafka

    def test_kcat_sasl_plaintext_plain(self):
        self.produce_consume_kcat(self.rdkafka_conf("SASL_PLAINTEXT", mechanism="PLAIN"))

    def test_kcat_sasl_plaintext_scram_sha256(self):
        self.produce_consume_kcat(self.rdkafka_conf("SASL_PLAINTEXT", mechanism="SCRAM-SHA-256"))

    def test_kcat_sasl_ssl_scram_sha512(self):
        self.produce_consume_kcat(self.rdkafka_conf("SASL_SSL"))

    def test_confluent_kafka_sasl_ssl_scram_and_plain_with_group(self):
        from confluent_kafka import Consumer, Producer
        for kind, mech in [("SASL_SSL", "SCRAM-SHA-512"), ("SASL_PLAINTEXT", "PLAIN")]:
            conf = self.rdkafka_conf(kind, mechanism=mech)
            topic = self.unique_topic("ck-" + kind.lower().replace("_", "-"))
            p = Producer(conf)
            for i in range(10):
                p.produce(topic, value=b"v%d" % i)
            self.assertEqual(p.flush(30), 0)
            # Metadata advertises the listener the client connected to.
            md = p.list_topics(timeout=10)
            port = int(conf["bootstrap.servers"].split(":")[1])
            self.assertEqual([b.port for b in md.brokers.values()], [port])
            c = Consumer(dict(conf, **{"group.id": "g-" + topic, "auto.offset.reset": "earliest"}))
            c.subscribe([topic])
            got = []
            deadline = time.time() + 60
            while len(got) < 10 and time.time() < deadline:
                m = c.poll(1.0)
                if m is not None and not m.error():
                    got.append(m.value())
            c.commit(asynchronous=False)
            c.close()
            self.assertEqual(got, [b"v%d" % i for i in range(10)])

    def test_wrong_password_unknown_user_and_unauthenticated_are_refused(self):
        err = self.assert_refused_kcat(self.rdkafka_conf("SASL_SSL", password="wrong"))
        self.assertIn("Authentication failed", err)
        err = self.assert_refused_kcat(
            self.rdkafka_conf("SASL_PLAINTEXT", mechanism="PLAIN", password="wrong"))
        self.assertIn("Authentication failed", err)
        err = self.assert_refused_kcat(self.rdkafka_conf("SASL_SSL", user="mallory"))
        self.assertIn("Authentication failed", err)
        # A plaintext client on the SASL port: its Metadata closes the connection.
        self.assert_refused_kcat({"bootstrap.servers": "127.0.0.1:%d" % self.sasl_port})
        # A PLAINTEXT client on the TLS port.
        self.assert_refused_kcat({"bootstrap.servers": "127.0.0.1:%d" % self.sasl_ssl_port})
        # braid still serves the others.
        self.produce_consume_kcat(self.rdkafka_conf("SASL_SSL"))
        self.produce_consume_kcat(self.rdkafka_conf("PLAINTEXT"))
        out = self.braid.output_since_last_start()
        self.assertIn("authentication failed", out)

    def test_raw_protocol_rules(self):
        # Metadata before authentication: closed without an answer.
        r = Raw(self.sasl_port)
        r.sock.sendall(frame(3, 1, 1, struct.pack(">i", -1)))
        with self.assertRaises((ConnectionError, socket.timeout, OSError)):
            read_frame(r.sock)
        r.close()
        # A frame larger than 512 KiB before authentication: closed.
        r = Raw(self.sasl_port)
        r.sock.sendall(struct.pack(">i", 10 << 20) + b"\x00" * 1000)
        with self.assertRaises((ConnectionError, socket.timeout, OSError)):
            read_frame(r.sock)
        r.close()
        # Truncated SaslAuthenticate body: closed.
        r = Raw(self.sasl_port)
        self.assertEqual(struct.unpack(">h", r.call(17, 1, kstring("PLAIN"))[:2])[0], 0)
        r.sock.sendall(frame(36, 0, 9, struct.pack(">i", 100) + b"abc"))
        with self.assertRaises((ConnectionError, socket.timeout, OSError)):
            read_frame(r.sock)
        r.close()
        # Unsupported mechanism: UNSUPPORTED_SASL_MECHANISM (33) with the list.
        r = Raw(self.sasl_port)
        resp = r.call(17, 1, kstring("GSSAPI"))
        self.assertEqual(struct.unpack(">h", resp[:2])[0], 33)
        self.assertIn(b"SCRAM-SHA-512", resp)
        r.close()
        # Wrong password: SASL_AUTHENTICATION_FAILED (58), then closed.
        r = Raw(self.sasl_port)
        self.assertEqual(r.login_plain("alice", "nope"), 58)
        with self.assertRaises((ConnectionError, socket.timeout, OSError)):
            read_frame(r.sock)
        r.close()
        # SaslHandshake on a PLAINTEXT listener: ILLEGAL_SASL_STATE (34).
        r = Raw(self.braid.port)
        self.assertEqual(struct.unpack(">h", r.call(17, 1, kstring("PLAIN"))[:2])[0], 34)
        r.close()

    def test_users_added_while_running_and_kip554(self):
        # `braid users add` beside the running broker: seen at the next login.
        securitytest.add_user(self.braid.data_dir, "carol", "carol-pw-3", "SCRAM-SHA-512")
        self.produce_consume_kcat(self.rdkafka_conf("SASL_SSL", user="carol",
                                                    password="carol-pw-3"))
        # KIP-554: DescribeUserScramCredentials as alice (not a super user): refused.
        r = Raw(self.sasl_port)
        self.assertEqual(r.login_plain("alice", PASSWORDS["alice"]), 0)
        resp = r.call(50, 0, uvarint(0) + b"\x00", flexible=True)  # users: null
        self.assertEqual(struct.unpack(">h", resp[4:6])[0], 31)  # CLUSTER_AUTHORIZATION_FAILED
        r.close()
        # As admin: describe every user, then upsert dave (salted password
        # computed here, as Kafka's admin client does) and delete carol.
        r = Raw(self.sasl_port)
        self.assertEqual(r.login_plain("admin", PASSWORDS["admin"]), 0)
        resp = r.call(50, 0, uvarint(0) + b"\x00", flexible=True)
        self.assertEqual(struct.unpack(">h", resp[4:6])[0], 0)
        for name in (b"alice", b"admin", b"carol"):
            self.assertIn(name, resp)
        salt = os.urandom(16)
        salted = hashlib.pbkdf2_hmac("sha512", b"dave-pw-4", salt, 4096)
        body = (uvarint(2) + compact_string("carol") + b"\x02" + b"\x00"  # deletions
                + uvarint(2) + compact_string("dave") + b"\x02" + struct.pack(">i", 4096)
                + compact_string(salt) + compact_string(salted) + b"\x00"  # upsertions
                + b"\x00")
        resp = r.call(51, 0, body, flexible=True)
        # throttle(4) results: count, then per user name/error/message/tags.
        self.assertIn(b"dave", resp)
        self.assertNotIn(b"\x00\x5b", resp)  # no RESOURCE_NOT_FOUND
        # Too few iterations: UNACCEPTABLE_CREDENTIAL (93).
        body = (uvarint(1) + uvarint(2) + compact_string("erin") + b"\x02"
                + struct.pack(">i", 100) + compact_string(salt) + compact_string(salted)
                + b"\x00" + b"\x00")
        resp = r.call(51, 0, body, flexible=True)
        self.assertIn(struct.pack(">h", 93), resp)
        r.close()
        self.produce_consume_kcat(self.rdkafka_conf("SASL_SSL", user="dave", password="dave-pw-4"))
        self.assert_refused_kcat(self.rdkafka_conf("SASL_SSL", user="carol", password="carol-pw-3"))
        p = subprocess.run([braidtest.BRAID_BIN, "users", "list", "--data", self.braid.data_dir],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        names = [line.split("\t")[0] for line in p.stdout.decode().splitlines()]
        self.assertEqual(names, ["admin", "alice", "dave"])

    # ------------------------------------------------------------- kafka-python

    def test_kafka_python_plain_and_scram_over_tls(self):
        from kafka import KafkaConsumer, KafkaProducer
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        for name, kw in [
            ("plain", dict(bootstrap_servers="127.0.0.1:%d" % self.sasl_port,
                           security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN")),
            ("scram", dict(bootstrap_servers="127.0.0.1:%d" % self.sasl_ssl_port,
                           security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                           ssl_context=ctx)),
        ]:
            kw.update(sasl_plain_username="alice", sasl_plain_password=PASSWORDS["alice"],
                      api_version=(2, 0, 0))
            topic = self.unique_topic("kp-" + name)
            p = KafkaProducer(**kw)
            for i in range(5):
                p.send(topic, b"kp%d" % i).get(timeout=30)
            p.close()
            c = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=5000,
                              **kw)
            got = [m.value for m in c]
            c.close()
            self.assertEqual(got, [b"kp%d" % i for i in range(5)])

    def test_kafka_python_wrong_password(self):
        from kafka import KafkaProducer
        from kafka.errors import KafkaError
        with self.assertRaises((KafkaError, Exception)):
            p = KafkaProducer(bootstrap_servers="127.0.0.1:%d" % self.sasl_port,
                              security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                              sasl_plain_username="alice", sasl_plain_password="bad",
                              api_version=(2, 0, 0), max_block_ms=5000)
            p.send("x", b"y").get(timeout=10)

    # ----------------------------------------------------------------- kafkajs

    def test_kafkajs_scram_ssl_and_plain(self):
        if shutil.which("node") is None or not os.path.isdir(
                os.path.join(NODE_DIR, "node_modules", "kafkajs")):
            self.skipTest("node/kafkajs not installed (npm ci in %s)" % NODE_DIR)
        for name, args in [
            ("scram", ["127.0.0.1:%d" % self.sasl_ssl_port, "scram-sha-512", self.certs["ca"]]),
            ("plain", ["127.0.0.1:%d" % self.sasl_port, "plain", ""]),
        ]:
            topic = self.unique_topic("kjs-" + name)
            p = subprocess.run(["node", os.path.join(NODE_DIR, "kafkajs_sasl.js")] + args
                               + ["alice", PASSWORDS["alice"], topic],
                               capture_output=True, timeout=120, cwd=NODE_DIR)
            self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
            r = json.loads(p.stdout.decode().strip().splitlines()[-1])
            self.assertEqual(r["values"], ["kjs %d" % i for i in range(5)])
        p = subprocess.run(["node", os.path.join(NODE_DIR, "kafkajs_sasl.js"),
                            "127.0.0.1:%d" % self.sasl_ssl_port, "scram-sha-512",
                            self.certs["ca"], "alice", "wrong", self.unique_topic("kjs-bad")],
                           capture_output=True, timeout=120, cwd=NODE_DIR)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SASL", p.stderr.decode(errors="replace"))

    # ------------------------------------------------------------------ sarama

    def test_sarama_scram_ssl_and_plain(self):
        if shutil.which("go") is None or not os.path.isdir(
                os.path.join(GOPATH, "src", "github.com", "Shopify", "sarama")):
            self.skipTest("go or sarama missing")
        tmp = tempfile.mkdtemp(prefix="braid-sarama-sasl-")
        try:
            binary = os.path.join(tmp, "sarama_sasl")
            env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH,
                       GOCACHE=os.path.join(tmp, "gocache"), GOFLAGS="")
            p = subprocess.run(["go", "build", "-o", binary, "main.go"], cwd=GO_SRC, env=env,
                               capture_output=True, timeout=600)
            self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
            for name, args in [
                ("scram", ["127.0.0.1:%d" % self.sasl_ssl_port, "SCRAM-SHA-512",
                           self.certs["ca"]]),
                ("plain", ["127.0.0.1:%d" % self.sasl_port, "PLAIN", ""]),
            ]:
                topic = self.unique_topic("sarama-" + name)
                p = subprocess.run([binary] + args + ["alice", PASSWORDS["alice"], topic],
                                   capture_output=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
                r = json.loads(p.stdout.decode().strip().splitlines()[-1])
                self.assertEqual(r["values"], ["sarama %d" % i for i in range(5)])
            p = subprocess.run([binary, "127.0.0.1:%d" % self.sasl_ssl_port, "SCRAM-SHA-512",
                                self.certs["ca"], "alice", "wrong", "t"],
                               capture_output=True, timeout=120)
            self.assertNotEqual(p.returncode, 0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class SaslRateLimitTest(braidtest.BraidTestCase):
    """Failed authentications are limited per client address: past the limit
    even the right password is refused, until the window passes."""

    @classmethod
    def setUpClass(cls):
        cls.sasl_port = braidtest.free_port()
        cls.braid_args = ["--listen", "SASL_PLAINTEXT://127.0.0.1:%d" % cls.sasl_port,
                          "--max-failed-auth-per-address", "2", "--failed-auth-window-ms",
                          "3000", "--failed-auth-delay-ms", "0"]
        super().setUpClass()

    def test_failures_are_rate_limited_per_address(self):
        securitytest.add_user(self.braid.data_dir, "alice", "right-pw")

        def login(pw):
            r = Raw(self.sasl_port)
            try:
                return r.login_plain("alice", pw)
            finally:
                r.close()
        self.assertEqual(login("right-pw"), 0)
        self.assertEqual(login("wrong"), 58)
        self.assertEqual(login("wrong"), 58)
        self.assertEqual(login("right-pw"), 58)  # blocked without checking
        self.assertIn("too many failed authentications", self.braid.output_since_last_start())
        time.sleep(3.5)
        self.assertEqual(login("right-pw"), 0)


if __name__ == "__main__":
    braidtest.main()
