#include "views/view_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "views/expr_view.h"
#include "views/monoid.h"
#include "views/session.h"

namespace braid::views {

namespace {

constexpr uint64_t kMaxViewFileBytes = 16 << 20;

// The error of one field: "path:line:col: field: message".
class Located {
 public:
  explicit Located(std::string_view path) : path_(path) {}

  Status Error(const YAML::Node& at, std::string_view field, std::string_view message) const {
    return Status::InvalidArgument(Where(at.Mark()) + ": " + std::string(field) + ": " +
                                   std::string(message));
  }
  std::string Where(const YAML::Mark& m) const {
    if (m.is_null()) return path_;
    return path_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }

 private:
  std::string path_;
};

std::string_view NodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "an undefined node";
  }
}

// Edit distance for "did you mean".
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1);
  std::vector<size_t> cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string UnknownField(std::string_view name, std::initializer_list<std::string_view> known) {
  std::string best;
  size_t best_d = 4;  // up to 3 edits
  std::string list;
  for (std::string_view k : known) {
    list += (list.empty() ? "" : ", ") + std::string(k);
    const size_t d = Distance(name, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  std::string msg = "unknown field \"" + std::string(name) + "\"";
  if (!best.empty()) msg += " (did you mean \"" + best + "\"?)";
  return msg + "; fields: " + list;
}

// Iterates a map's entries checking that keys are known scalars, given
// once. `fn(key, value)` handles one entry.
template <typename Fn>
Status ForEachField(const Located& loc, const YAML::Node& map, const std::string& where,
                    std::initializer_list<std::string_view> known, Fn fn) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node it_key = it->first;
    const YAML::Node it_value = it->second;
    const YAML::Node& k = it_key;
    if (!k.IsScalar()) return loc.Error(k, where, "a field name must be a scalar");
    const std::string name = k.Scalar();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return loc.Error(k, where, UnknownField(name, known));
    }
    if (!seen.insert(name).second) return loc.Error(k, where, "field \"" + name + "\" given twice");
    RETURN_IF_ERROR(fn(name, it_value, k));
  }
  return Status::OK();
}

Result<std::string> Scalar(const Located& loc, const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar())
    return loc.Error(n, field, "expected a scalar, got " + std::string(NodeKind(n)));
  return n.Scalar();
}

Result<bool> Bool(const Located& loc, const YAML::Node& n, const std::string& field) {
  ASSIGN_OR_RETURN(std::string s, Scalar(loc, n, field));
  std::string lower = s;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true") return true;
  if (lower == "false") return false;
  return loc.Error(n, field, "expected true or false, got \"" + s + "\"");
}

Result<int64_t> Integer(const Located& loc, const YAML::Node& n, const std::string& field,
                        int64_t min, int64_t max) {
  ASSIGN_OR_RETURN(std::string s, Scalar(loc, n, field));
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return loc.Error(n, field, "expected an integer, got \"" + s + "\"");
  }
  if (v < min || v > max) {
    return loc.Error(n, field,
                     "out of range (" + std::to_string(min) + ".." + std::to_string(max) + ")");
  }
  return v;
}

