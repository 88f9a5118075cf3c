"""`braid views check` and C++ plugins through the real binary: the public
plugin headers install with `cmake --install` (component plugin-dev), a view
plugin compiled out of the tree against them loads and lists the same views
as the equivalent view file; a plugin built for another ABI version and a bad
view file are refused with the file, line and field, exit code 1."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import braidtest

SOURCE = os.environ.get("BRAID_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("BRAID_BUILD_DIR", "")
EXAMPLE = os.path.join(SOURCE, "examples", "plugins", "pageviews")


def braid(*args):
    if not braidtest.BRAID_BIN:
        raise unittest.SkipTest("BRAID_BIN is not set")
    p = subprocess.run([braidtest.BRAID_BIN, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


class ViewsCheckTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not BUILD or not shutil.which("g++"):
            raise unittest.SkipTest("needs BRAID_BUILD_DIR and g++")
        cls.tmp = tempfile.mkdtemp(prefix="braid-views-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix, "--component",
                        "plugin-dev"], check=True, capture_output=True, timeout=120)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def compile_plugin(self, source, name):
        out = os.path.join(self.tmp, name)
        p = subprocess.run(["g++", "-std=c++20", "-O1", "-fPIC", "-shared",
                            "-I", os.path.join(self.prefix, "include"), source, "-o", out],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        return out

    def test_installed_headers_are_the_public_api(self):
        headers = sorted(os.listdir(os.path.join(self.prefix, "include", "braid")))
        for h in ("plugin.h", "url.h", "value.h", "view.h"):
            self.assertIn(h, headers)

    def test_out_of_tree_plugin_lists_the_same_views_as_the_yaml_file(self):
        plugin = self.compile_plugin(os.path.join(EXAMPLE, "pageviews_plugin.cc"),
                                     "libpageviews.so")
        rc, out, err = braid("views", "check", os.path.join(EXAMPLE, "views.yaml"),
                             "--plugin", plugin, "--json")
        self.assertEqual(rc, 0, err)
        listing = json.loads(out)
        views = {v["name"]: v for v in listing["views"]}
        self.assertEqual(sorted(views), ["pageviews_cpp", "pageviews_yaml", "uniques_cpp",
                                         "uniques_yaml"])
        for kind in ("pageviews", "uniques"):
            cpp, yaml = views[kind + "_cpp"], views[kind + "_yaml"]
            for field in ("topic", "aggregate", "granularities", "time_field", "needs_avro"):
                self.assertEqual(cpp[field], yaml[field], (kind, field))
        self.assertEqual(views["uniques_cpp"]["aggregate"], "hll(p=14)")
        self.assertEqual(views["pageviews_cpp"]["origin"], "plugin " + plugin)
        self.assertTrue(views["pageviews_yaml"]["origin"].endswith("views.yaml:3:5"))
        topics = {t["name"]: t for t in listing["topics"]}
        self.assertEqual(topics["pageviews"]["configs"]["braid.archive.time.field"], "timestamp")
        # The text listing names every view too.
        rc, text, err = braid("views", "check", os.path.join(EXAMPLE, "views.yaml"),
                              "--plugin", plugin)
        self.assertEqual(rc, 0, err)
        for name in views:
            self.assertIn("view " + name, text)

    def test_wrong_abi_version_is_refused(self):
        source = os.path.join(SOURCE, "src", "views", "tests", "plugins", "wrong_abi_plugin.cc")
        plugin = self.compile_plugin(source, "libwrongabi.so")
        rc, out, err = braid("views", "check", "--plugin", plugin)
        self.assertEqual(rc, 1, out)
        self.assertIn("plugin " + plugin + ": built for plugin ABI version 42, but this braid "
                      "loads version 1", err)

    def test_not_a_plugin_is_refused(self):
        rc, _, err = braid("views", "check", "--plugin", braidtest.BRAID_BIN)
        self.assertEqual(rc, 1)
        self.assertIn("plugin " + braidtest.BRAID_BIN + ":", err)

    def test_bad_view_file_names_file_line_and_field(self):
        path = os.path.join(self.tmp, "views.yaml")
        with open(path, "w") as f:
            f.write("views:\n  - name: uniques\n    topic: pageviews\n    key: normalize_url(url)\n"
                    "    aggregate: hll(p=30)\n    value: person\n")
        rc, out, err = braid("views", "check", path)
        self.assertEqual(rc, 1, out)
        self.assertIn(path + ":5:16: views[0] (uniques).aggregate: monoid \"hll(p=30)\": column 7: "
                      "hll: precision 30 is out of range (4..18)", err)
        rc, _, err = braid("views", "check", os.path.join(self.tmp, "missing.yaml"))
        self.assertEqual(rc, 1)
        self.assertIn("missing.yaml", err)

    def test_schema_check_names_the_view_and_path(self):
        path = os.path.join(self.tmp, "typo.yaml")
        with open(path, "w") as f:
            f.write("views:\n  - {name: u, topic: pageviews, key: normalize_url(url),"
                    " aggregate: hll, value: persn}\n")
        schema = os.path.join(self.tmp, "pageview.avsc")
        with open(schema, "w") as f:
            f.write(json.dumps({"type": "record", "name": "PageView", "fields": [
                {"name": "url", "type": "string"}, {"name": "person", "type": "string"}]}))
        rc, _, err = braid("views", "check", path, "--schema", "pageviews=" + schema)
        self.assertEqual(rc, 1)
        self.assertIn("view u (" + path + ":2:5) against " + schema + ": path \"persn\"", err)
        with open(path, "w") as f:
            f.write("views:\n  - {name: u, topic: pageviews, key: normalize_url(url),"
                    " aggregate: hll, value: person}\n")
        rc, _, err = braid("views", "check", path, "--schema", "pageviews=" + schema)
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    braidtest.main()
