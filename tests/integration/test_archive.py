"""Integration test of the master dataset archiver (`braid archive`).

A `braid registry` (own data dir) holds the Avro schema; a `braid broker`
receives Confluent-framed Avro records (built with python3-avro, schema id
from the registry) through confluent-kafka-python, across 4 partitions, with
late and out-of-order event times (topic config braid.archive.time.field=ts).
The broker is stopped, then `braid archive run --once` archives its data
dir. The dataset is read back with python3-avro: exactly the produced
records, each once, in the folder of its event hour. `braid archive verify`
must pass and `braid archive status` must report no lag.

The same records are also archived in --kafka mode (librdkafka consumer of
the running broker) into a second root, with the same result.

The stress test kills `braid archive run` with SIGKILL at random moments
(several times), then finishes with --once: verify passes and the dataset
still equals the produced records, each once.

Run: BRAID_BIN=/path/to/braid /usr/bin/python3 test_archive.py
"""

import glob
import io
import json
import os
import random
import struct
import subprocess
import sys
import time
import unittest
from datetime import datetime, timedelta, timezone

import avro.datafile
import avro.io
import avro.schema
import requests
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

import braidtest
from braidtest import BRAID_BIN, Braid

SCHEMA = {
    "type": "record", "name": "PageView", "namespace": "it",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "page", "type": "string"},
    ],
}
HOUR = 3600 * 1000
BASE = 1700000000000  # 2023-11-14 22:13:20 UTC
PARTITIONS = 4
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Registry:
    """A `braid registry` of its own (braidtest.Braid, stopped by PID) with a
    register helper."""

    def __init__(self):
        self.proc = Braid("registry", http=False).start()
        self.url = self.proc.registry_url

    def register(self, subject, schema):
        r = requests.post(self.url + "/subjects/%s/versions" % subject,
                          data=json.dumps({"schema": json.dumps(schema)}),
                          headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
        r.raise_for_status()
        return r.json()["id"]

    def stop(self):
        self.proc.stop()
        self.proc.cleanup()


def frame(schema_id, parsed, datum):
    buf = io.BytesIO()
    buf.write(b"\x00" + struct.pack(">I", schema_id))
    avro.io.DatumWriter(parsed).write(datum, avro.io.BinaryEncoder(buf))
    return buf.getvalue()


def hour_dir(ms):
    d = datetime.fromtimestamp(ms // HOUR * 3600, tz=timezone.utc)
    return "dt=%s/hour=%02d" % (d.strftime("%Y-%m-%d"), d.hour)


def run_braid(*args, check=True, timeout=300):
    p = subprocess.run([BRAID_BIN] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise AssertionError("braid %s failed (%d):\n%s" % (" ".join(args), p.returncode, out))
    return p.returncode, out


def read_dataset(root, topic):
    """(partition, offset) -> datum for every record, asserting each once and
    that each file lies in the folder of its records' event hour."""
    with open(os.path.join(root, topic, "_manifest.json")) as f:
        manifest = json.load(f)["manifest"]
    got = {}
    for entry in manifest["files"]:
        path = os.path.join(root, topic, entry["path"])
        offsets = [o for first, n in entry["runs"] for o in range(first, first + n)]
        with avro.datafile.DataFileReader(open(path, "rb"), avro.io.DatumReader()) as r:
            meta_partition = r.get_meta("braid.partition").decode()
            records = list(r)
        assert meta_partition == str(entry["partition"]), path
        assert len(records) == len(offsets) == entry["records"], path
        for off, rec in zip(offsets, records):
            if isinstance(rec.get("ts"), datetime):
                rec["ts"] = (rec["ts"] - EPOCH) // timedelta(milliseconds=1)
            key = (entry["partition"], off)
            assert key not in got, "record %s twice" % (key,)
            if entry["kind"] == "avro":
                assert entry["path"].startswith(hour_dir(rec["ts"]) + "/"), (path, rec)
            got[key] = rec
    return manifest, got


class ArchiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BRAID_BIN or not os.path.exists(BRAID_BIN):
            raise unittest.SkipTest("BRAID_BIN is not set")
        cls.registry = Registry()
        cls.schema_id = cls.registry.register("pageviews-value", SCHEMA)
        # python3-avro wants datetimes for timestamp-millis: write the same
        # binary through the plain-long form of the schema.
        plain = json.loads(json.dumps(SCHEMA))
        plain["fields"][1]["type"] = "long"
        cls.parsed = avro.schema.parse(json.dumps(plain))

    @classmethod
    def tearDownClass(cls):
        cls.registry.stop()

    def produce(self, broker, topic, n, seed, schema_id=None, create=True):
        schema_id = self.schema_id if schema_id is None else schema_id
        if create:
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            fs = admin.create_topics([NewTopic(topic, PARTITIONS, 1,
                                               config={"braid.archive.time.field": "ts"})])
            fs[topic].result(30)
        p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5,
                      "compression.type": "lz4"})
        rng = random.Random(seed)
        produced = {}  # id -> (partition, datum)
        for i in range(n):
            ts = BASE + rng.randrange(0, 3 * HOUR)
            if i % 11 == 3:
                ts -= rng.choice([1, 2, 5]) * 24 * HOUR  # late by days
            datum = {"id": i, "ts": ts, "page": "/p/%d" % (i % 37)}
            part = i % PARTITIONS
            p.produce(topic, value=frame(schema_id, self.parsed, datum), partition=part,
                      timestamp=BASE + 3 * HOUR + i)
            produced[i] = (part, datum)
            if i % 1000 == 0:
                p.poll(0)
        self.assertEqual(p.flush(30), 0)
        return produced

    def check_dataset(self, root, topic, produced):
        manifest, got = read_dataset(root, topic)
        by_id = {}
        for (part, off), rec in got.items():
            self.assertNotIn(rec["id"], by_id)
            by_id[rec["id"]] = (part, rec)
        self.assertEqual(by_id, produced)
        for p in range(PARTITIONS):
            self.assertEqual(manifest["partitions"][str(p)]["hwm"],
                             sum(1 for part, _ in produced.values() if part == p))
        return manifest

    def test_archive_roundtrip(self):
        broker = Braid("broker")
        try:
            broker.start()
            topic = "pageviews"
            # BRAID_ARCHIVE_RECORDS=1000000 runs the full-size check.
            produced = self.produce(broker, topic,
                                    int(os.environ.get("BRAID_ARCHIVE_RECORDS", "4000")), seed=1)
            # --kafka mode: the archiver as an ordinary Kafka client (librdkafka)
            # of the running broker, into its own root.
            kafka_root = os.path.join(broker.data_dir, "archive-kafka")
            run_braid("archive", "run", "--kafka", broker.bootstrap, "--topic", topic,
                      "--time-field", "ts", "--registry", self.registry.url,
                      "--root", kafka_root, "--once")
            self.check_dataset(kafka_root, topic, produced)
            rc, out = run_braid("archive", "verify", "--root", kafka_root)
            self.assertIn("OK:", out)
            self.assertEqual(broker.stop(), 0)
            _, out = run_braid("archive", "run", "--data", broker.data_dir, "--once",
                               "--registry", self.registry.url)
            root = os.path.join(broker.data_dir, "archive")
            manifest = self.check_dataset(root, topic, produced)
            hours = {e["path"].rsplit("/", 1)[0] for e in manifest["files"]}
            self.assertIn("dt=2023-11-14/hour=22", hours)
            self.assertTrue(any(h.startswith("dt=2023-11-09/") for h in hours), hours)
            self.assertEqual(glob.glob(os.path.join(root, topic, "*", "*", ".*.tmp")), [])
            rc, out = run_braid("archive", "verify", "--data", broker.data_dir)
            self.assertIn("OK:", out)
            rc, out = run_braid("archive", "status", "--data", broker.data_dir)
            for p in range(PARTITIONS):
                self.assertRegex(out, r"pageviews\s+%d\s+\d+\s+\d+\s+0\s" % p)
            # A damaged file makes verify fail.
            victim = os.path.join(root, topic, manifest["files"][0]["path"])
            with open(victim, "r+b") as f:
                f.truncate(os.path.getsize(victim) - 5)
            rc, out = run_braid("archive", "verify", "--data", broker.data_dir, check=False)
            self.assertEqual(rc, 1, out)
            self.assertIn("FAILED", out)
        finally:
            broker.cleanup()

    def cover(self, up, topic, cut="latest", timeout_ms=60000):
        r = requests.post("http://127.0.0.1:%d/v1/archive/cover" % up.http_port,
                          json={"topic": topic, "cut": cut, "timeout_ms": timeout_ms}, timeout=120)
        self.assertEqual(r.status_code, 200, r.text)
        return {int(p): o for p, o in r.json()["cut"].items()}

    def check_below(self, root, topic, produced, cut):
        """Every produced record below the cut is in the dataset exactly once
        (read back with python3-avro); nothing else below the cut."""
        _, got = read_dataset(root, topic)
        below = {}
        for (part, off), rec in got.items():
            if off < cut.get(part, 0):
                below[rec["id"]] = (part, rec)
        want = {}
        for i, (part, datum) in produced.items():
            want[i] = (part, datum)
        # produced ids are numbered per partition in offset order
        offsets = {}
        for i in sorted(produced):
            part = produced[i][0]
            off = offsets.get(part, 0)
            offsets[part] = off + 1
            if off >= cut.get(part, 0):
                del want[i]
        self.assertEqual(below, want)

    def test_cover_cut_on_demand(self):
        """braid up with a one-hour roll: POST /v1/archive/cover makes the
        master dataset hold exactly the records below the cut now; then, with
        a 100 ms roll and producers running, cover calls race the background
        roll and every answer is exact."""
        for roll_ms, racing in (("3600000", False), ("100", True)):
            up = Braid("up", extra_args=["--archive-roll-ms", roll_ms])
            try:
                up.start()
                r = requests.post(up.registry_url + "/subjects/cover-value/versions",
                                  data=json.dumps({"schema": json.dumps(SCHEMA)}),
                                  headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
                r.raise_for_status()
                sid = r.json()["id"]
                produced = self.produce(up, "cover", 2000, seed=3, schema_id=sid)
                root = os.path.join(up.data_dir, "archive")
                if not racing:
                    cut = self.cover(up, "cover")
                    self.assertEqual(sum(cut.values()), 2000)
                    self.check_below(root, "cover", produced, cut)
                    # A cut above the log end is refused; a bad body is a 400.
                    r = requests.post("http://127.0.0.1:%d/v1/archive/cover" % up.http_port,
                                      json={"topic": "cover", "cut": {"0": 10**9}}, timeout=60)
                    self.assertEqual(r.status_code, 400, r.text)
                    r = requests.post("http://127.0.0.1:%d/v1/archive/cover" % up.http_port,
                                      data="{not json", timeout=60)
                    self.assertEqual(r.status_code, 400, r.text)
                    r = requests.post("http://127.0.0.1:%d/v1/archive/cover" % up.http_port,
                                      json={"topic": "nope"}, timeout=60)
                    self.assertEqual(r.status_code, 404, r.text)
                else:
                    import threading
                    stop = threading.Event()

                    def keep_producing():
                        seed = 10
                        while not stop.is_set():
                            seed += 1
                            self.produce(up, "cover", 200, seed=seed, schema_id=sid,
                                         create=False)
                    t = threading.Thread(target=keep_producing)
                    t.start()
                    try:
                        for _ in range(5):
                            cut = self.cover(up, "cover")
                            # Below the cut: every offset exactly once
                            # (read_dataset fails on a duplicate).
                            _, got = read_dataset(root, "cover")
                            for part, end in cut.items():
                                have = sorted(o for (p, o) in got if p == part and o < end)
                                self.assertEqual(have, list(range(end)), part)
                    finally:
                        stop.set()
                        t.join()
                self.assertEqual(up.stop(), 0)
            finally:
                up.cleanup()

    def test_kill9_stress(self):
        broker = Braid("broker")
        try:
            broker.start()
            topic = "stress"
            produced = self.produce(broker, topic, 150000, seed=2)
            self.assertEqual(broker.stop(), 0)
            rng = random.Random(7)
            kills = 0
            progress = []
            manifest_path = os.path.join(broker.data_dir, "archive", topic, "_manifest.json")
            for round_ in range(24):
                with open(os.path.join(broker.data_dir, "archive-run.out"), "ab") as out:
                    proc = subprocess.Popen(
                        [BRAID_BIN, "archive", "run", "--data", broker.data_dir,
                         "--registry", self.registry.url, "--roll-records", "2000",
                         "--roll-ms", "20", "--threads", "2", "--codec", "snappy"],
                        stdout=out, stderr=subprocess.STDOUT)
                    time.sleep(rng.uniform(0.02, 0.25))
                    if proc.poll() is None:
                        proc.kill()
                        kills += 1
                    proc.wait()
                if os.path.exists(manifest_path):
                    with open(manifest_path) as f:
                        m = json.load(f)["manifest"]
                    progress.append(sum(st["hwm"] for st in m["partitions"].values()))
            self.assertGreaterEqual(kills, 20)
            sys.stderr.write("%d kills; records archived after each round: %s\n" % (kills, progress))
            # Some kills hit the archiver in the middle of its work.
            self.assertTrue(any(0 < n < len(produced) for n in progress), progress)
            run_braid("archive", "run", "--data", broker.data_dir, "--once",
                      "--registry", self.registry.url, "--codec", "snappy")
            rc, out = run_braid("archive", "verify", "--data", broker.data_dir)
            self.assertIn("OK:", out)
            self.check_dataset(os.path.join(broker.data_dir, "archive"), topic, produced)
        finally:
            broker.cleanup()


if __name__ == "__main__":
    braidtest.main()
