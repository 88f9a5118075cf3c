#!/usr/bin/python3
"""Produces the serving benchmark's events: one event for each of KEYS keys
(k0 .. k{KEYS-1}), plus SERIES_KEYS keys with one event on every day of the
last year (for the series reads). Confluent-framed Avro, schema registered
under bench-value."""
import json
import struct
import sys
import time

import requests
from confluent_kafka import Producer

bootstrap, registry, keys, series_keys = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
SCHEMA = {"type": "record", "name": "E", "fields": [
    {"name": "url", "type": "string"},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
sid = requests.post(registry + "/subjects/bench-value/versions",
                    json={"schema": json.dumps(SCHEMA)}, timeout=10).json()["id"]


def zz(v):
    v = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def enc(url, ts):
    u = url.encode()
    return struct.pack(">bI", 0, sid) + zz(len(u)) + u + zz(ts)


DAY = 86400000
now = int(time.time() * 1000)
p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 10000,
              "queue.buffering.max.messages": 1000000, "compression.type": "lz4"})


def send(v):
    while True:
        try:
            p.produce("bench", v)
            return
        except BufferError:
            p.poll(0.05)


# Events go out in event-time order (oldest day first), as a backfill or live
# traffic does: the archiver writes one file per partition and hour, and
# events that jump between a year of days on every record would make it
# close and open a file per event.
for i in range(keys):
    send(enc("k%d" % i, now - (364 - i * 365 // keys) * DAY))
for d in range(365, -1, -1):
    for i in range(series_keys):
        send(enc("s%d" % i, now - d * DAY))
assert p.flush(120) == 0
print("produced %d events" % (keys + series_keys * 366))
