"""Helpers of the SASL/TLS integration tests: test certificates made with the
openssl CLI in a temp dir, users made with `braid users add`, and one braid
with PLAINTEXT, SASL_PLAINTEXT, SSL and SASL_SSL listeners side by side."""

import os
import shutil
import subprocess
import tempfile

import braidtest

PASSWORDS = {"alice": "alice-secret-1", "admin": "admin-secret-2"}


def openssl(*args, cwd):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (args, p.stderr.decode(errors="replace")))


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1/localhost signed by it, and
    a client certificate; returns a dict of PEM paths."""
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=braid test CA", "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
            "server.key", "-out", "server.csr", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=client-one", "-keyout",
            "client.key", "-out", "client.csr", cwd=d)
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", "client.pem", cwd=d)
    return {k: os.path.join(d, k + ext) for k, ext in
            [("ca", ".pem"), ("server", ".pem"), ("client", ".pem")]} | {
        "server_key": os.path.join(d, "server.key"), "client_key": os.path.join(d, "client.key")}


def add_user(data_dir, name, password, mechanism="all"):
    p = subprocess.run([braidtest.BRAID_BIN, "users", "add", name, "--data", data_dir,
                        "--mechanism", mechanism], input=(password + "\n").encode(),
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("braid users add failed: " + p.stderr.decode(errors="replace"))
    return p.stdout.decode()


class SecureBraidTestCase(braidtest.BraidTestCase):
    """cls.braid with four listeners: PLAINTEXT (cls.braid.port), SASL_PLAINTEXT
    (cls.sasl_port), SSL (cls.ssl_port), SASL_SSL (cls.sasl_ssl_port); users
    alice and admin (PASSWORDS); certificates in cls.certs."""

    @classmethod
    def setUpClass(cls):
        if not braidtest.BRAID_BIN or not os.path.exists(braidtest.BRAID_BIN):
            raise braidtest.unittest.SkipTest("BRAID_BIN is not set")
        if shutil.which("openssl") is None:
            raise braidtest.unittest.SkipTest("openssl CLI missing")
        cls.tmp = tempfile.mkdtemp(prefix="braid-sec-")
        cls.certs = make_certs(cls.tmp)
        data = os.path.join(cls.tmp, "data")
        os.makedirs(data)
        for name, pw in PASSWORDS.items():
            add_user(data, name, pw)
        cls.sasl_port = braidtest.free_port()
        cls.ssl_port = braidtest.free_port()
        cls.sasl_ssl_port = braidtest.free_port()
        args = ["--listen", "SASL_PLAINTEXT://127.0.0.1:%d" % cls.sasl_port,
                "--listen", "SSL://127.0.0.1:%d" % cls.ssl_port,
                "--listen", "SASL_SSL://127.0.0.1:%d" % cls.sasl_ssl_port,
                "--tls-cert", cls.certs["server"], "--tls-key", cls.certs["server_key"],
                "--tls-ca", cls.certs["ca"], "--super-users", "admin",
                "--max-failed-auth-per-address", "1000", "--failed-auth-delay-ms", "50",
                "--auto-create-topics", "true"] + list(getattr(cls, "extra_braid_args", []))
        cls.braid = braidtest.Braid("broker", data_dir=data, extra_args=args,
                                    log_level=cls.braid_log_level)
        try:
            cls.braid.start()
        except Exception:
            cls.braid.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # Client settings (librdkafka names).
    def rdkafka_conf(self, kind, user="alice", password=None, mechanism="SCRAM-SHA-512"):
        password = PASSWORDS.get(user, "x") if password is None else password
        if kind == "SASL_PLAINTEXT":
            return {"bootstrap.servers": "127.0.0.1:%d" % self.sasl_port,
                    "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mechanism,
                    "sasl.username": user, "sasl.password": password}
        if kind == "SASL_SSL":
            return {"bootstrap.servers": "127.0.0.1:%d" % self.sasl_ssl_port,
                    "security.protocol": "SASL_SSL", "sasl.mechanisms": mechanism,
                    "sasl.username": user, "sasl.password": password,
                    "ssl.ca.location": self.certs["ca"]}
        if kind == "SSL":
            return {"bootstrap.servers": "127.0.0.1:%d" % self.ssl_port,
                    "security.protocol": "SSL", "ssl.ca.location": self.certs["ca"]}
        return {"bootstrap.servers": self.braid.bootstrap}
