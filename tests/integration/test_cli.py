"""The command line's exit codes: 0 for success, --help and --version; 2 for
every usage error (unknown command at any level, missing command, unknown
option, bad value), with the error on stderr; `--help` after an unknown
command is still a usage error, not the root help."""

import subprocess
import unittest

import braidtest


def run(*args):
    if not braidtest.BRAID_BIN:
        raise unittest.SkipTest("BRAID_BIN is not set")
    p = subprocess.run([braidtest.BRAID_BIN, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


class CliUsageTest(unittest.TestCase):

    def test_help_and_version_exit_0(self):
        for args in (["--help"], ["archive", "run", "--help"], ["--version"],
                     ["schemas", "--registry", "http://127.0.0.1:1", "list", "--help"]):
            rc, out, _ = run(*args)
            self.assertEqual(rc, 0, args)
            self.assertTrue(out, args)

    def test_usage_errors_exit_2(self):
        cases = [
            (["nosuchcmd", "--help"], "unknown command 'nosuchcmd'"),
            (["nosuchcmd"], "unknown command 'nosuchcmd'"),
            (["users"], "subcommand is required"),
            (["users", "add", "bob"], "--data is required"),
            (["users", "add", "bob", "--data", "/tmp/x", "--iterations", "10"], "--iterations"),
            (["--log-level", "debug", "bogus"], "unknown command 'bogus'"),
            (["archive", "bogus", "--help"], "unknown command 'bogus'"),
            ([], "subcommand is required"),
            (["archive"], "subcommand is required"),
            (["up"], "--data is required"),
            (["broker", "--data", "/tmp/x", "--num-partitions", "0"], "--num-partitions"),
            (["broker", "--data", "/tmp/x", "--no-such-flag"], "--no-such-flag"),
            (["broker", "--data", "/tmp/x", "--authorizer-log", "bogus"], "--authorizer-log"),
            (["broker", "--data", "/tmp/x", "--tls-client-auth", "maybe"], "--tls-client-auth"),
        ]
        for args, message in cases:
            rc, out, err = run(*args)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertIn(message, err, args)


if __name__ == "__main__":
    braidtest.main()
