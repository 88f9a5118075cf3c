#!/usr/bin/env python3
"""The speed layer through the real braid binary.

* `braid up --views FILE`: confluent-kafka producers write registered Avro
  page views (some of them days late); every realtime cell equals the exact
  count per key and bucket; `braid speed status|seal` beside the running
  process; reads after a sealed cut see only the newer events; undecodable
  records reach the dead-letter topic with their coordinates as headers while
  the counts of the good ones stay exact; per-component topology metrics and
  the event-lag histogram on /metrics.
* kill -9: producers of known events run while `braid up` is killed at random
  moments (BRAID_SPEED_KILL_ROUNDS rounds, default 20); afterwards every cell
  equals the exact count over the records in the log.
* consumer groups: two `braid speed run --kafka` processes in one group over 8
  partitions, on braid's broker and on librdkafka's mock cluster
  (braid_mock_kafka); one is killed with kill -9, the survivor takes its
  partitions over and its final state is exact.

* speed = batch (SpeedBatchTest): one view file with a count per (url,
  hour/day/week/month/all), a HyperLogLog of users, a sum, min/max and a
  tuple (count, hll, min, max) per domain; AvroProducer writes events with
  two writer schemas (late ones included); once the speed layer consumed
  them, every realtime cell is byte-identical (value_base64) to the cell of
  the batch view built by POST /v1/batch/run?wait=true at the cut of the
  same records, and the counts equal a brute force; after more events, batch
  version 2 equals batch version 1 plus the realtime cells after its cut.

Elsewhere the expected cells are a brute-force count in Python over the
same records.
"""

import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import requests
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka import avro as cavro
from confluent_kafka.avro import AvroProducer
from confluent_kafka.admin import AdminClient, NewTopic

import braidtest
from braidtest import BRAID_BIN, Braid, free_port, wait_until

