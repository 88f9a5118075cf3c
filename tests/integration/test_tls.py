"""TLS on the Kafka listener (Boost.Asio ssl streams over OpenSSL) with real
clients: SSL and SASL_SSL listeners beside a PLAINTEXT one, certificates made
at test time with the openssl CLI; TLS 1.2+ only; client certificates
verified against a CA (requested, and required on a second broker); a
plaintext client on a TLS port is refused while braid keeps serving."""

import os
import shutil
import socket
import ssl
import struct
import subprocess
import tempfile

import braidtest
import securitytest
from test_sasl import kcat


class TlsTest(securitytest.SecureBraidTestCase):

    def roundtrip(self, conf, n=4):
        topic = self.unique_topic("tls")
        p = kcat(conf, "-P", "-t", topic, input="".join("t%d\n" % i for i in range(n)).encode())
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        p = kcat(conf, "-C", "-t", topic, "-o", "beginning", "-e", "-q")
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        self.assertEqual(p.stdout.decode().split(), ["t%d" % i for i in range(n)])

    def test_ssl_listener_with_and_without_client_certificate(self):
        self.roundtrip(self.rdkafka_conf("SSL"))
        conf = dict(self.rdkafka_conf("SSL"), **{
            "ssl.certificate.location": self.certs["client"],
            "ssl.key.location": self.certs["client_key"]})
        self.roundtrip(conf)

    def test_confluent_kafka_ssl_metadata_advertises_tls_port(self):
        from confluent_kafka import Producer
        p = Producer(self.rdkafka_conf("SSL"))
        md = p.list_topics(timeout=10)
        self.assertEqual([b.port for b in md.brokers.values()], [self.ssl_port])
        p = Producer(self.rdkafka_conf("PLAINTEXT"))
        md = p.list_topics(timeout=10)
        self.assertEqual([b.port for b in md.brokers.values()], [self.braid.port])

    def test_untrusted_server_and_plaintext_client_are_refused(self):
        # The client does not trust braid's certificate (no CA given).
        conf = {"bootstrap.servers": "127.0.0.1:%d" % self.ssl_port, "security.protocol": "SSL"}
        p = kcat(conf, "-L", "-m", "5", timeout=30)
        self.assertNotEqual(p.returncode, 0)
        # A plaintext Kafka client on the TLS port.
        p = kcat({"bootstrap.servers": "127.0.0.1:%d" % self.ssl_port}, "-L", "-m", "5",
                 timeout=30)
        self.assertNotEqual(p.returncode, 0)
        # A raw ApiVersions frame on the TLS port: the connection is closed.
        s = socket.create_connection(("127.0.0.1", self.ssl_port), timeout=10)
        s.sendall(struct.pack(">ihhih", 10, 18, 0, 1, 0))
        self.assertEqual(s.recv(100)[:1] in (b"", b"\x15"), True)  # EOF or a TLS alert
        s.close()
        self.roundtrip(self.rdkafka_conf("SSL"))
        self.assertIn("TLS handshake failed", self.braid.output_since_last_start())

    def test_tls_versions(self):
        for version, ok in [(ssl.TLSVersion.TLSv1_2, True), (ssl.TLSVersion.TLSv1_3, True),
                            (ssl.TLSVersion.TLSv1_1, False)]:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(self.certs["ca"])
            if not ok:
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = version
            ctx.maximum_version = version
            raw = socket.create_connection(("127.0.0.1", self.ssl_port), timeout=10)
            try:
                if ok:
                    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                        self.assertEqual(s.version(), {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                                       ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version])
                        # ApiVersions v0 over TLS gets an answer.
                        s.sendall(struct.pack(">ihhih", 10, 18, 0, 7, 0))
                        (n,) = struct.unpack(">i", s.recv(4))
                        self.assertGreater(n, 6)
                else:
                    with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                        ctx.wrap_socket(raw, server_hostname="localhost")
            finally:
                raw.close()


class RequiredClientCertTest(braidtest.BraidTestCase):
    """A broker whose SSL listener requires a client certificate."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise braidtest.unittest.SkipTest("openssl CLI missing")
        cls.tmp = tempfile.mkdtemp(prefix="braid-mtls-")
        cls.certs = securitytest.make_certs(cls.tmp)
        cls.ssl_port = braidtest.free_port()
        cls.braid_args = ["--listen", "SSL://127.0.0.1:%d" % cls.ssl_port,
                          "--tls-cert", cls.certs["server"], "--tls-key", cls.certs["server_key"],
                          "--tls-ca", cls.certs["ca"], "--tls-client-auth", "required"]
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_client_certificate_required(self):
        base = {"bootstrap.servers": "127.0.0.1:%d" % self.ssl_port, "security.protocol": "SSL",
                "ssl.ca.location": self.certs["ca"]}
        p = kcat(base, "-L", "-m", "5", timeout=30)
        self.assertNotEqual(p.returncode, 0)
        conf = dict(base, **{"ssl.certificate.location": self.certs["client"],
                             "ssl.key.location": self.certs["client_key"]})
        topic = self.unique_topic("mtls")
        p = kcat(conf, "-P", "-t", topic, input=b"a\nb\n")
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        p = kcat(conf, "-C", "-t", topic, "-o", "beginning", "-e", "-q")
        self.assertEqual(p.stdout.decode().split(), ["a", "b"])


if __name__ == "__main__":
    braidtest.main()
