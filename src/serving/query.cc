#include "serving/query.h"

#include <algorithm>

#include "views/cell_key.h"

namespace braid::serving {

using views::Granularity;

namespace {

std::string CutJson(const log::Cut& c) {
  std::string out = "{";
  for (const auto& [p, o] : c.offsets) {
    if (out.size() > 1) out += ",";
    out += "\"" + std::to_string(p.value()) + "\":" + std::to_string(o.value());
  }
  return out + "}";
}

// The smallest key greater than every cell key of `key` and smaller than the
// cells of any other key after it (see cell_key.h: the escaped key ends
// with 0x00 0x01; 0x00 0x02 sorts after all of them and before 0x00 0xFF).
std::string AfterKey(std::string_view key) {
  std::string s = views::CellKeyPrefix(key);
  s.back() = '\x02';
  return s;
}

// The end of the cell keys starting with `prefix` bytes of escaped keys: the
// prefix with its last byte incremented (empty: no bound).
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(prefix.back());
    if (c != 0xff) {
      ++c;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

// The escaped form of a raw key prefix (no terminator): every cell key of a
// key starting with `prefix` starts with it.
std::string EscapedPrefix(std::string_view prefix) {
  std::string s = views::CellKeyPrefix(prefix);
  s.resize(s.size() - 2);  // drop the terminator
  return s;
}

}  // namespace

std::string Coverage::ToJson() const {
  std::string out = "{\"batch\":";
  if (batch_version < 0) {
    out += "null";
  } else {
    out += "{\"version\":" + std::to_string(batch_version) + ",\"cut\":" + CutJson(batch_cut) + "}";
  }
  out += ",\"realtime\":{\"offsets\":" + CutJson(realtime_offsets) + ",\"generations\":[";
  for (size_t i = 0; i < realtime_generations.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(realtime_generations[i]);
  }
  return out + "]}}";
}

Status QueryEngine::MergeCell(ViewSnapshot& s, std::string_view cell, std::string* acc) {
  const views::Monoid& m = s.view->monoid();
  for (CellSource* src : {s.batch.get(), s.realtime.get()}) {
    if (src == nullptr) continue;
    ASSIGN_OR_RETURN(std::optional<std::string> v, src->Get(cell));
    if (v) RETURN_IF_ERROR(m.Merge(acc, *v));
  }
  return Status::OK();
}

Status QueryEngine::MergeAllBuckets(ViewSnapshot& s, const std::string& key, Granularity g,
                                    std::string* acc, size_t* reads) {
  const views::Monoid& m = s.view->monoid();
  const std::string begin = views::CellKeyPrefix(key, g);
  const std::string end = PrefixEnd(begin);
  Status merge_error;
  for (CellSource* src : {s.batch.get(), s.realtime.get()}) {
    if (src == nullptr) continue;
    RETURN_IF_ERROR(src->Scan(begin, end, [&](std::string_view, std::string_view v) {
      ++*reads;
      merge_error = m.Merge(acc, v);
      return merge_error.ok();
    }));
    RETURN_IF_ERROR(merge_error);
  }
  return Status::OK();
}

Result<ValueAnswer> QueryEngine::ValueOn(ViewSnapshot& s, const std::string& key,
                                         std::optional<TimeRange> range) {
  ValueAnswer a;
  a.view = s.view;
  a.key = key;
  a.value = s.view->monoid().Identity();
  const std::vector<Granularity>& kept = s.view->granularities();
  if (!range) {
    if (std::find(kept.begin(), kept.end(), Granularity::kAll) != kept.end()) {
      a.cell_reads = 1;
      RETURN_IF_ERROR(MergeCell(
          s, views::EncodeCellKey(key, Granularity::kAll, views::kAllTimeStart), &a.value));
    } else {
      // Every event is in exactly one bucket of any granularity: the
      // coarsest kept has the fewest cells.
      Granularity coarsest = Granularity::kHour;
      for (Granularity g : kept) coarsest = std::max(coarsest, g);
      RETURN_IF_ERROR(MergeAllBuckets(s, key, coarsest, &a.value, &a.cell_reads));
    }
    return a;
  }
  ASSIGN_OR_RETURN(RangePlan plan, PlanRange(kept, range->from, range->to));
  std::string cell;
  for (const BucketRead& r : plan.reads) {
    cell.clear();
    views::AppendCellKey(key, r.granularity, r.start, &cell);
    RETURN_IF_ERROR(MergeCell(s, cell, &a.value));
  }
  a.cell_reads = plan.reads.size();
  a.range = std::move(plan);
  return a;
}

Result<ValueAnswer> QueryEngine::Value(const std::string& view, const std::string& key,
                                       std::optional<TimeRange> range) {
  ASSIGN_OR_RETURN(ViewSnapshot s, provider_->Open(view));
  ASSIGN_OR_RETURN(ValueAnswer a, ValueOn(s, key, range));
  a.coverage = s.coverage;
  return a;
}

Result<std::vector<ValueAnswer>> QueryEngine::Values(const std::string& view,
                                                     const std::vector<std::string>& keys,
                                                     std::optional<TimeRange> range) {
  if (keys.size() > limits_.max_keys) {
    return Status::InvalidArgument("at most " + std::to_string(limits_.max_keys) +
                                   " keys per request");
  }
  ASSIGN_OR_RETURN(ViewSnapshot s, provider_->Open(view));
  std::vector<ValueAnswer> out;
  out.reserve(keys.size());
  for (const std::string& k : keys) {
    ASSIGN_OR_RETURN(ValueAnswer a, ValueOn(s, k, range));
    out.push_back(std::move(a));
  }
  if (!out.empty()) out.front().coverage = s.coverage;
  return out;
}

Result<SeriesAnswer> QueryEngine::Series(const std::string& view, const std::string& key,
                                         Granularity g, TimeRange range) {
  ASSIGN_OR_RETURN(ViewSnapshot s, provider_->Open(view));
  const std::vector<Granularity>& kept = s.view->granularities();
  if (g == Granularity::kAll || std::find(kept.begin(), kept.end(), g) == kept.end()) {
    std::string names;
    for (Granularity k : kept) {
      if (k == Granularity::kAll) continue;
      names += (names.empty() ? "" : ", ") + std::string(views::GranularityName(k));
    }
    return Status::InvalidArgument("view " + view + " keeps no '" +
                                   std::string(views::GranularityName(g)) +
                                   "' buckets (it keeps: " + names + ")");
  }
  if (range.from >= range.to) return Status::InvalidArgument("from must be before to");
  SeriesAnswer a;
  a.view = s.view;
  a.key = key;
  a.granularity = g;
  a.from = views::BucketStart(g, range.from);
  a.to = views::NextBucketStart(g, views::BucketStart(g, range.to - 1));
  a.rounded = a.from != range.from || a.to != range.to;
  const views::Monoid& m = s.view->monoid();
  // One scan per layer over the key's buckets in the range, merged bucket by
  // bucket into the full list of buckets (empty ones hold the identity).
  for (int64_t t = a.from; t < a.to; t = views::NextBucketStart(g, t)) {
    if (a.buckets.size() == limits_.max_buckets) {
      return Status::InvalidArgument("the series has more than " +
                                     std::to_string(limits_.max_buckets) + " buckets");
    }
    a.buckets.emplace_back(t, m.Identity());
  }
  const std::string begin = views::EncodeCellKey(key, g, a.from);
  const std::string end = views::EncodeCellKey(key, g, a.to);
  Status error;
  for (CellSource* src : {s.batch.get(), s.realtime.get()}) {
    if (src == nullptr) continue;
    size_t i = 0;
    RETURN_IF_ERROR(src->Scan(begin, end, [&](std::string_view k, std::string_view v) {
      auto cell = views::DecodeCellKey(k);
      if (!cell.ok()) {
        error = cell.status();
        return false;
      }
      while (i < a.buckets.size() && a.buckets[i].first < cell->bucket_start) ++i;
      if (i == a.buckets.size() || a.buckets[i].first != cell->bucket_start) {
        error = Status::Corruption("a cell outside the series' buckets");
        return false;
      }
      error = m.Merge(&a.buckets[i].second, v);
      return error.ok();
    }));
    RETURN_IF_ERROR(error);
  }
  a.coverage = s.coverage;
  return a;
}

Result<KeysAnswer> QueryEngine::Keys(const std::string& view, const std::string& prefix,
                                     const std::string& after, size_t limit) {
  if (limit == 0 || limit > limits_.max_page) {
    return Status::InvalidArgument("limit must be in [1, " + std::to_string(limits_.max_page) +
                                   "]");
  }
  ASSIGN_OR_RETURN(ViewSnapshot s, provider_->Open(view));
  KeysAnswer a;
  const std::string scope_begin = EscapedPrefix(prefix);
  const std::string scope_end = PrefixEnd(scope_begin);
  std::string seek = after.empty() || after < prefix ? scope_begin : AfterKey(after);
  // The next key at or after `seek` in one layer ("" with found = false).
  auto next_in = [&](CellSource* src, std::string* key) -> Result<bool> {
    bool found = false;
    Status error;
    RETURN_IF_ERROR(src->Scan(seek, scope_end, [&](std::string_view k, std::string_view) {
      auto cell = views::DecodeCellKey(k);
      if (!cell.ok()) {
        error = cell.status();
        return false;
      }
      *key = std::move(cell->key);
      found = true;
      return false;
    }));
    RETURN_IF_ERROR(error);
    return found;
  };
  while (a.keys.size() <= limit) {
    std::optional<std::string> next;
    for (CellSource* src : {s.batch.get(), s.realtime.get()}) {
      if (src == nullptr) continue;
      std::string k;
      ASSIGN_OR_RETURN(bool found, next_in(src, &k));
      if (found && (!next || k < *next)) next = std::move(k);
    }
    if (!next) break;
    if (a.keys.size() == limit) {
      a.more = true;
      break;
    }
    seek = AfterKey(*next);
    a.keys.push_back(std::move(*next));
  }
  a.coverage = s.coverage;
  return a;
}

}  // namespace braid::serving