SCHEMA = {"type": "record", "name": "PageView", "namespace": "braid.test", "fields": [
    {"name": "url", "type": "string"},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}

VIEWS = """
views:
  - name: pageviews_by_url
    topic: pageviews
    key: url
    time: timestamp
    granularities: [hour, day, week, month]
    aggregate: count
  - name: dirty_by_url
    topic: dirty
    key: url
    time: timestamp
    granularities: [hour, day]
    aggregate: count
topics:
  # `braid up` creates the view topics; this one takes any bytes, so that
  # undecodable records reach the speed layer (and its dead-letter topic).
  dirty:
    partitions: 2
    schema_validation: false
"""

HOUR = 3600 * 1000
DAY = 24 * HOUR
NOW = int(time.time() * 1000)
GRANS = ["hour", "day", "week", "month"]


def zigzag(v):
    v = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode(schema_id, url, ts):
    u = url.encode()
    return struct.pack(">bI", 0, schema_id) + zigzag(len(u)) + u + zigzag(ts)


def decode(value):
    """(url, ts) of a framed PageView, or None."""
    if value is None or len(value) < 5 or value[0] != 0:
        return None
    pos = 5

    def varint():
        nonlocal pos
        shift = result = 0
        while True:
            if pos >= len(value):
                raise ValueError("truncated")
            b = value[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return (result >> 1) ^ -(result & 1)
    try:
        n = varint()
        if n < 0 or pos + n > len(value):
            return None
        url = value[pos:pos + n].decode()
        pos += n
        ts = varint()
        if pos != len(value):
            return None
        return url, ts
    except (ValueError, UnicodeDecodeError):
        return None


def bucket(gran, ts):
    if gran == "hour":
        return ts - ts % HOUR
    if gran == "day":
        return ts - ts % DAY
    if gran == "week":  # ISO week: Monday 00:00 UTC (1970-01-01 was a Thursday)
        days = ts // DAY
        return ((days + 3) // 7 * 7 - 3) * DAY
    d = datetime.fromtimestamp(ts // 1000, tz=timezone.utc)
    return int(datetime(d.year, d.month, 1, tzinfo=timezone.utc).timestamp()) * 1000


def brute(events, grans=GRANS):
    out = {}
    for url, ts in events:
        for g in grans:
            k = (url, g, bucket(g, ts))
            out[k] = out.get(k, 0) + 1
    return out


def random_events(rng, n, urls=23):
    """Events around now; one in ten is 1 to 60 days late."""
    out = []
    for _ in range(n):
        ts = NOW - rng.randint(0, 2 * HOUR)
        if rng.random() < 0.1:
            ts -= rng.randint(1, 60) * DAY
        out.append(("/page/%d" % int(urls ** rng.random()), ts))
    return out


def register(registry_url, subject):
    r = requests.post(registry_url + "/subjects/%s/versions" % subject,
                      json={"schema": json.dumps(SCHEMA)}, timeout=10)
    r.raise_for_status()
    return r.json()["id"]


def create_topic(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fs = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    for f in fs.values():
        try:
            f.result(30)
        except KafkaException as e:
            # `braid up --views` already created the topics its views read.
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    md = admin.list_topics(topic, timeout=30)
    assert len(md.topics[topic].partitions) == partitions, md.topics[topic].partitions


def produce(bootstrap, topic, values, partitions):
    """Writes raw values round-robin over `partitions`; waits for the acks."""
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    errors = []
    for i, v in enumerate(values):
        while True:
            try:
                p.produce(topic, v, partition=i % partitions,
                          on_delivery=lambda e, m: e and errors.append(e))
                break
            except BufferError:
                p.poll(0.1)
    assert p.flush(60) == 0
    assert not errors, errors


def http_json(port, path, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read().decode())


def read_cells(port, view, after=None):
    q = "view=" + view
    if after is not None:
        q += "&after=" + urllib.parse.quote(json.dumps(after))
    a = http_json(port, "/v1/speed/cells?" + q)
    return {(c["key"], c["granularity"], c["bucket"]): c["value"] for c in a["cells"]}


def consumed(port, view):
    for v in http_json(port, "/v1/speed/status")["views"]:
        if v["name"] == view:
            return {int(p): o for p, o in v["consumed"].items()}
    return {}


def high_watermarks(bootstrap, topic, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "hw-%d" % random.randint(0, 1 << 30)})
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in range(partitions)}
    finally:
        c.close()


def read_log(bootstrap, topic, partitions):
    """Every record value of `topic`, read from the log start to the end."""
    hw = high_watermarks(bootstrap, topic, partitions)
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "read-%d" % random.randint(0, 1 << 30),
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions) if hw[p] > 0])
    got = {p: 0 for p in range(partitions)}
    values = []
    deadline = time.time() + 120
    while any(got[p] < hw[p] for p in range(partitions)):
        assert time.time() < deadline, "reading %s: %r of %r" % (topic, got, hw)
        m = c.poll(1)
        if m is None or m.error():
            continue
        got[m.partition()] = m.offset() + 1
        values.append(m.value())
    c.close()
    return values


def wait_caught_up(port, view, bootstrap, topic, partitions, timeout=120):
    hw = high_watermarks(bootstrap, topic, partitions)
    want = {p: o for p, o in hw.items() if o > 0}
    wait_until(lambda: {p: o for p, o in consumed(port, view).items() if o > 0} == want,
               timeout=timeout, what="%s to consume %r (has %r)" % (view, want,
                                                                     consumed(port, view)))


def write_views(directory):
    path = os.path.join(directory, "views.yaml")
    with open(path, "w") as f:
        f.write(VIEWS)
    return path


