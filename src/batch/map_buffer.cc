#include "batch/map_buffer.h"

#include <algorithm>
#include <map>

#include <xxhash.h>

#include "base/coding.h"

namespace braid::batch {
namespace {

// Per-entry overheads counted against the limit (vector slot; hash node,
// bucket and two string headers).
constexpr uint64_t kEntryOverhead = sizeof(uint64_t) * 4;
constexpr uint64_t kNodeOverhead = 96;

// Collects a combiner's output into a run, refusing another key.
class CombineContext final : public Emitter {
 public:
  CombineContext(RunWriter* out, std::map<std::string, int64_t>* counters)
      : out_(out), counters_(counters) {}
  void Start(uint32_t partition, std::string_view key) {
    partition_ = partition;
    key_ = key;
  }
  using Emitter::Emit;
  void Emit(std::string_view key, std::string_view sort_key, std::string_view value) override {
    if (!status_.ok()) return;
    if (key != key_) {
      status_ = Status::InvalidArgument("a combiner emitted key \"" + std::string(key) +
                                        "\" while combining \"" + std::string(key_) + "\"");
      return;
    }
    status_ = out_->Add(partition_, key, sort_key, value);
  }
  void Count(std::string_view name, int64_t n) override {
    if (counters_ != nullptr) (*counters_)[std::string(name)] += n;
  }
  const Status& status() const { return status_; }

 private:
  RunWriter* out_;
  std::map<std::string, int64_t>* counters_;
  uint32_t partition_ = 0;
  std::string_view key_;
  Status status_;
};

}  // namespace

size_t MapBuffer::Hash::operator()(std::string_view s) const {
  return static_cast<size_t>(XXH3_64bits(s.data(), s.size()));
}

MapBuffer::MapBuffer(const ValueMerger* merger, uint64_t limit_bytes)
    : merger_(merger), limit_(limit_bytes) {}

MapBuffer::~MapBuffer() = default;

Status MapBuffer::Add(uint32_t partition, std::string_view key, std::string_view sort_key,
                      std::string_view value) {
  if (merger_ != nullptr && merger_->Merges(key)) {
    if (!sort_key.empty()) {
      return Status::InvalidArgument("a job with a Merger cannot emit secondary sort keys");
    }
    scratch_.clear();
    coding::PutBigEndian32(&scratch_, partition);
    scratch_.append(key);
    auto it = table_.find(std::string_view(scratch_));
    if (it == table_.end()) {
      Cell c;
      c.acc.assign(value);
      table_.emplace(scratch_, std::move(c));
      memory_ += scratch_.size() + value.size() + kNodeOverhead;
      ++count_;
      return Status::OK();
    }
    Cell& c = it->second;
    const size_t before = c.pending.size();
    coding::PutVarint64(&c.pending, value.size());
    c.pending.append(value);
    memory_ += c.pending.size() - before;
    if (++c.npending >= kMergeBatch) return MergePending(key, &c);
    return Status::OK();
  }
  if (key.size() > UINT32_MAX || sort_key.size() > UINT32_MAX || value.size() > UINT32_MAX) {
    return Status::TooLarge("map output entry above 4 GiB");
  }
  Entry e;
  e.partition = partition;
  e.seq = static_cast<uint32_t>(entries_.size());
  e.offset = arena_.size();
  e.key_size = static_cast<uint32_t>(key.size());
  e.sort_size = static_cast<uint32_t>(sort_key.size());
  e.value_size = static_cast<uint32_t>(value.size());
  arena_.append(key);
  arena_.append(sort_key);
  arena_.append(value);
  entries_.push_back(e);
  memory_ += key.size() + sort_key.size() + value.size() + kEntryOverhead;
  ++count_;
  return Status::OK();
}

// The values of one group of a sorted buffer, for a combiner.
class MapBuffer::Group final : public ValueIterator {
 public:
  Group(const MapBuffer* buffer, size_t begin, size_t end)
      : buffer_(buffer), begin_(begin), end_(end) {}
  bool Next(std::string_view* value, std::string_view* sort_key) override {
    if (begin_ >= end_) return false;
    const Entry& e = buffer_->entries_[begin_++];
    const char* p = buffer_->arena_.data() + e.offset + e.key_size;
    if (sort_key != nullptr) *sort_key = std::string_view(p, e.sort_size);
    *value = std::string_view(p + e.sort_size, e.value_size);
    return true;
  }

