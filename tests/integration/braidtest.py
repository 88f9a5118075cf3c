"""Harness for braid integration tests: start the real braid binary on free
loopback ports with a fresh data directory, wait until it is ready, stop it
by PID (also when a test fails), and show its log on failure.

Environment: BRAID_BIN = path of the braid binary (set by ctest).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BRAID_BIN = os.environ.get("BRAID_BIN", "")


def free_port():
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Braid:
    """One braid process. Use start()/stop(), or as a context manager."""

    def __init__(self, command="broker", data_dir=None, extra_args=None, http=True,
                 log_level="info"):
        if not BRAID_BIN or not os.path.exists(BRAID_BIN):
            raise unittest.SkipTest("BRAID_BIN is not set or missing: %r" % BRAID_BIN)
        self.command = command
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="braid-it-")
        self.extra_args = list(extra_args or [])
        self.http = http
        self.log_level = log_level
        self.port = None
        self.http_port = None
        self.registry_port = None
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "..", os.path.basename(self.data_dir) + ".out")
        self.log_path = os.path.abspath(self.log_path)
        self._log_file = None

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    @property
    def registry_url(self):
        """The schema registry of `braid up` or `braid registry`."""
        return "http://127.0.0.1:%d" % self.registry_port

    def start(self, timeout=30):
        """Starts braid (new ports each time) and waits for "braid: ready"."""
        self.port = free_port()
        args = [BRAID_BIN, "--log-level", self.log_level, self.command, "--data", self.data_dir,
                "--listen", "127.0.0.1:%d" % self.port]
        if self.http:
            self.http_port = free_port()
            args += ["--http-listen", "127.0.0.1:%d" % self.http_port]
        if self.command == "registry":
            # `braid registry` serves the registry's REST API on --listen.
            self.registry_port = self.port
        if self.command == "up" and "--registry-listen" not in self.extra_args:
            # `braid up` also serves the schema registry (default port 8081).
            self.registry_port = free_port()
            args += ["--registry-listen", "127.0.0.1:%d" % self.registry_port]
        args += self.extra_args
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(("\n=== %s\n" % " ".join(args)).encode())
        self._log_file.flush()
        self.proc = subprocess.Popen(args, stdout=self._log_file, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("braid exited with %s during start-up:\n%s"
                                   % (self.proc.returncode, self.output()))
            if "braid: ready" in self.output_since_last_start():
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("braid did not become ready in %ss:\n%s" % (timeout, self.output()))

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def output_since_last_start(self):
        out = self.output()
        i = out.rfind("\n=== ")
        return out[i:] if i >= 0 else out

    def stop(self, timeout=20):
        """SIGTERM by PID; waits; SIGKILL if it does not exit. Returns the exit code."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                rc = self.proc.wait()
        self.proc = None
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        return rc

    def kill(self):
        """kill -9 by PID (crash tests)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def cleanup(self):
        self.kill()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            try:
                os.remove(self.log_path)
            except OSError:
                pass

    def http_get(self, path):
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.http_port, path),
                                    timeout=10) as r:
            return r.status, r.read().decode()


class BraidTestCase(unittest.TestCase):
    """Starts one braid per test class (cls.braid); prints its log when a
    test fails; always stops it."""

    braid_command = "broker"
    braid_args = []
    braid_log_level = "info"

    @classmethod
    def setUpClass(cls):
        cls.braid = Braid(cls.braid_command, extra_args=cls.braid_args,
                          log_level=cls.braid_log_level)
        try:
            cls.braid.start()
        except Exception:
            cls.braid.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        rc = cls.braid.stop()
        failed = getattr(cls, "_failed", False)
        if failed or rc not in (0, None):
            sys.stderr.write("---- braid output (exit code %s) ----\n%s\n" %
                             (rc, cls.braid.output()))
        cls.braid.cleanup()
        # A clean stop (SIGTERM) must exit 0: sanitizer reports and shutdown
        # errors fail the test class.
        if rc not in (0, None):
            raise AssertionError("braid exited with code %s on SIGTERM" % rc)

    def run(self, result=None):
        result = super().run(result)
        if result is not None and (result.failures or result.errors):
            type(self)._failed = True
        return result

    def unique_topic(self, prefix="t"):
        return "%s-%s-%d" % (prefix, self._testMethodName.replace("_", "-"),
                             int(time.time() * 1000) % 1000000)


def wait_until(fn, timeout=20, interval=0.1, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last value %r)" % (what, last))


def main():
    unittest.main(verbosity=2)