class SpeedUpTest(braidtest.BraidTestCase):
    braid_command = "up"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="braid-speed-it-")
        cls.braid_args = ["--views", write_views(cls.tmp), "--num-partitions", "4"]
        super().setUpClass()
        cls.schema_id = register(cls.braid.registry_url, "pageviews-value")

    def test_cells_are_exact_and_seal_splits_them(self):
        rng = random.Random(5)
        b = self.braid
        create_topic(b.bootstrap, "pageviews", 4)
        first = random_events(rng, 3000)
        produce(b.bootstrap, "pageviews", [encode(self.schema_id, u, t) for u, t in first], 4)
        wait_caught_up(b.http_port, "pageviews_by_url", b.bootstrap, "pageviews", 4)
        self.assertEqual(read_cells(b.http_port, "pageviews_by_url"), brute(first))

        # The CLI beside the running process.
        out = subprocess.run([BRAID_BIN, "speed", "status", "--data", b.data_dir],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("pageviews_by_url", out.stdout)
        out = subprocess.run([BRAID_BIN, "speed", "seal", "--data", b.data_dir, "--json"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        sealed = json.loads(out.stdout)
        cut = sealed["cuts"]["pageviews_by_url"]
        self.assertEqual({int(p): o for p, o in cut.items()},
                         high_watermarks(b.bootstrap, "pageviews", 4))
        self.assertEqual(sealed["topic_cuts"]["pageviews"], cut)

        second = random_events(rng, 2000)
        produce(b.bootstrap, "pageviews", [encode(self.schema_id, u, t) for u, t in second], 4)
        wait_caught_up(b.http_port, "pageviews_by_url", b.bootstrap, "pageviews", 4)
        # batch(cut) ⊕ realtime(after cut): the realtime part is exactly the newer events.
        self.assertEqual(read_cells(b.http_port, "pageviews_by_url", after=cut), brute(second))
        self.assertEqual(read_cells(b.http_port, "pageviews_by_url"), brute(first + second))
        gens = http_json(b.http_port, "/v1/speed/generations")
        self.assertTrue(gens[-2]["sealed"])
        self.assertEqual(gens[-2]["end"]["pageviews_by_url"], cut)
        # A cut inside a generation cannot be answered exactly.
        inside = {p: max(0, o - 1) for p, o in cut.items()}
        r = requests.get("http://127.0.0.1:%d/v1/speed/cells" % b.http_port,
                         params={"view": "pageviews_by_url", "after": json.dumps(inside, separators=(",", ":"))},
                         timeout=30)
        self.assertEqual(r.status_code, 409, r.text[:300])

        # Drop-through once a batch view covers the cut.
        dropped = requests.post("http://127.0.0.1:%d/v1/speed/drop" % b.http_port,
                                json={"view": "pageviews_by_url", "cut": cut}, timeout=30)
        self.assertEqual(dropped.status_code, 200, dropped.text)
        self.assertEqual(read_cells(b.http_port, "pageviews_by_url"), brute(second))
        metrics = b.http_get("/metrics")[1]
        for m in ['braid_topology_tuples_per_second{topology="views",component="map"}',
                  'braid_topology_queue_depth{topology="views",component="commit"}',
                  'braid_topology_execute_seconds_count{topology="views",component="commit"}',
                  'braid_speed_event_lag_seconds_bucket{le="2592000"}',
                  'braid_speed_commits_total']:
            self.assertIn(m, metrics)

    def test_undecodable_records_are_dead_letters_with_coordinates(self):
        b = self.braid
        sid = register(b.registry_url, "dirty-value")
        create_topic(b.bootstrap, "dirty", 2)
        good = [("/a", NOW), ("/b", NOW - 3 * DAY), ("/a", NOW - HOUR)]
        truncated = encode(sid, "/c", NOW)[:-2]
        unknown = encode(99999, "/d", NOW)
        # partition 0: good, garbage, good; partition 1: truncated, good, unknown id
        p = Producer({"bootstrap.servers": b.bootstrap})
        for part, v in [(0, encode(sid, *good[0])), (0, b"not avro"), (0, encode(sid, *good[1])),
                        (1, truncated), (1, encode(sid, *good[2])), (1, unknown)]:
            p.produce("dirty", v, partition=part)
        self.assertEqual(p.flush(30), 0)
        wait_caught_up(b.http_port, "dirty_by_url", b.bootstrap, "dirty", 2)
        self.assertEqual(read_cells(b.http_port, "dirty_by_url"), brute(good, ["hour", "day"]))
        c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "dlq-check",
                      "auto.offset.reset": "earliest"})
        c.subscribe(["braid-speed-dead-letters"])
        letters = {}
        deadline = time.time() + 30
        while len(letters) < 3 and time.time() < deadline:
            m = c.poll(1)
            if m is None or m.error():
                continue
            h = {k: v.decode() for k, v in (m.headers() or [])}
            if h.get("braid.source.topic") != "dirty":
                continue
            letters[(int(h["braid.source.partition"]), int(h["braid.source.offset"]))] = (
                m.value(), h)
        c.close()
        self.assertEqual(sorted(letters), [(0, 1), (1, 0), (1, 2)])
        self.assertEqual(letters[(0, 1)][0], b"not avro")
        self.assertEqual(letters[(1, 0)][0], truncated)
        for value, h in letters.values():
            self.assertEqual(h["braid.views"], "dirty_by_url")
            self.assertTrue(h["braid.error"])


class SpeedKillTest(unittest.TestCase):
    """kill -9 of `braid up` at random moments while producers run."""

    def test_kill_nine_rounds_leave_exact_cells(self):
        rounds = int(os.environ.get("BRAID_SPEED_KILL_ROUNDS", "20"))
        rng = random.Random(int(os.environ.get("BRAID_SPEED_KILL_SEED", "1")))
        tmp = tempfile.mkdtemp(prefix="braid-speed-kill-")
        views = write_views(tmp)
        b = Braid("up", extra_args=["--views", views, "--num-partitions", "4"])
        try:
            schema_id = None
            for r in range(rounds):
                b.start()
                if schema_id is None:
                    schema_id = register(b.registry_url, "pageviews-value")
                    create_topic(b.bootstrap, "pageviews", 4)
                stop = threading.Event()

                def producer(bootstrap=b.bootstrap, seed=r):
                    prng = random.Random(seed)
                    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2,
                                  "message.timeout.ms": 3000})
                    i = 0
                    while not stop.is_set():
                        u, t = random_events(prng, 1)[0]
                        try:
                            p.produce("pageviews", encode(schema_id, u, t), partition=i % 4)
                        except BufferError:
                            pass
                        p.poll(0)
                        i += 1
                        if i % 200 == 0:
                            time.sleep(0.01)
                    p.flush(1)

                t = threading.Thread(target=producer)
                t.start()
                time.sleep(rng.uniform(0.2, 1.5))
                b.kill()
                stop.set()
                t.join()
            b.start()
            wait_caught_up(b.http_port, "pageviews_by_url", b.bootstrap, "pageviews", 4,
                           timeout=180)
            events = [e for e in (decode(v) for v in read_log(b.bootstrap, "pageviews", 4)) if e]
            self.assertGreater(len(events), rounds * 50)
            self.assertEqual(read_cells(b.http_port, "pageviews_by_url"), brute(events))
            self.assertEqual(b.stop(), 0)
        except Exception:
            sys.stderr.write(b.output()[-20000:])
            raise
        finally:
            b.cleanup()


