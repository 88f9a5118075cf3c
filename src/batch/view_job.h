// Views compiled into a MapReduce job (DESIGN.md "One definition, both
// layers"): the views of one topic are computed in one pass over its
// records.
//
//   map      each record goes through each view's map (ViewDefinition::Map
//            on the fields of its paths, extracted with a FieldExtractor
//            compiled per writer schema); each emitted (key, time, value)
//            becomes one cell of the view's finest granularity (its base:
//            hour if the view keeps hours, else day if it keeps day, week or
//            month, else all time), keyed [view index] + EncodeCellKey.
//   combine  the view's monoid merges the values of a cell as they are
//            emitted (the map buffer's hash table: a Merger) and while
//            spilling and merging.
//   reduce   in total key order, so that all cells of one view key reach one
//            reducer in order: the base cells are merged and, if the view
//            keeps the base granularity, written; the coarser granularities
//            are rolled up from them (hours and days nest in days, ISO weeks
//            and months; everything nests in all time) with the same monoid
//            and written after them. The cells are the ones a per-event
//            expansion into every granularity would give, with one map
//            output per event instead of one per granularity.
//   output   per view, sorted SST files (RocksDB SstFileWriter), one per
//            reduce task and view, with disjoint key ranges: ready to be
//            ingested into a fresh store (view_store.h).
//
// Sessionised views (views/session.h) in the same job: one map output per
// event, key [view index] + CellKeyPrefix(view key), secondary sort key
// (person, event time), not merged (Merger::Merges); the reducer gets a view
// key's events in one call in that order and writes its visits per bucket
// (views::VisitCounter), exact whatever the input order.
//
// Errors of a view's map on one event are counted (counter
// "view.<name>.map_errors") and skipped, as the speed layer does; a record
// that cannot be decoded fails the job (file and offset in the error).
// Records of envelope files (values that are not registered Avro) are
// skipped by views that need Avro (counter "view.<name>.not_avro").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "archive/dataset.h"
#include "base/status.h"
#include "batch/job.h"
#include "views/view.h"

namespace braid::batch {

// At most this many views in one job (the view index is one byte).
inline constexpr size_t kMaxViewsPerJob = 255;

// The granularity a view's map output is computed at, and the ones rolled
// up from it (see the file comment).
struct GranularityPlan {
  views::Granularity base = views::Granularity::kAll;
  bool keep_base = true;
  std::vector<views::Granularity> derived;  // increasing
};
GranularityPlan PlanGranularities(const std::vector<views::Granularity>& kept);

// What the SST output wrote for one view.
struct ViewFiles {
  std::vector<std::string> sst_files;  // in key order
  uint64_t cells = 0;
  uint64_t bytes = 0;  // of the SST files
};

class ViewJob {
 public:
  // `views` must read the same topic (InvalidArgument otherwise); at most
  // kMaxViewsPerJob. With `time`, cells whose event time is outside
  // [from, to) are dropped.
  static Result<std::shared_ptr<ViewJob>> Create(
      std::vector<std::shared_ptr<const views::ViewDefinition>> views,
      std::optional<archive::TimeRange> time = std::nullopt);

  const std::vector<std::shared_ptr<const views::ViewDefinition>>& views() const { return views_; }
  const std::string& topic() const { return views_.front()->topic(); }
  const GranularityPlan& plan(size_t view) const { return plans_[view]; }

  // The job; the ViewJob must outlive it.
  EngineJob engine_job() const;

 private:
  ViewJob() = default;
  class Mapper;
  class Merger;
  class Reducer;

  std::vector<std::shared_ptr<const views::ViewDefinition>> views_;
  std::vector<GranularityPlan> plans_;
  std::optional<archive::TimeRange> time_;
  std::unique_ptr<Merger> merger_;
};

// The output of a ViewJob: each view's cells in sorted SST files under
// `dir` (created; RocksDB writes them on the real file system):
// <dir>/<view index>/part-NNNNN.sst. After Commit(), files() lists them per
// view, in key order; Abort() deletes them.
class ViewSstOutput final : public Output {
 public:
  ViewSstOutput(std::string dir, size_t views);
  ~ViewSstOutput() override;
  Result<std::unique_ptr<OutputPart>> OpenPart(uint32_t part) override;
  Status Commit() override;
  void Abort() override;
  const std::vector<ViewFiles>& files() const { return files_; }

 private:
  class Part;
  std::string dir_;
  std::mutex mu_;
  // (part, view) -> file, cells, bytes; ordered by part.
  struct Written {
    std::string path;
    uint64_t cells = 0;
    uint64_t bytes = 0;
  };
  std::map<std::pair<uint32_t, size_t>, Written> written_;
  std::vector<ViewFiles> files_;
};

}  // namespace braid::batch
