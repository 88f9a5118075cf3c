"""Go's sarama (Debian package, GOPATH mode) against braid: sync producer and
partition consumer, built from go/sarama_smoke into a temp dir."""

import json
import os
import shutil
import subprocess
import tempfile

import braidtest

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "go", "sarama_smoke")
GOPATH = "/usr/share/gocode"


class SaramaTest(braidtest.BraidTestCase):

    @classmethod
    def setUpClass(cls):
        if shutil.which("go") is None or not os.path.isdir(
                os.path.join(GOPATH, "src", "github.com", "Shopify", "sarama")):
            raise braidtest.unittest.SkipTest("go or sarama (golang-github-shopify-sarama-dev) missing")
        cls.tmp = tempfile.mkdtemp(prefix="braid-sarama-")
        cls.bin = os.path.join(cls.tmp, "sarama_smoke")
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

    def test_sync_producer_and_partition_consumer(self):
        topic = self.unique_topic("sarama")
        p = subprocess.run([self.bin, self.braid.bootstrap, topic, "25"], capture_output=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        r = json.loads(p.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(r["offsets"], list(range(25)))
        self.assertEqual(r["values"], ["sarama %d" % i for i in range(25)])
        self.assertEqual(r["high_watermark"], 25)


if __name__ == "__main__":
    braidtest.main()
