"""kill -9 braid while acks=all producers run; restart on the same data
directory: every acknowledged record is at its acknowledged offset, offsets
are dense, and new writes are accepted."""

import shutil
import tempfile
import threading
import time
import unittest

import braidtest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 2


def read_all(bootstrap, topic, partition, end, timeout=60):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "crash",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    try:
        c.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        out = {}
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    if len(out) >= end:
                        break
                    continue
                raise AssertionError("consumer error: %s" % m.error())
            out[m.offset()] = m.value()
            if len(out) >= end and m.offset() >= end - 1:
                break
        return out
    finally:
        c.close()


class CrashTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="braid-crash-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.braid = braidtest.Braid("broker", data_dir=self.dir + "/data")
        self.addCleanup(self.braid.cleanup)

    def run(self, result=None):
        result = super().run(result)
        if result is not None and (result.failures or result.errors):
            print("---- braid output ----\n" + self.braid.output())
        return result

    def test_kill_9_during_acks_all_produce(self):
        self.braid.start()
        topic = "crash"
        admin = AdminClient({"bootstrap.servers": self.braid.bootstrap})
        admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(10)

        acked = {}  # (partition, offset) -> value
        lock = threading.Lock()
        stop = threading.Event()

        def produce(worker):
            p = Producer({"bootstrap.servers": self.braid.bootstrap, "acks": "all",
                          "linger.ms": 2, "message.timeout.ms": 4000,
                          "socket.timeout.ms": 2000, "reconnect.backoff.max.ms": 200})

            def on_delivery(err, msg):
                if err is None:
                    with lock:
                        acked[(msg.partition(), msg.offset())] = msg.value()

            i = 0
            while not stop.is_set():
                try:
                    p.produce(topic, b"w%d-%d" % (worker, i), partition=i % PARTITIONS,
                              on_delivery=on_delivery)
                    i += 1
                except BufferError:
                    pass
                p.poll(0.001 if i % 50 == 0 else 0)
            p.flush(10)

        threads = [threading.Thread(target=produce, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        braidtest.wait_until(lambda: len(acked) > 3000, timeout=60, what="acked records")
        self.braid.kill()
        with lock:
            before_kill = len(acked)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(30)
        self.assertGreater(before_kill, 3000)

        # Restart on the same data directory (new ports).
        self.braid.start()
        for part in range(PARTITIONS):
            mine = {o: v for (p, o), v in acked.items() if p == part}
            if not mine:
                continue
            end = max(mine) + 1
            got = read_all(self.braid.bootstrap, topic, part, end)
            missing = [o for o in mine if o not in got]
            self.assertEqual(missing[:10], [], "acknowledged offsets missing on partition %d" % part)
            wrong = [o for o, v in mine.items() if got[o] != v]
            self.assertEqual(wrong[:10], [], "different value at acknowledged offsets")
            self.assertEqual(sorted(got)[:end], list(range(end)), "offsets not dense")

        # New writes are accepted and continue the offsets.
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "crash2"})
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        c.close()
        p = Producer({"bootstrap.servers": self.braid.bootstrap, "acks": "all"})
        res = []
        p.produce(topic, b"after", partition=0, on_delivery=lambda e, m: res.append((e, m.offset())))
        p.flush(10)
        self.assertEqual(res, [(None, hi)])

        # And a clean stop flushes and exits 0; a third start still recovers.
        self.assertEqual(self.braid.stop(), 0)
        self.braid.start()
        got = read_all(self.braid.bootstrap, topic, 0, hi + 1)
        self.assertEqual(got[hi], b"after")


if __name__ == "__main__":
    braidtest.main()
