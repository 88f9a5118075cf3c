// Catalog: every view braid runs (from view files and plugins), by name, with
// the settings of the topics they read, and the raw MapReduce jobs and raw
// topologies that plugins registered. Built once at start (LoadCatalog) and
// then shared, immutable, by the batch layer, the speed layer and serving.
//
// Validated when built: view names unique, every view's topic has settings
// (declared in a view file, or the defaults below), and the topic settings
// agree with each other.
//
// Thread safety: a Catalog is immutable once built; share it as
// shared_ptr<const Catalog>.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "braid/plugin.h"
#include "io/file_system.h"
#include "views/view.h"

namespace braid::views {

// How `braid up` creates a topic that views read (view file: `topics:`).
struct TopicSettings {
  std::string name;
  // Partitions of the topic when braid creates it; 0: the broker's default
  // (--num-partitions). Default: 0.
  int32_t partitions = 0;
  // Values must be Confluent-framed Avro of a schema registered under
  // "<topic>-value" (topic config braid.value.schema.validation). Default:
  // true when a view of the topic needs Avro.
  bool schema_validation = true;
  // Archived into the master dataset (braid.archive). The batch layer reads
  // only archived topics. Default: true.
  bool archive = true;
  // The event-time field the archiver files records by
  // (braid.archive.time.field); empty: the record timestamp. Default: the
  // time field of the topic's views when they agree.
  std::string time_field;
  // Further topic configs, passed as they are (e.g. retention.ms).
  // Default: none.
  std::map<std::string, std::string> configs;
  // Where it was declared ("views.yaml:3:3"), or "default".
  std::string origin = "default";

  // Every setting above as topic configs (partitions aside): configs plus
  // braid.value.schema.validation, braid.archive, braid.archive.time.field.
  std::map<std::string, std::string> TopicConfigs() const;
};

class Catalog {
 public:
  Catalog() = default;

  // Adds a view; `origin` says where it was defined ("views.yaml:12:5",
  // "plugin /path/libx.so"). AlreadyExists naming both origins for a second
  // view of the same name.
  Status AddView(std::shared_ptr<const ViewDefinition> view, std::string origin);
  // Adds the settings of a topic (view file `topics:`). AlreadyExists if the
  // topic already has declared settings.
  Status AddTopic(TopicSettings settings);
  void AddJob(std::shared_ptr<const mr::Job> job) { jobs_.push_back(std::move(job)); }
  void AddTopology(std::shared_ptr<const TopologySpec> t) { topologies_.push_back(std::move(t)); }
  // Fills in the settings of every view topic without declared ones (the
  // defaults above) and checks them: a declared time_field differing from a
  // view's event-time field is allowed (it only files the archive), but
  // views of an undeclared topic with different time fields are an error
  // (declare the topic). Call once, after the last Add.
  Status Finish();

  // The view named `name`, or null.
  std::shared_ptr<const ViewDefinition> Find(std::string_view name) const;
  // Every view, by name.
  std::vector<std::shared_ptr<const ViewDefinition>> views() const;
  std::vector<std::shared_ptr<const ViewDefinition>> ViewsOfTopic(std::string_view topic) const;
  // Where a view was defined ("" if unknown).
  std::string origin(std::string_view view) const;
  size_t size() const { return views_.size(); }

  // The settings of every topic a view reads or a view file declared.
  const std::map<std::string, TopicSettings, std::less<>>& topics() const { return topics_; }
  const TopicSettings* FindTopic(std::string_view topic) const;

  // Registered by plugins (types in braid/mapreduce.h and braid/topology.h).
  const std::vector<std::shared_ptr<const mr::Job>>& jobs() const { return jobs_; }
  const std::vector<std::shared_ptr<const TopologySpec>>& topologies() const { return topologies_; }

 private:
  struct Entry {
    std::shared_ptr<const ViewDefinition> view;
    std::string origin;
  };
  std::map<std::string, Entry, std::less<>> views_;
  std::map<std::string, TopicSettings, std::less<>> topics_;
  std::vector<std::shared_ptr<const mr::Job>> jobs_;
  std::vector<std::shared_ptr<const TopologySpec>> topologies_;
};

// Where views come from.
struct CatalogSources {
  // View files (YAML, docs/views.md). Default: none.
  std::vector<std::string> view_files;
  // Plugin shared libraries (include/braid/plugin.h). Default: none.
  std::vector<std::string> plugins;
  // Default: io::DefaultFileSystem() (view files only; plugins are dlopened).
  io::FileSystem* fs = nullptr;
};

// Loads every view file and plugin into one finished Catalog. Errors name
// the file and, for a view file, the line, column and field
// ("views.yaml:12:10: views[1].aggregate: unknown monoid ..."); the first
// error fails the whole load (braid does not start).
Result<std::shared_ptr<const Catalog>> LoadCatalog(const CatalogSources& sources);

}  // namespace braid::views
