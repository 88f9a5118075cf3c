#!/usr/bin/env python3
"""SuperWebAnalytics.com end to end through `braid up` and real clients.

* `braid up --views examples/superwebanalytics/views.yaml` creates the
  `pageviews` topic as the view file declares; confluent-kafka-python's
  legacy AvroProducer (with the schema registry) writes PageView events,
  late ones included (days and years late, a leap day); the answers of the
  serving API, read with a plain HTTP client, equal an independent
  computation written here (URL normalisation, ISO weeks, calendar months,
  distinct people, sessions for bounces): between batch runs (realtime only), right after
  POST /v1/batch/run?wait=true (batch), with both layers, and after kill -9
  and a restart.
* The boundary property: random interleavings of produce, seal, batch run
  (waited for or not) and kill -9 with restart (BRAID_SWA_STEPS steps,
  default 14); after each step every url's pageviews, over all time and over
  random ranges, equal the brute force, and uniques are within HLL error.
* Hostile HTTP input gets 4xx answers and braid keeps serving.
"""

import json
import os
import random
import shutil
import socket
import subprocess
import time
import unittest
import urllib.parse
import urllib.request
from datetime import datetime, timezone

from confluent_kafka import avro as cavro
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.avro import AvroProducer

import braidtest
from braidtest import Braid, wait_until

