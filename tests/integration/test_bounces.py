"""Integration test of the sessionised `bounces` view of SuperWebAnalytics.

`braid up --views examples/superwebanalytics/views.yaml` creates the topic;
`braid example swa produce` writes realistic traffic (sessions, one-page
visits, return visits after pauses of 5 minutes to 2 hours, late events)
through librdkafka and the registry. The test reads every produced record
back with confluent-kafka-python and computes the visits and bounces per
domain with a brute force written here (urllib for the host). Then:

* `braid batch run --view bounces` (tiny memory budget: spills, several
  reduce tasks) equals the brute force cell for cell (day, week, month);
* the Hadoop Streaming path refuses the sessionised view with a clear error;
* `braid mr run --view bounces` (the local engine) gives the same cells.

Run: BRAID_BIN=/path/to/braid /usr/bin/python3 test_bounces.py
"""

import base64
import collections
import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import avro.io
import avro.schema
from confluent_kafka import Consumer, TopicPartition

import braidtest
from braidtest import BRAID_BIN, Braid

SOURCE = os.environ.get("BRAID_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
VIEWS = os.path.join(SOURCE, "examples", "superwebanalytics", "views.yaml")
GAP = 30 * 60 * 1000
DAY = 24 * 3600 * 1000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The PageView schema with the timestamp as a plain long (same binary
# encoding), so that python-avro hands back milliseconds.
SCHEMA = avro.schema.parse(json.dumps({
    "type": "record", "name": "PageView", "namespace": "braid.examples.swa",
    "fields": [{"name": "url", "type": "string"}, {"name": "person", "type": "string"},
               {"name": "timestamp", "type": "long"}, {"name": "nonce", "type": "long"},
               {"name": "referrer", "type": ["null", "string"], "default": None}]}))
START_MS = 1_711_926_000_000  # 2024-03-31T23:00:00Z: day, ISO week and month end within the hour


def run_braid(*args, check=True, timeout=300):
    p = subprocess.run([BRAID_BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("braid %s failed (%d):\n%s\n%s" % (
            " ".join(args), p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace")))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def ms(d):
    return (d - EPOCH) // timedelta(milliseconds=1)


def bucket(g, t):
    day = t // DAY * DAY
    if g == "day":
        return day
    d = EPOCH + timedelta(milliseconds=day)
    if g == "week":
        return day - d.weekday() * DAY
    return ms(datetime(d.year, d.month, 1, tzinfo=timezone.utc))


def brute_force(events):
    """(domain, granularity, bucket start) -> [visits, bounces]."""
    times = collections.defaultdict(list)
    for e in events:
        times[(urlsplit(e["url"].strip()).hostname, e["person"])].append(e["timestamp"])
    cells = collections.defaultdict(lambda: [0, 0])
    for (domain, _), ts in times.items():
        ts.sort()
        i = 0
        while i < len(ts):
            j = i + 1
            while j < len(ts) and ts[j] - ts[j - 1] <= GAP:
                j += 1
            for g in ("day", "week", "month"):
                c = cells[(domain, g, bucket(g, ts[i]))]
                c[0] += 1
                c[1] += 1 if j - i == 1 else 0
            i = j
    return {k: tuple(v) for k, v in cells.items()}


class BouncesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not BRAID_BIN or not os.path.exists(BRAID_BIN):
            raise unittest.SkipTest("BRAID_BIN is not set")
        cls.tmp = tempfile.mkdtemp(prefix="braid-bounces-it-")
        cls.data = os.path.join(cls.tmp, "data")
        count = int(os.environ.get("BRAID_BOUNCES_EVENTS", "20000"))
        up = Braid("up", data_dir=cls.data, extra_args=["--views", VIEWS,
                                                         "--batch-interval-ms", "0"])
        try:
            up.start()
            run_braid("example", "swa", "produce", "--bootstrap", up.bootstrap, "--registry",
                      up.registry_url, "--count", str(count), "--rate", "0", "--seed", "5",
                      "--start-ms", str(START_MS))
            cls.events = cls.read_back(up.bootstrap, count)
        finally:
            rc = up.stop()
        assert rc == 0, up.output()
        run_braid("archive", "run", "--data", cls.data, "--once")
        cls.expected = brute_force(cls.events)

    @classmethod
    def read_back(cls, bootstrap, count):
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bounces-it",
                      "enable.auto.commit": False})
        try:
            parts = [TopicPartition("pageviews", p, 0) for p in range(4)]
            c.assign(parts)
            events = []
            while len(events) < count:
                m = c.poll(10)
                assert m is not None, "only %d of %d records read back" % (len(events), count)
                if m.error():
                    continue
                v = m.value()
                assert v[0] == 0
                events.append(avro.io.DatumReader(SCHEMA).read(
                    avro.io.BinaryDecoder(io.BytesIO(v[5:]))))
            return events
        finally:
            c.close()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_1_the_traffic_has_every_kind_of_visit(self):
        visits = sum(v for (d, g, b), (v, _) in self.expected.items() if g == "month")
        bounces = sum(b for (d, g, _), (_, b) in self.expected.items() if g == "month")
        self.assertGreater(bounces, 0.2 * visits)
        self.assertLess(bounces, 0.7 * visits)
        # Return visits after pauses: a person with several visits on one domain.
        per = collections.Counter()
        for (domain, g, _), (v, _) in self.expected.items():
            if g == "month":
                per[domain] += v
        self.assertGreaterEqual(len(per), 30)
        gaps = collections.defaultdict(list)
        for e in self.events:
            gaps[(urlsplit(e["url"]).hostname, e["person"])].append(e["timestamp"])
        long_pauses = 0
        for ts in gaps.values():
            ts.sort()
            long_pauses += sum(1 for a, b in zip(ts, ts[1:]) if b - a > GAP)
        self.assertGreater(long_pauses, 100)

    def test_2_batch_run_equals_brute_force(self):
        _, out, _ = run_braid("batch", "run", "--data", self.data, "--views", VIEWS, "--view",
                              "bounces", "--json", "--memory-mb", "1")
        res = json.loads(out)
        self.assertEqual([v["view"] for v in res["views"]], ["bounces"])
        _, out, _ = run_braid("batch", "scan", "bounces", "--data", self.data, "--limit",
                              "100000", "--json")
        j = json.loads(out)
        self.assertFalse(j["more"])
        got = {(c["key"], c["granularity"], c["bucket_start"]):
               (c["value"]["visits"], c["value"]["bounces"]) for c in j["cells"]}
        self.assertEqual(len(got), len(self.expected))
        self.assertEqual(got, self.expected)

    def test_3_streaming_refuses_and_mr_run_agrees(self):
        rc, out, err = run_braid("mr", "map", "--view", "bounces", "--views", VIEWS, "--data",
                                 self.data, check=False)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("view bounces is sessionised", err)
        self.assertIn("braid mr run --view bounces", err)
        rc, out, err = run_braid("mr", "reduce", "--view", "bounces", "--views", VIEWS,
                                 check=False)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("sessionised", err)
        out_dir = os.path.join(self.tmp, "mr-out")
        run_braid("mr", "run", "--view", "bounces", "--views", VIEWS, "--data", self.data,
                  "--output-text", out_dir, "--quiet", "--memory-mb", "1")
        cells = {}
        for name in sorted(os.listdir(out_dir)):
            if not name.startswith("part-"):
                continue
            with open(os.path.join(out_dir, name)) as f:
                for line in f.read().splitlines():
                    key, g, start, value = line.split("\t")
                    cells[(key, g, int(start))] = base64.b64decode(value)
        self.assertEqual(set(cells), set(self.expected))


if __name__ == "__main__":
    braidtest.main()
