"""The log's read path with real clients: BRAID_CONSUME_RECORDS records
(default 1,000,000) are produced once, then consumed from the beginning by
librdkafka (confluent-kafka) and by kafka-python, every record checked in
order; and a consumer waiting at the end of the log receives a new record
well before its fetch.wait.max.ms.

The records are consumed through Fetch responses of up to 1 MiB per
partition, written with sendfile(2); lz4-compressed batches are read too.
"""

import os
import time

import braidtest
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KpTopicPartition

RECORDS = int(os.environ.get("BRAID_CONSUME_RECORDS", "1000000"))
# A waiting consumer's fetch.wait.max.ms; a record must arrive well before:
# a fetch woken by the append, not by its deadline. Typically 1-3 ms; the
# bound leaves room for a loaded 2-core test machine.
WAIT_MAX_MS = 2000
PROMPT_S = 0.5


def value(i):
    return b"%d" % i


def produce(bootstrap, topic, count, compression="none"):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "compression.codec": compression,
                  "queue.buffering.max.messages": 1000000, "batch.num.messages": 10000})
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
    for i in range(count):
        while True:
            try:
                p.produce(topic, value(i), partition=0, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.01)
        if i % 10000 == 0:
            p.poll(0)
    remaining = p.flush(120)
    assert remaining == 0 and not errors, (remaining, errors[:3])


class ConsumeTest(braidtest.BraidTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.topic = "consume-%d" % (int(time.time() * 1000) % 1000000)
        t0 = time.time()
        try:
            produce(cls.braid.bootstrap, cls.topic, RECORDS)
        except BaseException:
            cls.braid.cleanup()  # tearDownClass does not run after a failed setUpClass
            raise
        cls.produce_s = time.time() - t0

    def check_in_order(self, records, who):
        """records: (offset, value) pairs in delivery order."""
        self.assertEqual(len(records), RECORDS, who)
        for i, (offset, v) in enumerate(records):
            if offset != i or v != value(i):
                self.fail("%s: record %d is offset %d value %r" % (who, i, offset, v))

    def test_librdkafka_consumes_every_record_in_order(self):
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "consume-rdk",
                      "enable.auto.commit": False})
        try:
            c.assign([TopicPartition(self.topic, 0, 0)])
            got = []
            t0 = time.time()
            deadline = t0 + 120
            while len(got) < RECORDS and time.time() < deadline:
                for m in c.consume(num_messages=10000, timeout=1.0):
                    self.assertIsNone(m.error(), m.error())
                    got.append((m.offset(), m.value()))
            elapsed = time.time() - t0
        finally:
            c.close()
        self.check_in_order(got, "librdkafka")
        print("librdkafka: %d records in %.2f s (produced in %.2f s)" %
              (len(got), elapsed, self.produce_s))

    def test_kafka_python_consumes_every_record_in_order(self):
        c = KafkaConsumer(bootstrap_servers=self.braid.bootstrap, enable_auto_commit=False,
                          group_id=None, max_partition_fetch_bytes=1 << 20)
        try:
            tp = KpTopicPartition(self.topic, 0)
            c.assign([tp])
            c.seek_to_beginning(tp)
            got = []
            t0 = time.time()
            deadline = t0 + 180
            while len(got) < RECORDS and time.time() < deadline:
                for records in c.poll(timeout_ms=1000, max_records=100000).values():
                    got.extend((r.offset, r.value) for r in records)
            elapsed = time.time() - t0
        finally:
            c.close()
        self.check_in_order(got, "kafka-python")
        print("kafka-python: %d records in %.2f s" % (len(got), elapsed))

    def test_lz4_batches(self):
        topic = self.unique_topic("lz4")
        n = min(RECORDS, 100000)
        produce(self.braid.bootstrap, topic, n, compression="lz4")
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "consume-lz4",
                      "enable.auto.commit": False})
        try:
            c.assign([TopicPartition(topic, 0, 0)])
            got = []
            deadline = time.time() + 60
            while len(got) < n and time.time() < deadline:
                got.extend(m.value() for m in c.consume(num_messages=10000, timeout=1.0)
                           if m.error() is None)
        finally:
            c.close()
        self.assertEqual(got, [value(i) for i in range(n)])

    def wait_for_new_record(self, poll_one, topic):
        """poll_one(timeout_s) returns a value or None. Produces one record
        once the consumer waits at the end; returns seconds until it came."""
        # Let the consumer reach the end of the log and park a fetch there.
        self.assertIsNone(poll_one(1.5))
        p = Producer({"bootstrap.servers": self.braid.bootstrap, "linger.ms": 0})
        # Connected and the topic's leader known before the clock starts
        # (a cold producer waits for librdkafka's own metadata timers).
        p.list_topics(topic, timeout=10)
        sent = {}

        def on_delivery(err, msg):
            self.assertIsNone(err)
            sent["acked"] = time.time()
        sent["t"] = time.time()
        p.produce(topic, b"late", partition=0, on_delivery=on_delivery)
        p.flush(10)
        got = poll_one(WAIT_MAX_MS / 1000.0 * 2)
        received = time.time()
        self.assertEqual(got, b"late")
        return received - sent["t"]

    def test_waiting_consumer_gets_a_new_record_promptly(self):
        topic = self.unique_topic("wait")
        produce(self.braid.bootstrap, topic, 10)
        c = Consumer({"bootstrap.servers": self.braid.bootstrap, "group.id": "consume-wait",
                      "enable.auto.commit": False, "fetch.wait.max.ms": WAIT_MAX_MS})
        try:
            c.assign([TopicPartition(topic, 0, 10)])

            def poll_one(timeout):
                deadline = time.time() + timeout
                while time.time() < deadline:
                    m = c.poll(0.05)
                    if m is not None and m.error() is None:
                        return m.value()
                return None
            # Twice: the second wait starts from a fetch that was woken.
            for _ in range(2):
                took = self.wait_for_new_record(poll_one, topic)
                print("librdkafka: a new record after %.1f ms" % (took * 1000))
                self.assertLess(took, PROMPT_S, "librdkafka waited %.3f s" % took)
        finally:
            c.close()

        kc = KafkaConsumer(bootstrap_servers=self.braid.bootstrap, enable_auto_commit=False,
                           group_id=None, fetch_max_wait_ms=WAIT_MAX_MS)
        try:
            tp = KpTopicPartition(topic, 0)
            kc.assign([tp])
            kc.seek_to_end(tp)

            def kp_poll_one(timeout):
                deadline = time.time() + timeout
                while time.time() < deadline:
                    for records in kc.poll(timeout_ms=50).values():
                        return records[0].value
                return None
            took = self.wait_for_new_record(kp_poll_one, topic)
            print("kafka-python: a new record after %.1f ms" % (took * 1000))
            self.assertLess(took, PROMPT_S, "kafka-python waited %.3f s" % took)
        finally:
            kc.close()


if __name__ == "__main__":
    braidtest.main()
