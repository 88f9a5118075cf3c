"""kafkajs 2.2.4 idempotent producer (idempotent: true, maxInFlightRequests: 1)
against braid, through node/kafkajs_idempotent.js and the TCP proxy of
test_idempotence (so the address kafkajs knows stays stable): braid is killed
with SIGKILL and restarted on the same data dir in the middle of the run, and
the proxy loses responses to handled Produce requests (kafkajs retries them
with the same sequence). Read back with confluent_kafka: every sequence
number exactly once, in order within its partition."""

import os
import shutil
import subprocess
import threading
import time
import unittest

import braidtest
from test_idempotence import Proxy

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
N = 900
PARTITIONS = 2
KILL_AT = 300
LOSE_AT = (100, 500, 700)


class KafkajsIdempotentTest(unittest.TestCase):

    def setUp(self):
        if shutil.which("node") is None:
            self.skipTest("node is not installed")
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "kafkajs")):
            self.skipTest("kafkajs not installed: run `npm ci` in %s" % NODE_DIR)

    def test_no_duplicate_no_gap_across_kill_and_lost_responses(self):
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
        from confluent_kafka.admin import AdminClient, NewTopic
        proxy = Proxy()
        self.addCleanup(proxy.close)
        b = braidtest.Braid("broker", extra_args=["--advertise", "127.0.0.1:%d" % proxy.port])
        self.addCleanup(b.cleanup)
        b.start()
        proxy.upstream_port = b.port
        bootstrap = "127.0.0.1:%d" % proxy.port
        topic = "kjs-idem"
        admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})
        for f in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
            f.result(30)

        node = subprocess.Popen(["node", os.path.join(NODE_DIR, "kafkajs_idempotent.js"),
                                 bootstrap, topic, str(N), str(PARTITIONS)],
                                cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def stop_node():
            if node.poll() is None:
                node.kill()
                node.wait()
            node.stdout.close()
            node.stderr.close()
        self.addCleanup(stop_node)
        err = []
        t = threading.Thread(target=lambda: err.append(node.stderr.read()), daemon=True)
        t.start()
        restarted = False
        last = -1
        done = False
        deadline = time.time() + 90
        for line in node.stdout:
            line = line.decode().strip()
            if line == "done":
                done = True
                continue
            if not line.startswith("sent "):
                continue
            last = int(line.split()[1])
            if last + 1 in LOSE_AT:
                proxy.lose_next_response()
            if last + 1 == KILL_AT and not restarted:
                restarted = True
                b.kill()  # SIGKILL by PID while kafkajs keeps sending
                proxy.drop_all()
                time.sleep(0.3)
                b.start()
                proxy.upstream_port = b.port
            if time.time() > deadline:
                break
        rc = node.wait(30)
        t.join(5)
        self.assertTrue(restarted)
        self.assertEqual(rc, 0, (err[0] if err else b"")[-4000:].decode(errors="replace"))
        self.assertTrue(done)
        self.assertEqual(last, N - 1)

        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "kjs-idem-check",
                      "enable.auto.commit": False})
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
        got = {p: [] for p in range(PARTITIONS)}
        deadline = time.time() + 30
        while sum(len(v) for v in got.values()) < N and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got[m.partition()].append(m.value().decode())
        # Anything beyond N would be a duplicate: look a little longer.
        end = time.time() + 1.0
        while time.time() < end:
            m = c.poll(0.2)
            if m is not None and not m.error():
                got[m.partition()].append(m.value().decode())
        c.close()
        for p in range(PARTITIONS):
            want = ["seq-%d" % i for i in range(p, N, PARTITIONS)]
            self.assertEqual(len(got[p]), len(want), "partition %d: duplicates or gaps" % p)
            self.assertEqual(got[p], want, "partition %d" % p)
        rc = b.stop()
        if rc != 0:
            raise AssertionError("braid exited with code %s on SIGTERM:\n%s"
                                 % (rc, b.output()[-20000:]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
