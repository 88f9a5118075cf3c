#include "archive/archiver_role.h"

#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "archive/registry_schema_source.h"
#include "io/file_system.h"
#include "registry/service.h"

namespace braid::archive {

Result<std::unique_ptr<SchemaSource>> ArchiverRole::MakeSchemaSource(
    runtime::Runtime* rt, const std::string& registry_url, bool kafka_mode,
    std::unique_ptr<registry::Registry>* own_registry) {
  if (auto* reg = rt->Find<registry::Registry>()) {
    return std::unique_ptr<SchemaSource>(std::make_unique<RegistrySchemaSource>(reg));
  }
  if (!registry_url.empty()) {
    return std::unique_ptr<SchemaSource>(std::make_unique<RestSchemaSource>(registry_url));
  }
  if (kafka_mode) return Status::InvalidArgument("reading from Kafka needs a registry URL");
  ASSIGN_OR_RETURN(log::Log * log, rt->GetLog());
  ASSIGN_OR_RETURN(*own_registry, registry::OpenRegistryOnLog(log));
  return std::unique_ptr<SchemaSource>(std::make_unique<RegistrySchemaSource>(own_registry->get()));
}

Status ArchiverRole::Start(runtime::Runtime* rt) {
  ArchiverOptions ao = options_.archiver;
  const bool kafka_mode = !ao.kafka_bootstrap.empty();
  if (ao.root.empty()) ao.root = io::JoinPath(rt->data_dir(), "archive");
  log::Log* log = nullptr;
  if (!kafka_mode) {
    ASSIGN_OR_RETURN(log, rt->GetLog());
  }
  ASSIGN_OR_RETURN(schemas_,
                   MakeSchemaSource(rt, options_.registry_url, kafka_mode, &own_registry_));
  archiver_ = std::make_unique<Archiver>(log, schemas_.get(), ao);
  RETURN_IF_ERROR(archiver_->Start());
  Archiver* a = archiver_.get();
  rt->metrics()->AddCollector([a](metrics::SampleWriter* w) {
    const ArchiverStats s = a->stats();
    w->Counter("braid_archive_records_total", "Records archived", {},
               static_cast<double>(s.records_archived));
    w->Counter("braid_archive_bytes_total", "Bytes of archived files", {},
               static_cast<double>(s.bytes_archived));
    w->Counter("braid_archive_files_total", "Files written", {},
               static_cast<double>(s.files_written));
    w->Counter("braid_archive_dead_letters_total", "Records sent to dead-letter files", {},
               static_cast<double>(s.dead_letter_records));
    w->Counter("braid_archive_consolidations_total", "Consolidations of small files", {},
               static_cast<double>(s.consolidations));
    w->Gauge("braid_archive_paused", "1 while archiving is paused by an error", {},
             s.paused ? 1 : 0);
    for (const auto& l : s.lag) {
      metrics::Labels lb = {{"topic", l.topic}, {"partition", std::to_string(l.partition.value())}};
      w->Gauge("braid_archive_lag_records", "Records not yet archived", lb,
               static_cast<double>(l.lag_records));
      w->Gauge("braid_archive_lag_seconds", "Age of the oldest unarchived record", lb,
               l.lag_seconds);
    }
  });
  if (http::Server* http = rt->http()) {
    http->RouteBlocking("GET", "/v1/archive/status", [a, log](const http::Request&) {
      auto json = ArchiveStatusJson(a->dataset(), log);
      if (!json.ok()) return http::Response::FromStatus(json.status());
      return http::Response::Json(200, *json);
    });
    // POST /v1/archive/cover {"topic": T, "cut": {"0": 120, ...} | "latest",
    //                         "timeout_ms": 30000}
    // → 200 {"topic": T, "cut": {...}} once the manifest covers the cut.
    http->RouteBlocking("POST", "/v1/archive/cover", [a, log](const http::Request& req) {
      auto cut = ParseCoverRequest(req.body, log);
      if (!cut.ok()) return http::Response::FromStatus(cut.status());
      Status s = a->CoverCut(cut->topic, cut->cut, cut->timeout);
      if (!s.ok()) return http::Response::FromStatus(s);
      nlohmann::ordered_json out;
      out["topic"] = cut->topic;
      out["cut"] = nlohmann::ordered_json::object();
      for (const auto& [p, o] : cut->cut.offsets) {
        out["cut"][std::to_string(p.value())] = o.value();
      }
      return http::Response::Json(200, out.dump());
    });
  }
  rt->Provide<Archiver>(archiver_.get());
  std::printf("braid: archiver writing to %s\n", ao.root.c_str());
  return Status::OK();
}

void ArchiverRole::Stop() {
  if (archiver_) archiver_->Stop();
  archiver_.reset();
  schemas_.reset();
  own_registry_.reset();
}

Result<CoverRequest> ParseCoverRequest(std::string_view body, log::Log* log) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("the body must be a JSON object");
  }
  CoverRequest r;
  auto topic = j.find("topic");
  if (topic == j.end() || !topic->is_string() || topic->get<std::string>().empty()) {
    return Status::InvalidArgument("\"topic\" (a string) is required");
  }
  r.topic = topic->get<std::string>();
  auto timeout = j.find("timeout_ms");
  if (timeout != j.end()) {
    if (!timeout->is_number_integer() || timeout->get<int64_t>() < 0 ||
        timeout->get<int64_t>() > 600'000) {
      return Status::InvalidArgument("\"timeout_ms\" must be an integer in [0, 600000]");
    }
    r.timeout = std::chrono::milliseconds(timeout->get<int64_t>());
  }
  auto cut = j.find("cut");
  if (cut == j.end() || (cut->is_string() && cut->get<std::string>() == "latest")) {
    if (log == nullptr) return Status::InvalidArgument("\"cut\": \"latest\" needs braid's log");
    ASSIGN_OR_RETURN(log::TopicInfo info, log->DescribeTopic(r.topic));
    for (int32_t p = 0; p < info.partition_count; ++p) {
      ASSIGN_OR_RETURN(auto part, log->GetPartition(r.topic, PartitionId(p)));
      r.cut.offsets[PartitionId(p)] = part->high_watermark();
    }
    return r;
  }
  if (!cut->is_object()) {
    return Status::InvalidArgument("\"cut\" must be \"latest\" or {\"partition\": offset}");
  }
  for (const auto& [k, v] : cut->items()) {
    int32_t p = -1;
    const auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), p);
    if (ec != std::errc() || end != k.data() + k.size() || p < 0) {
      return Status::InvalidArgument("bad partition \"" + k + "\" in the cut");
    }
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      return Status::InvalidArgument("the cut offset of partition " + k +
                                     " must be a non-negative integer");
    }
    r.cut.offsets[PartitionId(p)] = Offset(v.get<int64_t>());
  }
  return r;
}

