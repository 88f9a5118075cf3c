#!/usr/bin/env python3
"""Checks the one-way dependencies between braid's modules (docs/architecture.md).

Every `#include "<module>/..."` in src/<module>/ (tests and fuzzers included)
must name the module itself or one the table below allows. In particular only
kafka/*, cli and programs may include kafka/ headers: the log, the record source,
the archive, the registry and the lambda layers speak the log's own record
model. Exit status 1 and one line per violation when the rule is broken.

  scripts/check-layers.py [ROOT]      check the tree at ROOT (default: the repo)
  scripts/check-layers.py --self-test show that a violation is caught
"""
import os
import re
import sys
import tempfile

# module -> modules it may include (itself always allowed). Order = layering.
ALLOWED = {
    "base": [],
    "io": ["base"],
    "metrics": ["base"],
    "http": ["base"],
    "security": ["base", "io"],
    "avro": ["base", "io"],
    "log": ["base", "io", "metrics"],
    "runtime": ["base", "io", "metrics", "http", "security", "log"],
    "registry": ["base", "io", "metrics", "http", "security", "avro", "log", "runtime"],
    "kafka/protocol": ["base", "log"],
    "kafka/group": ["base", "io", "metrics", "log", "kafka/protocol"],
    "kafka/server": ["base", "io", "metrics", "http", "security", "log", "runtime", "registry",
                     "kafka/protocol", "kafka/group"],
    "source": ["base", "io", "metrics", "log"],
    "archive": ["base", "io", "metrics", "http", "avro", "log", "runtime", "registry",
                "source"],
    "views": ["base", "io", "avro", "log"],
    "batch": ["base", "io", "metrics", "http", "avro", "log", "runtime", "registry",
              "source", "archive", "views"],
    "stream": ["base", "io", "metrics", "http", "avro", "log", "runtime", "registry",
               "source", "views"],
    "serving": ["base", "io", "metrics", "http", "avro", "log", "runtime", "registry",
                "source", "archive", "views", "batch", "stream"],
    "cli": None,  # may include everything
}
KAFKA_MAY_INCLUDE = {"kafka/protocol", "kafka/group", "kafka/server", "cli"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_0-9]+)/([a-z_0-9]+)?')


def module_of_path(rel):
    parts = rel.split(os.sep)
    if parts[0] != "src" or len(parts) < 3:
        return None
    if parts[1] == "kafka" and len(parts) >= 4:
        return "kafka/" + parts[2]
    return parts[1]


def module_of_include(first, second):
    if first == "kafka" and second:
        return "kafka/" + second
    return first


def check(root):
    errors = []
    src = os.path.join(root, "src")
    for dirpath, _, files in os.walk(src):
        for name in files:
            if not name.endswith((".h", ".cc", ".c")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            mod = module_of_path(rel)
            if mod is None:
                continue
            if mod not in ALLOWED:
                errors.append(f"{rel}: module '{mod}' is not in scripts/check-layers.py's table")
                continue
            allowed = ALLOWED[mod]
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = module_of_include(m.group(1), m.group(2))
                    if inc not in ALLOWED:
                        continue  # a third-party path such as "rocksdb/db.h"
                    if inc == mod:
                        continue
                    if inc.startswith("kafka/") and mod not in KAFKA_MAY_INCLUDE:
                        errors.append(f"{rel}:{lineno}: {mod} includes {inc} "
                                      f"(only kafka/*, cli and programs may include kafka/)")
                    elif allowed is not None and inc not in allowed:
                        errors.append(f"{rel}:{lineno}: {mod} includes {inc}, which it may not "
                                      f"(allowed: {', '.join(allowed) or 'nothing'})")
    return errors


def self_test():
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "src", "archive"))
        os.makedirs(os.path.join(d, "src", "log"))
        with open(os.path.join(d, "src", "archive", "ok.cc"), "w") as f:
            f.write('#include "log/records.h"\n#include <rocksdb/db.h>\n')
        if check(d):
            print("self-test: a clean tree was reported", file=sys.stderr)
            return 1
        with open(os.path.join(d, "src", "archive", "bad.cc"), "w") as f:
            f.write('#include "kafka/protocol/messages.h"\n')
        with open(os.path.join(d, "src", "log", "bad.h"), "w") as f:
            f.write('#include "archive/archiver.h"\n')
        errors = check(d)
        if len(errors) != 2:
            print(f"self-test: expected 2 violations, got {errors}", file=sys.stderr)
            return 1
    print("check-layers self-test: violations are caught")
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    errors = check(os.path.abspath(root))
    for e in errors:
        print(e)
    if errors:
        print(f"check-layers: {len(errors)} include(s) break the module layering "
              "(docs/architecture.md)", file=sys.stderr)
        return 1
    print("check-layers: every include follows the module layering")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
