#!/usr/bin/python3
"""Generates compat_pairs.json: reader/writer compatibility verdicts of python3-avro.

Run with Debian's interpreter (it has python3-avro 1.11.1):
    /usr/bin/python3 gen_compat_pairs.py > compat_pairs.json

The schemas are every module-level schema of python3-avro's own
avro/test/test_compatibility.py (a port of Java's TestSchemaCompatibility) plus a
few extra ones (recursion, aliases, namespaces, promotions in containers).
Every schema is turned into JSON text and re-parsed, so the checker runs on exactly
what braid parses. The table holds the cartesian product of the schemas (all compatible pairs, all
pairs with an incompatibility other than type mismatches and missing union
branches, and every 8th of
the rest), each pair as [reader index, writer index, compatible, incompatibility
kinds in python's order, sorted locations, sorted messages].
"""
import json
import sys

import avro.schema
import avro.test.test_compatibility as tc
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

EXTRA = {
    "LONG_LIST_RECORD": {
        "type": "record", "name": "List",
        "fields": [{"name": "head", "type": "long"},
                   {"name": "tail", "type": ["null", "List"], "default": None}]},
    "INT_LIST_RECORD": {
        "type": "record", "name": "List",
        "fields": [{"name": "head", "type": "int"},
                   {"name": "tail", "type": ["null", "List"], "default": None}]},
    "STRING_LIST_RECORD": {
        "type": "record", "name": "List",
        "fields": [{"name": "head", "type": "string"},
                   {"name": "tail", "type": ["null", "List"]}]},
    "ALIASED_FIELD_RECORD1": {
        "type": "record", "name": "Record1",
        "fields": [{"name": "renamed", "type": "long", "aliases": ["a"]}]},
    "ALIASED_RECORD3": {
        "type": "record", "name": "Record3", "aliases": ["Record1"],
        "fields": [{"name": "a", "type": "double"}]},
    "NS_A_RECORD1": {
        "type": "record", "name": "Record1", "namespace": "com.example",
        "fields": [{"name": "a", "type": "int"}]},
    "ENUM_FIELD_NO_FIELD_DEFAULT_RECORD1": {
        "type": "record", "name": "Record1",
        "fields": [{"name": "a", "type": "int", "default": 0},
                   {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["X", "Y"],
                                          "default": "X"}}]},
    "STRING_BYTES_RECORD1": {
        "type": "record", "name": "Record1",
        "fields": [{"name": "a", "type": "int"},
                   {"name": "s", "type": "bytes", "default": ""},
                   {"name": "m", "type": {"type": "map", "values": "float"}, "default": {}}]},
    "BYTES_STRING_RECORD1": {
        "type": "record", "name": "Record1",
        "fields": [{"name": "s", "type": "string"},
                   {"name": "a", "type": "long"},
                   {"name": "m", "type": {"type": "map", "values": "long"}}]},
    "NULL_STRING_UNION": ["null", "string"],
    "NULL_BYTES_DOUBLE_UNION": ["null", "bytes", "double"],
    "ARRAY_OF_UNION": {"type": "array", "items": ["null", "int", "string"]},
    "ARRAY_OF_UNION_WIDE": {"type": "array", "items": ["null", "long", "bytes"]},
}


def schemas():
    out = {}
    for name, value in vars(tc).items():
        if isinstance(value, avro.schema.Schema) and name.isupper():
            out[name] = value.to_json()
    out.update(EXTRA)
    return out


def main():
    table = schemas()
    parsed = {name: avro.schema.parse(json.dumps(js)) for name, js in table.items()}
    names = sorted(table)
    pairs = []
    n = 0
    for r in names:
        for w in names:
            res = ReaderWriterCompatibilityChecker().get_compatibility(parsed[r], parsed[w])
            ok = res.compatibility is SchemaCompatibilityType.compatible
            kinds = [k.value for k in res.incompatibilities]
            # Keep every compatible pair and every pair with an interesting verdict;
            # of the many plain type mismatches keep a deterministic sample.
            if not ok and set(kinds) <= {"type_mismatch", "missing_union_branch"}:
                n += 1
                if n % 8:
                    continue
            pairs.append([names.index(r), names.index(w), ok, kinds,
                          sorted(res.locations) if not ok else [],
                          sorted(res.messages) if not ok else []])
    out = sys.stdout
    out.write('{"generator":%s,\n"names":%s,\n"schemas":[\n' % (
        json.dumps("python3-avro " + getattr(avro, "__version__", "?")), json.dumps(names)))
    out.write(",\n".join(json.dumps(table[n], sort_keys=True, separators=(",", ":"))
                         for n in names))
    out.write('],\n"pairs":[\n')
    out.write(",\n".join(json.dumps(p, separators=(",", ":")) for p in pairs))
    out.write("]}\n")


if __name__ == "__main__":
    main()
