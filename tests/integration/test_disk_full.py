"""A full disk (issue 16): braid's data directory on a small file system of its
own (a tmpfs with size=, which yields ENOSPC like a full disk and needs no loop
device; skipped where mounting is not permitted). Producers get
KAFKA_STORAGE_ERROR at once, braid logs the condition once, /metrics shows
braid_log_dir_writable 0 and the free bytes, /health answers 503 "degraded";
after space is freed, writes resume by themselves; nothing acknowledged is
lost, also across kill -9."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import braidtest
from kafka import KafkaConsumer
from kafka.protocol.produce import ProduceRequest, ProduceResponse
from test_bad_input import Conn, batch

KAFKA_STORAGE_ERROR = 56

FS_BYTES = 24 << 20


def try_mount(path):
    if os.geteuid() != 0:
        return "not root"
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % FS_BYTES, "tmpfs", path],
                       capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stderr.strip() or "mount failed")


class DiskFullTest(unittest.TestCase):
    def setUp(self):
        self.mnt = tempfile.mkdtemp(prefix="braid-diskfull-")
        why = try_mount(self.mnt)
        if why is not None:
            os.rmdir(self.mnt)
            raise unittest.SkipTest("cannot mount a small tmpfs: " + why)
        self.data = os.path.join(self.mnt, "data")
        os.makedirs(self.data)
        self.braid = braidtest.Braid("broker", data_dir=self.data)
        # The harness's log file lives next to the data directory: keep it
        # off the small file system.
        self.braid.log_path = os.path.join(tempfile.gettempdir(),
                                           os.path.basename(self.mnt) + ".out")

    def tearDown(self):
        self.braid.kill()
        subprocess.run(["umount", self.mnt])
        shutil.rmtree(self.mnt, ignore_errors=True)
        try:
            os.remove(self.braid.log_path)
        except OSError:
            pass

    def produce(self, conn, topic, i):
        """Produces record i (acks=all, over the wire: kafka-python 2.0.2 does
        not know error 56); returns the error code."""
        value = b"%06d" % i + b"x" * 1000
        req = ProduceRequest[7](transactional_id=None, required_acks=-1, timeout=10000,
                                topics=[(topic, [(0, batch([value]))])])
        resp = conn.call(req, ProduceResponse[7])
        return resp.topics[0][1][0][1]

    def metric(self, name):
        _, text = self.braid.http_get("/metrics")
        m = re.search(r"^%s\{[^}]*\} (\S+)$" % name, text, re.M)
        return float(m.group(1)) if m else None

    def health(self):
        import urllib.error
        try:
            return self.braid.http_get("/health")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def test_enospc_is_a_clear_storage_error_and_writes_resume(self):
        try:
            self.check_enospc()
        except BaseException:
            print("---- braid output ----\n" + self.braid.output()[-6000:])
            raise

    def check_enospc(self):
        self.braid.start()
        topic = "full"
        acked = []
        p = Conn(self.braid.port)
        for i in range(200):
            self.assertEqual(self.produce(p, topic, i), 0)
            acked.append(i)
        self.assertEqual(self.metric("braid_log_dir_writable"), 1.0)
        # Fill the file system but for ~256 KiB.
        filler = os.path.join(self.mnt, "filler")
        free = shutil.disk_usage(self.mnt).free
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, free - (256 << 10)))
        # Produce until the disk is full: every failure is
        # KAFKA_STORAGE_ERROR, answered at once (no timeout).
        errors = 0
        i = len(acked)
        while errors < 20 and i < 5000:
            t0 = time.time()
            err = self.produce(p, topic, i)
            if err == 0:
                acked.append(i)
            else:
                self.assertEqual(err, KAFKA_STORAGE_ERROR)
                errors += 1
                self.assertLess(time.time() - t0, 5)
            i += 1
        self.assertEqual(errors, 20, "no KAFKA_STORAGE_ERROR before 5000 records")
        out = self.braid.output_since_last_start()
        self.assertEqual(len(re.findall(r" E .*writes to full-0 fail", out)), 1, out[-3000:])
        self.assertEqual(self.metric("braid_log_dir_writable"), 0.0)
        self.assertLess(self.metric("braid_log_dir_free_bytes"), 1 << 20)
        code, body = self.health()
        self.assertEqual(code, 503)
        self.assertIn('"status":"degraded"', body)
        self.assertIn("full-0", body)

        # Space returns: writes resume by themselves.
        os.remove(filler)
        for _ in range(50):
            self.assertEqual(self.produce(p, topic, i), 0)
            acked.append(i)
            i += 1
        p.close()
        out = self.braid.output_since_last_start()
        self.assertIn("writes to full-0 succeed again", out)
        self.assertEqual(self.metric("braid_log_dir_writable"), 1.0)
        self.assertEqual(self.health()[0], 200)

        # kill -9, restart: every acknowledged record is there, once.
        self.braid.kill()
        self.braid.start()
        c = KafkaConsumer(topic, bootstrap_servers=self.braid.bootstrap,
                          auto_offset_reset="earliest", enable_auto_commit=False,
                          consumer_timeout_ms=5000)
        try:
            keys = [int(m.value[:6]) for m in c]
        finally:
            c.close()
        self.assertEqual(sorted(keys), sorted(set(keys)), "duplicates")
        self.assertTrue(set(acked) <= set(keys),
                        "lost: %s" % sorted(set(acked) - set(keys))[:10])


if __name__ == "__main__":
    braidtest.main()
