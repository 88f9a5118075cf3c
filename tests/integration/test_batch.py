"""Integration test of the batch layer through the real binary.

A `braid up` receives Confluent-framed Avro page views (confluent-kafka-python,
schema registered in braid's registry) on 3 partitions, with event times on
hour, day, ISO-week, month and year boundaries and leap days; the archive is
completed with `braid archive run --once`. Then:

* `braid batch run --views views.yaml` builds three views (count, HyperLogLog
  of users, sum of bytes) and `braid batch scan` reads every cell back: equal
  to a brute-force computation in Python (HLL within its error bound);
* versions, get, rollback, and the same commands through the HTTP API of a
  `braid up` that holds the data directory;
* a corrupt master-dataset block fails the run naming the file and offset,
  and `kill -9` at random moments of runs never changes the live version nor
  leaves a visible partial version;
* word count (examples/wordcount, a plugin) with `braid mr run`, and through
  `braid mr map | sort | braid mr reduce`; a view through the same pipe (from
  the master dataset, and from JSON lines on stdin) equals `braid mr run`.

Run: BRAID_BIN=/path/to/braid BRAID_BUILD_DIR=build/release /usr/bin/python3 test_batch.py
"""

import collections
import io
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import unittest
from datetime import datetime, timedelta, timezone

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
        {"name": "url", "type": "string"},
        {"name": "user", "type": "string"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "bytes", "type": "long"},
    ],
}
VIEWS = """
views:
  - name: pv_count
    topic: pageviews
    key: url
    time: ts
    granularities: [hour, day, week, month, all]
    aggregate: count
  - name: pv_users
    topic: pageviews
    key: url
    time: ts
    granularities: [day]
    aggregate: hll(p=14)
    value: user
  - name: user_bytes
    topic: pageviews
    key: user
    time: ts
    granularities: [week, month]
    aggregate: sum_int64
    value: bytes
"""
HOUR = 3600 * 1000
DAY = 24 * HOUR
ALL_START = -(2 ** 63)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
PARTITIONS = 3


def ms(*args):
    return (datetime(*args, tzinfo=timezone.utc) - EPOCH) // timedelta(milliseconds=1)


def bucket(g, t):
    if g == "hour":
        return t // HOUR * HOUR
    day = t // DAY * DAY
    if g == "day":
        return day
    d = EPOCH + timedelta(milliseconds=day)
    if g == "week":
        return day - d.weekday() * DAY
    if g == "month":
        return ms(d.year, d.month, 1)
    return ALL_START


