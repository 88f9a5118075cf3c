"""Hostile clients on the Kafka port (issue 16): connections that send only a
large size prefix, connections that send part of a large frame and stall,
slowloris connections that trickle bytes, and more connections than the
per-address limit, all while a normal client produces and consumes.

Checked: braid's resident memory (VmRSS from /proc/PID/status) stays below
its start-up size plus --max-request-bytes-in-flight plus a bound; the normal
client's acknowledgements keep flowing; stalled and trickling connections are
closed after --incomplete-request-timeout-ms; connections over
--max-connections-per-ip are closed at once; braid's log grows by a bounded
number of lines. HOSTILE_ROUNDS (default 1) repeats the attack."""

import os
import socket
import struct
import time

import braidtest
from kafka import KafkaConsumer, KafkaProducer

MIB = 1 << 20
BUDGET = 256 * MIB
# What braid may hold beyond the budget: per-connection state (coroutine
# frames, timers, socket objects) of a few hundred connections, allocator
# slack, and the normal client's produce and fetch buffers.
SLACK = 96 * MIB
PREFIX_ONLY = 60        # each declares a 100 MB frame and sends nothing more
PARTIAL = 12            # each sends 6 MB of a 100 MB frame and stalls
SLOWLORIS = 40          # each sends one byte a second
PER_IP_LIMIT = 200
TIMEOUT_MS = 4000


def vm_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def is_closed(s, wait=0.2):
    """True if the peer closed (EOF or reset) within `wait` seconds."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


class HostileClientsTest(braidtest.BraidTestCase):
    braid_args = ["--max-request-bytes-in-flight", str(BUDGET),
                  "--max-connections-per-ip", str(PER_IP_LIMIT),
                  "--incomplete-request-timeout-ms", str(TIMEOUT_MS)]

    def log_lines(self):
        return len(self.braid.output_since_last_start().splitlines())

    def produce_and_check(self, producer, topic, n, start):
        futures = [producer.send(topic, b"v%06d" % (start + i)) for i in range(n)]
        producer.flush(timeout=30)
        for f in futures:
            f.get(timeout=30)  # raises on a failed acknowledgement

    def attack_round(self, producer, topic, sent):
        port = self.braid.port
        pid = self.braid.proc.pid
        socks = []
        # 1. Size prefixes of 100 MB and nothing more (1 GB+ before issue 16).
        for _ in range(PREFIX_ONLY):
            s = connect(port)
            s.sendall(struct.pack(">i", 100 * 1000 * 1000))
            socks.append(s)
        # 2. Part of a large frame, then a stall: this is what costs budget.
        partial = []
        chunk = b"\0" * MIB
        for _ in range(PARTIAL):
            s = connect(port)
            s.sendall(struct.pack(">i", 100 * 1000 * 1000))
            for _ in range(6):
                s.sendall(chunk)
            partial.append(s)
        socks += partial
        # 3. Slowloris: one byte a second of a small request.
        slow = [connect(port) for _ in range(SLOWLORIS)]
        socks += slow
        # The normal client keeps producing meanwhile.
        peak = 0
        started = time.time()
        trickle = struct.pack(">i", 1000) + b"\0" * 16
        i = 0
        while time.time() - started < TIMEOUT_MS / 1000.0 + 2.5:
            for s in slow:
                try:
                    s.send(trickle[i % len(trickle):i % len(trickle) + 1])
                except OSError:
                    pass
            i += 1
            t0 = time.time()
            self.produce_and_check(producer, topic, 50, sent)
            sent += 50
            self.assertLess(time.time() - t0, 10, "acknowledgements stalled")
            peak = max(peak, vm_rss(pid))
            time.sleep(0.5)
        # Every stalled or trickling connection is closed by now.
        closed = sum(1 for s in partial + slow if is_closed(s, 1.0))
        self.assertEqual(closed, len(partial) + len(slow))
        for s in socks:
            s.close()
        return sent, peak

    def test_memory_stays_bounded_and_acks_keep_flowing(self):
        topic = self.unique_topic("hostile")
        producer = KafkaProducer(bootstrap_servers=self.braid.bootstrap, acks="all",
                                 linger_ms=5, retries=0)
        try:
            self.produce_and_check(producer, topic, 100, 0)
            sent = 100
            baseline = vm_rss(self.braid.proc.pid)
            lines_before = self.log_lines()
            rounds = int(os.environ.get("HOSTILE_ROUNDS", "1"))
            peak = 0
            for _ in range(rounds):
                sent, p = self.attack_round(producer, topic, sent)
                peak = max(peak, p)
            print("hostile: baseline RSS %.1f MiB, peak %.1f MiB, budget %d MiB, "
                  "%d log lines during the attack"
                  % (baseline / MIB, peak / MIB, BUDGET // MIB,
                     self.log_lines() - lines_before))
            self.assertLess(peak, baseline + BUDGET + SLACK)
            # A partial frame's buffer is at most twice what arrived (6 MB):
            # far below the 100 MB each declared.
            self.assertLess(peak, baseline + PARTIAL * 12 * MIB + SLACK)
        finally:
            producer.close()

        # Every acknowledged record is there.
        consumer = KafkaConsumer(topic, bootstrap_servers=self.braid.bootstrap,
                                 auto_offset_reset="earliest", enable_auto_commit=False,
                                 consumer_timeout_ms=5000)
        try:
            values = [m.value for m in consumer]
        finally:
            consumer.close()
        self.assertEqual(len(values), sent)
        self.assertEqual(values[0], b"v000000")
        self.assertEqual(values[-1], b"v%06d" % (sent - 1))
        # Log lines: rate-limited per reason and address (5 per 10 s), so
        # the hundreds of bad connections above write a handful of lines.
        self.assertLess(self.log_lines() - lines_before, 60 * rounds)

    def test_connections_over_the_per_ip_limit_are_closed(self):
        port = self.braid.port
        socks = []
        try:
            for _ in range(PER_IP_LIMIT + 20):
                socks.append(connect(port))
            time.sleep(0.5)
            closed = sum(1 for s in socks if is_closed(s, 0.05))
            self.assertGreaterEqual(closed, 20)
            self.assertLessEqual(closed, 20 + 2)  # at most the other test's leftovers
        finally:
            for s in socks:
                s.close()
        # Slots free again: a normal client connects.
        def stays_open():
            s = connect(port)
            try:
                return not is_closed(s, 0.3)
            finally:
                s.close()

        braidtest.wait_until(stays_open, timeout=10, what="a connection under the limit stays open")


if __name__ == "__main__":
    braidtest.main()
