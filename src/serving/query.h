// The serving layer's queries over the merge of a view's live batch version
// and the realtime generations after that version's cut:
//
//   answer(cell) = batch(vN)[cell] ⊕ realtime(generations after vN's cut)[cell]
//
// merged with the view's monoid (DESIGN.md "The batch/realtime boundary is a
// log cut"). The two layers are reached through CellSource interfaces: the
// SnapshotProvider (serving_role.h) opens them consistently, so that a query
// never sees an event twice and never misses one below the speed layer's
// consumed offsets, whatever swap or drop-through runs meanwhile.
//
// Thread safety: QueryEngine is thread-safe; a ViewSnapshot is used by one
// query.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "log/cut.h"
#include "serving/range_plan.h"
#include "views/view.h"

namespace braid::serving {

// The cells of one view in one layer, as of one moment. Keys are
// views::EncodeCellKey; values the view monoid's encoding.
class CellSource {
 public:
  virtual ~CellSource() = default;
  // The value of one cell, nullopt if the layer has none.
  virtual Result<std::optional<std::string>> Get(std::string_view cell_key) = 0;
  // The cells with keys in [begin, end) (end empty: no bound), in key order;
  // `fn` returns false to stop.
  virtual Status Scan(
      std::string_view begin, std::string_view end,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) = 0;
};

// What an answer covers, so that a caller knows how fresh it is.
struct Coverage {
  int64_t batch_version = -1;                 // -1: no batch version yet
  log::Cut batch_cut;                         // records below it are in the batch version
  log::Cut realtime_offsets;                  // the speed layer has consumed everything below
  std::vector<int64_t> realtime_generations;  // merged generations (after the cut)
  std::string ToJson() const;
};

// One view, both layers, opened consistently.
struct ViewSnapshot {
  std::shared_ptr<const views::ViewDefinition> view;
  std::unique_ptr<CellSource> batch;     // null: no batch version
  std::unique_ptr<CellSource> realtime;  // null: no speed layer
  Coverage coverage;
  // Released when the snapshot goes: e.g. a shared lock that keeps swap and
  // drop-through from running under the query, or a version lease.
  std::shared_ptr<void> hold;
};

class SnapshotProvider {
 public:
  virtual ~SnapshotProvider() = default;
  // NotFound for an unknown view.
  virtual Result<ViewSnapshot> Open(const std::string& view) = 0;
  virtual std::vector<std::shared_ptr<const views::ViewDefinition>> Views() = 0;
};

struct TimeRange {
  int64_t from = 0;
  int64_t to = 0;
};

struct ValueAnswer {
  std::shared_ptr<const views::ViewDefinition> view;  // renders values (monoid)
  std::string key;
  std::string value;               // encoded; render with the view's monoid
  std::optional<RangePlan> range;  // absent: all time
  size_t cell_reads = 0;
  Coverage coverage;
};

struct SeriesAnswer {
  std::shared_ptr<const views::ViewDefinition> view;
  std::string key;
  views::Granularity granularity = views::Granularity::kDay;
  int64_t from = 0;
  int64_t to = 0;
  bool rounded = false;
  std::vector<std::pair<int64_t, std::string>> buckets;  // start, encoded value
  Coverage coverage;
};

struct KeysAnswer {
  std::vector<std::string> keys;
  bool more = false;  // there are keys after the last one
  Coverage coverage;
};

struct QueryLimits {
  // Keys of one POST .../values request. Default: 10,000.
  size_t max_keys = 10'000;
  // Buckets of one series. Default: 100,000.
  size_t max_buckets = 100'000;
  // Keys of one keys page. Default: 10,000.
  size_t max_page = 10'000;
};

class QueryEngine {
 public:
  explicit QueryEngine(SnapshotProvider* provider, QueryLimits limits = {})
      : provider_(provider), limits_(limits) {}

  // The aggregate of `key` over `range` (all time without one).
  Result<ValueAnswer> Value(const std::string& view, const std::string& key,
                            std::optional<TimeRange> range);
  // The same for many keys, on one snapshot.
  Result<std::vector<ValueAnswer>> Values(const std::string& view,
                                          const std::vector<std::string>& keys,
                                          std::optional<TimeRange> range);
  // One value per bucket of `granularity` in [from, to) (rounded outward),
  // empty buckets included (the monoid's identity).
  Result<SeriesAnswer> Series(const std::string& view, const std::string& key,
                              views::Granularity granularity, TimeRange range);
  // Keys in order, starting with `prefix`, after `after` (exclusive).
  Result<KeysAnswer> Keys(const std::string& view, const std::string& prefix,
                          const std::string& after, size_t limit);

  const QueryLimits& limits() const { return limits_; }

 private:
  // batch ⊕ realtime for one cell, merged into *acc.
  Status MergeCell(ViewSnapshot& s, std::string_view cell, std::string* acc);
  // Every cell of `key` at granularity `g` (all buckets), merged into *acc.
  Status MergeAllBuckets(ViewSnapshot& s, const std::string& key, views::Granularity g,
                         std::string* acc, size_t* reads);
  Result<ValueAnswer> ValueOn(ViewSnapshot& s, const std::string& key,
                              std::optional<TimeRange> range);

  SnapshotProvider* const provider_;
  const QueryLimits limits_;
};

}  // namespace braid::serving
