#include "stream/realtime_store.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <set>

#include <nlohmann/json.hpp>

#include "base/coding.h"
#include "base/logging.h"

namespace braid::stream {

namespace {

constexpr char kCellTag = 'c';
constexpr char kOffsetTag = 'o';
constexpr char kGenerationTag = 'g';
constexpr char kViewTag = 'v';
constexpr char kFloorTag = 'f';
constexpr char kMetaTag = 'm';
const std::string kCurrentKey = std::string(1, kMetaTag) + "current";
const std::string kNextViewIdKey = std::string(1, kMetaTag) + "next_view_id";
constexpr size_t kCellPrefixSize = 1 + 4 + 8;  // tag, view id, generation

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  std::string m = "realtime store: " + std::string(what) + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(std::move(m));
  if (s.IsNotFound()) return Status::NotFound(std::move(m));
  if (s.IsNoSpace()) return Status::ResourceExhausted(std::move(m), StatusSubcode::kNoSpace);
  return Status::IOError(std::move(m));
}

std::string Key32(char tag, uint32_t a) {
  std::string k(1, tag);
  coding::PutBigEndian32(&k, a);
  return k;
}

std::string OffsetKey(uint32_t view_id, PartitionId p) {
  std::string k = Key32(kOffsetTag, view_id);
  coding::PutBigEndian32(&k, static_cast<uint32_t>(p.value()));
  return k;
}

std::string GenerationKey(uint64_t g) {
  std::string k(1, kGenerationTag);
  coding::PutBigEndian64(&k, g);
  return k;
}

std::string Encode64(uint64_t v) {
  std::string s;
  coding::PutBigEndian64(&s, v);
  return s;
}

Result<uint64_t> Decode64(std::string_view s, std::string_view what) {
  if (s.size() != 8) return Status::Corruption("realtime store: bad " + std::string(what));
  return coding::DecodeBigEndian64(s.data());
}

nlohmann::json CutToJson(const log::Cut& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [p, o] : c.offsets) j[std::to_string(p.value())] = o.value();
  return j;
}

Result<log::Cut> CutFromJson(const nlohmann::json& j) {
  log::Cut c;
  if (!j.is_object()) return Status::Corruption("realtime store: a cut must be an object");
  for (const auto& [k, v] : j.items()) {
    int32_t p = -1;
    const auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), p);
    if (ec != std::errc() || end != k.data() + k.size() || p < 0 || !v.is_number_integer()) {
      return Status::Corruption("realtime store: malformed cut");
    }
    c.offsets[PartitionId(p)] = Offset(v.get<int64_t>());
  }
  return c;
}

std::string GenerationToJson(const GenerationInfo& g) {
  nlohmann::json j;
  j["id"] = g.id.value();
  j["sealed"] = g.sealed;
  j["opened_ms"] = g.opened_ms;
  j["sealed_ms"] = g.sealed_ms;
  j["start"] = nlohmann::json::object();
  for (const auto& [v, c] : g.start) j["start"][v] = CutToJson(c);
  j["end"] = nlohmann::json::object();
  for (const auto& [v, c] : g.end) j["end"][v] = CutToJson(c);
  return j.dump();
}

Result<GenerationInfo> GenerationFromJson(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_number_unsigned()) {
    return Status::Corruption("realtime store: malformed generation record");
  }
  GenerationInfo g;
  g.id = RealtimeGeneration(j["id"].get<uint64_t>());
  g.sealed = j.value("sealed", false);
  g.opened_ms = j.value("opened_ms", int64_t{0});
  g.sealed_ms = j.value("sealed_ms", int64_t{0});
  for (const char* which : {"start", "end"}) {
    auto it = j.find(which);
    if (it == j.end() || !it->is_object()) continue;
    for (const auto& [v, c] : it->items()) {
      ASSIGN_OR_RETURN(log::Cut cut, CutFromJson(c));
      (std::string_view(which) == "start" ? g.start : g.end)[v] = std::move(cut);
    }
  }
  return g;
}

// The partitions a generation may hold cells of for one view, with their
// [start, end) ranges (end: the seal's cut, or the consumed offsets for the
// open generation).
struct Range {
  int64_t start = 0;
  int64_t end = 0;
};
std::map<PartitionId, Range> Ranges(const log::Cut* start, const log::Cut* end) {
  std::map<PartitionId, Range> out;
  if (start) {
    for (const auto& [p, o] : start->offsets) out[p] = {o.value(), o.value()};
  }
  if (end) {
    for (const auto& [p, o] : end->offsets) {
      auto it = out.find(p);
      if (it == out.end()) {
        out[p] = {0, o.value()};
      } else {
        it->second.end = o.value();
      }
    }
  }
  return out;
}

}  // namespace

