"""Avro container-file interoperability of `braid avro` with python3-avro and avro-c.

Oracles:
  * python3-avro 1.11.1 (Debian) reads and writes null, deflate, snappy,
    zstandard and bzip2. It has no xz codec; the tests register one (a
    python `lzma` FORMAT_XZ codec, as Java writes it) in avro.codecs so that
    python3-avro's own container code reads and writes xz files.
  * avro-c 1.11.1 (`avrocat`, `avromod`, package avro-bin) reads and writes
    null, deflate, snappy and its raw-LZMA2 "lzma" codec. avrocat truncates
    bytes values at the first NUL in its JSON output, so bytes and fixed
    fields are not compared through it.

Run by ctest with /usr/bin/python3; env BRAID_BIN is the braid binary.
"""

import hashlib
import io
import json
import lzma
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

import avro.codecs
import avro.datafile
import avro.io
import avro.schema

BRAID = os.environ.get("BRAID_BIN", "braid")
INTEROP_AVSC = "/usr/lib/python3/dist-packages/avro/interop.avsc"


class XzCodec(avro.codecs.Codec):
    """The Avro "xz" codec (an .xz stream per block) for python3-avro."""

    @staticmethod
    def compress(data):
        out = lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64)
        return out, len(out)

    @staticmethod
    def decompress(readers_decoder):
        data = readers_decoder.read_bytes()
        return avro.io.BinaryDecoder(io.BytesIO(lzma.decompress(data, format=lzma.FORMAT_XZ)))


avro.codecs.KNOWN_CODECS["xz"] = XzCodec
PY_CODECS = ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]
AVROC_CODECS = ["null", "deflate", "snappy"]

SCHEMA_JSON = json.dumps({
    "type": "record", "name": "Event", "namespace": "braid.interop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "small", "type": "int"},
        {"name": "name", "type": "string"},
        {"name": "payload", "type": "bytes"},
        {"name": "score", "type": "double"},
        {"name": "ratio", "type": "float"},
        {"name": "ok", "type": "boolean"},
        {"name": "maybe", "type": ["null", "string"]},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {"name": "hash", "type": {"type": "fixed", "name": "H4", "size": 4}},
        {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [
            {"name": "x", "type": "float"},
            {"name": "n", "type": ["null", "int", "Inner"], "default": None}]}},
    ]})
SCHEMA = avro.schema.parse(SCHEMA_JSON)


def make_records(n):
    recs = []
    for i in range(n):
        recs.append({
            "id": i * 1000003 - 5 * 10**12,
            "small": (-1) ** i * i,
            "name": "rec-%d-\u00e9\u4e2d\U0001f600" % i,
            "payload": bytes([0, i % 256, 255]) + bytes(i % 7),
            "score": i / 3.0,
            "ratio": f32(i * 0.25 + 0.1),
            "ok": i % 2 == 0,
            "maybe": None if i % 3 == 0 else "m%d" % i,
            "kind": "ABC"[i % 3],
            "tags": ["t%d" % j for j in range(i % 4)],
            "attrs": {"k%d" % j: j * i for j in range(i % 3)},
            "hash": struct.pack(">I", i * 2654435761 % 2**32),
            "inner": {"x": f32(i / 8.0),
                      "n": None if i % 2 else {"x": 1.5, "n": i % 1000}},
        })
    return recs


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def branch_name(s):
    return s.fullname if hasattr(s, "fullname") else s.type


def to_avro_json(s, v):
    """A python3-avro value as Avro JSON encoding (what braid reads/prints)."""
    t = s.type
    if t == "union":
        if v is None and any(b.type == "null" for b in s.schemas):
            return None
        for b in s.schemas:
            if b.type != "null" and avro.io.validate(b, v):
                return {branch_name(b): to_avro_json(b, v)}
        raise ValueError("no branch for %r" % (v,))
    if t in ("record", "error"):
        return {f.name: to_avro_json(f.type, v[f.name]) for f in s.fields}
    if t == "array":
        return [to_avro_json(s.items, x) for x in v]
    if t == "map":
        return {k: to_avro_json(s.values, x) for k, x in v.items()}
    if t in ("bytes", "fixed"):
        return v.decode("latin-1")
    return v


def from_avro_json(s, v):
    """Avro JSON encoding to a python3-avro value."""
    t = s.type
    if t == "union":
        if v is None:
            return None
        (k, val), = v.items()
        for b in s.schemas:
            if branch_name(b) == k:
                return from_avro_json(b, val)
        raise ValueError("unknown branch %r" % k)
    if t in ("record", "error"):
        return {f.name: from_avro_json(f.type, v[f.name]) for f in s.fields}
    if t == "array":
        return [from_avro_json(s.items, x) for x in v]
    if t == "map":
        return {k: from_avro_json(s.values, x) for k, x in v.items()}
    if t in ("bytes", "fixed"):
        return v.encode("latin-1")
    if t == "float":
        return f32(float(v))
    if t == "double":
        return float(v)
    return v


