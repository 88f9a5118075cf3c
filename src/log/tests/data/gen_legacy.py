#!/usr/bin/python3
"""Generates the golden MessageSets of log/legacy_records' tests (checked in).

Run with Debian's interpreter (python3-kafka 2.0.2, python3-snappy,
python3-lz4):  /usr/bin/python3 gen_legacy.py  (writes into this directory)

legacy_m<magic>_<codec>.bin: one MessageSet built by kafka-python's
LegacyRecordBatchBuilder (the code path of kafka-python's producer with
api_version 0.9 (magic 0) or 0.10 (magic 1)), codec none, gzip, snappy or lz4
(magic 0 lz4 with the old Kafka framing, lz4_encode_old_kafka). 6 records:
offset i, timestamp 1700000000000 + i (magic 1), key b"key-<i>" (null for
i == 2), value b"value-<i>-" * 8 (null for i == 4).
"""
import os

from kafka.record.legacy_records import LegacyRecordBatchBuilder

HERE = os.path.dirname(os.path.abspath(__file__))
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3}


def build(magic, codec):
    b = LegacyRecordBatchBuilder(magic=magic, compression_type=codec, batch_size=1 << 20)
    for i in range(6):
        key = None if i == 2 else b"key-%d" % i
        value = None if i == 4 else (b"value-%d-" % i) * 8
        assert b.append(i, 1700000000000 + i if magic else None, key, value) is not None
    return bytes(b.build())


for magic in (0, 1):
    for name, codec in CODECS.items():
        with open(os.path.join(HERE, "legacy_m%d_%s.bin" % (magic, name)), "wb") as f:
            f.write(build(magic, codec))