// view id → monoid, for the merge operator. Immutable once the store is open.
struct RealtimeStore::MergeState {
  std::map<uint32_t, std::shared_ptr<const views::Monoid>> monoids;

  const views::Monoid* Find(const rocksdb::Slice& key) const {
    if (key.size() < 5 || key[0] != kCellTag) return nullptr;
    auto it = monoids.find(coding::DecodeBigEndian32(key.data() + 1));
    return it == monoids.end() ? nullptr : it->second.get();
  }
};

namespace {

// Merges cells with their view's monoid (Monoid::MergeMany over the encoded
// values). Cells of a view id the store no longer defines are being deleted
// (a range tombstone covers them): their merge keeps the newest operand.
class MonoidMergeOperator final : public rocksdb::MergeOperator {
 public:
  explicit MonoidMergeOperator(std::shared_ptr<const RealtimeStore::MergeState> state)
      : state_(std::move(state)) {}

  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    const views::Monoid* m = state_->Find(in.key);
    if (m == nullptr) {
      const rocksdb::Slice& last = in.operand_list.back();
      out->new_value.assign(last.data(), last.size());
      return true;
    }
    std::string acc = in.existing_value != nullptr ? in.existing_value->ToString() : m->Identity();
    std::vector<std::string_view> ops;
    ops.reserve(in.operand_list.size());
    for (const rocksdb::Slice& s : in.operand_list) ops.emplace_back(s.data(), s.size());
    if (!m->MergeMany(&acc, ops).ok()) return false;
    out->new_value = std::move(acc);
    return true;
  }

  bool PartialMergeMulti(const rocksdb::Slice& key, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger*) const override {
    const views::Monoid* m = state_->Find(key);
    if (m == nullptr || operands.empty()) return false;  // keep the operands
    std::string acc(operands.front().data(), operands.front().size());
    std::vector<std::string_view> ops;
    ops.reserve(operands.size() - 1);
    for (size_t i = 1; i < operands.size(); ++i)
      ops.emplace_back(operands[i].data(), operands[i].size());
    if (!m->MergeMany(&acc, ops).ok()) return false;
    *new_value = std::move(acc);
    return true;
  }

  const char* Name() const override { return "braid.MonoidMergeOperator"; }

 private:
  std::shared_ptr<const RealtimeStore::MergeState> state_;
};

// The (tag, view, generation) prefix of cell keys, for memtable insert
// hints. Only cell keys are in its domain: RocksDB 7.8 keeps one hint per
// prefix for the point and the range-tombstone memtables alike, so the
// begin key of a generation's DeleteRange (exactly the prefix) must stay
// out of it.
class CellPrefixTransform final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "braid.CellPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), kCellPrefixSize);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() > kCellPrefixSize && key[0] == kCellTag;
  }
};

struct StoredView {
  uint32_t id = 0;
  std::string topic;
  std::string fingerprint;
  std::string monoid;
};

}  // namespace

RealtimeStore::RealtimeStore(RealtimeStoreOptions options, std::vector<StoreView> views)
    : options_(std::move(options)), views_(std::move(views)) {}

RealtimeStore::~RealtimeStore() {
  if (db_) {
    rocksdb::Status s = db_->Close();
    if (!s.ok()) LOG_WARN("realtime store: close: {}", s.ToString());
  }
}

Result<std::unique_ptr<RealtimeStore>> RealtimeStore::Open(RealtimeStoreOptions options,
                                                           std::vector<StoreView> views) {
  if (options.dir.empty()) return Status::InvalidArgument("realtime store: no directory");
  if (options.clock == nullptr) options.clock = SystemClock();
  std::set<std::string> names;
  for (const StoreView& v : views) {
    if (!names.insert(v.name).second) {
      return Status::InvalidArgument("realtime store: view \"" + v.name + "\" given twice");
    }
    if (v.monoid == nullptr) return Status::InvalidArgument("view \"" + v.name + "\": no monoid");
  }
  std::unique_ptr<RealtimeStore> store(new RealtimeStore(std::move(options), std::move(views)));
  RETURN_IF_ERROR(store->Load());
  return store;
}

