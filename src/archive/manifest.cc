#include "archive/manifest.h"

#include <algorithm>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "base/crc.h"

namespace braid::archive {

using Json = nlohmann::json;

void AddToRuns(std::vector<OffsetRun>* runs, Offset offset, int64_t count) {
  if (count <= 0) return;
  if (!runs->empty() && runs->back().end() == offset) {
    runs->back().count += count;
  } else {
    runs->push_back({offset, count});
  }
}

int64_t CountBelow(const std::vector<OffsetRun>& runs, Offset cut) {
  int64_t n = 0;
  for (const OffsetRun& r : runs) {
    if (r.first >= cut) break;
    n += std::min(r.end(), cut).value() - r.first.value();
  }
  return n;
}

std::string_view FileKindName(FileKind kind) {
  switch (kind) {
    case FileKind::kAvro:
      return "avro";
    case FileKind::kEnvelope:
      return "envelope";
    case FileKind::kDeadLetter:
      return "dead_letter";
  }
  return "?";
}

Result<FileKind> ParseFileKind(std::string_view name) {
  if (name == "avro") return FileKind::kAvro;
  if (name == "envelope") return FileKind::kEnvelope;
  if (name == "dead_letter") return FileKind::kDeadLetter;
  return Status::Corruption("unknown file kind '" + std::string(name) + "'");
}

const FileEntry* Manifest::FindFile(std::string_view path) const {
  for (const FileEntry& f : files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

namespace {

Json RunsToJson(const std::vector<OffsetRun>& runs) {
  Json a = Json::array();
  for (const OffsetRun& r : runs) a.push_back(Json::array({r.first.value(), r.count}));
  return a;
}

std::vector<OffsetRun> RunsFromJson(const Json& a) {
  std::vector<OffsetRun> runs;
  for (const Json& r : a) {
    if (!r.is_array() || r.size() != 2) throw std::runtime_error("run is not [first, count]");
    runs.push_back({Offset(r.at(0).get<int64_t>()), r.at(1).get<int64_t>()});
  }
  return runs;
}

Json ManifestToJson(const Manifest& m) {
  Json j;
  j["format"] = Manifest::kFormat;
  j["topic"] = m.topic;
  j["version"] = m.version;
  if (m.archived.has_value()) {
    j["decision"] = {{"archived", *m.archived}, {"reason", m.decision_reason}};
  }
  Json parts = Json::object();
  for (const auto& [p, st] : m.partitions) {
    parts[std::to_string(p.value())] = {{"start", st.start.value()},
                                        {"hwm", st.hwm.value()},
                                        {"skipped", RunsToJson(st.skipped)},
                                        {"lost", RunsToJson(st.lost)}};
  }
  j["partitions"] = std::move(parts);
  Json files = Json::array();
  for (const FileEntry& f : m.files) {
    files.push_back({{"path", f.path},
                     {"kind", FileKindName(f.kind)},
                     {"partition", f.partition.value()},
                     {"first_offset", f.first_offset.value()},
                     {"last_offset", f.last_offset.value()},
                     {"records", f.records},
                     {"runs", RunsToJson(f.runs)},
                     {"min_time", f.min_time},
                     {"max_time", f.max_time},
                     {"hour", f.hour},
                     {"schema_id", f.schema_id},
                     {"bytes", f.bytes}});
  }
  j["files"] = std::move(files);
  return j;
}

Manifest ManifestFromJson(const Json& j) {
  Manifest m;
  if (j.at("format").get<int>() != Manifest::kFormat) {
    throw std::runtime_error("unsupported manifest format " + j.at("format").dump());
  }
  m.topic = j.at("topic").get<std::string>();
  m.version = j.at("version").get<uint64_t>();
  if (j.contains("decision")) {
    m.archived = j["decision"].at("archived").get<bool>();
    m.decision_reason = j["decision"].at("reason").get<std::string>();
  }
  for (const auto& [key, v] : j.at("partitions").items()) {
    PartitionState st;
    st.start = Offset(v.at("start").get<int64_t>());
    st.hwm = Offset(v.at("hwm").get<int64_t>());
    st.skipped = RunsFromJson(v.at("skipped"));
    st.lost = RunsFromJson(v.at("lost"));
    m.partitions[PartitionId(std::stoi(key))] = std::move(st);
  }
  for (const Json& v : j.at("files")) {
    FileEntry f;
    f.path = v.at("path").get<std::string>();
    auto kind = ParseFileKind(v.at("kind").get<std::string>());
    if (!kind.ok()) throw std::runtime_error(std::string(kind.status().message()));
    f.kind = *kind;
    f.partition = PartitionId(v.at("partition").get<int32_t>());
    f.first_offset = Offset(v.at("first_offset").get<int64_t>());
    f.last_offset = Offset(v.at("last_offset").get<int64_t>());
    f.records = v.at("records").get<int64_t>();
    f.runs = RunsFromJson(v.at("runs"));
    f.min_time = v.at("min_time").get<int64_t>();
    f.max_time = v.at("max_time").get<int64_t>();
    f.hour = v.at("hour").get<int64_t>();
    f.schema_id = v.at("schema_id").get<int32_t>();
    f.bytes = v.at("bytes").get<uint64_t>();
    m.files.push_back(std::move(f));
  }
  return m;
}

}  // namespace

std::string EncodeManifest(const Manifest& m) {
  const std::string body = ManifestToJson(m).dump();
  Json outer;
  outer["crc32c"] = Crc32c(body);
  outer["manifest"] = Json::parse(body);
  // Keep "manifest" byte-identical to `body` on reload: nlohmann dumps object
  // keys sorted, so dump() of the parsed value equals body.
  return outer.dump(1) + "\n";
}

Result<Manifest> DecodeManifest(std::string_view text) {
  try {
    Json outer = Json::parse(text);
    const uint32_t crc = outer.at("crc32c").get<uint32_t>();
    const std::string body = outer.at("manifest").dump();
    if (Crc32c(body) != crc) return Status::Corruption("manifest checksum mismatch");
    return ManifestFromJson(outer["manifest"]);
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("malformed manifest: ") + e.what());
  }
}

std::string ManifestPath(std::string_view root, std::string_view topic) {
  return io::JoinPath(io::JoinPath(root, topic), "_manifest.json");
}

Result<Manifest> LoadManifest(io::FileSystem* fs, std::string_view root, std::string_view topic) {
  const std::string path = ManifestPath(root, topic);
  if (!fs->FileExists(path)) {
    Manifest m;
    m.topic = std::string(topic);
    return m;
  }
  ASSIGN_OR_RETURN(std::string text, io::ReadFileToString(fs, path));
  auto m = DecodeManifest(text);
  if (!m.ok()) return m.status().WithContext(path);
  if (m->topic != topic) {
    return Status::Corruption(path + ": manifest is for topic '" + m->topic + "'");
  }
  return m;
}

Status StoreManifest(io::FileSystem* fs, std::string_view root, const Manifest& m) {
  return io::WriteFileAtomically(fs, ManifestPath(root, m.topic), EncodeManifest(m));
}

std::vector<std::string> CheckManifest(const Manifest& m) {
  std::vector<std::string> problems;
  struct Span {
    OffsetRun run;
    std::string what;
  };
  auto str = [](auto strong) { return std::to_string(strong.value()); };
  std::map<PartitionId, std::vector<Span>> spans;
  for (const FileEntry& f : m.files) {
    int64_t n = 0;
    Offset prev_end(INT64_MIN);
    for (const OffsetRun& r : f.runs) {
      if (r.count <= 0 || r.first < prev_end) {
        problems.push_back(f.path + ": runs not increasing");
      }
      prev_end = r.end();
      n += r.count;
      spans[f.partition].push_back({r, f.path});
    }
    if (n != f.records) {
      problems.push_back(f.path + ": runs hold " + std::to_string(n) +
                         " offsets but records = " + std::to_string(f.records));
    }
    if (!f.runs.empty() && (f.first_offset != f.runs.front().first ||
                            f.last_offset.value() != f.runs.back().end().value() - 1)) {
      problems.push_back(f.path + ": first/last offset disagree with runs");
    }
    if (!m.partitions.contains(f.partition)) {
      problems.push_back(f.path + ": partition " + str(f.partition) + " has no state");
    }
  }
  for (const auto& [p, st] : m.partitions) {
    auto& v = spans[p];
    for (const OffsetRun& r : st.skipped) v.push_back({r, "skipped"});
    for (const OffsetRun& r : st.lost) v.push_back({r, "lost"});
    std::sort(v.begin(), v.end(),
              [](const Span& a, const Span& b) { return a.run.first < b.run.first; });
    Offset at = st.start;
    const std::string prefix = "partition " + str(p) + ": ";
    for (const Span& s : v) {
      if (s.run.first > at) {
        problems.push_back(prefix + "gap [" + str(at) + ", " + str(s.run.first) + ") before " +
                           s.what);
      } else if (s.run.first < at) {
        problems.push_back(prefix + "overlap at offset " + str(s.run.first) + " (" + s.what + ")");
      }
      at = std::max(at, s.run.end());
    }
    if (at != st.hwm) {
      problems.push_back(prefix + "records end at " + str(at) + " but the high-water mark is " +
                         str(st.hwm));
    }
  }
  return problems;
}

}  // namespace braid::archive
