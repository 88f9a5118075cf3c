"""Authentication and authorisation on braid's HTTP APIs (`--http-auth`):
the schema registry and the runtime's server (/v1/..., /metrics, /console)
of `braid up`, with basic auth of the SASL users (Confluent's
SchemaRegistryClient with basic.auth.user.info) and bearer tokens from
`braid tokens create`: read and admin scopes, 401/403 in braid's error
shape, /health open, tokens created and deleted while braid runs, the CLI's
own client credentials (--token, BRAID_TOKEN, --http-user)."""

import base64
import json
import os
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

import braidtest
import securitytest

PASSWORDS = {"alice": "alice-secret-1", "admin": "admin-secret-2"}
SOURCE_DIR = os.environ.get(
    "BRAID_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
VIEWS = os.path.join(SOURCE_DIR, "examples", "superwebanalytics", "views.yaml")
SCHEMA = json.dumps({"type": "record", "name": "Ping", "namespace": "t",
                     "fields": [{"name": "n", "type": "long"}]})


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def call(url, method="GET", auth=None, body=None):
    """(status, parsed JSON or text, headers) of one request."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, method=method, data=data)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, text, headers = r.status, r.read().decode(), r.headers
    except urllib.error.HTTPError as e:
        status, text, headers = e.code, e.read().decode(), e.headers
    try:
        return status, json.loads(text), headers
    except ValueError:
        return status, text, headers


def braid_cli(*args, env=None, input=None):
    return subprocess.run([braidtest.BRAID_BIN] + list(args), capture_output=True, text=True,
                          timeout=60, env=env, input=input)


class HttpAuthTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not braidtest.BRAID_BIN or not os.path.exists(braidtest.BRAID_BIN):
            raise unittest.SkipTest("BRAID_BIN is not set")
        cls.tmp = tempfile.mkdtemp(prefix="braid-http-auth-")
        data = os.path.join(cls.tmp, "data")
        os.makedirs(data)
        for name, pw in PASSWORDS.items():
            securitytest.add_user(data, name, pw)
        args = ["--http-auth", "--super-users", "admin", "--views", VIEWS,
                "--batch-interval-ms", "0", "--max-failed-auth-per-address", "1000"]
        cls.braid = braidtest.Braid("up", data_dir=data, extra_args=args)
        try:
            cls.braid.start()
        except Exception:
            cls.braid.cleanup()
            raise
        cls.api = "http://127.0.0.1:%d" % cls.braid.http_port
        cls.registry = cls.braid.registry_url

    @classmethod
    def tearDownClass(cls):
        rc = cls.braid.stop()
        if rc not in (0, None) or getattr(cls, "_failed", False):
            print("---- braid output (exit code %s) ----\n%s" % (rc, cls.braid.output()))
        cls.braid.cleanup()
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if rc not in (0, None):
            raise AssertionError("braid exited with code %s on SIGTERM" % rc)

    def run(self, result=None):
        result = super().run(result)
        if result is not None and (result.failures or result.errors):
            type(self)._failed = True
        return result

    def token(self, scope, name):
        p = braid_cli("tokens", "create", "--data", self.braid.data_dir, "--" + scope,
                      "--name", name)
        self.assertEqual(p.returncode, 0, p.stderr)
        token = p.stdout.strip()
        self.assertTrue(token.startswith("braid_"), p.stdout)
        return token

    def assert_refused(self, status, body, headers, code):
        self.assertEqual(status, code, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(body["error_code"], code, body)
        self.assertIsInstance(body["message"], str)
        if code == 401:
            self.assertEqual(headers.get("WWW-Authenticate"), 'Basic realm="braid"')

    # ------------------------------------------------------------------ tests

    def test_health_is_open(self):
        status, body, _ = call(self.api + "/health")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["status"], "ok")

    def test_no_credentials_and_wrong_password_get_401(self):
        for url in (self.api + "/v1/views", self.api + "/metrics", self.api + "/console",
                    self.registry + "/subjects", self.registry + "/schemas/types"):
            self.assert_refused(*call(url), 401)
            self.assert_refused(*call(url, auth=basic("admin", "wrong")), 401)
            self.assert_refused(*call(url, auth=basic("nobody", "wrong")), 401)
            self.assert_refused(*call(url, auth="Bearer braid_" + "0" * 64), 401)
        # Unknown paths too: no routing before authentication.
        self.assert_refused(*call(self.api + "/nope"), 401)
        self.assert_refused(*call(self.api + "/v1/batch/run", method="POST", body={}), 401)

    def test_schema_registry_client_with_basic_auth(self):
        from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
        from confluent_kafka.schema_registry.error import SchemaRegistryError
        admin = SchemaRegistryClient({"url": self.registry,
                                      "basic.auth.user.info": "admin:" + PASSWORDS["admin"]})
        sid = admin.register_schema("pings-value", Schema(SCHEMA, "AVRO"))
        self.assertGreater(sid, 0)
        self.assertEqual(json.loads(admin.get_schema(sid).schema_str)["name"], "Ping")
        self.assertEqual(admin.get_latest_version("pings-value").schema_id, sid)
        # alice (not a super user) reads, looks up and checks compatibility
        # (POSTs that only read) but may not register.
        alice = SchemaRegistryClient({"url": self.registry,
                                      "basic.auth.user.info": "alice:" + PASSWORDS["alice"]})
        self.assertEqual(alice.get_schema(sid).schema_type, "AVRO")
        self.assertEqual(alice.lookup_schema("pings-value", Schema(SCHEMA, "AVRO")).schema_id, sid)
        self.assertTrue(alice.test_compatibility("pings-value", Schema(SCHEMA, "AVRO")))
        other = json.dumps({"type": "record", "name": "Pong", "fields": []})
        with self.assertRaises(SchemaRegistryError) as e:
            alice.register_schema("pongs-value", Schema(other, "AVRO"))
        self.assertEqual(e.exception.http_status_code, 403)
        status, body, headers = call(self.registry + "/config", method="PUT",
                                     auth=basic("alice", PASSWORDS["alice"]),
                                     body={"compatibility": "NONE"})
        self.assert_refused(status, body, headers, 403)
        wrong = SchemaRegistryClient({"url": self.registry, "basic.auth.user.info": "admin:nope"})
        with self.assertRaises(SchemaRegistryError) as e:
            wrong.get_schema(sid)
        self.assertEqual(e.exception.http_status_code, 401)
        anonymous = SchemaRegistryClient({"url": self.registry})
        with self.assertRaises(SchemaRegistryError) as e:
            anonymous.get_subjects()
        self.assertEqual(e.exception.http_status_code, 401)

    def test_basic_auth_scopes_on_the_runtime_api(self):
        alice = basic("alice", PASSWORDS["alice"])
        status, body, _ = call(self.api + "/v1/views", auth=alice)
        self.assertEqual(status, 200, body)
        status, body, headers = call(self.api + "/v1/batch/run", method="POST", auth=alice,
                                     body={})
        self.assert_refused(status, body, headers, 403)
        status, body, _ = call(self.api + "/v1/batch/schedule", auth=alice)
        self.assertEqual(status, 200, body)

    def test_read_and_admin_tokens(self):
        reader = self.token("read-only", "reader-1")
        admin = self.token("admin", "admin-1")
        for path in ("/v1/views", "/metrics", "/v1/batch/schedule"):
            status, body, _ = call(self.api + path, auth="Bearer " + reader)
            self.assertEqual(status, 200, (path, body))
        # POST .../values only reads: the read scope suffices (the view is
        # unknown: 404 from the handler, not 401/403).
        status, body, _ = call(self.api + "/v1/views/nope/values", method="POST",
                               auth="Bearer " + reader, body={"keys": ["a"]})
        self.assertNotIn(status, (401, 403), body)
        status, body, headers = call(self.api + "/v1/batch/run", method="POST",
                                     auth="Bearer " + reader, body={})
        self.assert_refused(status, body, headers, 403)
        status, body, _ = call(self.api + "/v1/batch/run", method="POST", auth="Bearer " + admin,
                               body={})
        self.assertEqual(status, 202, body)
        self.assertEqual(body["state"], "queued")
        # The registry takes tokens too.
        status, body, _ = call(self.registry + "/subjects", auth="Bearer " + reader)
        self.assertEqual(status, 200, body)

        listed = braid_cli("tokens", "list", "--data", self.braid.data_dir)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("reader-1\tread", listed.stdout)
        self.assertIn("admin-1\tadmin", listed.stdout)
        self.assertNotIn(reader, listed.stdout)
        with open(os.path.join(self.braid.data_dir, "security", "tokens.json")) as f:
            stored = f.read()
        self.assertNotIn(reader[len("braid_"):], stored)
        self.assertEqual(os.stat(os.path.join(self.braid.data_dir, "security",
                                              "tokens.json")).st_mode & 0o777, 0o600)

        # Deleted while braid runs: refused at the next request.
        p = braid_cli("tokens", "delete", "reader-1", "--data", self.braid.data_dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_refused(*call(self.api + "/v1/views", auth="Bearer " + reader), 401)
        self.assert_refused(*call(self.registry + "/subjects", auth="Bearer " + reader), 401)
        status, _, _ = call(self.api + "/v1/views", auth="Bearer " + admin)
        self.assertEqual(status, 200)
        p = braid_cli("tokens", "delete", "reader-1", "--data", self.braid.data_dir)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no token", p.stderr)

    def test_cli_client_credentials(self):
        admin = self.token("admin", "cli-admin")
        env = dict(os.environ)
        env.pop("BRAID_TOKEN", None)
        refused = braid_cli("schemas", "--registry", self.registry, "list", env=env)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("401", refused.stdout + refused.stderr)
        ok = braid_cli("--token", admin, "schemas", "--registry", self.registry, "list", env=env)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        env["BRAID_TOKEN"] = admin
        ok = braid_cli("schemas", "--registry", self.registry, "list", env=env)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        del env["BRAID_TOKEN"]
        pw_file = os.path.join(self.tmp, "alice.pw")
        with open(pw_file, "w") as f:
            f.write(PASSWORDS["alice"] + "\n")
        ok = braid_cli("--http-user", "alice", "--http-password-file", pw_file, "schemas",
                       "--registry", self.registry, "list", env=env)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        # `braid batch status` finds the running braid through the data
        # directory and sends the token.
        st = braid_cli("--token", admin, "batch", "status", "--data", self.braid.data_dir,
                       env=env)
        self.assertEqual(st.returncode, 0, st.stderr)


class HttpAuthOffTest(braidtest.BraidTestCase):
    """Without --http-auth nothing changes: the laptop default stays open."""

    braid_command = "up"

    def test_open_without_the_flag(self):
        status, _, _ = call("http://127.0.0.1:%d/v1/views" % self.braid.http_port)
        self.assertEqual(status, 200)
        status, _, _ = call(self.braid.registry_url + "/subjects")
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