Status RealtimeStore::Load() {
  // 1. The stored view table, read before the merge operator is armed (a
  //    read-only open neither flushes nor compacts, so nothing merges).
  std::map<std::string, StoredView> stored;
  uint32_t next_id = 1;
  {
    rocksdb::Options ro;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::OpenForReadOnly(ro, options_.dir, &raw);
    if (s.ok()) {
      std::unique_ptr<rocksdb::DB> db(raw);
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
      for (it->Seek(std::string(1, kViewTag)); it->Valid() && it->key()[0] == kViewTag;
           it->Next()) {
        const nlohmann::json j =
            nlohmann::json::parse(it->value().ToString(), nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.is_object() || !j.contains("id")) {
          return Status::Corruption("realtime store: malformed view record");
        }
        StoredView v;
        v.id = j.value("id", uint32_t{0});
        v.topic = j.value("topic", "");
        v.fingerprint = j.value("fingerprint", "");
        v.monoid = j.value("monoid", "");
        stored[it->key().ToString().substr(1)] = v;
      }
      RETURN_IF_ERROR(FromRocks(it->status(), "reading views"));
      std::string value;
      s = db->Get(rocksdb::ReadOptions(), kNextViewIdKey, &value);
      if (s.ok() && value.size() == 4) next_id = coding::DecodeBigEndian32(value.data());
    } else if (!s.IsNotFound() && !s.IsInvalidArgument() && !s.IsIOError()) {
      return FromRocks(s, "open " + options_.dir);
    }
  }
  // 2. Reconcile: a view keeps its id if its fingerprint is unchanged, else
  //    it gets a new one (never reusing the id of cells of another
  //    definition); the rest is deleted below.
  merge_state_ = std::make_shared<MergeState>();
  state_.resize(views_.size());
  std::vector<uint32_t> dead_ids;
  std::set<std::string> dead_names;
  for (const auto& [name, sv] : stored) {
    bool keep = false;
    for (size_t i = 0; i < views_.size(); ++i) {
      if (views_[i].name == name && views_[i].fingerprint == sv.fingerprint &&
          views_[i].topic == sv.topic) {
        state_[i].id = sv.id;
        keep = true;
      }
    }
    if (!keep) {
      dead_ids.push_back(sv.id);
      dead_names.insert(name);
      LOG_INFO("realtime store: view {} {}: its realtime state is deleted", name,
               std::any_of(views_.begin(), views_.end(),
                           [&](const StoreView& v) { return v.name == name; })
                   ? "changed definition"
                   : "is no longer defined");
    }
  }
  for (size_t i = 0; i < views_.size(); ++i) {
    if (state_[i].id == 0) state_[i].id = next_id++;
    merge_state_->monoids[state_[i].id] = views_[i].monoid;
  }
  // 3. Open for writing with the merge operator.
  rocksdb::Options o;
  o.create_if_missing = true;
  o.merge_operator = std::make_shared<MonoidMergeOperator>(merge_state_);
  o.max_successive_merges = options_.max_successive_merges;
  // A commit's cells come sorted (one view, one generation: one prefix):
  // each insert starts where the previous one of the prefix ended.
  o.memtable_insert_with_hint_prefix_extractor = std::make_shared<CellPrefixTransform>();
  o.write_buffer_size = options_.write_buffer_size;
  o.IncreaseParallelism(2);
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(o, options_.dir, &raw), "open " + options_.dir));
  db_.reset(raw);

  // 4. Generations, offsets, floors.
  rocksdb::ReadOptions ro;
  {
    std::string value;
    rocksdb::Status s = db_->Get(ro, kCurrentKey, &value);
    if (s.ok()) {
      ASSIGN_OR_RETURN(current_, Decode64(value, "current generation"));
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "read current generation");
    }
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(std::string(1, kGenerationTag)); it->Valid() && it->key()[0] == kGenerationTag;
       it->Next()) {
    ASSIGN_OR_RETURN(GenerationInfo g, GenerationFromJson(it->value().ToString()));
    generations_[g.id.value()] = std::move(g);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading generations"));

  rocksdb::WriteBatch wb;
  for (uint32_t id : dead_ids) {
    RETURN_IF_ERROR(FromRocks(wb.DeleteRange(Key32(kCellTag, id), Key32(kCellTag, id + 1)), "wb"));
    RETURN_IF_ERROR(
        FromRocks(wb.DeleteRange(Key32(kOffsetTag, id), Key32(kOffsetTag, id + 1)), "wb"));
    RETURN_IF_ERROR(FromRocks(wb.Delete(Key32(kFloorTag, id)), "wb"));
  }
  for (const std::string& name : dead_names) {
    RETURN_IF_ERROR(FromRocks(wb.Delete(std::string(1, kViewTag) + name), "wb"));
  }
  for (size_t i = 0; i < views_.size(); ++i) {
    nlohmann::json j;
    j["id"] = state_[i].id;
    j["topic"] = views_[i].topic;
    j["fingerprint"] = views_[i].fingerprint;
    j["monoid"] = views_[i].monoid->spec();
    RETURN_IF_ERROR(FromRocks(wb.Put(std::string(1, kViewTag) + views_[i].name, j.dump()), "wb"));
  }
  std::string next;
  coding::PutBigEndian32(&next, next_id);
  RETURN_IF_ERROR(FromRocks(wb.Put(kNextViewIdKey, next), "wb"));
  // Generation records: forget views whose state was deleted (and a view
  // that is new has no cells in older generations).
  std::set<std::string> live_names;
  for (const StoreView& v : views_) live_names.insert(v.name);
  for (auto& [id, g] : generations_) {
    bool changed = false;
    for (auto* m : {&g.start, &g.end}) {
      for (auto vit = m->begin(); vit != m->end();) {
        if (dead_names.count(vit->first) || !live_names.count(vit->first)) {
          vit = m->erase(vit);
          changed = true;
        } else {
          ++vit;
        }
      }
    }
    if (changed) RETURN_IF_ERROR(WriteGeneration(g, &wb));
  }
  if (generations_.find(current_) == generations_.end()) {
    GenerationInfo g;
    g.id = RealtimeGeneration(current_);
    g.opened_ms = options_.clock->NowMillis();
    generations_[current_] = g;
    RETURN_IF_ERROR(WriteGeneration(g, &wb));
    RETURN_IF_ERROR(FromRocks(wb.Put(kCurrentKey, Encode64(current_)), "wb"));
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_seal;
  RETURN_IF_ERROR(FromRocks(db_->Write(wo, &wb), "write view table"));

  for (size_t i = 0; i < views_.size(); ++i) {
    ViewState& vs = state_[i];
    std::string value;
    rocksdb::Status s = db_->Get(ro, Key32(kFloorTag, vs.id), &value);
    if (s.ok()) {
      const nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
      ASSIGN_OR_RETURN(vs.floor, CutFromJson(j));
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "read floor");
    }
    const std::string prefix = Key32(kOffsetTag, vs.id);
    std::unique_ptr<rocksdb::Iterator> oi(db_->NewIterator(ro));
    for (oi->Seek(prefix); oi->Valid() && oi->key().starts_with(prefix); oi->Next()) {
      if (oi->key().size() != 9) return Status::Corruption("realtime store: bad offset key");
      const PartitionId p(static_cast<int32_t>(coding::DecodeBigEndian32(oi->key().data() + 5)));
      ASSIGN_OR_RETURN(uint64_t off, Decode64(oi->value().ToStringView(), "offset"));
      vs.consumed[p] = Offset(static_cast<int64_t>(off));
    }
    RETURN_IF_ERROR(FromRocks(oi->status(), "reading offsets"));
  }
  return Status::OK();
}

