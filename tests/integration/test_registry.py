#!/usr/bin/python3
"""Integration test of braid's schema registry with real clients.

Starts `braid registry` on a free loopback port with a fresh data dir and drives
it with confluent-kafka-python's SchemaRegistryClient, the legacy
confluent_kafka.avro CachedSchemaRegistryClient, plain HTTP (requests) for the
error codes, and the `braid schemas` command line. Then kills it with SIGKILL,
restarts it on the same data dir and checks that ids, versions, configs and
soft deletes survived. If the broker (`braid up`) serves a registry, the
legacy AvroProducer/AvroConsumer round trip runs through it as well.

Run: BRAID_BIN=/path/to/braid /usr/bin/python3 test_registry.py
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import requests
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

import braidtest

BRAID = braidtest.BRAID_BIN
CT = "application/vnd.schemaregistry.v1+json"

USER_V1 = {"type": "record", "name": "User", "namespace": "com.example",
           "fields": [{"name": "name", "type": "string"}]}
USER_V2 = {"type": "record", "name": "User", "namespace": "com.example",
           "fields": [{"name": "name", "type": "string"},
                      {"name": "age", "type": "int", "default": 0}]}
USER_BAD = {"type": "record", "name": "User", "namespace": "com.example",
            "fields": [{"name": "name", "type": "int"}]}


def registry_process(data_dir):
    """A started `braid registry` on `data_dir` (braidtest.Braid: stopped by PID)."""
    return braidtest.Braid("registry", data_dir=data_dir, http=False).start()


def braid_cli(*args, stdin=None):
    p = subprocess.run([BRAID, *args], input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


class RegistryTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="braid_registry_it_")
        self.reg = registry_process(os.path.join(self.dir, "data"))

    def tearDown(self):
        self.reg.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def http(self, method, path, body=None):
        r = requests.request(method, self.reg.registry_url + path,
                             data=None if body is None else json.dumps(body),
                             headers={"Content-Type": CT, "Accept": CT}, timeout=10)
        return r.status_code, (r.json() if r.content else None)

    def test_new_client(self):
        c = SchemaRegistryClient({"url": self.reg.registry_url})
        id1 = c.register_schema("users-value", Schema(json.dumps(USER_V1), "AVRO"))
        self.assertEqual(id1, 1)
        # python's spacing vs compact text: the same schema.
        self.assertEqual(c.register_schema("users-value", Schema(json.dumps(USER_V1, indent=2), "AVRO")), 1)
        id2 = c.register_schema("users-value", Schema(json.dumps(USER_V2), "AVRO"))
        self.assertEqual(id2, 2)
        self.assertEqual(c.register_schema("other-value", Schema(json.dumps(USER_V2), "AVRO")), 2)
        s = c.get_schema(1)
        self.assertEqual(json.loads(s.schema_str), USER_V1)
        self.assertEqual(s.schema_type, "AVRO")
        self.assertEqual(sorted(c.get_subjects()), ["other-value", "users-value"])
        self.assertEqual(c.get_versions("users-value"), [1, 2])
        latest = c.get_latest_version("users-value")
        self.assertEqual((latest.schema_id, latest.version, latest.subject), (2, 2, "users-value"))
        v1 = c.get_version("users-value", 1)
        self.assertEqual(v1.schema_id, 1)
        found = c.lookup_schema("users-value", Schema(json.dumps(USER_V1), "AVRO"))
        self.assertEqual((found.schema_id, found.version), (1, 1))
        self.assertTrue(c.test_compatibility("users-value", Schema(json.dumps(USER_V2), "AVRO")))
        self.assertFalse(c.test_compatibility("users-value", Schema(json.dumps(USER_BAD), "AVRO")))
        with self.assertRaises(SchemaRegistryError) as e:
            c.register_schema("users-value", Schema(json.dumps(USER_BAD), "AVRO"))
        self.assertEqual((e.exception.http_status_code, e.exception.error_code), (409, 409))
        with self.assertRaises(SchemaRegistryError) as e:
            c.register_schema("users-value", Schema('{"type": "nope"}', "AVRO"))
        self.assertEqual((e.exception.http_status_code, e.exception.error_code), (422, 42201))
        with self.assertRaises(SchemaRegistryError) as e:
            c.register_schema("users-value", Schema('{"type": "object"}', "JSON"))
        self.assertEqual(e.exception.error_code, 42201)
        with self.assertRaises(SchemaRegistryError) as e:
            c.get_schema(99)
        self.assertEqual((e.exception.http_status_code, e.exception.error_code), (404, 40403))
        self.assertEqual(c.get_compatibility(), "BACKWARD")
        self.assertEqual(c.set_compatibility(level="FULL"), {"compatibility": "FULL"})
        self.assertEqual(c.get_compatibility(), "FULL")
        with self.assertRaises(SchemaRegistryError) as e:
            c.get_compatibility("users-value")
        self.assertEqual((e.exception.http_status_code, e.exception.error_code), (404, 40408))
        c.set_compatibility("users-value", "NONE")
        self.assertEqual(c.get_compatibility("users-value"), "NONE")
        with self.assertRaises(SchemaRegistryError) as e:
            c.set_compatibility(level="SIDEWAYS")
        self.assertEqual(e.exception.error_code, 42203)
        self.assertEqual(c.delete_version("other-value", 1), 1)
        self.assertEqual(c.delete_subject("users-value"), [1, 2])
        self.assertEqual(c.get_subjects(), [])
        # other-value's only version is soft-deleted: the subject is too.
        with self.assertRaises(SchemaRegistryError) as e:
            c.delete_subject("other-value")
        self.assertEqual(e.exception.error_code, 40404)
        c.register_schema("third-value", Schema('"int"', "AVRO"))
        self.assertEqual(c.delete_subject("third-value", permanent=True), [1])
        self.assertEqual(self.http("GET", "/subjects?deleted=true")[1], ["other-value", "users-value"])

    def test_legacy_client(self):
        from avro.schema import parse as avro_parse
        from confluent_kafka.avro import CachedSchemaRegistryClient
        c = CachedSchemaRegistryClient({"url": self.reg.registry_url})
        v1 = avro_parse(json.dumps(USER_V1))
        v2 = avro_parse(json.dumps(USER_V2))
        self.assertEqual(c.register("t-value", v1), 1)
        self.assertEqual(c.register("t-value", v2), 2)
        self.assertEqual(json.loads(str(c.get_by_id(1))), json.loads(str(v1)))
        sid, schema, version = c.get_latest_schema("t-value")
        self.assertEqual((sid, version), (2, 2))
        self.assertEqual(c.get_version("t-value", v1), 1)
        self.assertTrue(c.test_compatibility("t-value", v2))
        self.assertFalse(c.test_compatibility("t-value", avro_parse(json.dumps(USER_BAD))))
        self.assertEqual(c.update_compatibility("FORWARD", "t-value"), "FORWARD")
        self.assertEqual(c.get_compatibility("t-value"), "FORWARD")

    def test_error_codes_over_http(self):
        self.assertEqual(self.http("POST", "/subjects/s/versions", {"schema": json.dumps(USER_V1)}),
                         (200, {"id": 1}))
        cases = [
            ("GET", "/subjects/nope/versions", None, 404, 40401),
            ("GET", "/subjects/s/versions/9", None, 404, 40402),
            ("GET", "/subjects/s/versions/0", None, 422, 42202),
            ("GET", "/schemas/ids/9", None, 404, 40403),
            ("GET", "/config/s", None, 404, 40408),
            ("DELETE", "/subjects/s?permanent=true", None, 404, 40405),
            ("DELETE", "/subjects/s/versions/1?permanent=true", None, 404, 40407),
            ("PUT", "/config", {"compatibility": "nope"}, 422, 42203),
            ("POST", "/subjects/s/versions", {"schema": json.dumps(USER_BAD)}, 409, 409),
            ("POST", "/subjects/s/versions", {"schema": "{"}, 422, 42201),
            ("POST", "/subjects/s", {"schema": json.dumps(USER_V2)}, 404, 40403),
        ]
        for method, path, body, status, code in cases:
            got_status, got = self.http(method, path, body)
            self.assertEqual((got_status, got["error_code"]), (status, code), (method, path, got))
            self.assertIn("message", got)
        r = requests.get(self.reg.registry_url + "/subjects", timeout=10)
        self.assertEqual(r.headers["Content-Type"], CT)
        self.assertEqual(self.http("GET", "/config/s?defaultToGlobal=true"),
                         (200, {"compatibilityLevel": "BACKWARD"}))
        self.assertEqual(self.http("POST", "/compatibility/subjects/s/versions/latest?verbose=true",
                                   {"schema": json.dumps(USER_BAD)})[1]["is_compatible"], False)

    def test_cli(self):
        avsc = os.path.join(self.dir, "user.avsc")
        with open(avsc, "w") as f:
            json.dump(USER_V1, f, indent=2)
        bad = os.path.join(self.dir, "bad.avsc")
        with open(bad, "w") as f:
            json.dump(USER_BAD, f)
        url = ["schemas", "--registry", self.reg.registry_url]
        self.assertEqual(braid_cli(*url, "register", "u-value", avsc)[:2], (0, "1\n"))
        self.assertEqual(braid_cli(*url, "list")[:2], (0, "u-value\n"))
        rc, out, _ = braid_cli(*url, "show", "u-value")
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out)["schema"], USER_V1)
        rc, out, _ = braid_cli(*url, "show", "--id", "1")
        self.assertEqual((rc, json.loads(out)["schema"]), (0, USER_V1))
        self.assertEqual(braid_cli(*url, "check", "u-value", avsc)[:2], (0, "compatible\n"))
        rc, out, _ = braid_cli(*url, "check", "u-value", bad)
        self.assertEqual(rc, 1)
        self.assertTrue(out.startswith("incompatible\n") and "TYPE_MISMATCH" in out, out)
        rc, _, err = braid_cli(*url, "register", "u-value", bad)
        self.assertEqual(rc, 1)
        self.assertIn("409", err)
        self.assertEqual(braid_cli(*url, "config", "--set", "FULL")[:2], (0, "FULL\n"))
        self.assertEqual(braid_cli(*url, "config", "u-value")[:2], (0, "FULL\n"))
        rc, _, err = braid_cli("schemas", "--registry", "http://127.0.0.1:1", "list")
        self.assertEqual(rc, 1)

    def test_restart_after_kill9(self):
        c = SchemaRegistryClient({"url": self.reg.registry_url})
        c.register_schema("a-value", Schema(json.dumps(USER_V1), "AVRO"))
        c.register_schema("a-value", Schema(json.dumps(USER_V2), "AVRO"))
        c.register_schema("b-value", Schema('"string"', "AVRO"))
        c.register_schema("c-value", Schema('"long"', "AVRO"))
        c.set_compatibility(level="FORWARD")
        c.set_compatibility("b-value", "NONE")
        c.delete_version("a-value", 1)
        c.delete_subject("c-value")
        probes = ["/subjects", "/subjects?deleted=true", "/subjects/a-value/versions",
                  "/subjects/a-value/versions?deleted=true", "/subjects/a-value/versions/1?deleted=true",
                  "/subjects/a-value/versions/latest", "/schemas/ids/1", "/schemas/ids/2",
                  "/schemas/ids/3", "/schemas/ids/4", "/config", "/config/b-value",
                  "/config/a-value", "/subjects/c-value/versions?deleted=true"]
        before = [self.http("GET", p) for p in probes]
        self.reg.kill()
        self.reg.start()
        after = [self.http("GET", p) for p in probes]
        for p, b, a in zip(probes, before, after):
            self.assertEqual(a, b, p)
        c = SchemaRegistryClient({"url": self.reg.registry_url})
        self.assertEqual(c.register_schema("d-value", Schema('"bytes"', "AVRO")), 5)
        # Graceful stop, then reopen once more.
        self.assertEqual(self.reg.stop(), 0)
        self.reg.start()
        self.assertEqual(self.http("GET", "/subjects/d-value/versions/1")[1]["id"], 5)


def avro_round_trip(test, bootstrap, reg_url, topic):
    """Legacy AvroProducer → broker → AvroConsumer, schemas via the registry."""
    from avro.schema import parse as avro_parse
    from confluent_kafka import TopicPartition
    from confluent_kafka.avro import AvroConsumer, AvroProducer
    schema = avro_parse(json.dumps(USER_V2))
    key_schema = avro_parse('"string"')
    p = AvroProducer({"bootstrap.servers": bootstrap, "schema.registry.url": reg_url},
                     default_value_schema=schema, default_key_schema=key_schema)
    for i in range(10):
        p.produce(topic=topic, key="k%d" % i, value={"name": "u%d" % i, "age": i})
    test.assertEqual(p.flush(30), 0)
    c = AvroConsumer({"bootstrap.servers": bootstrap, "schema.registry.url": reg_url,
                      "group.id": "registry-it", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.time() + 30
    while len(got) < 10 and time.time() < deadline:
        m = c.poll(1)
        if m is not None and not m.error():
            got.append((m.key(), m.value()))
    c.close()
    test.assertEqual(got, [("k%d" % i, {"name": "u%d" % i, "age": i}) for i in range(10)])
    subjects = requests.get(reg_url + "/subjects", timeout=5).json()
    test.assertEqual(sorted(s for s in subjects if s.startswith(topic)),
                     [topic + "-key", topic + "-value"])


class BrokerAndRegistryTest(unittest.TestCase):
    """`braid broker` and a standalone `braid registry`, used together."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="braid_registry_broker_")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.reg = registry_process(os.path.join(self.dir, "registry"))
        self.addCleanup(self.reg.cleanup)
        self.broker = braidtest.Braid("broker", data_dir=os.path.join(self.dir, "broker"),
                                      http=False)
        self.addCleanup(self.broker.cleanup)
        self.broker.start()

    def test_avro_producer_consumer(self):
        avro_round_trip(self, self.broker.bootstrap, self.reg.registry_url, "users")


