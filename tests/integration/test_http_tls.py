"""TLS on braid's HTTP listeners: `braid up --http-tls` serves /health,
/metrics, /v1/... and the schema registry over https with the Kafka
listener's certificate (made at test time with the openssl CLI); clients
verify it against the test CA (urllib, confluent_kafka's
SchemaRegistryClient, braid's own CLI client); a client without the CA and a
plaintext client are refused while braid keeps serving; `braid registry`
with --http-tls-client-auth required refuses a client without a
certificate."""

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request

import braidtest
import securitytest


def https_get(port, path, context, timeout=10):
    with urllib.request.urlopen("https://127.0.0.1:%d%s" % (port, path), timeout=timeout,
                                context=context) as r:
        return r.status, r.read().decode()


def plaintext_get(port, path):
    """An http:// request to `port`: the raw bytes answered before the close."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        out = b""
        while True:
            try:
                chunk = s.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


class HttpTlsUpTest(braidtest.BraidTestCase):
    """`braid up --http-tls` with the Kafka listener's --tls-cert/--tls-key."""

    braid_command = "up"

    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise braidtest.unittest.SkipTest("openssl CLI missing")
        cls.tmp = tempfile.mkdtemp(prefix="braid-http-tls-")
        cls.certs = securitytest.make_certs(cls.tmp)
        cls.braid_args = ["--http-tls", "--tls-cert", cls.certs["server"],
                          "--tls-key", cls.certs["server_key"]]
        super().setUpClass()
        cls.ctx = ssl.create_default_context(cafile=cls.certs["ca"])

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_health_metrics_and_views_over_https(self):
        port = self.braid.http_port
        braidtest.wait_until(lambda: https_get(port, "/health", self.ctx)[0] == 200,
                             what="/health 200 over https")
        status, body = https_get(port, "/health", self.ctx)
        self.assertIn('"status":"ok"', body)
        status, body = https_get(port, "/metrics", self.ctx)
        self.assertEqual(status, 200)
        self.assertIn("# TYPE", body)
        status, body = https_get(port, "/v1/views", self.ctx)
        self.assertEqual(status, 200)

    def test_startup_urls_say_https(self):
        out = self.braid.output_since_last_start()
        self.assertIn("http listening on https://127.0.0.1:%d" % self.braid.http_port, out)
        self.assertIn("registry listening on https://127.0.0.1:%d" % self.braid.registry_port,
                      out)

    def test_schema_registry_client_over_https(self):
        from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
        # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override the
        # client's ssl.ca.location (its session.verify): drop them here.
        for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            if var in os.environ:
                self.addCleanup(os.environ.__setitem__, var, os.environ.pop(var))
        client = SchemaRegistryClient({"url": "https://127.0.0.1:%d" % self.braid.registry_port,
                                       "ssl.ca.location": self.certs["ca"]})
        schema = Schema('{"type":"record","name":"T","fields":[{"name":"a","type":"int"}]}',
                        "AVRO")
        schema_id = client.register_schema("tls-value", schema)
        self.assertGreater(schema_id, 0)
        self.assertIn('"name":"a"', client.get_schema(schema_id).schema_str.replace(" ", ""))
        self.assertEqual(client.get_latest_version("tls-value").schema_id, schema_id)

    def test_client_without_the_ca_fails_verification(self):
        for port in (self.braid.http_port, self.braid.registry_port):
            with self.assertRaises(urllib.error.URLError) as e:
                https_get(port, "/health" if port == self.braid.http_port else "/subjects",
                          ssl.create_default_context())
            self.assertIsInstance(e.exception.reason, ssl.SSLCertVerificationError)

    def test_plaintext_http_is_refused_and_https_keeps_working(self):
        for port, path in ((self.braid.http_port, "/health"),
                           (self.braid.registry_port, "/subjects")):
            out = plaintext_get(port, path)
            self.assertNotIn(b"HTTP/1.", out)
            status, _ = https_get(port, path, self.ctx)
            self.assertIn(status, (200, 503) if path == "/health" else (200,))
        self.assertIn("TLS handshake failed", self.braid.output_since_last_start())

    def test_braid_cli_speaks_https_with_a_ca(self):
        base = [braidtest.BRAID_BIN]
        url = "https://127.0.0.1:%d" % self.braid.registry_port
        env = dict(os.environ)
        env.pop("BRAID_CA_FILE", None)
        # --ca, then the environment variable; without either the system's
        # CAs do not know the test CA.
        p = subprocess.run(base + ["--ca", self.certs["ca"], "schemas", "--registry", url, "list"],
                           capture_output=True, timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        p = subprocess.run(base + ["schemas", "--registry", url, "list"], capture_output=True,
                           timeout=60, env=dict(env, BRAID_CA_FILE=self.certs["ca"]))
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        p = subprocess.run(base + ["schemas", "--registry", url, "list"], capture_output=True,
                           timeout=60, env=env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("certificate verify failed", p.stderr.decode(errors="replace"))
        # A command that finds the running braid through its data directory
        # (recorded as https://HOST:PORT).
        p = subprocess.run(base + ["archive", "status", "--data", self.braid.data_dir],
                           capture_output=True, timeout=60,
                           env=dict(env, BRAID_CA_FILE=self.certs["ca"]))
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))


class HttpTlsClientCertRegistryTest(braidtest.unittest.TestCase):
    """`braid registry` with its own certificate flags and client
    certificates required."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise braidtest.unittest.SkipTest("openssl CLI missing")
        cls.tmp = tempfile.mkdtemp(prefix="braid-http-mtls-")
        cls.certs = securitytest.make_certs(cls.tmp)
        cls.braid = braidtest.Braid("registry", http=False, extra_args=[
            "--http-tls-cert", cls.certs["server"], "--http-tls-key", cls.certs["server_key"],
            "--http-tls-ca", cls.certs["ca"], "--http-tls-client-auth", "required"])
        try:
            cls.braid.start()
        except Exception:
            cls.braid.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.braid.stop()
        cls.braid.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if rc not in (0, None):
            raise AssertionError("braid exited with code %s on SIGTERM" % rc)

    def test_client_certificate_required(self):
        port = self.braid.registry_port
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        with self.assertRaises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
            https_get(port, "/subjects", ctx)
        ctx.load_cert_chain(self.certs["client"], self.certs["client_key"])
        status, body = https_get(port, "/subjects", ctx)
        self.assertEqual((status, body), (200, "[]"))

    def test_bad_flags_are_refused(self):
        p = subprocess.run([braidtest.BRAID_BIN, "registry", "--data", self.tmp + "/x",
                            "--listen", "127.0.0.1:0", "--http-tls"],
                           capture_output=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--http-tls needs a certificate and a key", p.stderr.decode())


if __name__ == "__main__":
    braidtest.main()
