#!/usr/bin/python3
"""Generates the golden inputs of kafka/protocol's tests (checked in).

Run with Debian's interpreter, which has python3-kafka 2.0.2 and the codec
modules:  /usr/bin/python3 gen_batches.py  (writes into this directory)

* batch_<codec>.bin (written to src/log/tests/data): one RecordBatch v2 built by kafka-python's
  DefaultRecordBatchBuilder (the producer's own code path) per codec.
  Records: offset i, timestamp 1700000000000 + i, key b"key-<i>" (null for
  i == 3), value b"value-<i>-" * 20 (null for i == 4), header ("h", b"v<i>")
  on even i. 10 records.
* kafka_python_api_versions_v0.bin / kafka_python_metadata_v0.bin /
  kafka_python_metadata_v1_all.bin / kafka_python_produce_v7.bin: request
  frames (size prefix included) as kafka-python's KafkaProtocol.send_request
  writes them, client id "kafka-python", correlation ids 1, 2, 3, 4.
* kafka_python_messages.bin: for every request and response schema
  kafka-python 2.0.2 defines at a version braid implements, one body encoded
  by kafka-python from generated sample values. Records:
  int16 api_key, int8 kind (0 request, 1 response), int16 version,
  int32 size, body. The test decodes each with braid and re-encodes it: the
  bytes must be identical (an independent check of every field layout).
* rdkafka_api_versions_v3.bin: the first frame librdkafka (via
  confluent_kafka) sends to a broker, captured on a loopback socket.
* rdkafka_produce_v7_<codec>.bin: the Produce frame librdkafka 2.0.2 sends
  for 10 records (key b"k<i>", value b"librdkafka value <i> " * 10, header
  ("hk", b"hv<i>") on even i) with compression.type=<codec>, captured by a
  fake broker on loopback that answers ApiVersions (braid's table), Metadata
  and Produce.
"""
import os
import socket
import struct
import threading

from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.protocol.parser import KafkaProtocol
from kafka.protocol.admin import ApiVersionRequest as ApiVersionsRequest
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.produce import ProduceRequest

HERE = os.path.dirname(os.path.abspath(__file__))
# The batch goldens belong to the record model's tests (src/log).
LOG_DATA = os.path.join(HERE, "..", "..", "..", "..", "log", "tests", "data")
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def build_batch(codec):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=0,
                                  producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                  batch_size=1 << 20)
    for i in range(10):
        key = None if i == 3 else b"key-%d" % i
        value = None if i == 4 else (b"value-%d-" % i) * 20
        headers = [("h", b"v%d" % i)] if i % 2 == 0 else []
        assert b.append(i, 1700000000000 + i, key, value, headers) is not None
    return bytes(b.build())


def write(name, data, where=HERE):
    with open(os.path.join(where, name), "wb") as f:
        f.write(data)


def request_frame(req, correlation_id):
    proto = KafkaProtocol(client_id="kafka-python")
    proto.send_request(req, correlation_id=correlation_id)
    return bytes(proto.send_bytes())


def capture_rdkafka_api_versions():
    import confluent_kafka
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    got = {}

    def serve():
        conn, _ = srv.accept()
        buf = b""
        while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        got["frame"] = buf[:4 + struct.unpack(">i", buf[:4])[0]]
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    p = confluent_kafka.Producer({"bootstrap.servers": "127.0.0.1:%d" % port,
                                  "client.id": "rdkafka", "log_level": 0})
    t.join(timeout=10)
    srv.close()
    del p
    return got["frame"]


# braid's advertised ranges (api_versions.cc).
SUPPORTED = {0: (0, 7), 1: (0, 11), 2: (0, 3), 3: (0, 7), 8: (0, 7), 9: (1, 5), 10: (0, 2),
             11: (0, 5), 12: (0, 3), 13: (0, 1), 14: (0, 3), 15: (0, 4), 16: (0, 4),
             18: (0, 3), 19: (0, 4), 20: (0, 3), 21: (0, 1), 22: (0, 1), 32: (0, 1),
             33: (0, 0), 37: (0, 1), 42: (0, 1), 44: (0, 0), 47: (0, 0)}