class SpeedProcess:
    """One `braid speed run` process."""

    def __init__(self, data_dir, args):
        self.data_dir = data_dir
        self.args = args
        self.proc = None
        self.http_port = None
        self.log_path = data_dir + ".out"

    def start(self, timeout=60):
        self.http_port = free_port()
        cmd = [BRAID_BIN, "--log-level", "info", "speed", "run", "--data", self.data_dir,
               "--http-listen", "127.0.0.1:%d" % self.http_port] + self.args
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("braid speed run exited: %s" % self.output())
            if "braid: ready" in self.output():
                return
            time.sleep(0.05)
        raise RuntimeError("braid speed run not ready: %s" % self.output())

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else None


class GroupCase:
    """Two `braid speed run --kafka` in one group over 8 partitions; one dies."""

    bootstrap = None
    registry_url = None

    def run_group(self):
        tmp = tempfile.mkdtemp(prefix="braid-speed-group-")
        views = os.path.join(tmp, "views.yaml")
        with open(views, "w") as f:
            f.write(VIEWS.split("  - name: dirty_by_url")[0])
        schema_id = register(self.registry_url, "pageviews-value")
        group = "speed-%d" % random.randint(0, 1 << 30)
        args = ["--views", views, "--kafka", self.bootstrap, "--registry", self.registry_url,
                "--group", group, "--kafka-config", "session.timeout.ms=6000",
                "--kafka-config", "heartbeat.interval.ms=500", "--batch-delay-ms", "5"]
        a = SpeedProcess(os.path.join(tmp, "a"), args)
        b = SpeedProcess(os.path.join(tmp, "b"), args)
        rng = random.Random(9)
        try:
            a.start()
            b.start()

            def split():
                pa = consumed(a.http_port, "pageviews_by_url")
                pb = consumed(b.http_port, "pageviews_by_url")
                return pa and pb and len(pa) + len(pb) == 8 and not set(pa) & set(pb)
            wait_until(split, timeout=60, what="the group to split the 8 partitions")
            first = random_events(rng, 4000)
            produce(self.bootstrap, "pageviews", [encode(schema_id, u, t) for u, t in first], 8)

            def total(procs):
                n = 0
                for p in procs:
                    n += sum(consumed(p.http_port, "pageviews_by_url").values())
                return n
            wait_until(lambda: total([a, b]) == 4000, timeout=120,
                       what="both to consume 4000 (have %d)" % total([a, b]))
            pa = consumed(a.http_port, "pageviews_by_url")
            pb = consumed(b.http_port, "pageviews_by_url")
            self.assertEqual(len(pa) + len(pb), 8, (pa, pb))
            self.assertTrue(pa and pb, (pa, pb))
            together = read_cells(a.http_port, "pageviews_by_url")
            for k, v in read_cells(b.http_port, "pageviews_by_url").items():
                together[k] = together.get(k, 0) + v
            self.assertEqual(together, brute(first))

            b.kill()  # kill -9: its partitions move to a, which recomputes them
            second = random_events(rng, 3000)
            produce(self.bootstrap, "pageviews", [encode(schema_id, u, t) for u, t in second], 8)
            wait_until(lambda: total([a]) == 7000 and len(consumed(a.http_port,
                                                                   "pageviews_by_url")) == 8,
                       timeout=120, what="the survivor to take over (has %d)" % total([a]))
            self.assertEqual(read_cells(a.http_port, "pageviews_by_url"), brute(first + second))
            self.assertEqual(a.stop(), 0)
        except Exception:
            sys.stderr.write("---- a ----\n%s\n---- b ----\n%s\n" % (a.output()[-8000:],
                                                                      b.output()[-8000:]))
            raise
        finally:
            a.kill()
            b.kill()