def run_braid(*args, check=True, timeout=300, stdin=None):
    p = subprocess.run([BRAID_BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, input=stdin)
    if check and p.returncode != 0:
        raise AssertionError("braid %s failed (%d):\n%s\n%s" % (
            " ".join(args), p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace")))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def events(n, seed):
    rng = random.Random(seed)
    boundaries = [ms(2024, 2, 28, 23, 59, 59) + 999, ms(2024, 2, 29), ms(2024, 2, 29, 23, 59, 59),
                  ms(2024, 3, 1), ms(2024, 3, 3, 23, 59, 59) + 999, ms(2024, 3, 4),
                  ms(2024, 12, 31, 23, 59, 59) + 999, ms(2025, 1, 1), ms(2020, 2, 29, 12)]
    out = []
    for i, t in enumerate(boundaries):
        out.append({"url": "/edge", "user": "u%d" % i, "ts": t, "bytes": i})
    base = ms(2024, 2, 20)
    for i in range(n):
        # Mostly in a few hours of each day (few archive files), a tail late.
        t = base + rng.randrange(0, 20) * DAY + rng.choice([0, 13, 23]) * HOUR + \
            rng.randrange(0, HOUR)
        out.append({"url": "/p/%d" % rng.randrange(0, 60), "user": "user%d" % rng.randrange(0, 300),
                    "ts": t, "bytes": rng.randrange(-50, 5000)})
    return out


def expected_cells(evs):
    """(view, key, granularity, bucket_start) -> exact value."""
    cells = collections.defaultdict(int)
    users = collections.defaultdict(set)
    for e in evs:
        for g in ("hour", "day", "week", "month", "all"):
            cells[("pv_count", e["url"], g, bucket(g, e["ts"]))] += 1
        users[(e["url"], bucket("day", e["ts"]))].add(e["user"])
        for g in ("week", "month"):
            cells[("user_bytes", e["user"], g, bucket(g, e["ts"]))] += e["bytes"]
    for (url, b), s in users.items():
        cells[("pv_users", url, "day", b)] = len(s)
    return dict(cells)


class BatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BRAID_BIN or not os.path.exists(BRAID_BIN):
            raise unittest.SkipTest("BRAID_BIN is not set")
        cls.tmp = tempfile.mkdtemp(prefix="braid-batch-it-")
        cls.views = os.path.join(cls.tmp, "views.yaml")
        with open(cls.views, "w") as f:
            f.write(VIEWS)
        cls.data = os.path.join(cls.tmp, "data")
        cls.events = events(6000, 1)
        up = Braid("up", data_dir=cls.data)
        try:
            up.start()
            r = requests.post(up.registry_url + "/subjects/pageviews-value/versions",
                              data=json.dumps({"schema": json.dumps(SCHEMA)}),
                              headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
            r.raise_for_status()
            schema_id = r.json()["id"]
            admin = AdminClient({"bootstrap.servers": up.bootstrap})
            admin.create_topics([NewTopic("pageviews", PARTITIONS, 1, config={
                "braid.archive.time.field": "ts"})])["pageviews"].result(30)
            plain = json.loads(json.dumps(SCHEMA))
            plain["fields"][2]["type"] = "long"
            parsed = avro.schema.parse(json.dumps(plain))
            p = Producer({"bootstrap.servers": up.bootstrap, "linger.ms": 5})
            for i, e in enumerate(cls.events):
                buf = io.BytesIO()
                buf.write(b"\x00" + struct.pack(">I", schema_id))
                avro.io.DatumWriter(parsed).write(e, avro.io.BinaryEncoder(buf))
                p.produce("pageviews", value=buf.getvalue(), partition=i % PARTITIONS)
                if i % 1000 == 0:
                    p.poll(0)
            assert p.flush(30) == 0
        finally:
            rc = up.stop()
        assert rc == 0, up.output()
        run_braid("archive", "run", "--data", cls.data, "--once")
        cls.expected = expected_cells(cls.events)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def scan(self, data, view, extra=()):
        _, out, _ = run_braid("batch", "scan", view, "--data", data, "--limit", "100000",
                              "--json", *extra)
        j = json.loads(out)
        self.assertFalse(j["more"])
        return j

    def actual_cells(self, data):
        cells = {}
        for view in ("pv_count", "pv_users", "user_bytes"):
            for c in self.scan(data, view)["cells"]:
                cells[(view, c["key"], c["granularity"], c["bucket_start"])] = c["value"]
        return cells

    def copy_data(self, name):
        dst = os.path.join(self.tmp, name)
        shutil.copytree(self.data, dst)
        return dst

    def check_cells(self, data):
        got = self.actual_cells(data)
        self.assertEqual(set(got), set(self.expected))
        for k, v in self.expected.items():
            if k[0] == "pv_users":
                self.assertLessEqual(abs(got[k] - v), 0.03 * v + 1, k)
            else:
                self.assertEqual(got[k], v, k)

    def test_1_run_versions_rollback(self):
        data = self.copy_data("d1")
        _, out, err = run_braid("batch", "run", "--data", data, "--views", self.views, "--json",
                                "--memory-mb", "1")
        res = json.loads(out)
        self.assertEqual(sorted(v["view"] for v in res["views"]), ["pv_count", "pv_users", "user_bytes"])
        for v in res["views"]:
            self.assertEqual(v["version"], 1)
            self.assertTrue(v["published"])
            self.assertEqual(v["records"], len(self.events))
            self.assertEqual(sum(v["cuts"]["pageviews"].values()), len(self.events))
        self.assertIn("done", err)  # the progress line
        self.check_cells(data)
        # get: one cell (the leap day, /edge: 2 events).
        _, out, _ = run_braid("batch", "get", "pv_count", "/edge", "--data", data,
                              "--granularity", "day", "--time", "2024-02-29T12:00:00Z", "--json")
        self.assertEqual(json.loads(out)["cell"]["value"], 2)
        # A second run: version 2; rollback goes back to 1; swap forward.
        run_braid("batch", "run", "--data", data, "--views", self.views, "--view", "pv_count")
        _, out, _ = run_braid("batch", "versions", "pv_count", "--data", data, "--json")
        vs = json.loads(out)["versions"]
        self.assertEqual([(v["version"], v["live"]) for v in vs], [(1, False), (2, True)])
        _, out, _ = run_braid("batch", "rollback", "pv_count", "--data", data)
        self.assertIn("live version 1", out)
        rc, _, err = run_braid("batch", "rollback", "pv_count", "--data", data, check=False)
        self.assertEqual(rc, 1)
        self.assertIn("no version older", err)
        run_braid("batch", "swap", "pv_count", "2", "--data", data)
        # Beside a running braid up: the same answers through its HTTP API.
        up = Braid("up", data_dir=data)
        try:
            up.start()
            st, body = up.http_get("/v1/batch/views/pv_count/versions")
            self.assertEqual(st, 200)
            self.assertTrue(json.loads(body)["versions"][1]["live"])
            self.check_cells(data)  # scan through HTTP
            _, out, _ = run_braid("batch", "status", "--data", data)
            self.assertIn("pv_count", out)
            _, out, _ = run_braid("batch", "rollback", "pv_count", "--data", data)
            self.assertIn("live version 1", out)
            _, out, _ = run_braid("batch", "versions", "pv_count", "--data", data, "--json")
            self.assertEqual([v["live"] for v in json.loads(out)["versions"]], [True, False])
            r = requests.get("http://127.0.0.1:%d/metrics" % up.http_port)
            self.assertIn('braid_batch_live_version{view="pv_count"} 1', r.text)
        finally:
            self.assertEqual(up.stop(), 0, up.output())

    def test_2_corrupt_block_and_kill9(self):
        data = self.copy_data("d2")
        run_braid("batch", "run", "--data", data, "--views", self.views, "--view", "pv_count")
        before = self.scan(data, "pv_count")["cells"]
        # kill -9 at random moments of runs with a tiny budget (spills).
        rng = random.Random(7)
        for i in range(6):
            p = subprocess.Popen([BRAID_BIN, "batch", "run", "--data", data, "--views",
                                  self.views, "--view", "pv_count", "--memory-mb", "1",
                                  "--threads", "1"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.0, 0.3))
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            # Every visible version is complete and readable; the live one is
            # version 1 or a complete later one.
            _, out, _ = run_braid("batch", "versions", "pv_count", "--data", data, "--json")
            for v in json.loads(out)["versions"]:
                cells = self.scan(data, "pv_count", ["--version", str(v["version"])])["cells"]
                self.assertEqual(cells, before)
                self.assertEqual(v["cells"], len(before))
        vdir = os.path.join(data, "views", "pv_count")
        # A hidden build directory may remain until the next open...
        run_braid("batch", "status", "--data", data)
        # ...which deletes it, and the spill files.
        self.assertEqual([d for d in os.listdir(vdir) if d.startswith(".")], [])
        self.assertEqual(os.listdir(os.path.join(data, "spill")), [])
        # A corrupt block: the run fails naming the file and the offset; the
        # live version stays.
        _, out, _ = run_braid("batch", "versions", "pv_count", "--data", data, "--json")
        live_before = [v["version"] for v in json.loads(out)["versions"] if v["live"]]
        with open(os.path.join(data, "archive", "pageviews", "_manifest.json")) as f:
            entry = max(json.load(f)["manifest"]["files"], key=lambda e: e["bytes"])
        path = os.path.join(data, "archive", "pageviews", entry["path"])
        with open(path, "r+b") as f:
            f.seek(entry["bytes"] // 2)
            f.write(b"\xff" * 16)
        rc, out, err = run_braid("batch", "run", "--data", data, "--views", self.views, "--view",
                                 "pv_count", check=False)
        self.assertEqual(rc, 1, out + err)
        self.assertIn(path, err)
        self.assertRegex(err, r"offset \d+")
        _, out, _ = run_braid("batch", "versions", "pv_count", "--data", data, "--json")
        self.assertEqual([v["version"] for v in json.loads(out)["versions"] if v["live"]],
                         live_before)
        self.assertEqual(self.scan(data, "pv_count")["cells"], before)

    def test_3_view_through_streaming_pipe(self):
        data = self.copy_data("d3")
        out_dir = os.path.join(self.tmp, "mr-out")
        run_braid("mr", "run", "--view", "pv_count", "--views", self.views, "--data", data,
                  "--output-text", out_dir, "--quiet")
        local = []
        for name in sorted(os.listdir(out_dir)):
            if name.startswith("part-"):
                with open(os.path.join(out_dir, name)) as f:
                    local += f.read().splitlines()
        self.assertTrue(os.path.exists(os.path.join(out_dir, "_SUCCESS")))
        env = dict(os.environ, LC_ALL="C")
        pipe = subprocess.run(
            "%s mr map --view pv_count --views %s --data %s | sort | "
            "%s mr reduce --view pv_count --views %s" % (BRAID_BIN, self.views, data, BRAID_BIN,
                                                        self.views),
            shell=True, stdout=subprocess.PIPE, check=True, env=env).stdout.decode().splitlines()
        self.assertEqual(sorted(local), sorted(pipe))
        self.assertEqual(len(local), sum(1 for k in self.expected if k[0] == "pv_count"))
        # JSON lines on stdin (what a Hadoop streaming mapper reads).
        schema = os.path.join(self.tmp, "pv.avsc")
        with open(schema, "w") as f:
            json.dump(SCHEMA, f)
        lines = "".join(json.dumps(e) + "\n" for e in self.events).encode()
        m = subprocess.run([BRAID_BIN, "mr", "map", "--view", "pv_count", "--views", self.views,
                            "--schema", schema], input=lines, stdout=subprocess.PIPE, check=True)
        srt = subprocess.run(["sort"], input=m.stdout, stdout=subprocess.PIPE, check=True, env=env)
        red = subprocess.run([BRAID_BIN, "mr", "reduce", "--view", "pv_count", "--views",
                              self.views], input=srt.stdout, stdout=subprocess.PIPE, check=True)
        self.assertEqual(sorted(red.stdout.decode().splitlines()), sorted(local))

    def test_4_wordcount_plugin(self):
        build = os.environ.get("BRAID_BUILD_DIR", "")
        plugin = os.path.join(build, "examples", "wordcount", "libwordcount.so")
        if not os.path.exists(plugin):
            self.skipTest("the wordcount plugin is not built: %s" % plugin)
        rng = random.Random(3)
        words = ["alpha", "Beta", "gamma", "delta", "x1", "foo-bar", "épée"]
        text = "".join(" ".join(rng.choice(words) for _ in range(rng.randrange(0, 9))) + "\n"
                       for _ in range(30000))
        src = os.path.join(self.tmp, "book.txt")
        with open(src, "w") as f:
            f.write(text)
        expected = collections.Counter()
        for line in text.splitlines():
            for w in "".join(c.lower() if c.isascii() and c.isalnum() else " "
                             for c in line).split():
                expected[w] += 1
        out_dir = os.path.join(self.tmp, "wc-out")
        _, out, _ = run_braid("mr", "run", "--plugin", plugin, "--job", "wordcount", "--text", src,
                              "--output-text", out_dir, "--memory-mb", "1", "--json")
        self.assertEqual(json.loads(out)["counters"]["lines"], 30000)
        got = {}
        for name in os.listdir(out_dir):
            if name.startswith("part-"):
                with open(os.path.join(out_dir, name)) as f:
                    for line in f.read().splitlines():
                        k, v = line.split("\t")
                        got[k] = int(v)
        self.assertEqual(got, dict(expected))
        env = dict(os.environ, LC_ALL="C")
        pipe = subprocess.run(
            "%s mr map --plugin %s --job wordcount < %s | sort | "
            "%s mr reduce --plugin %s --job wordcount" % (BRAID_BIN, plugin, src, BRAID_BIN, plugin),
            shell=True, stdout=subprocess.PIPE, check=True, env=env).stdout.decode().splitlines()
        self.assertEqual({l.split("\t")[0]: int(l.split("\t")[1]) for l in pipe}, dict(expected))
        rc, _, err = run_braid("mr", "run", "--plugin", plugin, "--job", "nope", "--text", src,
                               "--output-text", out_dir, check=False)
        self.assertEqual(rc, 1)
        self.assertIn("no job named nope", err)


if __name__ == "__main__":
    braidtest.main()