 private:
  const MapBuffer* buffer_;
  size_t begin_, end_;
};

Status MapBuffer::MergePending(std::string_view key, Cell* c) {
  if (c->npending == 0) return Status::OK();
  views_.clear();
  const char* p = c->pending.data();
  const char* end = p + c->pending.size();
  while (p < end) {
    uint64_t n = 0;
    p = coding::GetVarint64(p, end, &n);
    if (p == nullptr || n > static_cast<uint64_t>(end - p)) {
      return Status::Internal("map buffer: malformed pending values");
    }
    views_.emplace_back(p, n);
    p += n;
  }
  const size_t before = c->acc.size() + c->pending.size();
  RETURN_IF_ERROR(merger_->MergeMany(key, &c->acc, views_));
  c->pending.clear();
  c->npending = 0;
  memory_ = memory_ - std::min<uint64_t>(memory_, before) + c->acc.size();
  return Status::OK();
}

Status MapBuffer::Drain(GroupReducer* combiner, RunWriter* out,
                        std::map<std::string, int64_t>* counters) {
  // The merged cells (with a merger), sorted.
  std::vector<const std::pair<const std::string, Cell>*> sorted;
  if (merger_ != nullptr) {
    sorted.reserve(table_.size());
    for (auto& kv : table_) {
      RETURN_IF_ERROR(MergePending(std::string_view(kv.first).substr(4), &kv.second));
      sorted.push_back(&kv);
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
      return a->first < b->first;  // partition (big-endian) first, then key
    });
  }
  // The arena's entries (every entry without a merger; the keys it does not
  // merge with one), sorted.
  const char* base = arena_.data();
  auto key_of = [base](const Entry& e) { return std::string_view(base + e.offset, e.key_size); };
  auto sort_of = [base](const Entry& e) {
    return std::string_view(base + e.offset + e.key_size, e.sort_size);
  };
  std::sort(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) {
    if (a.partition != b.partition) return a.partition < b.partition;
    if (int c = key_of(a).compare(key_of(b)); c != 0) return c < 0;
    if (int c = sort_of(a).compare(sort_of(b)); c != 0) return c < 0;
    return a.seq < b.seq;
  });
  if (merger_ != nullptr || combiner == nullptr) {
    // Both sequences into the run in (partition, key) order: a key is in one
    // of them only (Merges decides by key).
    size_t i = 0, j = 0;
    while (i < sorted.size() || j < entries_.size()) {
      bool take_cell = j >= entries_.size();
      if (!take_cell && i < sorted.size()) {
        const uint32_t cp = coding::DecodeBigEndian32(sorted[i]->first.data());
        const Entry& e = entries_[j];
        take_cell = cp != e.partition ? cp < e.partition
                                      : std::string_view(sorted[i]->first).substr(4) <= key_of(e);
      }
      if (take_cell) {
        const auto* kv = sorted[i++];
        const uint32_t partition = coding::DecodeBigEndian32(kv->first.data());
        RETURN_IF_ERROR(
            out->Add(partition, std::string_view(kv->first).substr(4), {}, kv->second.acc));
      } else {
        const Entry& e = entries_[j++];
        RETURN_IF_ERROR(
            out->Add(e.partition, key_of(e), sort_of(e),
                     std::string_view(base + e.offset + e.key_size + e.sort_size, e.value_size)));
      }
    }
    table_.clear();
  } else {
    CombineContext ctx(out, counters);
    size_t i = 0;
    while (i < entries_.size()) {
      size_t j = i + 1;
      while (j < entries_.size() && entries_[j].partition == entries_[i].partition &&
             key_of(entries_[j]) == key_of(entries_[i])) {
        ++j;
      }
      const std::string_view key = key_of(entries_[i]);
      ctx.Start(entries_[i].partition, key);
      Group values(this, i, j);
      RETURN_IF_ERROR(combiner->Reduce(key, &values, &ctx));
      RETURN_IF_ERROR(ctx.status());
      i = j;
    }
  }
  entries_.clear();
  arena_.clear();
  memory_ = 0;
  count_ = 0;
  return Status::OK();
}

}  // namespace braid::batch