class SpeedGroupOnBraidTest(GroupCase, unittest.TestCase):
    def test_survivor_takes_over_on_braids_broker(self):
        host = Braid("up", extra_args=["--group-initial-rebalance-delay-ms", "0"])
        try:
            host.start()
            self.bootstrap = host.bootstrap
            self.registry_url = host.registry_url
            create_topic(host.bootstrap, "pageviews", 8)
            self.run_group()
        finally:
            host.stop()
            host.cleanup()


class SpeedGroupOnMockClusterTest(GroupCase, unittest.TestCase):
    def test_survivor_takes_over_on_librdkafkas_mock_cluster(self):
        mock_bin = os.path.join(os.environ.get("BRAID_BUILD_DIR", ""), "src", "stream",
                                "braid_mock_kafka")
        if not os.path.exists(mock_bin):
            raise unittest.SkipTest("braid_mock_kafka not built: %s" % mock_bin)
        registry = Braid("registry", http=False)
        mock = subprocess.Popen([mock_bin, "--topic", "pageviews:8",
                                 "--topic", "braid-speed-dead-letters:1"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            line = mock.stdout.readline().split()
            mock.stdout.close()
            self.assertEqual(line[0], "bootstrap")
            self.bootstrap = line[1]
            registry.start()
            self.registry_url = registry.registry_url
            self.run_group()
        finally:
            mock.stdin.close()
            try:
                mock.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(mock.pid, signal.SIGKILL)
            registry.stop()
            registry.cleanup()


class SpeedTopKTest(unittest.TestCase):
    """examples/topk: a raw topology plugin (record spout, fields and global
    groupings, tick tuples) loaded into `braid up`."""

    def test_rolling_top_k_of_urls(self):
        plugin = os.path.join(os.environ.get("BRAID_BUILD_DIR", ""), "examples", "topk",
                              "libbraid_topk.so")
        if not os.path.exists(plugin):
            raise unittest.SkipTest("the topk plugin is not built: %s" % plugin)
        os.environ["BRAID_TOPK_K"] = "3"
        b = Braid("up", extra_args=["--plugin", plugin])
        try:
            b.start()
            sid = register(b.registry_url, "pageviews-value")
            create_topic(b.bootstrap, "pageviews", 4)
            values = []
            counts = {"/a": 50, "/b": 40, "/c": 30, "/d": 20, "/e": 10}
            for path, n in counts.items():
                for i in range(n):
                    # Variants of one URL count as one (normalize_url).
                    url = ("HTTP://Example.COM:80" if i % 2 else "http://example.com") + path
                    values.append(encode(sid, url + ("?q=%d" % i), NOW - 1000))
            values.append(encode(sid, "http://example.com/old", NOW - 3600 * 1000))  # too old
            values.append(encode(sid, "not a url", NOW))
            random.Random(3).shuffle(values)
            produce(b.bootstrap, "pageviews", values, 4)
            want = [{"url": "http://example.com" + p, "count": n}
                    for p, n in [("/a", 50), ("/b", 40), ("/c", 30)]]

            def top():
                try:
                    return http_json(b.http_port, "/v1/speed/topologies/topk")["published"].get("top")
                except Exception:  # not published yet
                    return None
            wait_until(lambda: (top() or {}).get("top") == want, timeout=60,
                       what="the top 3 (last %r)" % top())
            self.assertEqual(top()["k"], 3)
            status = http_json(b.http_port, "/v1/speed/status")
            topk = [t for t in status["topologies"] if t["name"] == "topk"][0]
            self.assertEqual([c["name"] for c in topk["components"]],
                             ["pageviews", "normalize", "count", "rank", "total"])
            metrics = b.http_get("/metrics")[1]
            self.assertIn('braid_topology_executed_total{topology="topk",component="count"}',
                          metrics)
            self.assertEqual(b.stop(), 0)
        except Exception:
            sys.stderr.write(b.output()[-10000:])
            raise
        finally:
            os.environ.pop("BRAID_TOPK_K", None)
            b.cleanup()


# ---- The same view definition in both layers ----

SB_SCHEMA_V1 = {"type": "record", "name": "Hit", "namespace": "braid.speedbatch", "fields": [
    {"name": "url", "type": "string"},
    {"name": "user", "type": "string"},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "bytes", "type": "long"}]}
# A second writer schema (backward compatible): paths compile per writer
# schema in both layers.
SB_SCHEMA_V2 = {"type": "record", "name": "Hit", "namespace": "braid.speedbatch", "fields": [
    {"name": "url", "type": "string"},
    {"name": "referrer", "type": ["null", "string"], "default": None},
    {"name": "user", "type": "string"},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "bytes", "type": "long"}]}
