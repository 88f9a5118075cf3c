"""Burrow (Debian's `burrow` 1.2.1, LinkedIn's consumer-lag monitor) against
`braid up`, with the ZooKeeper that Burrow needs for its own coordination
(Debian's `zookeeper` package, started on a free port).

Burrow learns committed offsets the way most lag tools do: by consuming the
`__consumer_offsets` topic (Kafka's record formats) with sarama, and the
partitions' end offsets with ListOffsets v0. Its HTTP API must list the
topics and the group, with the lag that `braid groups describe` shows.
Burrow runs with the client profile of Debian's sample configuration
(kafka-version 0.10.0: Metadata v0, Fetch v2 with magic 1 MessageSets,
ListOffsets v0) and with Burrow's default (0.8: Fetch v0, magic 0).

Burrow 1.2.1 decodes group metadata values only up to version 1 and logs
"failed to decode ... value version 3" for the version Kafka 3.x (and braid)
writes; it then reports no owner for the partitions, as it does against
Kafka 3.x. Lag does not depend on it.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import braidtest

ZK_SERVER = "/usr/share/zookeeper/bin/zkServer.sh"


def zk_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"ruok")
            return s.recv(16) == b"imok"
    except OSError:
        return False


class BurrowTest(braidtest.BraidTestCase):
    braid_command = "up"
    braid_args = ["--group-initial-rebalance-delay-ms", "0", "--offsets-topic-num-partitions",
                  "8"]

    @classmethod
    def setUpClass(cls):
        if shutil.which("Burrow") is None:
            raise braidtest.unittest.SkipTest("Burrow (Debian package burrow) missing")
        if not os.path.exists(ZK_SERVER) or shutil.which("java") is None:
            raise braidtest.unittest.SkipTest("ZooKeeper (Debian package zookeeper) missing")
        cls.tmp = tempfile.mkdtemp(prefix="braid-burrow-")
        cls.zk_port = braidtest.free_port()
        os.makedirs(os.path.join(cls.tmp, "zk"))
        with open(os.path.join(cls.tmp, "zoo.cfg"), "w") as f:
            f.write("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                    "admin.enableServer=false\n4lw.commands.whitelist=ruok\n"
                    % (os.path.join(cls.tmp, "zk"), cls.zk_port))
        env = dict(os.environ, ZOO_LOG_DIR=cls.tmp, ZOO_LOG4J_PROP="WARN,CONSOLE")
        cls.zk_log = open(os.path.join(cls.tmp, "zk.out"), "wb")
        # Its own process group: zkServer.sh starts java as a child.
        cls.zk = subprocess.Popen([ZK_SERVER, "start-foreground",
                                   os.path.join(cls.tmp, "zoo.cfg")],
                                  stdout=cls.zk_log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
        try:
            braidtest.wait_until(lambda: zk_ok(cls.zk_port), timeout=60, interval=0.3,
                                 what="ZooKeeper answering ruok")
            super().setUpClass()
        except Exception:
            cls._stop_zk()
            raise

    @classmethod
    def _stop_zk(cls):
        try:
            os.killpg(cls.zk.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            cls.zk.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(cls.zk.pid, signal.SIGKILL)
            cls.zk.wait()
        cls.zk_log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._stop_zk()

    def start_burrow(self, kafka_version):
        d = tempfile.mkdtemp(prefix="burrow-", dir=self.tmp)
        self.http_port = braidtest.free_port()
        bootstrap = self.braid.bootstrap
        with open(os.path.join(d, "burrow.toml"), "w") as f:
            f.write("""
[general]
pidfile="{d}/burrow.pid"

[logging]
filename="{d}/burrow.log"
level="info"

[zookeeper]
servers=[ "127.0.0.1:{zk}" ]
timeout=6
root-path="/burrow-{v}"

[client-profile.test]
client-id="burrow-test"
kafka-version="{v}"

[cluster.local]
class-name="kafka"
servers=[ "{bs}" ]
client-profile="test"
topic-refresh=2
offset-refresh=1

[consumer.local]
class-name="kafka"
cluster="local"
servers=[ "{bs}" ]
client-profile="test"

[httpserver.default]
address="127.0.0.1:{http}"

