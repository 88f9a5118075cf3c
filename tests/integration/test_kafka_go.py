"""segmentio/kafka-go (Debian's golang-github-segmentio-kafka-go-dev 0.2.1,
GOPATH mode) against braid, built from go/kafkago into a temp dir.

kafka-go 0.2.1 speaks only the old protocol versions: Produce v2 with magic 1
MessageSets, Fetch v2, ListOffsets v1, JoinGroup v1 / SyncGroup v0 /
Heartbeat v0, each on a short-lived connection of its own.

* Producing with every codec kafka-go has (none, gzip, snappy, lz4): every
  record arrives, readable by librdkafka with its key.
* Two group readers, the second joining after the first has been alone for
  several seconds: both get partitions in the same generation (the group
  settles instead of flipping between them), and every record is consumed
  exactly once.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import braidtest

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go", "kafkago")
GOPATH = "/usr/share/gocode"
PARTITIONS = 4


class Reader:
    """One `kafkago consume` process."""

    def __init__(self, binary, bootstrap, topic, group):
        self.lines = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen([binary, "consume", bootstrap, topic, group],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.lock:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def messages(self):
        with self.lock:
            return [l.split(" ", 3)[3] for l in self.lines if l.startswith("MSG ")]

    def subscription(self):
        """(generation, set of partitions) of the latest subscription."""
        gen, parts = None, None
        with self.lock:
            for l in self.lines:
                m = re.search(r"joinGroup succeeded .*generationID=(\d+)", l)
                if m:
                    gen, parts = int(m.group(1)), None
                m = re.search(r"subscribed to partitions: map\[(.*)\]", l)
                if m:
                    parts = set(int(x.split(":")[0]) for x in m.group(1).split() if x)
        return gen, parts

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.t.join(5)
        self.proc.stdout.close()

    def tail(self):
        with self.lock:
            return "\n".join(self.lines[-30:])


class KafkaGoTest(braidtest.BraidTestCase):
    braid_args = ["--group-initial-rebalance-delay-ms", "1000"]

    @classmethod
    def setUpClass(cls):
        if shutil.which("go") is None or not os.path.isdir(
                os.path.join(GOPATH, "src", "github.com", "segmentio", "kafka-go")):
            raise braidtest.unittest.SkipTest(
                "go or kafka-go (golang-github-segmentio-kafka-go-dev) missing")
        cls.tmp = tempfile.mkdtemp(prefix="braid-kafkago-")
        cls.bin = os.path.join(cls.tmp, "kafkago")
        env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH,
                   GOCACHE=os.path.join(cls.tmp, "gocache"), GOFLAGS="")
        p = subprocess.run(["go", "build", "-o", cls.bin, "main.go"], cwd=SRC, env=env,
                           capture_output=True, timeout=600)
        if p.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("go build failed: " + p.stderr.decode(errors="replace"))
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def create_topic(self, name, partitions):
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.braid.bootstrap})
        for f in a.create_topics([NewTopic(name, partitions, 1)]).values():
            f.result(30)

    def produce_go(self, topic, n, prefix=""):
        p = subprocess.run([self.bin, "produce", self.braid.bootstrap, topic, str(n), prefix],
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        return json.loads(p.stdout.decode().strip().splitlines()[-1])["written"]

    def test_produce_every_codec(self):
        from confluent_kafka import Consumer, TopicPartition
        topic = self.unique_topic("kgo-codecs")
        self.create_topic(topic, PARTITIONS)
        self.assertEqual(self.produce_go(topic, 40), 160)
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "kgo-check",
                      "enable.auto.commit": False})
        c.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        got = {}
        deadline = time.time() + 30
        while len(got) < 160 and time.time() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            got[m.value().decode()] = m.key().decode()
        c.close()
        want = {"%s-value-%d" % (codec, i): "%s-key-%d" % (codec, i)
                for codec in ("none", "gzip", "snappy", "lz4") for i in range(40)}
        self.assertEqual(got, want)

    def test_two_group_readers_share_partitions_exactly_once(self):
        topic = self.unique_topic("kgo-group")
        group = topic + "-g"
        self.create_topic(topic, PARTITIONS)
        first = 4 * 20
        self.assertEqual(self.produce_go(topic, 20, "first-"), first)
        readers = [Reader(self.bin, self.braid.bootstrap, topic, group)]
        try:
            braidtest.wait_until(lambda: len(readers[0].messages()) >= first, timeout=60,
                                 what="the first reader consumed the first batch")
            time.sleep(5)  # alone for several seconds
            readers.append(Reader(self.bin, self.braid.bootstrap, topic, group))

            def split():
                subs = [r.subscription() for r in readers]
                if any(g is None or p is None for g, p in subs):
                    return False
                gens = set(g for g, _ in subs)
                parts = [p for _, p in subs]
                return (len(gens) == 1 and all(parts) and
                        sorted(x for p in parts for x in p) == list(range(PARTITIONS)))
            braidtest.wait_until(split, timeout=60, interval=0.2,
                                 what="both readers in one generation with disjoint partitions")
            gen = readers[0].subscription()[0]
            self.assertEqual(self.produce_go(topic, 20, "second-"), first)
            braidtest.wait_until(lambda: sum(len(r.messages()) for r in readers) >= 2 * first,
                                 timeout=60, what="every record consumed")
            time.sleep(2)  # let any duplicate or extra rebalance show up
            got = [m for r in readers for m in r.messages()]
            self.assertEqual(len(got), len(set(got)), "records consumed twice")
            self.assertEqual(len(got), 2 * first)
            # The group stayed settled: no further generation.
            self.assertEqual([r.subscription()[0] for r in readers], [gen, gen])
            self.assertTrue(all(r.messages() for r in readers))
        except AssertionError:
            for i, r in enumerate(readers):
                print("---- reader %d ----\n%s" % (i, r.tail()))
            raise
        finally:
            for r in readers:
                r.stop()


if __name__ == "__main__":
    braidtest.main()