SRC = os.environ.get("BRAID_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
VIEWS = os.path.join(SRC, "examples", "superwebanalytics", "views.yaml")
SCHEMA = open(os.path.join(SRC, "examples", "superwebanalytics", "pageview.avsc")).read()

HOUR = 3600 * 1000
DAY = 24 * HOUR
NOW = int(time.time() * 1000)

URLS = [
    "http://foo.com/a", "HTTP://Foo.com:80/a?x=1#y", "http://foo.com:8080/a", "https://foo.com/a",
    "https://FOO.com:443/B", "http://foo.com", "http://bar.org/x/Y", "http://bar.org/x/y?q",
    "https://bar.org/", "http://baz.net/%d",
]


def normalize(u):
    p = urllib.parse.urlsplit(u)
    scheme = p.scheme.lower()
    host = (p.hostname or "").lower()
    port = p.port
    if (scheme == "http" and port == 80) or (scheme == "https" and port == 443):
        port = None
    return "%s://%s%s%s" % (scheme, host, ":%d" % port if port else "", p.path or "/")


def bucket(gran, ts):
    if gran == "hour":
        return ts - ts % HOUR
    if gran == "day":
        return ts - ts % DAY
    if gran == "week":  # ISO: Monday 00:00 UTC (1970-01-01 was a Thursday)
        days = ts // DAY
        return ((days + 3) // 7 * 7 - 3) * DAY
    d = datetime.fromtimestamp(ts // 1000, tz=timezone.utc)
    return int(datetime(d.year, d.month, 1, tzinfo=timezone.utc).timestamp()) * 1000


def next_bucket(gran, start):
    if gran == "hour":
        return start + HOUR
    if gran == "day":
        return start + DAY
    if gran == "week":
        return start + 7 * DAY
    d = datetime.fromtimestamp(start // 1000, tz=timezone.utc)
    y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return int(datetime(y, m, 1, tzinfo=timezone.utc).timestamp()) * 1000


def make_events(rng, n):
    out = []
    for _ in range(n):
        u = rng.choice(URLS)
        if "%d" in u:
            u = u % rng.randint(0, 40)
        ts = NOW - rng.randint(0, 3 * HOUR)
        r = rng.random()
        if r < 0.1:
            ts -= rng.randint(1, 90) * DAY  # days late
        elif r < 0.13:
            ts -= rng.randint(1, 6) * 365 * DAY  # years late
        elif r < 0.15:  # the leap day of 2024, any hour
            ts = int(datetime(2024, 2, 29, tzinfo=timezone.utc).timestamp()) * 1000 + \
                rng.randint(0, DAY - 1)
        out.append({"url": u, "person": "p%d" % rng.randint(0, 300), "timestamp": ts,
                    "nonce": rng.getrandbits(62), "referrer": rng.choice([None, "http://ref.io/"])})
    return out


class Model:
    """The brute force: every produced event."""

    def __init__(self):
        self.events = []

    def count(self, url, lo=None, hi=None):
        return sum(1 for e in self.events if normalize(e["url"]) == url and
                   (lo is None or lo <= e["timestamp"] < hi))

    def people(self, url, lo=None, hi=None):
        return len({e["person"] for e in self.events if normalize(e["url"]) == url and
                    (lo is None or lo <= e["timestamp"] < hi)})

    def urls(self):
        return sorted({normalize(e["url"]) for e in self.events})

    def bounces(self):
        """{domain: {"visits", "bounces"}} over all time: a person's pageviews
        on a domain, in time order, are one visit while consecutive ones are
        at most 30 minutes apart; a one-pageview visit is a bounce."""
        times = {}
        for e in self.events:
            d = urllib.parse.urlsplit(normalize(e["url"])).hostname
            times.setdefault((d, e["person"]), []).append(e["timestamp"])
        out = {}
        for (d, _), ts in times.items():
            ts.sort()
            visits, start = [], 0
            for i in range(1, len(ts) + 1):
                if i == len(ts) or ts[i] - ts[i - 1] > 30 * 60 * 1000:
                    visits.append(i - start)
                    start = i
            r = out.setdefault(d, {"visits": 0, "bounces": 0})
            r["visits"] += len(visits)
            r["bounces"] += sum(1 for n in visits if n == 1)
        return out


class Swa:
    def __init__(self, testcase, tmp_dir=None):
        self.t = testcase
        self.b = Braid("up", extra_args=["--views", VIEWS, "--batch-interval-ms", "0",
                                         "--archive-roll-ms", "500"])
        self.model = Model()
        self.exact_bounce_checks = 0

    def start(self):
        self.b.start()

    def http(self, path, method="GET", body=None, expect=200):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.b.http_port, path),
                                     method=method, data=data)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        self.t.assertEqual(status, expect, "%s %s: %s" % (method, path, text))
        return json.loads(text)

    def produce(self, events):
        p = AvroProducer({"bootstrap.servers": self.b.bootstrap,
                          "schema.registry.url": self.b.registry_url, "linger.ms": 5},
                         default_value_schema=cavro.loads(SCHEMA))
        errors = []
        for e in events:
            # python3-avro writes timestamp-millis from datetimes.
            v = dict(e, timestamp=datetime.fromtimestamp(e["timestamp"] / 1000, tz=timezone.utc))
            p.produce(topic="pageviews", value=v, on_delivery=lambda err, m: err and errors.append(err))
            p.poll(0)
        self.t.assertEqual(p.flush(60), 0)
        self.t.assertEqual(errors, [])
        self.model.events.extend(events)

    def caught_up(self):
        """Waits until the served answers reflect every produced event."""
        want = len(self.model.events)

        def done():
            views = self.http("/v1/views")["views"]
            return all(sum(v["coverage"]["realtime"]["offsets"].values()) == want for v in views)
        wait_until(done, timeout=60, what="the speed layer to consume %d events" % want)

    def batch_run(self, wait=True):
        if wait:
            r = self.http("/v1/batch/run?wait=true", method="POST")
            self.t.assertTrue(r["ok"], r)
            return r
        return self.http("/v1/batch/run", method="POST", expect=202)

    def check(self, rng, what, bounces=False):
        """Compares the served answers with the brute force; `bounces`: the
        realtime part is empty (right after a batch run), so the bounces
        view must be exact too."""
        if bounces:
            want = self.model.bounces()
            got = self.http("/v1/views/bounces/values", method="POST", body={"keys": sorted(want)})
            batch = got["coverage"]["batch"]
            # Exact when the batch version holds every event (the speed
            # layer's part of a sessionised view is an approximation).
            if batch is not None and sum(batch["cut"].values()) == len(self.model.events):
                self.t.assertEqual({v["key"]: v["value"] for v in got["values"]}, want, what)
                self.exact_bounce_checks += 1
        urls = self.model.urls()
        # Every url's all-time count, in one POST.
        got = self.http("/v1/views/pageviews/values", method="POST", body={"keys": urls})
        self.t.assertEqual({v["key"]: v["value"] for v in got["values"]},
                           {u: self.model.count(u) for u in urls}, what)
        # Ranges (epoch ms and ISO-8601), aligned to hours.
        for _ in range(4):
            u = rng.choice(urls)
            lo = bucket("hour", NOW - rng.randint(0, 120) * DAY)
            hi = lo + rng.randint(1, 24 * 60) * HOUR
            a = self.http("/v1/views/pageviews/value?key=%s&from=%d&to=%d" %
                          (urllib.parse.quote(u), lo, hi))
            self.t.assertEqual(a["value"], self.model.count(u, lo, hi), "%s %s [%d,%d)" %
                               (what, u, lo, hi))
            self.t.assertFalse(a["rounded"])
        # A day series over the last 40 days and a month series over 7 years.
        u = rng.choice(urls)
        for gran, span in (("day", 40 * DAY), ("month", 7 * 366 * DAY)):
            lo, hi = NOW - span, NOW + HOUR
            s = self.http("/v1/views/pageviews/series?key=%s&granularity=%s&from=%d&to=%d" %
                          (urllib.parse.quote(u), gran, lo, hi))
            for b in s["buckets"]:
                self.t.assertEqual(b["value"], self.model.count(u, b["start"],
                                                                next_bucket(gran, b["start"])),
                                   "%s %s %s bucket %d" % (what, u, gran, b["start"]))
            self.t.assertEqual(sum(b["value"] for b in s["buckets"]),
                               self.model.count(u, s["from"], s["to"]))
        # Uniques within HLL error (p=14: ~0.8 %; small counts are nearly exact).
        for u in urls[:5]:
            a = self.http("/v1/views/uniques/value?key=%s" % urllib.parse.quote(u))
            exact = self.model.people(u)
            self.t.assertLessEqual(abs(a["value"] - exact), max(2, 0.03 * exact),
                                   "%s uniques %s: %s vs %d" % (what, u, a["value"], exact))
        # Keys in order, paginated.
        keys, after = [], ""
        while True:
            k = self.http("/v1/views/pageviews/keys?limit=7&after=%s" % urllib.parse.quote(after))
            keys += k["keys"]
            if not k["more"]:
                break
            after = k["keys"][-1]
        self.t.assertEqual(keys, urls, what)
        return got["coverage"]


class SwaTest(unittest.TestCase):

    def test_end_to_end(self):
        rng = random.Random(13)
        s = Swa(self)
        self.addCleanup(s.b.cleanup)
        try:
            s.start()
            health = json.loads(s.b.http_get("/health")[1])
            self.assertEqual(health["roles"], ["registry", "broker", "archiver", "speed", "batch",
                                               "serving"])
            # The topic is created as the view file says.
            c = Consumer({"bootstrap.servers": s.b.bootstrap, "group.id": "md"})
            md = c.list_topics("pageviews", timeout=10)
            self.assertEqual(len(md.topics["pageviews"].partitions), 4)
            c.close()
            # The normalisation example.
            s.produce([{"url": "HTTP://Foo.com:80/a?x=1#y", "person": "ann", "timestamp": NOW,
                        "nonce": 1, "referrer": None}])
            s.caught_up()
            a = s.http("/v1/views/pageviews/value?key=" + urllib.parse.quote("http://foo.com/a"))
            self.assertEqual(a["value"], 1)
            self.assertIsNone(a["coverage"]["batch"])
            # Realtime only.
            s.produce(make_events(rng, 2500))
            s.caught_up()
            cov = s.check(rng, "realtime only")
            self.assertIsNone(cov["batch"])
            # Right after a batch run: batch only.
            run = s.batch_run()
            self.assertEqual({v["view"] for v in run["views"]}, {"pageviews", "uniques", "bounces"})
            cov = s.check(rng, "after batch run 1", bounces=True)
            self.assertIsNotNone(cov["batch"])
            self.assertEqual(sum(cov["batch"]["cut"].values()), len(s.model.events))
            # Both layers.
            s.produce(make_events(rng, 1500))
            s.caught_up()
            cov = s.check(rng, "batch + realtime")
            self.assertLess(sum(cov["batch"]["cut"].values()), len(s.model.events))
            # kill -9 and a restart.
            s.b.kill()
            s.start()
            s.caught_up()
            s.check(rng, "after kill -9")
            s.produce(make_events(rng, 500))
            s.caught_up()
            s.batch_run()
            s.check(rng, "after batch run 2", bounces=True)
            self.assertEqual(s.exact_bounce_checks, 2)
            # Metrics and the schedule.
            _, metrics = s.b.http_get("/metrics")
            self.assertIn('braid_serving_requests_total{op="values"}', metrics)
            self.assertIn('braid_serving_batch_version{view="pageviews"} 2', metrics)
            self.assertIn("braid_scheduler_runs_total 1", metrics)  # one since the restart
            sched = s.http("/v1/batch/schedule")
            self.assertTrue(sched["last"]["ok"])
            # The web console: one page over the same API; its script parses.
            status, page = s.b.http_get("/console")
            self.assertEqual(status, 200)
            self.assertIn("/v1/views", page)
            script = page[page.index("<script>") + 8:page.index("</script>")]
            js = os.path.join(s.b.data_dir, "..", "console-%d.js" % os.getpid())
            with open(js, "w") as f:
                f.write(script)
            try:
                if shutil.which("node"):
                    r = subprocess.run(["node", "--check", js], capture_output=True)
                    self.assertEqual(r.returncode, 0, r.stderr)
            finally:
                os.remove(js)
            self.assertEqual(s.b.stop(), 0)
        except Exception:
            print(s.b.output()[-20000:])
            raise

    def test_boundary_property(self):
        steps = int(os.environ.get("BRAID_SWA_STEPS", "14"))
        rng = random.Random(int(os.environ.get("BRAID_SWA_SEED", "7")))
        s = Swa(self)
        self.addCleanup(s.b.cleanup)
        log = []
        try:
            s.start()
            s.produce(make_events(rng, 300))
            for step in range(steps):
                op = rng.choice(["produce", "produce", "seal", "batch", "batch_nowait", "kill"])
                log.append(op)
                if op == "produce":
                    s.produce(make_events(rng, rng.randint(1, 400)))
                elif op == "seal":
                    s.http("/v1/speed/seal", method="POST")
                elif op == "batch":
                    if rng.random() < 0.5:
                        s.caught_up()  # a run whose cut holds every event
                    s.batch_run()
                    s.caught_up()
                    s.check(rng, "step %d (%s)" % (step, " ".join(log + ["exact bounces"])),
                            bounces=True)
                elif op == "batch_nowait":
                    s.batch_run(wait=False)
                    s.produce(make_events(rng, rng.randint(1, 200)))
                else:
                    s.b.kill()
                    s.start()
                s.caught_up()
                s.check(rng, "step %d (%s)" % (step, " ".join(log)))
            # Finally a batch run over every event: bounces exact.
            s.caught_up()
            s.batch_run()
            s.check(rng, "final (%s)" % " ".join(log), bounces=True)
            self.assertGreater(s.exact_bounce_checks, 0, log)
            self.assertEqual(s.b.stop(), 0)
        except Exception:
            print("steps:", log)
            print(s.b.output()[-20000:])
            raise

    def test_hostile_http(self):
        s = Swa(self)
        self.addCleanup(s.b.cleanup)
        s.start()
        try:
            s.http("/v1/views/nope/value?key=a", expect=404)
            s.http("/v1/views/pageviews/value", expect=400)
            s.http("/v1/views/pageviews/value?key=a&from=yesterday&to=1", expect=400)
            s.http("/v1/views/pageviews/value?key=a&from=10&to=5", expect=400)
            s.http("/v1/views/pageviews/value?key=a&from=2024-02-30&to=2024-03-02", expect=400)
            s.http("/v1/views/pageviews/series?key=a&granularity=decade&from=0&to=1", expect=400)
            s.http("/v1/views/pageviews/series?key=a&granularity=hour&from=0&to=%d" % NOW,
                   expect=400)  # too many buckets
            s.http("/v1/views/pageviews/keys?limit=-1", expect=400)
            s.http("/v1/views/pageviews/frobnicate?key=a", expect=404)
            s.http("/v1/batch/run", method="POST", body={"views": ["nope"]}, expect=400)
            s.http("/v1/batch/run", method="POST", body={"cut": {"0": 1}}, expect=400)
            for body in (b"{", b"[1,2]", b'{"keys": "a"}', b'{"keys": [1]}'):
                req = urllib.request.Request(
                    "http://127.0.0.1:%d/v1/views/pageviews/values" % s.b.http_port,
                    method="POST", data=body)
                with self.assertRaises(urllib.error.HTTPError) as e:
                    urllib.request.urlopen(req, timeout=10)
                self.assertEqual(e.exception.code, 400, body)
            # A huge body, a truncated request and a slow client.
            big = socket.create_connection(("127.0.0.1", s.b.http_port))
            big.sendall(b"POST /v1/views/pageviews/values HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: 1000000000\r\n\r\n")
            big.settimeout(10)
            self.assertIn(b" 413 ", big.recv(4096))
            big.close()
            cut = socket.create_connection(("127.0.0.1", s.b.http_port))
            cut.sendall(b"POST /v1/views/pageviews/values HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: 100\r\n\r\n{\"keys\":")
            cut.close()
            slow = socket.create_connection(("127.0.0.1", s.b.http_port))
            slow.sendall(b"GET /v1/views HTTP/1.1\r\n")
            # Still serving.
            s.http("/v1/views")
            a = s.http("/v1/views/pageviews/value?key=nothing-here")
            self.assertEqual(a["value"], 0)
            slow.close()
            self.assertEqual(s.b.stop(), 0)
        except Exception:
            print(s.b.output()[-20000:])
            raise


if __name__ == "__main__":
    braidtest.main()