[storage.default]
class-name="inmemory"
workers=4
intervals=15
expire-group=604800
min-distance=1
""".format(d=d, zk=self.zk_port, v=kafka_version, bs=bootstrap, http=self.http_port))
        self.burrow_dir = d
        out = open(os.path.join(d, "burrow.out"), "wb")
        p = subprocess.Popen(["Burrow", "-config-dir", d], stdout=out, stderr=subprocess.STDOUT)
        out.close()

        def stop():
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.addCleanup(stop)
        return p

    def api(self, path):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.http_port, path),
                                        timeout=5) as r:
                return json.loads(r.read().decode())
        except OSError:
            return None

    def braid_lag(self, group):
        """{(topic, partition): lag} from `braid groups describe`."""
        out = subprocess.run([braidtest.BRAID_BIN, "groups", "describe", "--group", group,
                              "--bootstrap-server", self.braid.bootstrap],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        lags = {}
        for line in out.stdout.decode().splitlines():
            f = line.split()
            if len(f) >= 6 and f[0] == group and f[2].isdigit():
                lags[(f[1], int(f[2]))] = int(f[5])
        return lags

    def prepare_group(self, topic, group):
        from confluent_kafka import Consumer, Producer
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.braid.bootstrap})
        for f in a.create_topics([NewTopic(topic, 2, 1)]).values():
            f.result(30)
        p = Producer({"bootstrap.servers": self.braid.bootstrap})
        for i in range(30):
            p.produce(topic, b"a%d" % i, partition=0)
        for i in range(20):
            p.produce(topic, b"b%d" % i, partition=1)
        self.assertEqual(p.flush(30), 0)
        # A subscribe() group that consumes everything and commits.
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": group,
                      "auto.offset.reset": "earliest", "enable.auto.commit": False})
        c.subscribe([topic])
        seen = 0
        deadline = time.time() + 60
        while seen < 50 and time.time() < deadline:
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            seen += 1
            c.commit(message=m, asynchronous=False)
        c.close()
        self.assertEqual(seen, 50)
        # Then the group falls behind on partition 0.
        for i in range(7):
            p.produce(topic, b"c%d" % i, partition=0)
        self.assertEqual(p.flush(30), 0)

    def check_burrow(self, kafka_version):
        topic = "burrow-%s" % kafka_version.replace(".", "-")
        group = topic + "-group"
        self.prepare_group(topic, group)
        want = self.braid_lag(group)
        self.assertEqual(want, {(topic, 0): 7, (topic, 1): 0})
        burrow = self.start_burrow(kafka_version)

        def topics():
            r = self.api("/v3/kafka/local/topic")
            return r and topic in r.get("topics", [])
        braidtest.wait_until(topics, timeout=60, what="Burrow listing the topic")
        self.assertIn("__consumer_offsets", self.api("/v3/kafka/local/topic")["topics"])

        def offsets():
            r = self.api("/v3/kafka/local/topic/" + topic)
            return r and r.get("offsets") == [37, 20]
        braidtest.wait_until(offsets, timeout=60, what="Burrow's end offsets of the topic")

        def groups():
            r = self.api("/v3/kafka/local/consumer")
            return r and group in r.get("consumers", [])
        braidtest.wait_until(groups, timeout=60, what="Burrow listing the group")

        def lag():
            r = self.api("/v3/kafka/local/consumer/%s/lag" % group)
            if not r or r.get("error"):
                return None
            got = {(p["topic"], p["partition"]): p["current_lag"]
                   for p in r["status"]["partitions"]}
            return got if got == want else None
        try:
            got = braidtest.wait_until(lag, timeout=60, what="Burrow's lag = braid's")
        except AssertionError:
            print(self.api("/v3/kafka/local/consumer/%s/lag" % group))
            with open(os.path.join(self.burrow_dir, "burrow.log"), errors="replace") as f:
                print(f.read()[-5000:])
            raise
        self.assertEqual(got, want)
        self.assertEqual(self.api("/v3/kafka/local/consumer/%s/lag" % group)["status"]
                         ["totallag"], 7)
        self.assertIsNone(burrow.poll(), "Burrow exited")

    def test_burrow_debian_profile_kafka_0_10(self):
        self.check_burrow("0.10.0")

    def test_burrow_default_profile_kafka_0_8(self):
        self.check_burrow("0.8")


if __name__ == "__main__":
    braidtest.main()
