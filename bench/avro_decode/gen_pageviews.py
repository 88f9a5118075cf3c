#!/usr/bin/python3
"""Writes N PageView records to an Avro container file with python3-avro.

Fallback generator for the Avro decode benchmark (the benchmark normally writes its
file with braid's own container writer). Usage:
    /usr/bin/python3 gen_pageviews.py N CODEC OUT.avro
The data is deterministic (seeded) and similar in shape to what
avro_decode_bench --generate writes.
"""
import datetime
import random
import sys

import avro.datafile
import avro.io
import avro.schema

SCHEMA = """{"type":"record","name":"PageView","fields":[{"name":"url","type":"string"},
{"name":"user","type":"string"},{"name":"timestamp","type":{"type":"long",
"logicalType":"timestamp-millis"}},{"name":"ip","type":"string"},{"name":"status",
"type":"int"},{"name":"referrer","type":["null","string"],"default":null}]}"""


def main():
    n, codec, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rnd = random.Random(42)
    schema = avro.schema.parse(SCHEMA)
    with open(out, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=codec)
        ts = 1700000000000
        for i in range(n):
            ts += rnd.randrange(0, 1000)
            w.append({
                "url": "https://example.com/section%d/page%d.html" % (rnd.randrange(20),
                                                                     rnd.randrange(5000)),
                "user": "user%07d" % rnd.randrange(1000000),
                "timestamp": datetime.datetime.fromtimestamp(ts / 1000, tz=datetime.timezone.utc),
                "ip": "10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256),
                                       rnd.randrange(256)),
                "status": rnd.choice((200, 200, 200, 200, 301, 404, 500)),
                "referrer": None if rnd.randrange(3) == 0 else
                "https://search.example.org/q?term=%d" % rnd.randrange(100000),
            })
        w.close()


if __name__ == "__main__":
    main()