Status RealtimeStore::WriteGeneration(const GenerationInfo& g, void* batch) const {
  auto* wb = static_cast<rocksdb::WriteBatch*>(batch);
  return FromRocks(wb->Put(GenerationKey(g.id.value()), GenerationToJson(g)), "wb");
}

std::string RealtimeStore::CellPrefix(uint32_t view_id, RealtimeGeneration g) const {
  std::string k = Key32(kCellTag, view_id);
  coding::PutBigEndian64(&k, g.value());
  return k;
}

void RealtimeStore::LockShared() const {
  std::unique_lock<std::mutex> lock(lock_mu_);
  lock_cv_.wait(lock, [&] { return !writer_ && writers_waiting_ == 0; });
  ++readers_;
}
void RealtimeStore::UnlockShared() const {
  std::lock_guard<std::mutex> lock(lock_mu_);
  if (--readers_ == 0) lock_cv_.notify_all();
}
void RealtimeStore::LockExclusive() const {
  std::unique_lock<std::mutex> lock(lock_mu_);
  ++writers_waiting_;
  lock_cv_.wait(lock, [&] { return !writer_ && readers_ == 0; });
  --writers_waiting_;
  writer_ = true;
}
void RealtimeStore::UnlockExclusive() const {
  std::lock_guard<std::mutex> lock(lock_mu_);
  writer_ = false;
  lock_cv_.notify_all();
}

namespace {
template <typename Unlock>
struct ScopeExit {
  Unlock f;
  ~ScopeExit() { f(); }
};
template <typename F>
ScopeExit(F) -> ScopeExit<F>;
}  // namespace