// An aggregate: a spec string, or a map {type: ..., parameters...}.
Result<MonoidSpec> Aggregate(const Located& loc, const YAML::Node& n, const std::string& field,
                             int depth) {
  if (depth > 8) return loc.Error(n, field, "tuples nested more than 8 deep");
  if (n.IsScalar()) {
    Result<MonoidSpec> spec = ParseMonoidSpec(n.Scalar());
    if (!spec.ok()) return loc.Error(n, field, spec.status().message());
    return spec;
  }
  if (!n.IsMap()) {
    return loc.Error(n, field,
                     "expected a monoid spec (count, hll(p=14), ...) or a map with a type, got " +
                         std::string(NodeKind(n)));
  }
  const YAML::Node type = n["type"];
  if (!type) return loc.Error(n, field, "a monoid map needs a type (count, hll, topk, ...)");
  ASSIGN_OR_RETURN(std::string type_name, Scalar(loc, type, field + ".type"));
  Result<MonoidSpec> base =
      type_name == "tuple" ? Result<MonoidSpec>(MonoidSpec{}) : ParseMonoidSpec(type_name);
  if (!base.ok()) return loc.Error(type, field + ".type", base.status().message());
  MonoidSpec spec = *base;
  using Kind = MonoidSpec::Kind;
  if (type_name == "tuple") spec.kind = Kind::kTuple;
  Status s = ForEachField(
      loc, n, field, {"type", "p", "precision", "k", "capacity", "fields"},
      [&](const std::string& name, const YAML::Node& v, const YAML::Node& key) -> Status {
        const std::string f = field + "." + name;
        if (name == "type") return Status::OK();
        if ((name == "p" || name == "precision") && spec.kind == Kind::kHll) {
          ASSIGN_OR_RETURN(int64_t p, Integer(loc, v, f, 4, 18));
          spec.hll_precision = static_cast<int>(p);
          return Status::OK();
        }
        if (name == "k" && spec.kind == Kind::kTopK) {
          ASSIGN_OR_RETURN(int64_t k, Integer(loc, v, f, 1, 10'000));
          spec.topk_k = static_cast<uint32_t>(k);
          return Status::OK();
        }
        if (name == "capacity" && spec.kind == Kind::kTopK) {
          ASSIGN_OR_RETURN(int64_t c, Integer(loc, v, f, 1, 100'000));
          spec.topk_capacity = static_cast<uint32_t>(c);
          return Status::OK();
        }
        if (name == "k" && spec.kind == Kind::kQuantiles) {
          ASSIGN_OR_RETURN(int64_t k, Integer(loc, v, f, 8, 65'535));
          spec.quantiles_k = static_cast<uint32_t>(k);
          return Status::OK();
        }
        if (name == "fields" && spec.kind == Kind::kTuple) {
          if (!v.IsMap() || v.size() == 0) {
            return loc.Error(v, f, "expected a map of field name to monoid");
          }
          std::set<std::string> names;
          for (auto it = v.begin(); it != v.end(); ++it) {
            const YAML::Node it_key = it->first;
            const YAML::Node it_value = it->second;
            if (!it_key.IsScalar()) return loc.Error(it_key, f, "a field name must be a scalar");
            const std::string fname = it_key.Scalar();
            if (!names.insert(fname).second) {
              return loc.Error(it_key, f, "field \"" + fname + "\" given twice");
            }
            ASSIGN_OR_RETURN(MonoidSpec sub, Aggregate(loc, it_value, f + "." + fname, depth + 1));
            spec.fields.push_back({fname, std::move(sub)});
          }
          return Status::OK();
        }
        return loc.Error(key, field, type_name + " has no parameter \"" + name + "\"");
      });
  RETURN_IF_ERROR(s);
  if (spec.kind == Kind::kTuple && spec.fields.empty()) {
    return loc.Error(n, field, "a tuple needs fields: {name: monoid, ...}");
  }
  Status valid = ValidateMonoidSpec(spec);
  if (!valid.ok()) return loc.Error(n, field, valid.message());
  return spec;
}

// `session: {by: EXPR, gap: DURATION}`.
Status Session(const Located& loc, const YAML::Node& n, const std::string& field,
               ExprViewBuilder* b) {
  if (!n.IsMap()) {
    return loc.Error(n, field,
                     "expected a map {by: person, gap: 30m}, got " + std::string(NodeKind(n)));
  }
  if (!n["by"]) return loc.Error(n, field, "no by (the expression naming a person, e.g. person)");
  if (!n["gap"]) return loc.Error(n, field, "no gap (e.g. 30m: longer pauses start a new visit)");
  std::string by;
  int64_t gap = 0;
  YAML::Node by_node;
  RETURN_IF_ERROR(
      ForEachField(loc, n, field, {"by", "gap"},
                   [&](const std::string& name, const YAML::Node& v, const YAML::Node&) -> Status {
                     const std::string f = field + "." + name;
                     ASSIGN_OR_RETURN(std::string text, Scalar(loc, v, f));
                     if (name == "by") {
                       by = std::move(text);
                       by_node = v;
                     } else {
                       Result<int64_t> parsed = ParseSessionGap(text);
                       if (!parsed.ok()) return loc.Error(v, f, parsed.status().message());
                       gap = *parsed;
                     }
                     return Status::OK();
                   }));
  if (Status s = b->SetSession(by, gap); !s.ok())
    return loc.Error(by_node, field + ".by", s.message());
  return Status::OK();
}

Result<ViewFile::Entry> ParseView(const Located& loc, const YAML::Node& n, size_t index) {
  std::string where = "views[" + std::to_string(index) + "]";
  if (!n.IsMap()) return loc.Error(n, where, "expected a map (name, topic, key, aggregate...)");
  // The name and topic first: they make the messages readable.
  const YAML::Node name_node = n["name"];
  if (!name_node) return loc.Error(n, where, "no name");
  ASSIGN_OR_RETURN(std::string name, Scalar(loc, name_node, where + ".name"));
  if (!ValidViewName(name)) {
    return loc.Error(name_node, where + ".name",
                     "\"" + name + "\" is not a view name ([A-Za-z0-9_.-]{1,200})");
  }
  where += " (" + name + ")";
  const YAML::Node topic_node = n["topic"];
  if (!topic_node) return loc.Error(n, where, "no topic");
  ASSIGN_OR_RETURN(std::string topic, Scalar(loc, topic_node, where + ".topic"));
  if (!ValidTopicName(topic)) {
    return loc.Error(topic_node, where + ".topic",
                     "\"" + topic + "\" is not a topic name ([A-Za-z0-9._-]{1,249})");
  }
  ExprViewBuilder b(name, topic);
  // A session (it decides the aggregate), then the aggregate, before the
  // values.
  const YAML::Node session = n["session"];
  if (session) RETURN_IF_ERROR(Session(loc, session, where + ".session", &b));
  const YAML::Node agg = n["aggregate"];
  if (session) {
    // Sessionised: the aggregate is visits (tuple(visits:count,
    // bounces:sum_int64)); `aggregate:` may say so, in either spelling.
    const std::string f = where + ".aggregate";
    if (agg) {
      bool visits = agg.IsScalar() && agg.Scalar() == "visits";
      if (!visits) {
        ASSIGN_OR_RETURN(MonoidSpec given, Aggregate(loc, agg, f, 0));
        visits = given.ToString() == VisitsMonoidSpec().ToString();
      }
      if (!visits) {
        return loc.Error(agg, f,
                         "a view with a session aggregates visits: write `aggregate: visits` (" +
                             VisitsMonoidSpec().ToString() + ") or leave it out");
      }
    }
    if (Status s = b.SetMonoid(VisitsMonoidSpec()); !s.ok()) return loc.Error(n, f, s.message());
  } else {
    if (!agg) return loc.Error(n, where, "no aggregate (count, sum_int64, hll(p=14), ...)");
    if (agg.IsScalar() && agg.Scalar() == "visits") {
      return loc.Error(agg, where + ".aggregate",
                       "visits needs a session: {by: person, gap: 30m} (docs/views.md)");
    }
    ASSIGN_OR_RETURN(MonoidSpec spec, Aggregate(loc, agg, where + ".aggregate", 0));
    if (Status s = b.SetMonoid(spec); !s.ok())
      return loc.Error(agg, where + ".aggregate", s.message());
  }
  if (!n["key"]) return loc.Error(n, where, "no key (an expression, e.g. normalize_url(url))");
  RETURN_IF_ERROR(ForEachField(
      loc, n, where,
      {"name", "topic", "key", "time", "granularities", "aggregate", "value", "needs_avro",
       "description", "session"},
      [&](const std::string& field, const YAML::Node& v, const YAML::Node&) -> Status {
        const std::string f = where + "." + field;
        if (field == "key" || field == "time") {
          ASSIGN_OR_RETURN(std::string text, Scalar(loc, v, f));
          Status s = field == "key" ? b.SetKey(text) : b.SetTime(text);
          if (!s.ok()) return loc.Error(v, f, s.message());
        } else if (field == "value") {
          if (session) {
            return loc.Error(v, f, "a view with a session counts visits: it takes no value");
          }
          if (v.IsMap()) {
            for (auto it = v.begin(); it != v.end(); ++it) {
              const YAML::Node it_key = it->first;
              const YAML::Node it_value = it->second;
              if (!it_key.IsScalar()) return loc.Error(it_key, f, "expected a field name");
              const std::string fname = it_key.Scalar();
              ASSIGN_OR_RETURN(std::string text, Scalar(loc, it_value, f + "." + fname));
              Status s = b.SetFieldValue(fname, text);
              if (!s.ok()) return loc.Error(it_key, f + "." + fname, s.message());
            }
          } else {
            ASSIGN_OR_RETURN(std::string text, Scalar(loc, v, f));
            Status s = b.SetValue(text);
            if (!s.ok()) return loc.Error(v, f, s.message());
          }
        } else if (field == "granularities") {
          if (!v.IsSequence()) {
            return loc.Error(v, f, "expected a list: [hour, day, week, month, all]");
          }
          std::vector<Granularity> gs;
          for (size_t i = 0; i < v.size(); ++i) {
            ASSIGN_OR_RETURN(std::string g, Scalar(loc, v[i], f));
            Result<Granularity> parsed = ParseGranularity(g);
            if (!parsed.ok()) {
              return loc.Error(v[i], f,
                               "unknown granularity \"" + g + "\" (hour, day, week, month, all)");
            }
            gs.push_back(*parsed);
          }
          Status s = b.SetGranularities(std::move(gs));
          if (!s.ok()) return loc.Error(v, f, s.message());
        } else if (field == "needs_avro") {
          ASSIGN_OR_RETURN(bool on, Bool(loc, v, f));
          b.set_needs_avro(on);
        } else if (field == "description") {
          RETURN_IF_ERROR(Scalar(loc, v, f).status());
        }
        return Status::OK();
      }));
  Result<std::shared_ptr<const ViewDefinition>> view = b.Build();
  if (!view.ok()) return loc.Error(n, where, view.status().message());
  return ViewFile::Entry{std::move(*view), loc.Where(n.Mark())};
}

Result<TopicSettings> ParseTopic(const Located& loc, const YAML::Node& key, const YAML::Node& n) {
  ASSIGN_OR_RETURN(std::string name, Scalar(loc, key, "topics"));
  const std::string where = "topics." + name;
  if (!ValidTopicName(name)) {
    return loc.Error(key, where, "\"" + name + "\" is not a topic name ([A-Za-z0-9._-]{1,249})");
  }
  TopicSettings t;
  t.name = name;
  t.origin = loc.Where(key.Mark());
  if (n.IsNull()) return t;  // `topic:` alone: the defaults
  if (!n.IsMap()) return loc.Error(n, where, "expected a map of settings");
  RETURN_IF_ERROR(ForEachField(
      loc, n, where, {"partitions", "schema_validation", "archive", "time_field", "configs"},
      [&](const std::string& field, const YAML::Node& v, const YAML::Node&) -> Status {
        const std::string f = where + "." + field;
        if (field == "partitions") {
          ASSIGN_OR_RETURN(int64_t p, Integer(loc, v, f, 0, 100'000));
          t.partitions = static_cast<int32_t>(p);
        } else if (field == "schema_validation") {
          ASSIGN_OR_RETURN(t.schema_validation, Bool(loc, v, f));
        } else if (field == "archive") {
          ASSIGN_OR_RETURN(t.archive, Bool(loc, v, f));
        } else if (field == "time_field") {
          ASSIGN_OR_RETURN(t.time_field, Scalar(loc, v, f));
        } else if (field == "configs") {
          if (!v.IsMap()) return loc.Error(v, f, "expected a map of topic configs");
          for (auto it = v.begin(); it != v.end(); ++it) {
            const YAML::Node it_key = it->first;
            const YAML::Node it_value = it->second;
            ASSIGN_OR_RETURN(std::string k, Scalar(loc, it_key, f));
            ASSIGN_OR_RETURN(std::string val, Scalar(loc, it_value, f + "." + k));
            if (k.starts_with("braid.")) {
              return loc.Error(it_key, f + "." + k,
                               "braid's own configs are set by schema_validation, archive and "
                               "time_field");
            }
            if (!t.configs.emplace(k, val).second) {
              return loc.Error(it_key, f + "." + k, "given twice");
            }
          }
        }
        return Status::OK();
      }));
  return t;
}

}  // namespace

Result<ViewFile> ParseViewFile(std::string_view text, std::string_view path) {
  const Located loc(path);
  ViewFile file;
  file.path = std::string(path);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(loc.Where(e.mark) + ": YAML: " + e.msg);
  }
  try {
    if (root.IsNull()) return file;  // an empty file: no views
    if (!root.IsMap()) {
      return loc.Error(root, "(file)", "expected a map with views (and topics)");
    }
    RETURN_IF_ERROR(ForEachField(
        loc, root, "(file)", {"version", "topics", "views"},
        [&](const std::string& field, const YAML::Node& v, const YAML::Node&) -> Status {
          if (field == "version") {
            ASSIGN_OR_RETURN(int64_t version, Integer(loc, v, "version", 1, 1));
            (void)version;
          } else if (field == "topics") {
            if (v.IsNull()) return Status::OK();
            if (!v.IsMap())
              return loc.Error(v, "topics", "expected a map of topic name to settings");
            std::set<std::string> names;
            for (auto it = v.begin(); it != v.end(); ++it) {
              const YAML::Node it_key = it->first;
              const YAML::Node it_value = it->second;
              ASSIGN_OR_RETURN(TopicSettings t, ParseTopic(loc, it_key, it_value));
              if (!names.insert(t.name).second) {
                return loc.Error(it_key, "topics." + t.name, "declared twice");
              }
              file.topics.push_back(std::move(t));
            }
          } else if (field == "views") {
            if (v.IsNull()) return Status::OK();
            if (!v.IsSequence()) return loc.Error(v, "views", "expected a list of views");
            std::set<std::string> names;
            for (size_t i = 0; i < v.size(); ++i) {
              ASSIGN_OR_RETURN(ViewFile::Entry e, ParseView(loc, v[i], i));
              if (!names.insert(e.view->name()).second) {
                return loc.Error(v[i], "views[" + std::to_string(i) + "]",
                                 "a second view named \"" + e.view->name() + "\"");
              }
              file.views.push_back(std::move(e));
            }
          }
          return Status::OK();
        }));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(loc.Where(e.mark) + ": YAML: " + e.msg);
  }
  return file;
}

Result<ViewFile> LoadViewFile(io::FileSystem* fs, const std::string& path) {
  Result<std::string> text = io::ReadFileToString(fs, path, kMaxViewFileBytes);
  if (!text.ok()) return text.status().WithContext("view file " + path);
  return ParseViewFile(*text, path);
}

}  // namespace braid::views
