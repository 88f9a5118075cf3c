"""`braid up`: every role on one data directory; /health lists them; SIGTERM
stops cleanly and a restart keeps the data and the cluster id."""

import json
import subprocess
import unittest

import braidtest


class UpTest(unittest.TestCase):

    def test_up_health_restart(self):
        b = braidtest.Braid("up")
        self.addCleanup(b.cleanup)
        try:
            b.start()
            status, body = b.http_get("/health")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["roles"], ["broker"])
            p = subprocess.run(["kcat", "-b", b.bootstrap, "-P", "-t", "up"], input=b"a\nb\n",
                               capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            md1 = json.loads(subprocess.run(["kcat", "-b", b.bootstrap, "-L", "-J"],
                                            capture_output=True, timeout=60).stdout)
            self.assertEqual(b.stop(), 0)
            self.assertIn("braid: stopped", b.output())
            b.start()
            out = subprocess.run(["kcat", "-b", b.bootstrap, "-C", "-t", "up", "-o", "beginning",
                                  "-e", "-f", "%o:%s\n"], capture_output=True, timeout=60)
            self.assertEqual(out.stdout.decode().splitlines(), ["0:a", "1:b"])
            self.assertEqual(b.stop(), 0)
            with open(b.data_dir + "/broker/cluster_id") as f:
                cluster_id = f.read().strip()
            self.assertEqual(b.output().count("cluster id %s" % cluster_id), 2)
            self.assertTrue(md1["brokers"])
        except Exception:
            print(b.output())
            raise


if __name__ == "__main__":
    braidtest.main()