Result<size_t> RealtimeStore::ViewIndex(const std::string& name) const {
  for (size_t i = 0; i < views_.size(); ++i) {
    if (views_[i].name == name) return i;
  }
  return Status::NotFound("no view named \"" + name + "\"");
}

Status RealtimeStore::Commit(const PartitionCommit& commit) {
  std::vector<const ViewDelta*> views;
  views.reserve(commit.views.size());
  for (const ViewDelta& vd : commit.views) views.push_back(&vd);
  return Commit(commit.partition, views);
}

Status RealtimeStore::Commit(PartitionId partition, std::span<const ViewDelta* const> deltas) {
  rocksdb::WriteBatch wb;
  LockShared();
  ScopeExit unlock{[this] { UnlockShared(); }};
  {
    std::lock_guard<std::mutex> lock(consumed_mu_);
    for (const ViewDelta* vd : deltas) {
      if (vd->view >= views_.size()) return Status::InvalidArgument("commit: bad view index");
      if (state_[vd->view].consumed.count(partition) == 0) {
        return Status::FailedPrecondition("commit: partition " + std::to_string(partition.value()) +
                                          " of " + views_[vd->view].topic + " is not held");
      }
    }
  }
  const RealtimeGeneration gen(current_);
  std::string key;
  for (const ViewDelta* vdp : deltas) {
    const ViewDelta& vd = *vdp;
    const uint32_t id = state_[vd.view].id;
    const std::string prefix = CellPrefix(id, gen);
    for (const auto& [cell, value] : vd.cells) {
      key.assign(prefix);
      key.append(cell);
      coding::PutBigEndian32(&key, static_cast<uint32_t>(partition.value()));
      RETURN_IF_ERROR(FromRocks(wb.Merge(key, value), "wb"));
    }
    RETURN_IF_ERROR(FromRocks(
        wb.Put(OffsetKey(id, partition),
               Encode64(static_cast<uint64_t>(std::max<int64_t>(0, vd.next_offset.value())))),
        "wb"));
  }
  RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &wb), "commit"));
  std::lock_guard<std::mutex> lock(consumed_mu_);
  for (const ViewDelta* vd : deltas) state_[vd->view].consumed[partition] = vd->next_offset;
  return Status::OK();
}

Result<std::map<size_t, Offset>> RealtimeStore::AcquirePartition(const std::string& topic,
                                                                 PartitionId p) {
  LockExclusive();
  ScopeExit unlock{[this] { UnlockExclusive(); }};
  std::map<size_t, Offset> out;
  rocksdb::WriteBatch wb;
  GenerationInfo& cur = generations_[current_];
  bool gen_changed = false;
  std::vector<std::pair<size_t, Offset>> fresh;
  for (size_t i = 0; i < views_.size(); ++i) {
    if (views_[i].topic != topic) continue;
    {
      std::lock_guard<std::mutex> lock(consumed_mu_);
      auto it = state_[i].consumed.find(p);
      if (it != state_[i].consumed.end()) {
        out[i] = it->second;
        continue;
      }
    }
    const Offset start(std::max<int64_t>(0, state_[i].floor.at(p).value()));
    out[i] = start;
    fresh.emplace_back(i, start);
    cur.start[views_[i].name].offsets[p] = start;
    gen_changed = true;
    RETURN_IF_ERROR(FromRocks(
        wb.Put(OffsetKey(state_[i].id, p), Encode64(static_cast<uint64_t>(start.value()))), "wb"));
  }
  if (gen_changed) {
    RETURN_IF_ERROR(WriteGeneration(cur, &wb));
    RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &wb), "acquire partition"));
  }
  std::lock_guard<std::mutex> lock(consumed_mu_);
  for (const auto& [i, o] : fresh) state_[i].consumed[p] = o;
  return out;
}

Status RealtimeStore::ReleasePartition(const std::string& topic, PartitionId p) {
  LockExclusive();
  ScopeExit unlock{[this] { UnlockExclusive(); }};
  rocksdb::WriteBatch wb;
  std::string suffix;
  coding::PutBigEndian32(&suffix, static_cast<uint32_t>(p.value()));
  std::vector<size_t> released;
  for (size_t i = 0; i < views_.size(); ++i) {
    if (views_[i].topic != topic) continue;
    released.push_back(i);
    const uint32_t id = state_[i].id;
    const std::string prefix = Key32(kCellTag, id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().ends_with(suffix)) RETURN_IF_ERROR(FromRocks(wb.Delete(it->key()), "wb"));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "release partition"));
    RETURN_IF_ERROR(FromRocks(wb.Delete(OffsetKey(id, p)), "wb"));
    for (auto& [gid, g] : generations_) {
      bool changed = false;
      for (auto* m : {&g.start, &g.end}) {
        auto vit = m->find(views_[i].name);
        if (vit != m->end() && vit->second.offsets.erase(p) > 0) changed = true;
      }
      if (changed) RETURN_IF_ERROR(WriteGeneration(g, &wb));
    }
  }
  RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &wb), "release partition"));
  std::lock_guard<std::mutex> lock(consumed_mu_);
  for (size_t i : released) state_[i].consumed.erase(p);
  return Status::OK();
}