SB_VIEWS = """
version: 1
topics:
  hits:
    partitions: 4
    schema_validation: true
    archive: true
    time_field: ts
views:
  - name: hits_by_url
    topic: hits
    key: url
    time: ts
    granularities: [hour, day, week, month, all]
    aggregate: count
  - name: users_by_url
    topic: hits
    key: normalize_url(url)
    time: ts
    granularities: [hour, day, month]
    aggregate: {type: hll, p: 14}
    value: user
  - name: bytes_by_user
    topic: hits
    key: user
    time: ts
    granularities: [day, week, month, all]
    aggregate: sum_int64
    value: bytes
  - name: first_hit_by_user
    topic: hits
    key: user
    time: ts
    granularities: [month, all]
    aggregate: min_int64
    value: ts
  - name: domains
    topic: hits
    key: domain(url)
    time: ts
    granularities: [hour, day, week, month]
    aggregate:
      type: tuple
      fields: {visits: count, people: hll(p=12), first_seen: min_int64, biggest: max_int64}
    value: {people: user, first_seen: ts, biggest: bytes}
"""
SB_VIEW_NAMES = ["hits_by_url", "users_by_url", "bytes_by_user", "first_hit_by_user", "domains"]
SB_URLS = ["http://a.com/x", "HTTP://A.com:80/x", "http://a.com/y", "https://b.org/",
           "http://b.org/p?q=1", "http://c.net/%d"]


