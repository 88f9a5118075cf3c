"""`braid up --secure`: secure by a single setting. The first start makes a
CA, a server certificate and an admin user (password printed once, files
owner-only); the Kafka listener is SASL_SSL; real clients connect with the
printed settings; wrong passwords and plaintext clients are refused; a
restart reuses everything and prints no password."""

import os
import re
import stat
import subprocess
import time
import uuid

import braidtest
from test_sasl import kcat


def password_in(output):
    m = re.search(r"admin user 'admin', password: ([0-9a-f]+)", output)
    return m.group(1) if m else None


class SecureUpTest(braidtest.BraidTestCase):
    braid_command = "up"
    braid_args = ["--secure", "--group-initial-rebalance-delay-ms", "0"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sec = os.path.join(cls.braid.data_dir, "security")
        cls.ca = os.path.join(cls.sec, "tls", "ca.pem")
        cls.password = password_in(cls.braid.output())

    def conf(self, password=None, mechanism="SCRAM-SHA-512", user="admin"):
        return {"bootstrap.servers": self.braid.bootstrap,
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": mechanism,
                "sasl.username": user,
                "sasl.password": self.password if password is None else password,
                "ssl.ca.location": self.ca}

    def roundtrip(self, conf, n=5):
        topic = self.unique_topic("sec")
        p = kcat(conf, "-P", "-t", topic, input="".join("m%d\n" % i for i in range(n)).encode())
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        p = kcat(conf, "-C", "-t", topic, "-o", "beginning", "-e", "-q")
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertEqual(p.stdout.decode().split(), ["m%d" % i for i in range(n)])

    def test_1_first_start_prints_the_password_once_and_stores_it_owner_only(self):
        out = self.braid.output()
        self.assertIsNotNone(self.password, out)
        self.assertIn("first start", out)
        self.assertIn("security.protocol=SASL_SSL", out)
        self.assertIn("ssl.ca.location=" + self.ca, out)
        self.assertIn("SASL_SSL://127.0.0.1:%d" % self.braid.port, out)
        with open(os.path.join(self.sec, "admin.password")) as f:
            self.assertEqual(f.readline().strip(), self.password)
        for name in ["admin.password", "users.json", "tls/ca.key", "tls/ca.pem",
                     "tls/server.key", "tls/server.pem"]:
            mode = stat.S_IMODE(os.stat(os.path.join(self.sec, name)).st_mode)
            self.assertEqual(mode, 0o600, name)
        for d in [self.sec, os.path.join(self.sec, "tls")]:
            self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700, d)
        # The certificate verifies against the CA for the names clients use.
        server = os.path.join(self.sec, "tls", "server.pem")
        for host in ["localhost"]:
            p = subprocess.run(["openssl", "verify", "-CAfile", self.ca, "-verify_hostname", host,
                                server], capture_output=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = subprocess.run(["openssl", "verify", "-CAfile", self.ca, "-verify_ip", "127.0.0.1",
                            server], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_2_librdkafka_clients_use_the_printed_settings(self):
        self.roundtrip(self.conf())
        self.roundtrip(self.conf(mechanism="SCRAM-SHA-256"))
        self.roundtrip(self.conf(mechanism="PLAIN"))

    def test_3_confluent_kafka_python_and_kafka_python(self):
        from confluent_kafka import Consumer, Producer
        topic = self.unique_topic("py")
        p = Producer(self.conf())
        for i in range(10):
            p.produce(topic, value=b"v%d" % i)
        self.assertEqual(p.flush(30), 0)
        c = Consumer(dict(self.conf(), **{"group.id": "g-" + uuid.uuid4().hex,
                                          "auto.offset.reset": "earliest"}))
        c.subscribe([topic])
        got = []
        deadline = time.time() + 30
        while len(got) < 10 and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got.append(m.value())
        c.close()
        self.assertEqual(got, [b"v%d" % i for i in range(10)])

        import ssl
        from kafka import KafkaConsumer, KafkaProducer
        ctx = ssl.create_default_context(cafile=self.ca)
        kw = dict(bootstrap_servers=self.braid.bootstrap, security_protocol="SASL_SSL",
                  ssl_context=ctx, sasl_mechanism="SCRAM-SHA-512",
                  sasl_plain_username="admin", sasl_plain_password=self.password)
        topic = self.unique_topic("kp")
        kp = KafkaProducer(**kw)
        for i in range(5):
            kp.send(topic, b"k%d" % i)
        kp.flush(30)
        kp.close()
        kc = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=20000, **kw)
        values = []
        for m in kc:
            values.append(m.value)
            if len(values) == 5:
                break
        kc.close()
        self.assertEqual(values, [b"k%d" % i for i in range(5)])

    def test_4_wrong_password_unknown_user_and_plaintext_are_refused(self):
        p = kcat(self.conf(password="wrong"), "-L", "-m", "5", timeout=30)
        self.assertNotEqual(p.returncode, 0)
        p = kcat(self.conf(user="mallory"), "-L", "-m", "5", timeout=30)
        self.assertNotEqual(p.returncode, 0)
        p = kcat({"bootstrap.servers": self.braid.bootstrap}, "-L", "-m", "5", timeout=30)
        self.assertNotEqual(p.returncode, 0)
        # A client that does not trust the generated CA.
        conf = self.conf()
        del conf["ssl.ca.location"]
        p = kcat(conf, "-L", "-m", "5", timeout=30)
        self.assertNotEqual(p.returncode, 0)
        # ...and braid keeps serving the others.
        self.roundtrip(self.conf())

    def test_4b_http_apis_are_https_with_authentication(self):
        import base64
        import json
        import ssl
        import urllib.error
        import urllib.request
        ctx = ssl.create_default_context(cafile=self.ca)

        def get(port, path, auth=None):
            req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, path))
            if auth:
                req.add_header("Authorization",
                               "Basic " + base64.b64encode(auth.encode()).decode())
            try:
                with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()

        self.assertEqual(get(self.braid.http_port, "/health")[0], 200)
        status, body = get(self.braid.http_port, "/v1/views")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["error_code"], 401)
        self.assertEqual(get(self.braid.http_port, "/v1/views", "admin:wrong")[0], 401)
        self.assertEqual(get(self.braid.http_port, "/v1/views", "admin:" + self.password)[0],
                         200)
        self.assertEqual(get(self.braid.registry_port, "/subjects")[0], 401)
        self.assertEqual(get(self.braid.registry_port, "/subjects",
                             "admin:" + self.password)[0], 200)
        # Plain HTTP on the HTTPS port gets no HTTP answer.
        with self.assertRaises(Exception):
            urllib.request.urlopen("http://127.0.0.1:%d/health" % self.braid.http_port,
                                   timeout=5).read()
        out = self.braid.output()
        self.assertIn("https://127.0.0.1:%d" % self.braid.http_port, out)
        self.assertIn("basic.auth.user.info=admin:", out)

    def test_5_restart_reuses_the_setup_and_prints_no_password(self):
        with open(self.ca) as f:
            ca_before = f.read()
        self.assertEqual(self.braid.stop(), 0)
        self.braid.start()
        out = self.braid.output_since_last_start()
        self.assertNotIn(self.password, out)
        self.assertIn("using the CA", out)
        self.assertIn("sasl.password=<the first line of", out)
        with open(self.ca) as f:
            self.assertEqual(f.read(), ca_before)
        self.roundtrip(self.conf())


if __name__ == "__main__":
    braidtest.main()