log::Cut RealtimeStore::Consumed(size_t view) const {
  log::Cut c;
  std::lock_guard<std::mutex> lock(consumed_mu_);
  c.offsets = state_[view].consumed;
  return c;
}

log::Cut RealtimeStore::Floor(size_t view) const {
  LockShared();
  log::Cut c = state_[view].floor;
  UnlockShared();
  return c;
}

RealtimeGeneration RealtimeStore::current_generation() const {
  LockShared();
  const RealtimeGeneration g(current_);
  UnlockShared();
  return g;
}

Result<SealedGeneration> RealtimeStore::Seal() {
  LockExclusive();
  ScopeExit unlock{[this] { UnlockExclusive(); }};
  const int64_t now = options_.clock->NowMillis();
  GenerationInfo sealed = generations_[current_];
  sealed.sealed = true;
  sealed.sealed_ms = now;
  GenerationInfo next;
  next.id = RealtimeGeneration(current_ + 1);
  next.opened_ms = now;
  SealedGeneration out;
  out.id = sealed.id;
  std::map<std::string, std::vector<size_t>> by_topic;
  for (size_t i = 0; i < views_.size(); ++i) {
    log::Cut c = Consumed(i);
    sealed.end[views_[i].name] = c;
    next.start[views_[i].name] = c;
    out.cuts[views_[i].name] = c;
    by_topic[views_[i].topic].push_back(i);
  }
  for (const auto& [topic, idx] : by_topic) {
    const log::Cut& first = out.cuts[views_[idx[0]].name];
    if (std::all_of(idx.begin(), idx.end(),
                    [&](size_t i) { return out.cuts[views_[i].name] == first; })) {
      out.topic_cuts[topic] = first;
    }
  }
  rocksdb::WriteBatch wb;
  RETURN_IF_ERROR(WriteGeneration(sealed, &wb));
  RETURN_IF_ERROR(WriteGeneration(next, &wb));
  RETURN_IF_ERROR(FromRocks(wb.Put(kCurrentKey, Encode64(current_ + 1)), "wb"));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_seal;
  RETURN_IF_ERROR(FromRocks(db_->Write(wo, &wb), "seal"));
  generations_[current_] = std::move(sealed);
  ++current_;
  generations_[current_] = std::move(next);
  return out;
}

std::vector<GenerationInfo> RealtimeStore::ListGenerations() const {
  LockShared();
  std::vector<GenerationInfo> out;
  for (const auto& [id, g] : generations_) out.push_back(g);
  UnlockShared();
  // The open generation's end: what is consumed so far.
  if (!out.empty() && !out.back().sealed) {
    for (size_t i = 0; i < views_.size(); ++i) out.back().end[views_[i].name] = Consumed(i);
  }
  return out;
}

