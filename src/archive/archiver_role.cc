#include "archive/archiver_role.h"

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
      metrics::Labels lb = {{"topic", l.topic}, {"partition", std::to_string(l.partition)}};
      w->Gauge("braid_archive_lag_records", "Records not yet archived", lb,
               static_cast<double>(l.lag_records));
      w->Gauge("braid_archive_lag_seconds", "Age of the oldest unarchived record", lb,
               l.lag_seconds);
    }
  });
  if (http::Server* http = rt->http()) {
    http->RouteBlocking("GET", "/v1/archive/status", [a, log](const http::Request&) {
      auto json = ArchiveStatusJson(a->dataset(), log);
      if (!json.ok()) {
        return http::Response::Json(
            500, nlohmann::json{{"error_code", 500}, {"message", json.status().ToString()}}.dump());
      }
      return http::Response::Json(200, *json);
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

Result<std::string> ArchiveStatusJson(Dataset* dataset, log::Log* log) {
  nlohmann::ordered_json out;
  out["partitions"] = nlohmann::ordered_json::array();
  if (log != nullptr) {
    ASSIGN_OR_RETURN(std::vector<PartitionLag> lag, ComputeLag(dataset, log));
    for (const PartitionLag& l : lag) {
      out["partitions"].push_back({{"topic", l.topic},
                                   {"partition", l.partition},
                                   {"archived_hwm", l.archived_hwm},
                                   {"log_end", l.log_end},
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