def sample_value(t, counter):
    from kafka.protocol import types as T
    counter[0] += 1
    c = counter[0]
    if isinstance(t, type):  # some schemas name the type class itself
        return sample_value(t(), counter) if t is not T.String else "s%d" % c
    if isinstance(t, T.Array):
        return [sample_value(t.array_of, counter) for _ in range(2)]
    if isinstance(t, T.Schema):
        return tuple(sample_value(f, counter) for f in t.fields)
    if isinstance(t, T.Boolean):
        return c % 2 == 0
    if isinstance(t, T.Int8):
        return c % 100
    if isinstance(t, T.Int16):
        return c % 30000
    if isinstance(t, (T.Int32, T.Int64)):
        return c * 1000 + 7
    if isinstance(t, T.String):
        return "s%d" % c
    if isinstance(t, T.Bytes):
        return b"b%d" % c
    raise TypeError(t)


# kafka-python 2.0.2 schemas that disagree with Kafka's JSON definitions:
# GroupCoordinatorResponse_v1 lacks ThrottleTimeMs (FindCoordinatorResponse
# has it from v1); DescribeGroupsResponse_v3 loses AuthorizedOperations to a
# misplaced parenthesis (zip() drops it from the Schema).
KAFKA_PYTHON_SCHEMA_BUGS = {"GroupCoordinatorResponse_v1", "DescribeGroupsResponse_v3"}


def kafka_python_messages():
    import kafka.protocol.admin as admin
    import kafka.protocol.commit as commit
    import kafka.protocol.fetch as fetch
    import kafka.protocol.group as group
    import kafka.protocol.metadata as metadata
    import kafka.protocol.offset as offset
    import kafka.protocol.produce as produce
    families = [produce.ProduceRequest, produce.ProduceResponse, fetch.FetchRequest,
                fetch.FetchResponse, offset.OffsetRequest, offset.OffsetResponse,
                metadata.MetadataRequest, metadata.MetadataResponse,
                commit.OffsetCommitRequest, commit.OffsetCommitResponse,
                commit.OffsetFetchRequest, commit.OffsetFetchResponse,
                commit.GroupCoordinatorRequest, commit.GroupCoordinatorResponse,
                group.JoinGroupRequest, group.JoinGroupResponse, group.SyncGroupRequest,
                group.SyncGroupResponse, group.HeartbeatRequest, group.HeartbeatResponse,
                group.LeaveGroupRequest, group.LeaveGroupResponse,
                admin.ApiVersionRequest, admin.ApiVersionResponse, admin.CreateTopicsRequest,
                admin.CreateTopicsResponse, admin.DeleteTopicsRequest,
                admin.DeleteTopicsResponse, admin.ListGroupsRequest, admin.ListGroupsResponse,
                admin.DescribeGroupsRequest, admin.DescribeGroupsResponse,
                admin.AlterConfigsRequest, admin.AlterConfigsResponse,
                admin.DescribeConfigsRequest, admin.DescribeConfigsResponse,
                admin.CreatePartitionsRequest, admin.CreatePartitionsResponse,
                admin.DeleteGroupsRequest, admin.DeleteGroupsResponse]
    out = b""
    n = 0
    for fam in families:
        for cls in fam:
            key, ver = cls.API_KEY, cls.API_VERSION
            kind = 0 if cls.__name__.endswith("Request_v%d" % ver) else 1
            if "Request" not in cls.__name__ and "Response" not in cls.__name__:
                continue
            if key not in SUPPORTED or not SUPPORTED[key][0] <= ver <= SUPPORTED[key][1]:
                continue
            if cls.__name__ in KAFKA_PYTHON_SCHEMA_BUGS:
                continue
            if kind == 1 and "Request" in cls.__name__:
                continue  # kafka-python lists AlterConfigsRequest_v1 as a response
            counter = [0]
            values = [sample_value(f, counter) for f in cls.SCHEMA.fields]
            inst = cls(*values)
            try:
                body = bytes(inst.encode())
            except TypeError as e:  # a kafka-python schema it cannot encode itself
                print("skipped", cls.__name__, e)
                continue
            out += struct.pack(">hbhi", key, kind, ver, len(body)) + body
            n += 1
    return out, n


BRAID_TABLE = [(0, 0, 7), (1, 0, 11), (2, 0, 3), (3, 0, 7), (8, 0, 7), (9, 1, 5), (10, 0, 2),
               (11, 0, 5), (12, 0, 3), (13, 0, 1), (14, 0, 3), (15, 0, 4), (16, 0, 4),
               (18, 0, 3), (19, 0, 4), (20, 0, 3), (21, 0, 1), (22, 0, 1), (32, 0, 1),
               (33, 0, 0), (37, 0, 1), (42, 0, 1), (44, 0, 0), (47, 0, 0)]


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7f) | 0x80])
        n >>= 7
    return out + bytes([n])