Result<std::vector<RealtimeGeneration>> RealtimeStore::Drop(const std::string& view,
                                                            const log::Cut& cut) {
  ASSIGN_OR_RETURN(size_t vi, ViewIndex(view));
  LockExclusive();
  ScopeExit unlock{[this] { UnlockExclusive(); }};
  const uint32_t id = state_[vi].id;
  rocksdb::WriteBatch wb;
  std::vector<RealtimeGeneration> dropped;
  std::vector<uint64_t> erase;
  std::map<uint64_t, GenerationInfo> updated;
  for (const auto& [gid, g] : generations_) {
    if (!g.sealed || gid == current_) continue;
    auto s = g.start.find(view);
    auto e = g.end.find(view);
    if (s == g.start.end() && e == g.end.end()) continue;
    bool covered = true;
    for (const auto& [p, r] : Ranges(s == g.start.end() ? nullptr : &s->second,
                                     e == g.end.end() ? nullptr : &e->second)) {
      if (r.end > r.start && r.end > cut.at(p).value()) covered = false;
    }
    if (!covered) continue;
    RETURN_IF_ERROR(FromRocks(
        wb.DeleteRange(CellPrefix(id, g.id), CellPrefix(id, RealtimeGeneration(gid + 1))), "wb"));
    GenerationInfo ng = g;
    ng.start.erase(view);
    ng.end.erase(view);
    dropped.push_back(g.id);
    // The record goes once no view has records in the generation.
    bool any_cells = false;
    for (const auto& [v, c] : ng.end) {
      auto sv = ng.start.find(v);
      for (const auto& [p, r] : Ranges(sv == ng.start.end() ? nullptr : &sv->second, &c)) {
        if (r.end > r.start) any_cells = true;
      }
    }
    if (!any_cells) {
      RETURN_IF_ERROR(FromRocks(wb.Delete(GenerationKey(gid)), "wb"));
      erase.push_back(gid);
    } else {
      RETURN_IF_ERROR(WriteGeneration(ng, &wb));
      updated[gid] = std::move(ng);
    }
  }
  log::Cut floor = state_[vi].floor;
  for (const auto& [p, o] : cut.offsets) {
    if (o > floor.at(p)) floor.offsets[p] = o;
  }
  RETURN_IF_ERROR(FromRocks(wb.Put(Key32(kFloorTag, id), CutToJson(floor).dump()), "wb"));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_seal;
  RETURN_IF_ERROR(FromRocks(db_->Write(wo, &wb), "drop"));
  for (uint64_t gid : erase) generations_.erase(gid);
  for (auto& [gid, g] : updated) generations_[gid] = std::move(g);
  state_[vi].floor = std::move(floor);
  return dropped;
}

Result<std::unique_ptr<RealtimeSnapshot>> RealtimeStore::OpenSnapshot(const std::string& view,
                                                                      const log::Cut& after) const {
  ASSIGN_OR_RETURN(size_t vi, ViewIndex(view));
  std::unique_ptr<RealtimeSnapshot> out(new RealtimeSnapshot());
  out->db_ = db_.get();
  out->monoid_ = views_[vi].monoid.get();
  out->view_id_ = state_[vi].id;
  std::vector<GenerationInfo> gens;
  LockShared();
  for (const auto& [gid, g] : generations_) gens.push_back(g);
  const uint64_t current = current_;
  out->snap_ = db_->GetSnapshot();
  UnlockShared();
  rocksdb::ReadOptions ro;
  ro.snapshot = out->snap_;
  // The consumed offsets in this snapshot (the open generation's end).
  {
    const std::string prefix = Key32(kOffsetTag, out->view_id_);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().size() != 9) return Status::Corruption("realtime store: bad offset key");
      const PartitionId p(static_cast<int32_t>(coding::DecodeBigEndian32(it->key().data() + 5)));
      ASSIGN_OR_RETURN(uint64_t off, Decode64(it->value().ToStringView(), "offset"));
      out->consumed_.offsets[p] = Offset(static_cast<int64_t>(off));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "read offsets"));
  }
  for (const GenerationInfo& g : gens) {
    auto s = g.start.find(view);
    const log::Cut* end_cut = nullptr;
    if (g.id.value() == current) {
      end_cut = &out->consumed_;
    } else {
      auto e = g.end.find(view);
      if (e != g.end.end()) end_cut = &e->second;
    }
    RealtimeSnapshot::Gen sg;
    sg.id = g.id;
    for (const auto& [p, r] : Ranges(s == g.start.end() ? nullptr : &s->second, end_cut)) {
      if (r.end <= r.start) continue;  // no records of p in this generation
      const int64_t a = after.at(p).value();
      if (r.end <= a) continue;  // below the cut: the batch view has them
      if (r.start >= a) {
        sg.partitions.insert(p.value());
        continue;
      }
      return Status::FailedPrecondition(
          "realtime view " + view + ": generation " + std::to_string(g.id.value()) +
          " holds offsets [" + std::to_string(r.start) + ", " + std::to_string(r.end) +
          ") of partition " + std::to_string(p.value()) + ", across the cut at " +
          std::to_string(a) + " (not a sealed cut)");
    }
    if (sg.partitions.empty()) continue;
    out->ids_.push_back(g.id);
    out->gens_.push_back(std::move(sg));
  }
  return out;
}

RealtimeSnapshot::~RealtimeSnapshot() {
  if (snap_ != nullptr) db_->ReleaseSnapshot(snap_);
}

std::string RealtimeSnapshot::Prefix(RealtimeGeneration g) const {
  std::string k(1, kCellTag);
  coding::PutBigEndian32(&k, view_id_);
  coding::PutBigEndian64(&k, g.value());
  return k;
}

