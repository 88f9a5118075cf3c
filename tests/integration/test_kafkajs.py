"""kafkajs 2.2.4 (pure JS protocol engine) against braid, through
node/kafkajs_smoke.js; the records it wrote are read back with kcat."""

import json
import os
import shutil
import subprocess
import unittest

import braidtest

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")


class KafkajsTest(braidtest.BraidTestCase):

    def setUp(self):
        if shutil.which("node") is None:
            self.skipTest("node is not installed")
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "kafkajs")):
            self.skipTest("kafkajs not installed: run `npm ci` in %s" % NODE_DIR)

    def test_smoke(self):
        topic = self.unique_topic("kjs")
        p = subprocess.run(["node", os.path.join(NODE_DIR, "kafkajs_smoke.js"),
                            self.braid.bootstrap, topic],
                           capture_output=True, timeout=120, cwd=NODE_DIR)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        r = json.loads(p.stdout.decode().strip().splitlines()[-1])
        self.assertTrue(r["created"])
        self.assertFalse(r["again"])
        self.assertEqual(sorted(x["id"] for x in r["partitions"]), [0, 1])
        self.assertTrue(all(x["leader"] == 0 for x in r["partitions"]))
        self.assertEqual(r["sent"], ["0", "10", "20"])
        self.assertEqual(r["plainOffset"], "0")
        offsets = {o["partition"]: o for o in r["offsets"]}
        self.assertEqual(offsets[0]["high"], "30")
        self.assertEqual(offsets[0]["low"], "0")
        self.assertEqual(offsets[1]["high"], "1")
        by_time = {o["partition"]: o["offset"] for o in r["byTime"]}
        self.assertEqual(by_time[0], "0")
        self.assertTrue(r["listed"])
        self.assertFalse(r["listedAfterDelete"])

    def test_gzip_records_readable_by_librdkafka(self):
        topic = self.unique_topic("kjs-read")
        script = r"""
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');
(async () => {
  const kafka = new Kafka({ brokers: [process.argv[1]], logLevel: logLevel.WARN });
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic: process.argv[2], compression: CompressionTypes.GZIP,
                 messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
  await p.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
"""
        p = subprocess.run(["node", "-e", script, self.braid.bootstrap, topic],
                           capture_output=True, timeout=120, cwd=NODE_DIR)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
        out = subprocess.run(["kcat", "-b", self.braid.bootstrap, "-C", "-t", topic, "-o",
                              "beginning", "-e", "-f", "%o:%s\n"],
                             capture_output=True, timeout=60)
        self.assertEqual(out.stdout.decode().splitlines(), ["0:a", "1:b", "2:c"])


if __name__ == "__main__":
    braidtest.main()
