"""Malformed HTTP on braid's HTTP ports (issue 16): the HTTP API of
`braid up` and its schema registry answer each malformed request with its
status and braid's JSON error body, then close; well-formed requests still
work afterwards."""

import json
import socket

import braidtest


def round_trip(port, raw, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(raw)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def status_of(resp):
    if not resp.startswith(b"HTTP/1."):
        return None
    return int(resp.split(b" ", 2)[1])


CASES = [
    ("negative Content-Length", b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: -1\r\n\r\n", 400),
    ("non-numeric Content-Length", b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: ten\r\n\r\n", 400),
    ("20-digit Content-Length", b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 99999999999999999999\r\n\r\n", 400),
    ("duplicate Content-Length", b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\n"
     b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400),
    ("HTTP/9.9", b"GET /subjects HTTP/9.9\r\nHost: x\r\n\r\n", 505),
    ("bare LF", b"GET /subjects HTTP/1.1\nHost: x\n\n", 400),
    ("100 KB URL", b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("unknown method", b"FROB /subjects HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    ("oversized header", b"GET /subjects HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 70_000 +
     b"\r\n\r\n", 431),
]


class HttpMalformedTest(braidtest.BraidTestCase):
    braid_command = "up"

    def check_port(self, port, ok_path):
        for name, raw, want in CASES:
            with self.subTest(port=port, case=name):
                resp = round_trip(port, raw)
                self.assertEqual(status_of(resp), want, resp[:300])
                head, _, body = resp.partition(b"\r\n\r\n")
                self.assertIn(b"Connection: close", head)
                err = json.loads(body)
                self.assertEqual(err["error_code"], want)
                self.assertTrue(err["message"])
        resp = round_trip(port, b"GET " + ok_path + b" HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
        self.assertEqual(status_of(resp), 200, resp[:300])

    def test_registry_port(self):
        self.check_port(self.braid.registry_port, b"/subjects")

    def test_http_api_port(self):
        self.check_port(self.braid.http_port, b"/health")

    def test_registry_refuses_an_enum_without_symbols(self):
        import urllib.error
        import urllib.request
        body = json.dumps({"schema": json.dumps({"type": "enum", "name": "E", "symbols": []})})
        req = urllib.request.Request(self.braid.registry_url + "/subjects/e-value/versions",
                                     data=body.encode(), method="POST",
                                     headers={"Content-Type":
                                              "application/vnd.schemaregistry.v1+json"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(cm.exception.code, 422)
        self.assertEqual(json.loads(cm.exception.read())["error_code"], 42201)


if __name__ == "__main__":
    braidtest.main()
