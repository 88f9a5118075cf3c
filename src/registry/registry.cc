#include "registry/registry.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/logging.h"
#include "base/strings.h"

namespace braid::registry {

namespace {

using Json = nlohmann::ordered_json;
using Query = std::map<std::string, std::string>;

// Confluent error codes (io.confluent.kafka.schemaregistry.rest.exceptions).
constexpr int kSubjectNotFound = 40401;
constexpr int kVersionNotFound = 40402;
constexpr int kSchemaNotFound = 40403;
constexpr int kSubjectSoftDeleted = 40404;
constexpr int kSubjectNotSoftDeleted = 40405;
constexpr int kVersionSoftDeleted = 40406;
constexpr int kVersionNotSoftDeleted = 40407;
constexpr int kSubjectLevelCompatibilityNotConfigured = 40408;
constexpr int kIncompatibleSchema = 409;
constexpr int kInvalidSchema = 42201;
constexpr int kInvalidVersion = 42202;
constexpr int kInvalidCompatibilityLevel = 42203;
constexpr int kInvalidMode = 42204;
constexpr int kInvalidSubject = 42208;
constexpr int kStoreError = 50001;

constexpr std::string_view kContentType = "application/vnd.schemaregistry.v1+json";
constexpr int32_t kLatest = -1;

HttpResult Ok(const Json& j) {
  return HttpResult{200, std::string(kContentType),
                    j.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

HttpResult Error(int http_status, int error_code, std::string message) {
  Json j;
  j["error_code"] = error_code;
  j["message"] = std::move(message);
  return HttpResult{http_status, std::string(kContentType),
                    j.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

HttpResult SubjectNotFound(const std::string& subject) {
  return Error(404, kSubjectNotFound, "Subject '" + subject + "' not found.");
}
HttpResult VersionNotFound(int32_t version) {
  return Error(404, kVersionNotFound, "Version " + std::to_string(version) + " not found.");
}
HttpResult InvalidVersion(const std::string& version) {
  return Error(422, kInvalidVersion,
               "The specified version '" + version +
                   "' is not a valid version id. Allowed values are between [1, 2^31-1] and "
                   "the string \"latest\"");
}
HttpResult InvalidLevel() {
  return Error(422, kInvalidCompatibilityLevel,
               "Invalid compatibility level. Valid values are none, backward, forward, full, "
               "backward_transitive, forward_transitive, and full_transitive");
}

bool QueryFlag(const Query& q, const std::string& name) {
  auto it = q.find(name);
  if (it == q.end()) return false;
  std::string v = it->second;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true";
}

// "latest" and "-1" → kLatest; 1..2^31-1 → itself; nullopt otherwise.
std::optional<int32_t> ParseVersion(const std::string& text) {
  if (text == "latest") return kLatest;
  int32_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  if (v == -1) return kLatest;
  if (v < 1) return std::nullopt;
  return v;
}

// Well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

// Confluent rejects empty subjects and control characters; braid also needs
// valid UTF-8 (subjects are stored in JSON).
bool ValidSubject(const std::string& s) {
  if (s.empty() || !ValidUtf8(s)) return false;
  return std::none_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

std::vector<std::string> SplitPath(std::string_view raw) {
  std::vector<std::string> segs;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t next = raw.find('/', pos);
    if (next == std::string_view::npos) next = raw.size();
    if (next > pos) segs.push_back(PercentDecode(raw.substr(pos, next - pos)));
    pos = next + 1;
  }
  return segs;
}

Query ParseQuery(std::string_view q) {
  Query out;
  size_t pos = 0;
  while (pos < q.size()) {
    size_t amp = q.find('&', pos);
    if (amp == std::string_view::npos) amp = q.size();
    std::string_view kv = q.substr(pos, amp - pos);
    size_t eq = kv.find('=');
    std::string k = PercentDecode(kv.substr(0, eq));
    std::string v = eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1));
    std::replace(k.begin(), k.end(), '+', ' ');
    std::replace(v.begin(), v.end(), '+', ' ');
    if (!k.empty()) out.emplace(std::move(k), std::move(v));
    pos = amp + 1;
  }
  return out;
}

bool AcceptedContentType(std::string_view ct) {
  size_t semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  while (!ct.empty() && ct.front() == ' ') ct.remove_prefix(1);
  std::string lower(ct);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower.empty() || lower == "application/vnd.schemaregistry.v1+json" ||
         lower == "application/vnd.schemaregistry+json" || lower == "application/json" ||
         lower == "application/octet-stream";
}

// A parsed {"schema": ..., "schemaType"?, "references"?} request body.
struct SchemaRequest {
  avro::Schema schema;
  std::string text;  // canonical text (schema.ToJson())
};

// Parses a schema request; on failure fills *error.
std::optional<SchemaRequest> ParseSchemaRequest(std::string_view body, HttpResult* error) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *error = Error(400, 400, "Request body is not a JSON object");
    return std::nullopt;
  }
  auto type_it = j.find("schemaType");
  if (type_it != j.end() && !type_it->is_null()) {
    if (!type_it->is_string() || type_it->get<std::string>() != "AVRO") {
      *error =
          Error(422, kInvalidSchema,
                "Invalid schema type " + type_it->dump() + ": braid's registry supports AVRO only");
      return std::nullopt;
    }
  }
  auto refs_it = j.find("references");
  if (refs_it != j.end() && !refs_it->is_null() && !(refs_it->is_array() && refs_it->empty())) {
    *error = Error(422, kInvalidSchema, "Schema references are not supported by braid's registry");
    return std::nullopt;
  }
  auto schema_it = j.find("schema");
  if (schema_it == j.end() || !schema_it->is_string() ||
      schema_it->get_ref<const std::string&>().empty()) {
    *error = Error(422, kInvalidSchema, "Empty schema");
    return std::nullopt;
  }
  Result<avro::Schema> parsed =
      avro::ParseSchema(std::string_view(schema_it->get_ref<const std::string&>()));
  if (!parsed.ok()) {
    *error =
        Error(422, kInvalidSchema, "Invalid schema: " + std::string(parsed.status().message()));
    return std::nullopt;
  }
  SchemaRequest req;
  req.schema = std::move(*parsed);
  req.text = req.schema.ToJson();
  return req;
}

std::string SchemaKey(const std::string& subject, int32_t version) {
  Json k;
  k["keytype"] = "SCHEMA";
  k["subject"] = subject;
  k["version"] = version;
  k["magic"] = 1;
  return k.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string SchemaValue(const std::string& subject, int32_t version, int32_t id,
                        const std::string& text, bool deleted) {
  Json v;
  v["subject"] = subject;
  v["version"] = version;
  v["id"] = id;
  v["schema"] = text;
  v["deleted"] = deleted;
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string ConfigKey(const std::string* subject) {
  Json k;
  k["keytype"] = "CONFIG";
  k["subject"] = subject ? Json(*subject) : Json(nullptr);
  k["magic"] = 0;
  return k.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string ConfigValue(CompatibilityLevel level) {
  Json v;
  v["compatibilityLevel"] = std::string(avro::CompatibilityLevelName(level));
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// braid's own record: the next global id, written with hard deletes so that
// an id is never handed out again after compaction removed its last version.
std::string NextIdKey() { return R"({"keytype":"BRAID_NEXT_ID","magic":0})"; }

const Json* Member(const Json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

}  // namespace

std::vector<std::string> CheckCompatibility(
    CompatibilityLevel level, const avro::Schema& candidate,
    const std::vector<std::pair<int32_t, const avro::Schema*>>& existing) {
  std::vector<std::string> messages;
  if (level == CompatibilityLevel::kNone || existing.empty()) return messages;
  const bool transitive = level == CompatibilityLevel::kBackwardTransitive ||
                          level == CompatibilityLevel::kForwardTransitive ||
                          level == CompatibilityLevel::kFullTransitive;
  const bool backward =
      level != CompatibilityLevel::kForward && level != CompatibilityLevel::kForwardTransitive;
  const bool forward =
      level != CompatibilityLevel::kBackward && level != CompatibilityLevel::kBackwardTransitive;
  const size_t first = transitive ? 0 : existing.size() - 1;
  for (size_t i = existing.size(); i-- > first;) {
    const auto& [version, old] = existing[i];
    auto describe = [&](const avro::CompatibilityResult& r, const char* direction) {
      for (const avro::Incompatibility& inc : r.incompatibilities) {
        messages.push_back(
            "Incompatibility{type:" + std::string(avro::IncompatibilityKindName(inc.kind)) +
            ", location:" + inc.location + ", message:" + inc.message + ", " + direction + "}");
      }
    };
    if (backward) {
      avro::CompatibilityResult r = avro::CheckReaderWriter(candidate, *old);
      if (!r.compatible) describe(r, "reader:new schema, writer:old schema");
    }
    if (forward) {
      avro::CompatibilityResult r = avro::CheckReaderWriter(*old, candidate);
      if (!r.compatible) describe(r, "reader:old schema, writer:new schema");
    }
    if (!messages.empty()) {
      messages.push_back("{oldSchemaVersion: " + std::to_string(version) + "}");
      messages.push_back("{oldSchema: '" + old->ToJson() + "'}");
      messages.push_back("{compatibility: '" + std::string(avro::CompatibilityLevelName(level)) +
                         "'}");
      break;
    }
  }
  return messages;
}

Registry::Registry(RegistryOptions options, std::unique_ptr<Store> store)
    : options_(options), store_(std::move(store)) {}

Result<std::unique_ptr<Registry>> Registry::Open(RegistryOptions options,
                                                 std::unique_ptr<Store> store) {
  std::unique_ptr<Registry> r(new Registry(options, std::move(store)));
  std::lock_guard<std::mutex> lock(r->mu_);
  size_t count = 0;
  RETURN_IF_ERROR(r->store_->Replay([&](const StoreRecord& rec) {
    ++count;
    Status st = r->ApplyRecord(rec);
    if (!st.ok())
      LOG_WARN("schema registry: skipping stored record {}: {}", rec.key, st.ToString());
    return Status::OK();
  }));
  LOG_DEBUG("schema registry: replayed {} records, {} subjects, next id {}", count,
            r->subjects_.size(), r->next_id_);
  return r;
}

uint64_t Registry::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

// ---------------------------------------------------------------------------
// State

void Registry::PutVersion(const std::string& subject, int32_t version, int32_t id, bool deleted,
                          const std::string& text, const avro::Schema* parsed) {
  SchemaEntry& entry = schemas_[id];
  if (entry.schema == nullptr) {
    auto rs = std::make_shared<RegisteredSchema>();
    rs->id = SchemaId(id);
    rs->text = text;
    rs->schema = *parsed;
    entry.schema = std::move(rs);
    id_by_text_.emplace(text, id);
  }
  ++entry.refs;
  Subject& s = subjects_[subject];
  auto it = s.versions.find(version);
  if (it != s.versions.end()) {
    const int32_t old_id = it->second.id;
    it->second = VersionEntry{id, deleted};
    auto old = schemas_.find(old_id);
    if (old != schemas_.end() && --old->second.refs <= 0) {
      auto t = id_by_text_.find(old->second.schema->text);
      if (t != id_by_text_.end() && t->second == old_id) id_by_text_.erase(t);
      schemas_.erase(old);
    }
  } else {
    s.versions.emplace(version, VersionEntry{id, deleted});
  }
  next_id_ = std::max(next_id_, id + 1);
}

void Registry::RemoveVersion(const std::string& subject, int32_t version) {
  auto sit = subjects_.find(subject);
  if (sit == subjects_.end()) return;
  auto vit = sit->second.versions.find(version);
  if (vit == sit->second.versions.end()) return;
  const int32_t id = vit->second.id;
  sit->second.versions.erase(vit);
  auto old = schemas_.find(id);
  if (old != schemas_.end() && --old->second.refs <= 0) {
    auto t = id_by_text_.find(old->second.schema->text);
    if (t != id_by_text_.end() && t->second == id) id_by_text_.erase(t);
    schemas_.erase(old);
  }
  if (sit->second.versions.empty() && !sit->second.level) subjects_.erase(sit);
}

Status Registry::ApplyRecord(const StoreRecord& record) {
  Json key = Json::parse(record.key, nullptr, false);
  const Json* keytype = Member(key, "keytype");
  if (keytype == nullptr || !keytype->is_string()) {
    return Status::Corruption("registry record key has no keytype");
  }
  const std::string& kt = keytype->get_ref<const std::string&>();
  Json value;
  if (record.value) {
    value = Json::parse(*record.value, nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
      return Status::Corruption("registry record value is not a JSON object");
    }
  }
  ++generation_;
  if (kt == "SCHEMA") {
    const Json* subj = Member(key, "subject");
    const Json* ver = Member(key, "version");
    if (!subj || !subj->is_string() || !ver || !ver->is_number_integer()) {
      return Status::Corruption("SCHEMA key without subject/version");
    }
    const std::string subject = subj->get<std::string>();
    const int64_t version = ver->get<int64_t>();
    if (version < 1 || version > std::numeric_limits<int32_t>::max()) {
      return Status::Corruption("SCHEMA key with invalid version");
    }
    if (!record.value) {
      RemoveVersion(subject, static_cast<int32_t>(version));
      return Status::OK();
    }
    const Json* id = Member(value, "id");
    const Json* schema = Member(value, "schema");
    const Json* deleted = Member(value, "deleted");
    const Json* type = Member(value, "schemaType");
    if (type && type->is_string() && type->get<std::string>() != "AVRO") {
      return Status::Unimplemented("non-Avro schema ignored");
    }
    if (!id || !id->is_number_integer() || !schema || !schema->is_string()) {
      return Status::Corruption("SCHEMA value without id/schema");
    }
    const int64_t id_value = id->get<int64_t>();
    if (id_value < 1 || id_value >= std::numeric_limits<int32_t>::max()) {
      return Status::Corruption("SCHEMA value with invalid id");
    }
    const std::string& text = schema->get_ref<const std::string&>();
    auto known = schemas_.find(static_cast<int32_t>(id_value));
    avro::Schema parsed;
    if (known == schemas_.end()) {
      ASSIGN_OR_RETURN(parsed, avro::ParseSchema(std::string_view(text)));
    } else {
      parsed = known->second.schema->schema;
    }
    PutVersion(subject, static_cast<int32_t>(version), static_cast<int32_t>(id_value),
               deleted && deleted->is_boolean() && deleted->get<bool>(), text, &parsed);
    return Status::OK();
  }
  if (kt == "CONFIG") {
    const Json* subj = Member(key, "subject");
    std::optional<CompatibilityLevel> level;
    if (record.value) {
      const Json* l = Member(value, "compatibilityLevel");
      if (!l || !l->is_string()) return Status::Corruption("CONFIG value without level");
      Result<CompatibilityLevel> parsed = avro::ParseCompatibilityLevel(l->get<std::string>());
      if (!parsed.ok()) return parsed.status();
      level = *parsed;
    }
    if (subj == nullptr || subj->is_null()) {
      global_level_ = level;
    } else if (subj->is_string()) {
      const std::string subject = subj->get<std::string>();
      if (level) {
        subjects_[subject].level = level;
      } else if (auto it = subjects_.find(subject); it != subjects_.end()) {
        it->second.level.reset();
        if (it->second.versions.empty()) subjects_.erase(it);
      }
    }
    return Status::OK();
  }
  if (kt == "DELETE_SUBJECT") {
    // Written by Confluent's registry on a soft subject delete: every version
    // up to `version` is deleted.
    if (!record.value) return Status::OK();
    const Json* subj = Member(value, "subject");
    const Json* ver = Member(value, "version");
    if (!subj || !subj->is_string() || !ver || !ver->is_number_integer()) {
      return Status::Corruption("DELETE_SUBJECT value without subject/version");
    }
    auto it = subjects_.find(subj->get<std::string>());
    if (it != subjects_.end()) {
      for (auto& [v, e] : it->second.versions) {
        if (v <= ver->get<int64_t>()) e.deleted = true;
      }
    }
    return Status::OK();
  }
  if (kt == "BRAID_NEXT_ID") {
    const Json* n = Member(value, "next_id");
    if (n && n->is_number_integer() && n->get<int64_t>() > 0 &&
        n->get<int64_t>() < std::numeric_limits<int32_t>::max()) {
      next_id_ = std::max(next_id_, static_cast<int32_t>(n->get<int64_t>()));
    }
    return Status::OK();
  }
  return Status::OK();  // NOOP, MODE, CLEAR_SUBJECT...: nothing to do
}

Status Registry::AppendAndApply(const std::vector<StoreRecord>& records) {
  RETURN_IF_ERROR(store_->Append(records));
  for (const StoreRecord& r : records) {
    Status st = ApplyRecord(r);
    if (!st.ok()) LOG_ERROR("schema registry: applying own record failed: {}", st.ToString());
  }
  return Status::OK();
}

const Registry::Subject* Registry::FindSubject(const std::string& subject) const {
  auto it = subjects_.find(subject);
  return it == subjects_.end() ? nullptr : &it->second;
}

bool Registry::HasLiveVersions(const Subject& s) const {
  return std::any_of(s.versions.begin(), s.versions.end(),
                     [](const auto& v) { return !v.second.deleted; });
}

CompatibilityLevel Registry::LevelFor(const std::string& subject) const {
  const Subject* s = FindSubject(subject);
  if (s && s->level) return *s->level;
  return global_level_.value_or(options_.default_level);
}

// ---------------------------------------------------------------------------
// Typed API

Result<std::shared_ptr<const RegisteredSchema>> Registry::GetSchemaById(SchemaId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = schemas_.find(id.value());
  if (it == schemas_.end()) {
    return Status::NotFound("schema id " + std::to_string(id.value()) + " not found");
  }
  return it->second.schema;
}

bool Registry::IsRegisteredUnder(std::string_view subject, SchemaId id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Subject* s = FindSubject(std::string(subject));
  if (s == nullptr) return false;
  return std::any_of(s->versions.begin(), s->versions.end(),
                     [&](const auto& v) { return !v.second.deleted && v.second.id == id.value(); });
}

Result<SchemaId> Registry::Register(std::string_view subject, std::string_view schema_text) {
  Json body;
  body["schema"] = std::string(schema_text);
  std::string encoded;
  for (unsigned char c : subject) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  HttpResult r = Handle("POST", "/subjects/" + encoded + "/versions", {},
                        body.dump(-1, ' ', false, Json::error_handler_t::replace));
  Json j = Json::parse(r.body, nullptr, false);
  if (r.status == 200 && j.is_object() && j.contains("id")) {
    return SchemaId(j["id"].get<int32_t>());
  }
  std::string message = j.is_object() && j.contains("message") && j["message"].is_string()
                            ? j["message"].get<std::string>()
                            : r.body;
  if (r.status == 409) return Status::FailedPrecondition(message);
  if (r.status >= 500) return Status::IOError(message);
  return Status::InvalidArgument(message);
}

// ---------------------------------------------------------------------------
// REST

HttpResult Registry::HandleTarget(std::string_view method, std::string_view target,
                                  std::string_view body, std::string_view content_type) {
  size_t q = target.find('?');
  Query query = q == std::string_view::npos ? Query() : ParseQuery(target.substr(q + 1));
  return Handle(method, target.substr(0, q), query, body, content_type);
}

HttpResult Registry::Handle(std::string_view method, std::string_view raw_path, const Query& query,
                            std::string_view body, std::string_view content_type) {
  if (!body.empty() && !AcceptedContentType(content_type)) {
    return Error(415, 415, "HTTP 415 Unsupported Media Type");
  }
  if (body.size() > options_.max_body_bytes) {
    return Error(413, 413, "Request body larger than " + std::to_string(options_.max_body_bytes));
  }
  std::vector<std::string> segs = SplitPath(raw_path);
  std::lock_guard<std::mutex> lock(mu_);
  return Route(method, segs, query, body);
}

HttpResult Registry::Route(std::string_view method, const std::vector<std::string>& segs,
                           const Query& query, std::string_view body) {
  const size_t n = segs.size();
  auto is = [&](size_t i, std::string_view s) { return i < n && segs[i] == s; };
  bool path_known = false;
  auto m = [&](std::string_view want) {
    path_known = true;
    return method == want;
  };

  if (n == 0) {
    if (m("GET")) return Ok(Json::object());
  } else if (is(0, "schemas")) {
    if (n == 2 && is(1, "types")) {
      if (m("GET")) return Ok(Json::array({"AVRO"}));
    } else if (n >= 3 && n <= 4 && is(1, "ids")) {
      std::string what = n == 4 ? segs[3] : "";
      if (what.empty() || what == "schema" || what == "versions" || what == "subjects") {
        if (m("GET")) return GetSchemaByIdRest(segs[2], what);
      }
    }
  } else if (is(0, "subjects")) {
    if (n == 1) {
      if (m("GET")) return ListSubjects(query);
    } else if (n == 2) {
      if (m("POST")) return LookupRest(segs[1], body, query);
      if (m("DELETE")) return DeleteSubject(segs[1], query);
    } else if (n == 3 && is(2, "versions")) {
      if (m("GET")) return ListVersions(segs[1], query);
      if (m("POST")) return RegisterRest(segs[1], body);
    } else if (n == 4 && is(2, "versions")) {
      if (m("GET")) return GetVersion(segs[1], segs[3], query, false);
      if (m("DELETE")) return DeleteVersion(segs[1], segs[3], query);
    } else if (n == 5 && is(2, "versions") && (is(4, "schema") || is(4, "referencedby"))) {
      if (m("GET")) {
        HttpResult r = GetVersion(segs[1], segs[3], query, is(4, "schema"));
        if (r.status == 200 && is(4, "referencedby")) return Ok(Json::array());
        return r;
      }
    }
  } else if (is(0, "config")) {
    if (n <= 2) {
      const std::string* subject = n == 2 ? &segs[1] : nullptr;
      if (m("GET")) return GetConfig(subject, query);
      if (m("PUT")) return PutConfig(subject, body);
      if (m("DELETE")) return DeleteConfig(subject);
    }
  } else if (is(0, "mode")) {
    if (n <= 2) {
      if (m("GET")) return Ok(Json{{"mode", "READWRITE"}});
      if (m("PUT")) {
        Json j = Json::parse(body, nullptr, false);
        if (j.is_object() && j.contains("mode") && j["mode"] == "READWRITE") {
          return Ok(Json{{"mode", "READWRITE"}});
        }
        return Error(422, kInvalidMode, "Invalid mode. braid's registry supports READWRITE only");
      }
    }
  } else if (is(0, "compatibility")) {
    if ((n == 4 || n == 5) && is(1, "subjects") && is(3, "versions")) {
      if (m("POST")) {
        return TestCompatibility(segs[2], n == 5 ? &segs[4] : nullptr, body, query);
      }
    }
  }
  if (path_known) return Error(405, 405, "HTTP 405 Method Not Allowed");
  return Error(404, 404, "HTTP 404 Not Found");
}

HttpResult Registry::GetSchemaByIdRest(const std::string& id_text, std::string_view what) {
  int32_t id = 0;
  auto [p, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  auto it = ec == std::errc() && p == id_text.data() + id_text.size() ? schemas_.find(id)
                                                                      : schemas_.end();
  if (it == schemas_.end()) return Error(404, kSchemaNotFound, "Schema " + id_text + " not found");
  if (what.empty()) return Ok(Json{{"schema", it->second.schema->text}});
  if (what == "schema") {
    return HttpResult{200, std::string(kContentType), it->second.schema->text};
  }
  Json out = Json::array();
  for (const auto& [name, s] : subjects_) {
    bool listed = false;
    for (const auto& [v, e] : s.versions) {
      if (e.id != id || e.deleted) continue;
      if (what == "versions") {
        out.push_back(Json{{"subject", name}, {"version", v}});
      } else if (!listed) {
        out.push_back(name);
        listed = true;
      }
    }
  }
  return Ok(out);
}

HttpResult Registry::ListSubjects(const Query& query) {
  const bool deleted = QueryFlag(query, "deleted");
  auto prefix_it = query.find("subjectPrefix");
  Json out = Json::array();
  for (const auto& [name, s] : subjects_) {
    if (s.versions.empty()) continue;
    if (!deleted && !HasLiveVersions(s)) continue;
    if (prefix_it != query.end() && name.rfind(prefix_it->second, 0) != 0) continue;
    out.push_back(name);
  }
  return Ok(out);
}

HttpResult Registry::ListVersions(const std::string& subject, const Query& query) {
  const bool deleted = QueryFlag(query, "deleted");
  const Subject* s = FindSubject(subject);
  if (s == nullptr || s->versions.empty() || (!deleted && !HasLiveVersions(*s))) {
    return SubjectNotFound(subject);
  }
  Json out = Json::array();
  for (const auto& [v, e] : s->versions) {
    if (deleted || !e.deleted) out.push_back(v);
  }
  return Ok(out);
}

HttpResult Registry::GetVersion(const std::string& subject, const std::string& version_text,
                                const Query& query, bool schema_only) {
  std::optional<int32_t> version = ParseVersion(version_text);
  if (!version) return InvalidVersion(version_text);
  const bool deleted = QueryFlag(query, "deleted");
  const Subject* s = FindSubject(subject);
  if (s == nullptr || s->versions.empty() || (!deleted && !HasLiveVersions(*s))) {
    return SubjectNotFound(subject);
  }
  int32_t v = *version;
  const VersionEntry* entry = nullptr;
  if (v == kLatest) {
    for (auto it = s->versions.rbegin(); it != s->versions.rend(); ++it) {
      if (deleted || !it->second.deleted) {
        v = it->first;
        entry = &it->second;
        break;
      }
    }
  } else if (auto it = s->versions.find(v); it != s->versions.end()) {
    if (deleted || !it->second.deleted) entry = &it->second;
  }
  if (entry == nullptr) return VersionNotFound(v);
  const std::string& text = schemas_.at(entry->id).schema->text;
  if (schema_only) return HttpResult{200, std::string(kContentType), text};
  Json out;
  out["subject"] = subject;
  out["version"] = v;
  out["id"] = entry->id;
  out["schema"] = text;
  return Ok(out);
}

Result<SchemaId> Registry::RegisterLocked(const std::string& subject, const avro::Schema& schema,
                                          HttpResult* error) {
  const std::string text = schema.ToJson();
  const Subject* s = FindSubject(subject);
  std::vector<std::pair<int32_t, const avro::Schema*>> live;
  int32_t max_version = 0;
  if (s != nullptr) {
    for (const auto& [v, e] : s->versions) {
      max_version = std::max(max_version, v);
      if (e.deleted) continue;
      const RegisteredSchema& rs = *schemas_.at(e.id).schema;
      if (rs.text == text) return SchemaId(e.id);  // already registered: no write
      live.emplace_back(v, &rs.schema);
    }
  }
  std::vector<std::string> messages = CheckCompatibility(LevelFor(subject), schema, live);
  if (!messages.empty()) {
    std::string details;
    for (const std::string& msg : messages) details += (details.empty() ? "" : ", ") + msg;
    *error = Error(409, kIncompatibleSchema,
                   "Schema being registered is incompatible with an earlier schema for subject \"" +
                       subject + "\", details: [" + details + "]");
    return Status::FailedPrecondition("incompatible");
  }
  auto known = id_by_text_.find(text);
  const int32_t id = known != id_by_text_.end() ? known->second : next_id_;
  if (id == std::numeric_limits<int32_t>::max() ||
      max_version == std::numeric_limits<int32_t>::max()) {
    *error = Error(500, kStoreError, "schema id or version space exhausted");
    return Status::ResourceExhausted("ids exhausted");
  }
  const int32_t version = max_version + 1;
  Status st = AppendAndApply(
      {StoreRecord{SchemaKey(subject, version), SchemaValue(subject, version, id, text, false)}});
  if (!st.ok()) {
    *error = Error(500, kStoreError, "Error while registering the schema: " + st.ToString());
    return st;
  }
  return SchemaId(id);
}

HttpResult Registry::RegisterRest(const std::string& subject, std::string_view body) {
  if (!ValidSubject(subject)) {
    return Error(422, kInvalidSubject, "The specified subject '" + subject + "' is not valid");
  }
  HttpResult error;
  std::optional<SchemaRequest> req = ParseSchemaRequest(body, &error);
  if (!req) return error;
  Result<SchemaId> id = RegisterLocked(subject, req->schema, &error);
  if (!id.ok()) return error;
  return Ok(Json{{"id", id->value()}});
}

HttpResult Registry::LookupRest(const std::string& subject, std::string_view body,
                                const Query& query) {
  HttpResult error;
  std::optional<SchemaRequest> req = ParseSchemaRequest(body, &error);
  if (!req) return error;
  const bool deleted = QueryFlag(query, "deleted");
  const Subject* s = FindSubject(subject);
  if (s == nullptr || s->versions.empty() || (!deleted && !HasLiveVersions(*s))) {
    return SubjectNotFound(subject);
  }
  for (const auto& [v, e] : s->versions) {
    if (e.deleted && !deleted) continue;
    const RegisteredSchema& rs = *schemas_.at(e.id).schema;
    if (rs.text != req->text) continue;
    Json out;
    out["subject"] = subject;
    out["version"] = v;
    out["id"] = e.id;
    out["schema"] = rs.text;
    return Ok(out);
  }
  return Error(404, kSchemaNotFound, "Schema not found");
}

HttpResult Registry::DeleteSubject(const std::string& subject, const Query& query) {
  const bool permanent = QueryFlag(query, "permanent");
  const Subject* s = FindSubject(subject);
  if (s == nullptr || s->versions.empty()) return SubjectNotFound(subject);
  std::vector<StoreRecord> records;
  Json deleted = Json::array();
  if (!permanent) {
    if (!HasLiveVersions(*s)) {
      return Error(
          404, kSubjectSoftDeleted,
          "Subject '" + subject + "' was soft deleted.Set permanent=true to delete permanently");
    }
    for (const auto& [v, e] : s->versions) {
      if (e.deleted) continue;
      records.push_back(StoreRecord{
          SchemaKey(subject, v),
          SchemaValue(subject, v, e.id, schemas_.at(e.id).schema->text, /*deleted=*/true)});
      deleted.push_back(v);
    }
  } else {
    if (HasLiveVersions(*s)) {
      return Error(
          404, kSubjectNotSoftDeleted,
          "Subject '" + subject + "' was not deleted first before being permanently deleted");
    }
    for (const auto& [v, e] : s->versions) {
      records.push_back(StoreRecord{SchemaKey(subject, v), std::nullopt});
      deleted.push_back(v);
    }
    if (s->level) records.push_back(StoreRecord{ConfigKey(&subject), std::nullopt});
    records.push_back(StoreRecord{
        NextIdKey(),
        Json{{"next_id", next_id_}}.dump(-1, ' ', false, Json::error_handler_t::replace)});
  }
  Status st = AppendAndApply(records);
  if (!st.ok())
    return Error(500, kStoreError, "Error while deleting the subject: " + st.ToString());
  return Ok(deleted);
}

HttpResult Registry::DeleteVersion(const std::string& subject, const std::string& version_text,
                                   const Query& query) {
  std::optional<int32_t> version = ParseVersion(version_text);
  if (!version) return InvalidVersion(version_text);
  const bool permanent = QueryFlag(query, "permanent");
  const Subject* s = FindSubject(subject);
  if (s == nullptr || s->versions.empty() || (!permanent && !HasLiveVersions(*s))) {
    return SubjectNotFound(subject);
  }
  int32_t v = *version;
  if (v == kLatest) {
    for (auto it = s->versions.rbegin(); it != s->versions.rend(); ++it) {
      if (permanent || !it->second.deleted) {
        v = it->first;
        break;
      }
    }
  }
  auto it = s->versions.find(v);
  if (it == s->versions.end()) return VersionNotFound(v);
  const VersionEntry e = it->second;
  std::vector<StoreRecord> records;
  if (!permanent) {
    if (e.deleted) {
      return Error(404, kVersionSoftDeleted,
                   "Subject '" + subject + "' Version " + std::to_string(v) +
                       " was soft deleted.Set permanent=true to delete permanently");
    }
    records.push_back(StoreRecord{
        SchemaKey(subject, v),
        SchemaValue(subject, v, e.id, schemas_.at(e.id).schema->text, /*deleted=*/true)});
  } else {
    if (!e.deleted) {
      return Error(404, kVersionNotSoftDeleted,
                   "Subject '" + subject + "' Version " + std::to_string(v) +
                       " was not deleted first before being permanently deleted");
    }
    records.push_back(StoreRecord{SchemaKey(subject, v), std::nullopt});
    records.push_back(StoreRecord{
        NextIdKey(),
        Json{{"next_id", next_id_}}.dump(-1, ' ', false, Json::error_handler_t::replace)});
  }
  Status st = AppendAndApply(records);
  if (!st.ok())
    return Error(500, kStoreError, "Error while deleting the version: " + st.ToString());
  return HttpResult{200, std::string(kContentType), std::to_string(v)};
}

HttpResult Registry::GetConfig(const std::string* subject, const Query& query) {
  CompatibilityLevel level = global_level_.value_or(options_.default_level);
  if (subject != nullptr) {
    const Subject* s = FindSubject(*subject);
    if (s && s->level) {
      level = *s->level;
    } else if (!QueryFlag(query, "defaultToGlobal")) {
      return Error(
          404, kSubjectLevelCompatibilityNotConfigured,
          "Subject '" + *subject + "' does not have subject-level compatibility configured");
    }
  }
  return Ok(Json{{"compatibilityLevel", std::string(avro::CompatibilityLevelName(level))}});
}

HttpResult Registry::PutConfig(const std::string* subject, std::string_view body) {
  if (subject != nullptr && !ValidSubject(*subject)) {
    return Error(422, kInvalidSubject, "The specified subject '" + *subject + "' is not valid");
  }
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(400, 400, "Request body is not a JSON object");
  }
  const Json* c = Member(j, "compatibility");
  if (c == nullptr || !c->is_string()) return InvalidLevel();
  Result<CompatibilityLevel> level = avro::ParseCompatibilityLevel(c->get<std::string>());
  if (!level.ok()) return InvalidLevel();
  Status st = AppendAndApply({StoreRecord{ConfigKey(subject), ConfigValue(*level)}});
  if (!st.ok()) return Error(500, kStoreError, "Error while updating config: " + st.ToString());
  return Ok(Json{{"compatibility", std::string(avro::CompatibilityLevelName(*level))}});
}

HttpResult Registry::DeleteConfig(const std::string* subject) {
  CompatibilityLevel old = global_level_.value_or(options_.default_level);
  if (subject != nullptr) {
    const Subject* s = FindSubject(*subject);
    if (s == nullptr || !s->level) return SubjectNotFound(*subject);
    old = *s->level;
  }
  Status st = AppendAndApply({StoreRecord{ConfigKey(subject), std::nullopt}});
  if (!st.ok()) return Error(500, kStoreError, "Error while deleting config: " + st.ToString());
  return Ok(Json{{"compatibilityLevel", std::string(avro::CompatibilityLevelName(old))}});
}

HttpResult Registry::TestCompatibility(const std::string& subject, const std::string* version_text,
                                       std::string_view body, const Query& query) {
  std::optional<int32_t> version;
  if (version_text != nullptr) {
    version = ParseVersion(*version_text);
    if (!version) return InvalidVersion(*version_text);
  }
  HttpResult error;
  std::optional<SchemaRequest> req = ParseSchemaRequest(body, &error);
  if (!req) return error;
  const bool verbose = QueryFlag(query, "verbose");
  const Subject* s = FindSubject(subject);
  std::vector<std::pair<int32_t, const avro::Schema*>> against;
  if (s == nullptr || !HasLiveVersions(*s)) {
    // As Confluent: a missing subject is "version not found" unless "latest".
    if (version && *version != kLatest) return VersionNotFound(*version);
  } else if (version) {
    int32_t v = *version;
    const VersionEntry* entry = nullptr;
    if (v == kLatest) {
      for (auto it = s->versions.rbegin(); it != s->versions.rend(); ++it) {
        if (!it->second.deleted) {
          v = it->first;
          entry = &it->second;
          break;
        }
      }
    } else if (auto it = s->versions.find(v); it != s->versions.end() && !it->second.deleted) {
      entry = &it->second;
    }
    if (entry == nullptr) return VersionNotFound(v);
    against.emplace_back(v, &schemas_.at(entry->id).schema->schema);
  } else {
    for (const auto& [v, e] : s->versions) {
      if (!e.deleted) against.emplace_back(v, &schemas_.at(e.id).schema->schema);
    }
  }
  std::vector<std::string> messages = CheckCompatibility(LevelFor(subject), req->schema, against);
  Json out;
  out["is_compatible"] = messages.empty();
  if (verbose) out["messages"] = messages;
  return Ok(out);
}

}  // namespace braid::registry