def api_versions_body(version):
    if version >= 3:
        body = b"\x00\x00" + uvarint(len(BRAID_TABLE) + 1)
        for k, lo, hi in BRAID_TABLE:
            body += struct.pack(">hhh", k, lo, hi) + b"\x00"
        return body + struct.pack(">i", 0) + b"\x00"
    body = b"\x00\x00" + struct.pack(">i", len(BRAID_TABLE))
    for k, lo, hi in BRAID_TABLE:
        body += struct.pack(">hhh", k, lo, hi)
    return body + (struct.pack(">i", 0) if version >= 1 else b"")


def fake_broker_capture(produce_fn):
    """Runs produce_fn(bootstrap) against a fake single-node broker; returns
    the first Produce request frame it received."""
    from kafka.protocol.metadata import MetadataResponse
    from kafka.protocol.produce import ProduceResponse
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    captured = []
    stop = threading.Event()

    def read_exact(conn, n):
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def handle(conn):
        try:
            while not stop.is_set():
                size = struct.unpack(">i", read_exact(conn, 4))[0]
                frame = read_exact(conn, size)
                key, ver, corr = struct.unpack(">hhi", frame[:8])
                if key == 18:
                    body = api_versions_body(ver)
                elif key == 3:
                    resp = MetadataResponse[min(ver, 5)](
                        *([0] if ver >= 3 else []),
                        [(0, "127.0.0.1", port, None)], None, 0,
                        [(0, "t", False, [(0, 0, 0, [0], [0])])])
                    body = bytes(resp.encode())
                elif key == 0:
                    captured.append(struct.pack(">i", size) + frame)
                    resp = ProduceResponse[ver]([("t", [(0, 0, 0, -1, 0)])], 0)
                    body = bytes(resp.encode())
                else:
                    break
                out = struct.pack(">i", corr) + body
                conn.sendall(struct.pack(">i", len(out)) + out)
        except (EOFError, OSError):
            pass
        conn.close()

    def accept_loop():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    t = threading.Thread(target=accept_loop, daemon=True)
    t.start()
    try:
        produce_fn("127.0.0.1:%d" % port)
    finally:
        stop.set()
        t.join()
        srv.close()
    return captured[0]


def rdkafka_produce(codec):
    import confluent_kafka

    def run(bootstrap):
        p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "client.id": "rdkafka",
                                      "compression.type": codec, "linger.ms": 200,
                                      "acks": 1, "log_level": 0})
        for i in range(10):
            p.produce("t", partition=0, key=b"k%d" % i,
                      value=(b"librdkafka value %d " % i) * 10,
                      headers=[("hk", b"hv%d" % i)] if i % 2 == 0 else None,
                      timestamp=1700000000000 + i)
        assert p.flush(15) == 0

    return fake_broker_capture(run)


def main():
    # Reproducible gzip output: the gzip header stores the current time.
    import gzip
    import types
    gzip.time = types.SimpleNamespace(time=lambda: 1700000000)
    for name, codec in CODECS.items():
        data = build_batch(codec)
        attrs = struct.unpack(">h", data[21:23])[0]
        assert attrs & 7 == codec, (name, attrs)  # really compressed
        write("batch_%s.bin" % name, data, LOG_DATA)
    write("kafka_python_api_versions_v0.bin", request_frame(ApiVersionsRequest[0](), 1))
    write("kafka_python_metadata_v0.bin", request_frame(MetadataRequest[0](topics=[]), 2))
    write("kafka_python_metadata_v1_all.bin", request_frame(MetadataRequest[1](topics=None), 3))
    produce = ProduceRequest[7](transactional_id=None, required_acks=1, timeout=30000,
                                topics=[("events", [(0, build_batch(0))])])
    write("kafka_python_produce_v7.bin", request_frame(produce, 4))
    msgs, n = kafka_python_messages()
    write("kafka_python_messages.bin", msgs)
    print("kafka-python messages:", n)
    write("rdkafka_api_versions_v3.bin", capture_rdkafka_api_versions())
    for codec in CODECS:
        write("rdkafka_produce_v7_%s.bin" % codec, rdkafka_produce(codec))


if __name__ == "__main__":
    main()
