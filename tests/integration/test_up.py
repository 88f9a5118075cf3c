"""`braid up`: every role on one data directory; /health lists them; SIGTERM
stops cleanly and a restart keeps the data and the cluster id."""

import glob
import io
import json
import os
import struct
import subprocess
import unittest
import urllib.request

import avro.datafile
import avro.io
import avro.schema
from confluent_kafka import Producer

import braidtest


class UpTest(unittest.TestCase):

    def test_up_health_restart(self):
        b = braidtest.Braid("up")
        self.addCleanup(b.cleanup)
        try:
            b.start()
            status, body = b.http_get("/health")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["roles"], ["registry", "broker", "archiver", "speed", "batch", "serving"])
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

    def test_second_process_on_the_data_dir_is_refused(self):
        """Two processes on one data directory: the second exits non-zero with
        the lock error naming the directory and the first one's PID, changes
        nothing, and the first keeps serving."""
        b = braidtest.Braid("up")
        self.addCleanup(b.cleanup)
        b.start()
        p = subprocess.run(["kcat", "-b", b.bootstrap, "-P", "-t", "locked"], input=b"x\n",
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        before = sorted(os.listdir(b.data_dir))
        for cmd in (["up", "--data", b.data_dir, "--listen", "127.0.0.1:0", "--http-listen",
                     "127.0.0.1:0", "--registry-listen", "127.0.0.1:0"],
                    ["broker", "--data", b.data_dir, "--listen", "127.0.0.1:0"],
                    ["registry", "--data", b.data_dir, "--listen", "127.0.0.1:0"],
                    ["archive", "run", "--data", b.data_dir, "--once"]):
            second = subprocess.run([braidtest.BRAID_BIN] + cmd, capture_output=True,
                                    timeout=60, text=True)
            self.assertNotEqual(second.returncode, 0, cmd)
            self.assertIn("data directory %s is in use by braid process %d"
                          % (b.data_dir, b.proc.pid), second.stderr, cmd)
            self.assertNotIn("braid: ready", second.stdout)
        self.assertEqual(sorted(os.listdir(b.data_dir)), before)
        # `braid archive status` beside the live process asks its HTTP API.
        st = subprocess.run([braidtest.BRAID_BIN, "archive", "status", "--data", b.data_dir],
                            capture_output=True, timeout=60, text=True)
        self.assertEqual(st.returncode, 0, st.stderr)
        self.assertIn("TOPIC", st.stdout)
        # The first one still serves.
        self.assertEqual(b.http_get("/health")[0], 200)
        out = subprocess.run(["kcat", "-b", b.bootstrap, "-C", "-t", "locked", "-o", "beginning",
                              "-e", "-f", "%s\n"], capture_output=True, timeout=60)
        self.assertEqual(out.stdout.decode().splitlines(), ["x"])
        self.assertEqual(b.stop(), 0)
        # After it stopped (or was killed), the lock is free again.
        b.start()
        b.kill()
        again = subprocess.run([braidtest.BRAID_BIN, "archive", "run", "--data", b.data_dir,
                                "--once"], capture_output=True, timeout=60, text=True)
        self.assertEqual(again.returncode, 0, again.stderr)

    def test_up_archives_registered_avro(self):
        """The archiver role of `braid up` moves registered-Avro records into the
        master dataset: after a clean stop, verify passes and python3-avro reads
        back every produced record exactly once."""
        b = braidtest.Braid("up", extra_args=["--archive-roll-ms", "500"])
        self.addCleanup(b.cleanup)
        schema_json = json.dumps({"type": "record", "name": "Click", "fields": [
            {"name": "user", "type": "string"}, {"name": "n", "type": "long"}]})
        try:
            b.start()
            req = urllib.request.Request(
                "http://127.0.0.1:%d/subjects/clicks-value/versions" % b.registry_port,
                data=json.dumps({"schema": schema_json}).encode(), method="POST",
                headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
            sid = json.loads(urllib.request.urlopen(req, timeout=30).read())["id"]
            schema = avro.schema.parse(schema_json)
            p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all"})
            want = []
            for i in range(500):
                buf = io.BytesIO()
                datum = {"user": "u%d" % (i % 7), "n": i}
                avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(buf))
                p.produce("clicks", b"\x00" + struct.pack(">I", sid) + buf.getvalue())
                want.append(datum)
            self.assertEqual(p.flush(30), 0)
            # Stop commits the files being written.
            # The archiver reads the log continuously; wait until it has taken
            # every record, then a clean stop commits the files being written.
            def archived():
                for line in b.http_get("/metrics")[1].splitlines():
                    if line.startswith("braid_archive_records_total"):
                        return float(line.split()[-1]) >= len(want)
                return False
            braidtest.wait_until(archived, timeout=60, what="500 records archived")
            self.assertEqual(b.stop(), 0)
            v = subprocess.run([braidtest.BRAID_BIN, "archive", "verify", "--data", b.data_dir],
                               capture_output=True, timeout=120)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
            got = []
            for f in sorted(glob.glob(os.path.join(b.data_dir, "archive", "clicks", "dt=*",
                                                   "hour=*", "*.avro"))):
                with open(f, "rb") as fh:
                    got.extend(avro.datafile.DataFileReader(fh, avro.io.DatumReader()))
            self.assertEqual(sorted(got, key=lambda d: d["n"]), want)
        except Exception:
            print(b.output())
            raise


if __name__ == "__main__":
    braidtest.main()