class FullStackTest(unittest.TestCase):
    """AvroProducer/AvroConsumer through `braid up` (broker + embedded registry)."""

    def setUp(self):
        self.up = braidtest.Braid("up")
        self.addCleanup(self.up.cleanup)
        self.up.start()

    def test_avro_producer_consumer(self):
        avro_round_trip(self, self.up.bootstrap, self.up.registry_url, "users")


NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")

KAFKAJS_SCRIPT = r"""
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');
(async () => {
  const registry = new SchemaRegistry({ host: process.argv[1] });
  const user = { type: 'record', name: 'User', namespace: 'com.example',
                 fields: [{ name: 'name', type: 'string' }] };
  const avro = (s) => ({ type: SchemaType.AVRO, schema: JSON.stringify(s) });
  const { id } = await registry.register(avro(user), { subject: 'kjs-value' });
  const again = await registry.register(avro(user), { subject: 'kjs-value' });
  const encoded = await registry.encode(id, { name: 'ann' });
  const decoded = await registry.decode(encoded);
  const latest = await registry.getLatestSchemaId('kjs-value');
  const byVersion = await registry.getRegistryId('kjs-value', 1);
  const bySchema = await registry.getRegistryIdBySchema('kjs-value', avro(user));
  const other = await registry.register(avro({ ...user, name: 'Other' }));
  let incompatible = null;
  try {
    await registry.register(avro({ ...user, fields: [{ name: 'name', type: 'int' }] }),
                            { subject: 'kjs-value' });
  } catch (e) { incompatible = e.message; }
  console.log(JSON.stringify({ id, again: again.id, decoded, latest, byVersion, bySchema,
                               other: other.id, incompatible,
                               encoded: encoded.toString('hex') }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


class KafkajsRegistryTest(unittest.TestCase):
    """@kafkajs/confluent-schema-registry 3.9.0 against `braid registry`."""

    def setUp(self):
        if shutil.which("node") is None:
            self.skipTest("node is not installed")
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@kafkajs",
                                          "confluent-schema-registry")):
            self.skipTest("@kafkajs/confluent-schema-registry not installed: npm ci in " + NODE_DIR)
        self.dir = tempfile.mkdtemp(prefix="braid_registry_kjs_")
        self.reg = registry_process(os.path.join(self.dir, "data"))

    def tearDown(self):
        self.reg.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_register_encode_decode(self):
        # A global level other than the client's BACKWARD: kafkajs must see 404
        # (40408) for the subject's own level, not the global one.
        requests.put(self.reg.registry_url + "/config", json={"compatibility": "FULL"}, timeout=5)
        p = subprocess.run(["node", "-e", KAFKAJS_SCRIPT, self.reg.registry_url],
                           capture_output=True, timeout=120, cwd=NODE_DIR)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        r = json.loads(p.stdout.decode().strip().splitlines()[-1])
        self.assertEqual((r["id"], r["again"], r["latest"], r["byVersion"], r["bySchema"]),
                         (1, 1, 1, 1, 1))
        self.assertEqual(r["other"], 2)
        self.assertEqual(r["decoded"], {"name": "ann"})
        self.assertEqual(r["encoded"], "00000000010661" + "6e6e")
        self.assertIsNotNone(r["incompatible"])
        # The client set the subject's level on first registration.
        self.assertEqual(requests.get(self.reg.registry_url + "/config/kjs-value", timeout=5).json(),
                         {"compatibilityLevel": "BACKWARD"})
        self.assertEqual(requests.get(self.reg.registry_url + "/subjects", timeout=5).json(),
                         ["com.example.Other", "kjs-value"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