def sb_events(rng, n):
    out = []
    for _ in range(n):
        u = rng.choice(SB_URLS)
        if "%d" in u:
            u = u % int(60 ** rng.random())
        ts = NOW - rng.randint(0, 3 * HOUR)
        r = rng.random()
        if r < 0.1:
            ts -= rng.randint(1, 80) * DAY  # days late
        elif r < 0.13:
            ts -= rng.randint(1, 5) * 365 * DAY  # years late
        elif r < 0.15:  # the leap day of 2024
            ts = int(datetime(2024, 2, 29, tzinfo=timezone.utc).timestamp()) * 1000 + \
                rng.randint(0, DAY - 1)
        out.append({"url": u, "user": "u%d" % rng.randint(0, 500), "ts": ts,
                    "bytes": rng.randint(-1000, 1 << 40)})
    return out


class SpeedBatchTest(unittest.TestCase):
    """The same view file in the speed and the batch layer of one `braid up`
    over the same records gives the same cells, byte for byte."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="braid-speed-batch-")
        path = os.path.join(self.tmp, "views.yaml")
        with open(path, "w") as f:
            f.write(SB_VIEWS)
        # The speed layer's micro-batch flags (as `braid speed run` has them).
        self.b = Braid("up", extra_args=["--views", path, "--batch-interval-ms", "0",
                                         "--archive-roll-ms", "300",
                                         "--speed-batch-delay-ms", "5",
                                         "--speed-batch-records", "700",
                                         "--speed-map-threads", "1"])
        self.b.start()

    def tearDown(self):
        self.b.stop()

    def run(self, result=None):
        # braid's log on failure, then the data directory goes.
        n = len(result.failures) + len(result.errors) if result else 0
        try:
            super().run(result)
            if result and len(result.failures) + len(result.errors) > n and hasattr(self, "b"):
                sys.stderr.write("---- braid up ----\n" + self.b.output()[-6000:])
        finally:
            if hasattr(self, "b"):
                self.b.cleanup()
            if hasattr(self, "tmp"):
                shutil.rmtree(self.tmp, ignore_errors=True)

    def http(self, path, method="GET"):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.b.http_port, path),
                                     method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            self.fail("%s %s: %d %s" % (method, path, e.code, e.read().decode()[:500]))

    def produce(self, events, schema):
        p = AvroProducer({"bootstrap.servers": self.b.bootstrap,
                          "schema.registry.url": self.b.registry_url, "linger.ms": 5},
                         default_value_schema=cavro.loads(json.dumps(schema)))
        errors = []
        for e in events:
            v = dict(e, ts=datetime.fromtimestamp(e["ts"] / 1000, tz=timezone.utc))
            if "referrer" in json.dumps(schema):
                v["referrer"] = "http://ref.io/" if e["bytes"] % 2 else None
            while True:
                try:
                    p.produce(topic="hits", value=v,
                              on_delivery=lambda err, m: err and errors.append(err))
                    break
                except BufferError:
                    p.poll(0.1)
            p.poll(0)
        self.assertEqual(p.flush(60), 0)
        self.assertEqual(errors, [])

    def caught_up(self):
        hw = high_watermarks(self.b.bootstrap, "hits", 4)
        want = {p: o for p, o in hw.items() if o > 0}

        def done():
            return all({p: o for p, o in consumed(self.b.http_port, v).items() if o > 0} == want
                       for v in SB_VIEW_NAMES)
        wait_until(done, timeout=120, what="every view to consume %r" % want)
        return hw

    def realtime(self, view, after=None):
        """{(key, granularity, bucket_start|None): value_base64} of the speed layer."""
        q = "view=%s&limit=100000" % view
        if after is not None:
            q += "&after=" + urllib.parse.quote(json.dumps(after))
        a = self.http("/v1/speed/cells?" + q)
        self.assertLess(len(a["cells"]), 100000)
        return {(c["key"], c["granularity"], c["bucket"]): c for c in a["cells"]}

    def batch(self, view):
        """The same map of the live batch version."""
        a = self.http("/v1/batch/views/%s/scan?limit=100000" % view)
        self.assertFalse(a["more"])
        return {(c["key"], c["granularity"],
                 None if c["granularity"] == "all" else c["bucket_start"]): c
                for c in a["cells"]}

    def batch_run(self, hw):
        r = self.http("/v1/batch/run?wait=true", method="POST")
        self.assertTrue(r["ok"], r)
        by_view = {v["view"]: v for v in r["views"]}
        self.assertEqual(sorted(by_view), sorted(SB_VIEW_NAMES))
        for v in by_view.values():
            self.assertFalse(v["skipped"], v)
            self.assertEqual({int(p): o for p, o in v["cut"].items() if o > 0},
                             {p: o for p, o in hw.items() if o > 0}, v)
        return r

    def test_speed_cells_equal_batch_cells(self):
        self.assertEqual(self.http("/v1/speed/status")["micro_batches"],
                         {"max_records": 700, "max_bytes": 8 << 20, "max_delay_ms": 5,
                          "map_tasks": 1, "commit_tasks": 1})
        bad = subprocess.run([BRAID_BIN, "up", "--data", os.path.join(self.tmp, "bad"),
                              "--speed-batch-delay-ms", "-1"], capture_output=True, text=True,
                             timeout=30)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--speed-batch-delay-ms", bad.stderr)
        rng = random.Random(12)
        first = sb_events(rng, 3000)
        self.produce(first[:1500], SB_SCHEMA_V1)
        self.produce(first[1500:], SB_SCHEMA_V2)
        hw = self.caught_up()
        self.assertEqual(sum(hw.values()), len(first))
        realtime = {v: self.realtime(v) for v in SB_VIEW_NAMES}
        run1 = self.batch_run(hw)
        batch = {v: self.batch(v) for v in SB_VIEW_NAMES}
        for v in SB_VIEW_NAMES:
            self.assertGreater(len(realtime[v]), 10, v)
            self.assertEqual(sorted(realtime[v]), sorted(batch[v]), v)
            diff = [(k, realtime[v][k]["value_base64"], batch[v][k]["value_base64"])
                    for k in realtime[v]
                    if realtime[v][k]["value_base64"] != batch[v][k]["value_base64"]]
            self.assertEqual(diff[:5], [], "%s: %d cells differ" % (v, len(diff)))
            for k in realtime[v]:
                self.assertEqual(realtime[v][k]["value"], batch[v][k]["value"], (v, k))
        # Not two empty or equally wrong answers: the counts are the brute force.
        want = {}
        for e in first:
            for g in ["hour", "day", "week", "month"]:
                k = (e["url"], g, bucket(g, e["ts"]))
                want[k] = want.get(k, 0) + 1
            want[(e["url"], "all", None)] = want.get((e["url"], "all", None), 0) + 1
        self.assertEqual({k: c["value"] for k, c in batch["hits_by_url"].items()}, want)
        sums = {}
        for e in first:
            sums[e["user"]] = sums.get(e["user"], 0) + e["bytes"]
        self.assertEqual({k[0]: c["value"] for k, c in batch["bytes_by_user"].items()
                          if k[1] == "all"}, sums)
        # The batch run dropped the realtime generations it covers.
        self.assertEqual(self.realtime("hits_by_url"), {})

        # More events, some into the buckets the batch version holds: the
        # next batch version equals version 1 plus the realtime cells after
        # version 1's cut (for the additive views, by value).
        second = sb_events(rng, 1500)
        self.produce(second, SB_SCHEMA_V2)
        hw2 = self.caught_up()
        cuts = {v["view"]: v["cut"] for v in run1["views"]}
        realtime2 = {v: self.realtime(v, after=cuts[v]) for v in ["hits_by_url", "bytes_by_user"]}
        self.batch_run(hw2)
        for v in ["hits_by_url", "bytes_by_user"]:
            plus = {k: c["value"] for k, c in batch[v].items()}
            for k, c in realtime2[v].items():
                plus[k] = plus.get(k, 0) + c["value"]
            self.assertEqual({k: c["value"] for k, c in self.batch(v).items()}, plus, v)


if __name__ == "__main__":
    braidtest.main()
