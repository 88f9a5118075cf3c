"""Produce-time schema validation in `braid up` (registry + broker).

A topic created with braid.value.schema.validation=true accepts only values
framed as Confluent wire format (magic 0, 4-byte schema id registered under
subject <topic>-value, a complete Avro body of that schema). Everything else
is rejected with INVALID_RECORD (87) at the producer (confluent-kafka, acks=all,
retries=0) and leaves the log unchanged (high watermark).
"""

import json
import struct
import unittest

import braidtest
import requests

SCHEMA = {"type": "record", "name": "User",
          "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int"}]}
BODY = b"\x06ann\x3c"  # {"name": "ann", "age": 30}
INVALID_RECORD = 87


class ValidationTest(braidtest.BraidTestCase):
    braid_command = "up"

    def setUp(self):
        self.topic = self.unique_topic("val")
        self.reg = "http://127.0.0.1:%d" % self.braid.registry_port
        r = requests.post("%s/subjects/%s-value/versions" % (self.reg, self.topic),
                          data=json.dumps({"schema": json.dumps(SCHEMA)}),
                          headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
                          timeout=10)
        self.assertEqual(r.status_code, 200, r.text)
        self.schema_id = r.json()["id"]
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.braid.bootstrap})
        for f in a.create_topics([NewTopic(self.topic, 1, 1, config={
                "braid.value.schema.validation": "true"})]).values():
            f.result(30)

    def produce_one(self, value):
        """Produces one record; returns the delivery error code (0 = ok)."""
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.braid.bootstrap, "acks": "all", "retries": 0,
                      "enable.idempotence": False, "linger.ms": 0})
        result = []
        p.produce(self.topic, value, partition=0,
                  on_delivery=lambda err, m: result.append(err.code() if err else 0))
        self.assertEqual(p.flush(30), 0)
        return result[0]

    def high_watermark(self):
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "val-wm"})
        try:
            return c.get_watermark_offsets(TopicPartition(self.topic, 0), timeout=30)[1]
        finally:
            c.close()

    def framed(self, schema_id, body):
        return b"\x00" + struct.pack(">I", schema_id) + body

    def test_valid_record_lands(self):
        self.assertEqual(self.produce_one(self.framed(self.schema_id, BODY)), 0)
        self.assertEqual(self.high_watermark(), 1)

    def test_invalid_records_are_rejected(self):
        self.assertEqual(self.produce_one(self.framed(self.schema_id, BODY)), 0)
        self.assertEqual(self.high_watermark(), 1)
        cases = {
            "raw json": b'{"name": "ann", "age": 30}',
            "unknown id": self.framed(999999, BODY),
            "truncated body": self.framed(self.schema_id, BODY[:3]),
            "trailing bytes": self.framed(self.schema_id, BODY + b"\x00"),
        }
        for what, value in cases.items():
            with self.subTest(what):
                self.assertEqual(self.produce_one(value), INVALID_RECORD, what)
                self.assertEqual(self.high_watermark(), 1, what)
        # The topic still accepts valid records afterwards.
        self.assertEqual(self.produce_one(self.framed(self.schema_id, BODY)), 0)
        self.assertEqual(self.high_watermark(), 2)

    def test_topic_without_validation_accepts_anything(self):
        from confluent_kafka import Producer
        topic = self.unique_topic("noval")
        p = Producer({"bootstrap.servers": self.braid.bootstrap, "acks": "all", "retries": 0})
        errs = []
        p.produce(topic, b"not avro", on_delivery=lambda err, m: errs.append(err))
        self.assertEqual(p.flush(30), 0)
        self.assertEqual(errs, [None])


if __name__ == "__main__":
    braidtest.main()