def crc64_avro(data):
    """CRC-64-AVRO (Rabin) as in the Avro specification."""
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for b in data:
        fp = (fp >> 8) ^ table[(fp ^ b) & 0xFF]
    return fp


def short_union_names(v):
    """avrocat labels named union branches by simple name, braid by fullname."""
    if isinstance(v, dict):
        if len(v) == 1:
            (k, x), = v.items()
            return {k.rsplit(".", 1)[-1]: short_union_names(x)}
        return {k: short_union_names(x) for k, x in v.items()}
    if isinstance(v, list):
        return [short_union_names(x) for x in v]
    return v


def py_write(path, records, codec, schema=SCHEMA, meta=None):
    with open(path, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=codec)
        for k, v in (meta or {}).items():
            w.set_meta(k, v)
        for r in records:
            w.append(r)
        w.close()


def py_read(path):
    with open(path, "rb") as f:
        r = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        recs = list(r)
        meta = dict(r.meta)
        r.close()
    return recs, meta


def braid(*args, check=True, input=None):
    p = subprocess.run([BRAID, "avro"] + list(args), capture_output=True, input=input,
                       timeout=300)
    if check and p.returncode != 0:
        raise AssertionError("braid avro %s failed (%d): %s" %
                             (" ".join(args), p.returncode, p.stderr.decode(errors="replace")))
    return p


def braid_cat(path, schema):
    out = braid("cat", path).stdout.decode("utf-8")
    return [from_avro_json(schema, json.loads(line)) for line in out.splitlines() if line]


class AvroInteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="braid-avro-interop-")
        cls.records = make_records(300)
        cls.schema_path = os.path.join(cls.tmp, "event.avsc")
        with open(cls.schema_path, "w") as f:
            f.write(SCHEMA_JSON)
        cls.jsonl = os.path.join(cls.tmp, "events.jsonl")
        with open(cls.jsonl, "w", encoding="utf-8") as f:
            for r in cls.records:
                f.write(json.dumps(to_avro_json(SCHEMA, r), ensure_ascii=False) + "\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def braid_write(self, codec, name=None):
        out = self.path(name or "braid_%s.avro" % codec)
        braid("from-json", "--schema", self.schema_path, "--codec", codec,
              "--block-size", "4000", self.jsonl, out)
        return out

    def assertRecordsEqual(self, got, want):
        self.assertEqual(len(got), len(want))
        for i, (g, w) in enumerate(zip(got, want)):
            self.assertEqual(g, w, "record %d" % i)

    def test_braid_writes_python_reads_every_codec(self):
        for codec in PY_CODECS:
            with self.subTest(codec=codec):
                out = self.braid_write(codec)
                recs, meta = py_read(out)
                self.assertEqual(meta.get("avro.codec", b"null").decode(), codec)
                self.assertRecordsEqual(recs, self.records)

    def test_python_writes_braid_reads_every_codec(self):
        for codec in PY_CODECS:
            with self.subTest(codec=codec):
                src = self.path("py_%s.avro" % codec)
                py_write(src, self.records, codec, meta={"user_metadata": b"someByteArray"})
                self.assertRecordsEqual(braid_cat(src, SCHEMA), self.records)

    def test_braid_writes_avrocat_reads(self):
        skip = {"payload", "hash"}  # avrocat truncates bytes at NUL in its JSON
        for codec in AVROC_CODECS + ["lzma"]:
            with self.subTest(codec=codec):
                out = self.braid_write(codec)
                p = subprocess.run(["avrocat", out], capture_output=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                lines = [l for l in p.stdout.decode("utf-8").splitlines() if l]
                self.assertEqual(len(lines), len(self.records))
                for i, (line, rec) in enumerate(zip(lines, self.records)):
                    got = short_union_names(json.loads(line))
                    want = short_union_names(to_avro_json(SCHEMA, rec))
                    for k in want:
                        if k in skip:
                            continue
                        self.assertTrue(json_close(got[k], want[k]),
                                        "record %d field %s: %r != %r" % (i, k, got[k], want[k]))

    def test_avroc_writes_braid_reads(self):
        src = self.path("py_for_avromod.avro")
        py_write(src, self.records, "null")
        for codec in AVROC_CODECS + ["lzma"]:
            with self.subTest(codec=codec):
                out = self.path("c_%s.avro" % codec)
                p = subprocess.run(["avromod", "--codec=" + codec, src, out],
                                   capture_output=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertRecordsEqual(braid_cat(out, SCHEMA), self.records)

    def test_interop_file_fields_match_python(self):
        d = self.path("interop")
        os.makedirs(d, exist_ok=True)
        p = subprocess.run([sys.executable, "-m", "avro.test.gen_interop_data", INTEROP_AVSC,
                            os.path.join(d, "py.avro")], capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        files = sorted(os.listdir(d))
        self.assertIn("py.avro", files)
        self.assertIn("py_deflate.avro", files)
        with open(INTEROP_AVSC) as f:
            schema = avro.schema.parse(f.read())
        for name in files:
            with self.subTest(file=name):
                path = os.path.join(d, name)
                want, meta = py_read(path)
                self.assertEqual(meta.get("user_metadata"), b"someByteArray")
                got = braid_cat(path, schema)
                self.assertEqual(len(got), len(want))
                self.assertGreater(len(got), 0)
                for g, w in zip(got, want):
                    for field in schema.fields:
                        self.assertEqual(g[field.name], w[field.name], field.name)
                # Round trip through braid's writer with every codec.
                for codec in PY_CODECS:
                    out = os.path.join(self.tmp, "interop_%s_%s" % (codec, name))
                    braid("convert", "--codec", codec, path, out)
                    again, meta2 = py_read(out)
                    self.assertEqual(again, want)
                    self.assertEqual(meta2.get("user_metadata"), b"someByteArray")

    def test_schema_and_fingerprint_match_python(self):
        with open(INTEROP_AVSC) as f:
            schema = avro.schema.parse(f.read())
        out = braid("fingerprint", INTEROP_AVSC).stdout.decode()
        fields = dict(line.split(": ", 1) for line in out.splitlines())
        self.assertEqual(fields["canonical-form"], schema.canonical_form)
        canon = schema.canonical_form.encode()
        fp = crc64_avro(canon)
        self.assertEqual(fields["crc64-avro-le-bytes"], fp.to_bytes(8, "little").hex())
        self.assertEqual(fields["md5"], hashlib.md5(canon).hexdigest())
        self.assertEqual(fields["sha256"], hashlib.sha256(canon).hexdigest())
        self.assertEqual(int(fields["crc64-avro-hex"], 16), fp)
        self.assertEqual(int(fields["crc64-avro-decimal"]), fp)
        self.assertEqual(int(fields["crc64-avro-signed"]), fp - 2**64 if fp >= 2**63 else fp)
        # The specification's vector: "int" -> 0x7275d51a3f395c8f.
        int_avsc = self.path("int.avsc")
        with open(int_avsc, "w") as f:
            f.write('{"type": "int"}')
        out = braid("fingerprint", int_avsc).stdout.decode()
        self.assertIn("crc64-avro-hex: 7275d51a3f395c8f", out)
        src = self.path("schema_src.avro")
        py_write(src, self.records[:3], "deflate")
        canon = braid("schema", "--canonical", src).stdout.decode().strip()
        self.assertEqual(canon, SCHEMA.canonical_form)
        pretty = braid("schema", src).stdout.decode()
        self.assertEqual(avro.schema.parse(pretty), SCHEMA)

    def test_compat(self):
        w = self.path("w.avsc")
        r_ok = self.path("r_ok.avsc")
        r_bad = self.path("r_bad.avsc")
        with open(w, "w") as f:
            f.write('{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}')
        with open(r_ok, "w") as f:
            f.write('{"type":"record","name":"R","fields":[{"name":"a","type":"long"},'
                    '{"name":"b","type":"string","default":"x"}]}')
        with open(r_bad, "w") as f:
            f.write('{"type":"record","name":"R","fields":[{"name":"b","type":"string"}]}')
        p = braid("compat", "--reader", r_ok, "--writer", w, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.decode().splitlines()[0], "compatible")
        p = braid("compat", "--reader", r_bad, "--writer", w, check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("READER_FIELD_MISSING_DEFAULT_VALUE", p.stdout.decode())

    def test_errors_go_to_stderr_with_exit_1(self):
        bad = self.path("bad.avro")
        with open(bad, "wb") as f:
            f.write(b"Obj\x00garbage")
        p = braid("cat", bad, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("bad magic", p.stderr.decode())
        self.assertIn("offset 0", p.stderr.decode())
        good = self.braid_write("snappy", "trunc.avro")
        with open(good, "rb") as f:
            data = f.read()
        with open(good, "wb") as f:
            f.write(data[:-7])
        p = braid("cat", good, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("truncated", p.stderr.decode())
        p = braid("convert", "--codec", "brotli", self.path("py_null_x.avro"), self.path("o.avro"),
                  check=False)
        self.assertEqual(p.returncode, 1)
        bad_json = self.path("bad.jsonl")
        with open(bad_json, "w") as f:
            f.write(json.dumps(to_avro_json(SCHEMA, self.records[0])) + "\n{\"id\": 1}\n")
        p = braid("from-json", "--schema", self.schema_path, bad_json, self.path("bj.avro"),
                  check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(":2", p.stderr.decode())


def json_close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_close(x, y) for x, y in zip(a, b))
    return a == b


if __name__ == "__main__":
    unittest.main(verbosity=2)
