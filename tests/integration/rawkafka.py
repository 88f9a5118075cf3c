"""A raw Kafka protocol connection for integration tests: requests are
kafka-python 2.0.2's protocol structs (kafka.protocol.*), encoded and decoded
by kafka-python, sent over a plain socket with a v1 request header. Lets a
test choose exact API versions and connections, which no client library
does.

    with RawConnection(bootstrap) as c:
        resp = c.call(JoinGroupRequest[1](...))
"""

import socket
import struct

_HEADER = ">hhih"


class ConnectionClosed(IOError):
    pass


class RawConnection:
    def __init__(self, bootstrap, client_id="rawkafka", timeout=30):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.client_id = client_id.encode()
        self.correlation_id = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionClosed("connection closed by the broker")
            buf += chunk
        return buf

    def send(self, request, api_key=None, api_version=None):
        """Sends `request` (a kafka-python Request struct, or raw body bytes
        with api_key/api_version given); returns the correlation id."""
        self.correlation_id += 1
        if isinstance(request, (bytes, bytearray)):
            body = bytes(request)
        else:
            body = request.encode()
            api_key = request.API_KEY
            api_version = request.API_VERSION
        header = struct.pack(_HEADER, api_key, api_version, self.correlation_id,
                             len(self.client_id)) + self.client_id
        frame = header + body
        self.sock.sendall(struct.pack(">i", len(frame)) + frame)
        return self.correlation_id

    def receive(self, correlation_id):
        """The raw response body (after the v0 response header)."""
        size = struct.unpack(">i", self._recv(4))[0]
        data = self._recv(size)
        corr = struct.unpack(">i", data[:4])[0]
        if corr != correlation_id:
            raise IOError("correlation id %d, expected %d" % (corr, correlation_id))
        return data[4:]

    def call(self, request):
        """Sends a kafka-python Request and returns its decoded response."""
        corr = self.send(request)
        return request.RESPONSE_TYPE.decode(self.receive(corr))

    def call_raw(self, api_key, api_version, body):
        corr = self.send(body, api_key, api_version)
        return self.receive(corr)
