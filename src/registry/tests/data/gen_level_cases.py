#!/usr/bin/python3
"""Generates level_cases.json: schema-evolution cases with the verdict of every
registry compatibility level, computed with python3-avro's
ReaderWriterCompatibilityChecker (the test oracle named in the brief §3.5).

Run with Debian's interpreter:
    /usr/bin/python3 gen_level_cases.py > level_cases.json

Each case: {"name", "history": [schema, ...] (oldest first), "candidate": schema,
"levels": {LEVEL: compatible}}. "X can read Y" = checker(reader=X, writer=Y)
finds no incompatibility; BACKWARD = candidate reads latest; FORWARD = latest
reads candidate; FULL = both; *_TRANSITIVE = the same against every version.
"""
import json

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType


def rec(fields, name="User", ns="com.example"):
    return {"type": "record", "name": name, "namespace": ns, "fields": fields}


def f(name, typ, **kw):
    d = {"name": name, "type": typ}
    d.update(kw)
    return d


NAME = f("name", "string")
ENUM_AB = {"type": "enum", "name": "Color", "symbols": ["A", "B"]}
ENUM_ABC = {"type": "enum", "name": "Color", "symbols": ["A", "B", "C"]}
ENUM_ABC_DEF = {"type": "enum", "name": "Color", "symbols": ["A", "B", "C"], "default": "A"}
ENUM_AB_DEF = {"type": "enum", "name": "Color", "symbols": ["A", "B"], "default": "A"}

