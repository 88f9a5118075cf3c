// Test helpers: random writer schemas, random evolutions of them into reader
// schemas (promotions, dropped/added/reordered/aliased fields, enum changes,
// union wrapping), and random values of a schema. Header-only; tests only.
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "avro/datum.h"
#include "avro/schema.h"

namespace braid::avro::testing {

// prefix + decimal number (avoids a g++ 12 -Wrestrict false positive with
// `Numbered("x", n)`).
inline std::string Numbered(const char* prefix, long long n) {
  std::string s(prefix);
  s.append(std::to_string(n));
  return s;
}

class RandomSchemas {
 public:
  explicit RandomSchemas(uint32_t seed) : rng_(seed) {}

  // A random writer schema of at most `depth` nesting levels.
  Json Writer(int depth) {
    int kind = Uniform(0, depth <= 0 ? 7 : 13);
    static const char* kPrims[] = {"null",  "boolean", "int",   "long",
                                   "float", "double",  "bytes", "string"};
    if (kind <= 7) return Json(kPrims[kind]);
    switch (kind) {
      case 8: {
        Json e = {{"type", "enum"}, {"name", NewName("E")}};
        Json syms = Json::array();
        int n = Uniform(1, 5);
        for (int i = 0; i < n; ++i) syms.push_back(Numbered("S", i));
        e["symbols"] = syms;
        return e;
      }
      case 9:
        return {{"type", "fixed"}, {"name", NewName("F")}, {"size", Uniform(0, 6)}};
      case 10:
        return {{"type", "array"}, {"items", Writer(depth - 1)}};
      case 11:
        return {{"type", "map"}, {"values", Writer(depth - 1)}};
      case 12: {
        // A union of distinct unnamed primitive types plus maybe one complex.
        std::vector<std::string> prims = {"null",  "boolean", "int",   "long",
                                          "float", "double",  "bytes", "string"};
        std::shuffle(prims.begin(), prims.end(), rng_);
        Json u = Json::array();
        int n = Uniform(1, 3);
        for (int i = 0; i < n; ++i) u.push_back(prims[static_cast<size_t>(i)]);
        if (Uniform(0, 1) == 1) {
          Json c = Writer(depth - 1);
          if (c.is_object()) u.push_back(c);
        }
        return u;
      }
      default: {
        Json r = {{"type", "record"}, {"name", NewName("R")}};
        Json fields = Json::array();
        int n = Uniform(0, 4);
        for (int i = 0; i < n; ++i) {
          fields.push_back({{"name", Numbered("f", i)}, {"type", Writer(depth - 1)}});
        }
        r["fields"] = fields;
        return r;
      }
    }
  }

  // A reader schema that can read (most) data of `w`.
  Json Evolve(const Json& w) {
    if (w.is_string()) {
      std::string t = w.get<std::string>();
      Json out = w;
      if (t == "int") out = Pick({"int", "long", "float", "double"});
      if (t == "long") out = Pick({"long", "float", "double"});
      if (t == "float") out = Pick({"float", "double"});
      if (t == "string") out = Pick({"string", "bytes"});
      if (t == "bytes") out = Pick({"bytes", "string"});
      return MaybeWrap(out, t);
    }
    if (w.is_array()) {
      Json u = Json::array();
      for (const auto& b : w) u.push_back(EvolveBranch(b));
      // Branch order does not matter to the reader.
      std::vector<Json> v(u.begin(), u.end());
      std::shuffle(v.begin(), v.end(), rng_);
      if (Uniform(0, 4) == 0 && v.size() > 1) v.pop_back();  // lazily failing branch
      return Json(v);
    }
    const std::string type = w["type"];
    if (type == "array") return {{"type", "array"}, {"items", Evolve(w["items"])}};
    if (type == "map") return {{"type", "map"}, {"values", Evolve(w["values"])}};
    if (type == "fixed") return w;
    if (type == "enum") {
      Json e = w;
      Json syms = w["symbols"];
      std::vector<Json> v(syms.begin(), syms.end());
      std::shuffle(v.begin(), v.end(), rng_);
      if (Uniform(0, 2) == 0) v.push_back(Numbered("NEW", Uniform(0, 9)));
      if (v.size() > 1 && Uniform(0, 2) == 0) {
        v.erase(v.begin());  // a writer symbol the reader lacks
        if (Uniform(0, 1) == 0) e["default"] = v.front();
      }
      e["symbols"] = Json(v);
      return e;
    }
    // record
    Json r = w;
    std::vector<Json> fields;
    for (const auto& f : w["fields"]) {
      if (Uniform(0, 5) == 0) continue;  // dropped: the writer's value is skipped
      Json nf = {{"name", f["name"]}, {"type", Evolve(f["type"])}};
      if (Uniform(0, 6) == 0) {
        nf["aliases"] = Json::array({f["name"]});
        nf["name"] = f["name"].get<std::string>() + "_renamed";
      }
      fields.push_back(nf);
    }
    int added = Uniform(0, 2);
    for (int i = 0; i < added; ++i) fields.push_back(NewDefaultedField());
    std::shuffle(fields.begin(), fields.end(), rng_);
    r["fields"] = Json(fields);
    if (Uniform(0, 5) == 0) {
      r["aliases"] = Json::array({r["name"]});
      r["name"] = r["name"].get<std::string>() + "New";
    }
    return r;
  }