Result<std::string> ArchiveStatusJson(Dataset* dataset, log::Log* log) {
  nlohmann::ordered_json out;
  out["partitions"] = nlohmann::ordered_json::array();
  if (log != nullptr) {
    ASSIGN_OR_RETURN(std::vector<PartitionLag> lag, ComputeLag(dataset, log));
    for (const PartitionLag& l : lag) {
      out["partitions"].push_back({{"topic", l.topic},
                                   {"partition", l.partition.value()},
                                   {"archived_hwm", l.archived_hwm.value()},
                                   {"log_end", l.log_end.value()},
                                   {"lag_records", l.lag_records},
                                   {"lag_seconds", l.lag_seconds}});
    }
  }
  out["topics"] = nlohmann::ordered_json::array();
  ASSIGN_OR_RETURN(std::vector<std::string> topics, dataset->ListTopics());
  for (const std::string& t : topics) {
    ASSIGN_OR_RETURN(ManifestLease m, dataset->Snapshot(t));
    uint64_t bytes = 0;
    int64_t records = 0, dead = 0;
    for (const auto& f : m->files) {
      bytes += f.bytes;
      records += f.records;
      if (f.kind == FileKind::kDeadLetter) dead += f.records;
    }
    out["topics"].push_back({{"topic", t},
                             {"archived", m->archived.value_or(false)},
                             {"files", m->files.size()},
                             {"bytes", bytes},
                             {"records", records},
                             {"dead_letters", dead}});
  }
  return out.dump();
}

}  // namespace braid::archive