CASES = [
    ("add_field_with_default", [rec([NAME])], rec([NAME, f("age", "int", default=0)])),
    ("add_field_without_default", [rec([NAME])], rec([NAME, f("age", "int")])),
    ("remove_field_with_default", [rec([NAME, f("age", "int", default=0)])], rec([NAME])),
    ("remove_field_without_default", [rec([NAME, f("age", "int")])], rec([NAME])),
    ("int_to_long", [rec([f("n", "int")])], rec([f("n", "long")])),
    ("long_to_int", [rec([f("n", "long")])], rec([f("n", "int")])),
    ("int_to_double", [rec([f("n", "int")])], rec([f("n", "double")])),
    ("float_to_double", [rec([f("n", "float")])], rec([f("n", "double")])),
    ("long_to_float", [rec([f("n", "long")])], rec([f("n", "float")])),
    ("double_to_float", [rec([f("n", "double")])], rec([f("n", "float")])),
    ("string_to_bytes", [rec([f("s", "string")])], rec([f("s", "bytes")])),
    ("bytes_to_string", [rec([f("s", "bytes")])], rec([f("s", "string")])),
    ("int_to_string", [rec([f("n", "int")])], rec([f("n", "string")])),
    ("type_to_union", [rec([f("n", "int")])], rec([f("n", ["null", "int"], default=None)])),
    ("union_to_type", [rec([f("n", ["null", "int"], default=None)])], rec([f("n", "int")])),
    ("union_add_branch", [rec([f("n", ["null", "int"])])], rec([f("n", ["null", "int", "string"])])),
    ("union_remove_branch", [rec([f("n", ["null", "int", "string"])])], rec([f("n", ["null", "int"])])),
    ("union_promote_branch", [rec([f("n", ["null", "int"])])], rec([f("n", ["null", "long"])])),
    ("enum_add_symbol", [rec([f("c", ENUM_AB)])], rec([f("c", ENUM_ABC)])),
    ("enum_remove_symbol", [rec([f("c", ENUM_ABC)])], rec([f("c", ENUM_AB)])),
    ("enum_remove_symbol_with_default", [rec([f("c", ENUM_ABC_DEF)])], rec([f("c", ENUM_AB_DEF)])),
    ("enum_add_symbol_with_default", [rec([f("c", ENUM_AB_DEF)])], rec([f("c", ENUM_ABC_DEF)])),
    ("rename_record", [rec([NAME])], rec([NAME], name="Person")),
    # The alias is written as a fullname: python3-avro compares the writer's
    # fullname with the aliases as written, while Java (and braid) resolve an
    # unqualified alias against the record's namespace.
    ("rename_record_with_alias", [rec([NAME])],
     dict(rec([NAME], name="Person"), aliases=["com.example.User"])),
    ("rename_field_with_alias", [rec([f("a", "int")])], rec([f("b", "int", aliases=["a"])])),
    ("rename_field_without_alias", [rec([f("a", "int")])], rec([f("b", "int")])),
    ("fixed_size_change", [rec([f("x", {"type": "fixed", "name": "F", "size": 4})])],
     rec([f("x", {"type": "fixed", "name": "F", "size": 8})])),
    ("fixed_same", [rec([f("x", {"type": "fixed", "name": "F", "size": 4})])],
     rec([f("x", {"type": "fixed", "name": "F", "size": 4}), f("y", "int", default=1)])),
    ("array_item_promote", [rec([f("a", {"type": "array", "items": "int"})])],
     rec([f("a", {"type": "array", "items": "long"})])),
    ("array_item_demote", [rec([f("a", {"type": "array", "items": "long"})])],
     rec([f("a", {"type": "array", "items": "int"})])),
    ("map_value_promote", [rec([f("m", {"type": "map", "values": "int"})])],
     rec([f("m", {"type": "map", "values": "double"})])),
    ("map_to_array", [rec([f("m", {"type": "map", "values": "int"})])],
     rec([f("m", {"type": "array", "items": "int"})])),
    ("nested_record_add_default", [rec([f("addr", rec([f("city", "string")], name="Addr"))])],
     rec([f("addr", rec([f("city", "string"), f("zip", "string", default="")], name="Addr"))])),
    ("nested_record_add_no_default", [rec([f("addr", rec([f("city", "string")], name="Addr"))])],
     rec([f("addr", rec([f("city", "string"), f("zip", "string")], name="Addr"))])),
    ("primitive_int_to_long", ["int"], "long"),
    ("primitive_string_to_int", ["string"], "int"),
    ("primitive_to_union", ["string"], ["null", "string"]),
    ("doc_change_only", [rec([NAME])], dict(rec([NAME]), doc="a user")),
    ("default_change_only", [rec([NAME, f("age", "int", default=0)])],
     rec([NAME, f("age", "int", default=7)])),
    ("field_reorder", [rec([NAME, f("age", "int")])], rec([f("age", "int"), NAME])),
    # Three-version histories: transitive levels differ from the plain ones.
    ("transitive_readd_with_other_type",
     [rec([NAME, f("f", "int")]), rec([NAME])], rec([NAME, f("f", "string", default="")])),
    ("transitive_add_then_require",
     [rec([NAME]), rec([NAME, f("age", "int", default=0)])], rec([NAME, f("age", "int")])),
    ("transitive_drop_defaulted",
     [rec([NAME, f("a", "int")]), rec([NAME, f("a", "int", default=0)])], rec([NAME])),
    ("transitive_promote_chain",
     [rec([f("n", "int")]), rec([f("n", "long")])], rec([f("n", "double")])),
    ("transitive_enum_grow",
     [rec([f("c", ENUM_AB)]), rec([f("c", ENUM_ABC)])],
     rec([f("c", {"type": "enum", "name": "Color", "symbols": ["A", "B", "C", "D"]})])),
    ("transitive_all_defaults",
     [rec([NAME, f("a", "int", default=0)]), rec([NAME, f("a", "int", default=0), f("b", "int", default=0)])],
     rec([NAME, f("b", "int", default=0)])),
    ("recursive_list_add_default",
     [{"type": "record", "name": "Node", "fields": [f("v", "int"), f("next", ["null", "Node"], default=None)]}],
     {"type": "record", "name": "Node", "fields": [f("v", "int"), f("next", ["null", "Node"], default=None),
                                                  f("w", "long", default=0)]}),
]


def can_read(reader, writer):
    r = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
    return r.compatibility == SchemaCompatibilityType.compatible


def main():
    out = []
    for name, history, cand in CASES:
        hs = [avro.schema.parse(json.dumps(h)) for h in history]
        c = avro.schema.parse(json.dumps(cand))
        back = [can_read(c, h) for h in hs]
        fwd = [can_read(h, c) for h in hs]
        levels = {
            "NONE": True,
            "BACKWARD": back[-1],
            "BACKWARD_TRANSITIVE": all(back),
            "FORWARD": fwd[-1],
            "FORWARD_TRANSITIVE": all(fwd),
            "FULL": back[-1] and fwd[-1],
            "FULL_TRANSITIVE": all(back) and all(fwd),
        }
        out.append({"name": name, "history": [json.dumps(h) for h in history],
                    "candidate": json.dumps(cand), "levels": levels})
    json.dump(out, __import__("sys").stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