  // A random value of `n`.
  Datum Value(const Node& n, int depth = 0) {
    switch (n.type()) {
      case Type::kNull:
        return Datum::Null();
      case Type::kBoolean:
        return Datum::Boolean(Uniform(0, 1) == 1);
      case Type::kInt:
        return Datum::Int(static_cast<int32_t>(Interesting()));
      case Type::kLong:
        return Datum::Long(Interesting() * (Uniform(0, 1) ? 1 : 1000003));
      case Type::kFloat:
        return Datum::Float(static_cast<float>(Interesting()) / 7.0f);
      case Type::kDouble:
        return Datum::Double(static_cast<double>(Interesting()) / 3.0);
      case Type::kBytes:
        return Datum::Bytes(RandomBytes());
      case Type::kString:
        return Datum::String(RandomBytes());
      case Type::kFixed: {
        std::string s(n.fixed_size(), '\0');
        for (char& c : s) c = static_cast<char>(Uniform(0, 255));
        return Datum::Fixed(n, s);
      }
      case Type::kEnum:
        return Datum::Enum(
            n, static_cast<size_t>(Uniform(0, static_cast<int>(n.symbols().size()) - 1)));
      case Type::kArray: {
        std::vector<Datum> items;
        int k = depth > 4 ? 0 : Uniform(0, 3);
        for (int i = 0; i < k; ++i) items.push_back(Value(n.items(), depth + 1));
        return Datum::Array(std::move(items));
      }
      case Type::kMap: {
        std::vector<std::pair<std::string, Datum>> entries;
        int k = depth > 4 ? 0 : Uniform(0, 3);
        for (int i = 0; i < k; ++i) {
          entries.emplace_back(Numbered("k", i), Value(n.values(), depth + 1));
        }
        return Datum::Map(std::move(entries));
      }
      case Type::kUnion: {
        size_t b = static_cast<size_t>(Uniform(0, static_cast<int>(n.branches().size()) - 1));
        // Prefer ending recursion: a null branch once deep.
        if (depth > 4) {
          for (size_t i = 0; i < n.branches().size(); ++i) {
            if (n.branches()[i]->type() == Type::kNull) b = i;
          }
        }
        return Datum::Union(b, Value(*n.branches()[b], depth + 1));
      }
      case Type::kRecord: {
        std::vector<Datum> fields;
        for (const auto& f : n.fields()) fields.push_back(Value(*f.type, depth + 1));
        return Datum::Record(n, std::move(fields));
      }
    }
    return Datum();
  }

  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

 private:
  std::string NewName(const char* prefix) { return Numbered(prefix, next_name_++); }
  Json Pick(std::initializer_list<const char*> options) {
    std::vector<const char*> v(options);
    return Json(v[static_cast<size_t>(Uniform(0, static_cast<int>(v.size()) - 1))]);
  }
  Json MaybeWrap(const Json& t, const std::string& writer_type) {
    if (writer_type == "null" || Uniform(0, 5) != 0) return t;
    return Json::array({"null", t});
  }
  Json EvolveBranch(const Json& b) {
    if (b.is_string()) {
      std::string t = b.get<std::string>();
      return b;  // promotions inside unions would create duplicate branch types
    }
    const std::string type = b["type"];
    if (type == "array") return {{"type", "array"}, {"items", Evolve(b["items"])}};
    if (type == "map") return {{"type", "map"}, {"values", Evolve(b["values"])}};
    return Evolve(b);
  }
  Json NewDefaultedField() {
    std::string name = Numbered("added", next_name_++);
    switch (Uniform(0, 9)) {
      case 0:
        return {{"name", name}, {"type", "int"}, {"default", Uniform(-5, 5)}};
      case 1:
        return {{"name", name}, {"type", "string"}, {"default", "dflt"}};
      case 2:
        return {{"name", name}, {"type", Json::array({"null", "long"})}, {"default", nullptr}};
      case 3:
        return {{"name", name},
                {"type", {{"type", "array"}, {"items", "double"}}},
                {"default", Json::array({1.5, 2.5})}};
      case 4:
        return {{"name", name},
                {"type", {{"type", "map"}, {"values", "boolean"}}},
                {"default", {{"a", true}}}};
      case 5:
        return {{"name", name}, {"type", "bytes"}, {"default", "\u00ff\u0001"}};
      case 6:
        return {{"name", name},
                {"type", {{"type", "enum"}, {"name", NewName("DE")}, {"symbols", {"X", "Y"}}}},
                {"default", "Y"}};
      case 7:
        return {{"name", name},
                {"type", {{"type", "fixed"}, {"name", NewName("DF")}, {"size", 2}}},
                {"default", "ab"}};
      case 8:
        return {{"name", name},
                {"type",
                 {{"type", "record"},
                  {"name", NewName("DR")},
                  {"fields", Json::array({{{"name", "x"}, {"type", "float"}},
                                          {{"name", "y"}, {"type", "string"}}})}}},
                {"default", {{"x", 0.25}, {"y", "why"}}}};
      default:
        return {{"name", name}, {"type", "double"}, {"default", 3.5}};
    }
  }
  int64_t Interesting() {
    switch (Uniform(0, 5)) {
      case 0:
        return 0;
      case 1:
        return Uniform(-64, 64);
      case 2:
        return 2147483647;
      case 3:
        return -2147483647 - 1;
      default:
        return Uniform(-1000000, 1000000);
    }
  }
  std::string RandomBytes() {
    std::string s(static_cast<size_t>(Uniform(0, 12)), '\0');
    for (char& c : s) c = static_cast<char>(Uniform(0, 255));
    return s;
  }

  std::mt19937 rng_;
  int next_name_ = 0;
};

}  // namespace braid::avro::testing