Result<std::optional<std::string>> RealtimeSnapshot::Get(std::string_view cell_key) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap_;
  std::optional<std::string> value;
  for (const Gen& g : gens_) {
    const std::string lo = Prefix(g.id).append(cell_key);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(lo); it->Valid(); it->Next()) {
      const rocksdb::Slice k = it->key();
      if (k.size() != lo.size() + 4 || !k.starts_with(lo)) break;
      const auto p = static_cast<int32_t>(coding::DecodeBigEndian32(k.data() + lo.size()));
      if (!g.partitions.count(p)) continue;
      if (!value) {
        value = it->value().ToString();
      } else {
        RETURN_IF_ERROR(monoid_->Merge(&*value, it->value().ToStringView()));
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "read cell"));
  }
  return value;
}

Status RealtimeSnapshot::Scan(
    std::string_view begin, std::string_view end,
    const std::function<bool(std::string_view key, std::string_view value)>& fn) const {
  // One cursor per generation over [begin, end); a k-way merge by cell key
  // (a cell's partitions are adjacent in a generation: cell keys are
  // self-delimiting, the partition is a suffix).
  struct Cursor {
    std::unique_ptr<rocksdb::Iterator> it;
    std::string upper;
    rocksdb::Slice upper_slice;
    const Gen* gen = nullptr;
  };
  std::vector<Cursor> cursors(gens_.size());
  auto cell_of = [](const rocksdb::Slice& k) {
    return std::string_view(k.data() + kCellPrefixSize, k.size() - kCellPrefixSize - 4);
  };
  for (size_t i = 0; i < gens_.size(); ++i) {
    Cursor& c = cursors[i];
    c.gen = &gens_[i];
    const std::string prefix = Prefix(gens_[i].id);
    c.upper = end.empty() ? Prefix(RealtimeGeneration(gens_[i].id.value() + 1))
                          : std::string(prefix).append(end);
    c.upper_slice = rocksdb::Slice(c.upper);
    rocksdb::ReadOptions ro;
    ro.snapshot = snap_;
    ro.iterate_upper_bound = &c.upper_slice;
    c.it.reset(db_->NewIterator(ro));
    c.it->Seek(std::string(prefix).append(begin));
  }
  std::string current, value;
  for (;;) {
    // The smallest cell key under any cursor.
    bool any = false;
    for (Cursor& c : cursors) {
      if (!c.it->Valid()) continue;
      if (c.it->key().size() < kCellPrefixSize + 4) {
        return Status::Corruption("realtime store: bad cell key");
      }
      const std::string_view cell = cell_of(c.it->key());
      if (!any || cell < current) current.assign(cell);
      any = true;
    }
    if (!any) break;
    bool have = false;
    for (Cursor& c : cursors) {
      for (; c.it->Valid(); c.it->Next()) {
        const rocksdb::Slice k = c.it->key();
        if (k.size() < kCellPrefixSize + 4 || cell_of(k) != current) break;
        const auto p = static_cast<int32_t>(coding::DecodeBigEndian32(k.data() + k.size() - 4));
        if (!c.gen->partitions.count(p)) continue;
        if (!have) {
          value.assign(c.it->value().data(), c.it->value().size());
          have = true;
        } else {
          RETURN_IF_ERROR(monoid_->Merge(&value, c.it->value().ToStringView()));
        }
      }
    }
    if (have && !fn(current, value)) break;
  }
  for (Cursor& c : cursors) RETURN_IF_ERROR(FromRocks(c.it->status(), "scan cells"));
  return Status::OK();
}

Result<RealtimeCells> RealtimeStore::Read(const std::string& view, std::string_view begin,
                                          std::string_view end, const log::Cut& after,
                                          size_t limit) const {
  ASSIGN_OR_RETURN(std::unique_ptr<RealtimeSnapshot> snap, OpenSnapshot(view, after));
  RealtimeCells out;
  out.consumed = snap->consumed();
  out.generations = snap->generations();
  RETURN_IF_ERROR(snap->Scan(begin, end, [&](std::string_view k, std::string_view v) {
    out.cells.emplace_back(std::string(k), std::string(v));
    return limit == 0 || out.cells.size() < limit;
  }));
  return out;
}

uint64_t RealtimeStore::ApproximateSize() const {
  uint64_t size = 0;
  if (!db_->GetIntProperty("rocksdb.total-sst-files-size", &size)) size = 0;
  uint64_t mem = 0;
  if (db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem)) size += mem;
  return size;
}

}  // namespace braid::stream
