#include "batch/engine.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <xxhash.h>

#include "avro/container.h"
#include "base/logging.h"
#include "batch/map_buffer.h"

namespace braid::batch {
namespace {

using Clock = std::chrono::steady_clock;

// One split: a container block, or a byte range of a text file.
struct Split {
  uint32_t file = 0;
  uint64_t offset = 0;
  uint64_t end = 0;
  int64_t first_record = 0;  // Avro: index in the file of the block's first record
  int64_t records = 0;       // Avro: records to map (the cut may end inside the block)
};

struct Task {
  size_t begin = 0;  // splits [begin, end)
  size_t end = 0;
};

struct Plan {
  std::vector<archive::ManifestLease> leases;  // keep the dataset files alive
  std::vector<InputFile> files;
  std::vector<Split> splits;
  uint64_t bytes = 0;
};

// Runs fn(i) for i in [0, n) on `threads` threads; stops handing out work
// once `stop` is set.
void ParallelFor(int threads, size_t n, const std::atomic<bool>& stop,
                 const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (;;) {
      if (stop.load()) return;
      const size_t i = next.fetch_add(1);
      if (i >= n) return;
      fn(i);
    }
  };
  const int t = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  std::vector<std::thread> pool;
  for (int i = 1; i < t; ++i) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
}

// The job's shared state: first error, counters, runs.
struct Shared {
  const EngineJob* job = nullptr;
  const JobOptions* options = nullptr;
  io::FileSystem* fs = nullptr;
  std::string spill_dir;
  uint32_t partitions = 1;
  uint64_t buffer_limit = 0;
  uint64_t run_memory_limit = 0;
  Clock::time_point start;
  Clock::time_point map_end;

  std::atomic<bool> stop{false};
  std::mutex mu;
  Status error;      // guarded by mu
  JobStatus status;  // guarded by mu (phase, totals, counters, error)
  std::atomic<uint64_t> splits_done{0};
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<uint64_t> records_read{0};
  std::atomic<uint64_t> map_output{0};
  std::atomic<uint64_t> runs{0};
  std::atomic<uint64_t> spill_files{0};
  std::atomic<uint64_t> spilled_bytes{0};
  std::atomic<uint64_t> reduce_done{0};
  std::atomic<uint64_t> reduce_input{0};
  std::atomic<uint64_t> output_records{0};
  std::atomic<uint64_t> run_memory{0};     // in-memory runs held
  std::atomic<uint64_t> buffer_memory{0};  // map buffers' memory, updated per flush/task
  std::atomic<uint64_t> peak_memory{0};
  std::atomic<uint64_t> next_spill{0};

  void Fail(Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = std::move(s);
    stop.store(true);
  }
  bool Stopped() const {
    return stop.load() || (options->cancel != nullptr && options->cancel->load());
  }
  void NotePeak() {
    const uint64_t m = run_memory.load() + buffer_memory.load();
    uint64_t p = peak_memory.load();
    while (m > p && !peak_memory.compare_exchange_weak(p, m)) {
    }
  }
  void AddCounters(const std::map<std::string, int64_t>& c) {
    if (c.empty()) return;
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [k, v] : c) status.counters[k] += v;
  }
  JobStatus Snapshot() {
    JobStatus s;
    {
      std::lock_guard<std::mutex> lock(mu);
      s = status;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    s.elapsed_s = elapsed;
    s.splits_done = splits_done.load();
    s.input_bytes_done = bytes_done.load();
    s.records_read = records_read.load();
    s.map_output_records = map_output.load();
    s.runs = runs.load();
    s.spill_files = spill_files.load();
    s.spilled_bytes = spilled_bytes.load();
    s.reduce_tasks_done = reduce_done.load();
    s.reduce_input_records = reduce_input.load();
    s.output_records = output_records.load();
    s.peak_memory_bytes = peak_memory.load();
    const double map_s = s.phase == "planning" || s.phase == "map"
                             ? elapsed
                             : std::chrono::duration<double>(map_end - start).count();
    if (map_s > 0) s.records_per_s = static_cast<double>(s.records_read) / map_s;
    if (s.phase == "map" && s.input_bytes_done > 0 && s.input_bytes_total > 0) {
      s.eta_s = elapsed * static_cast<double>(s.input_bytes_total - s.input_bytes_done) /
                static_cast<double>(s.input_bytes_done);
    } else if (s.phase == "reduce" && s.reduce_tasks_done > 0 && s.reduce_tasks > 0) {
      const double reduce_s = std::chrono::duration<double>(Clock::now() - map_end).count();
      s.eta_s = reduce_s * static_cast<double>(s.reduce_tasks - s.reduce_tasks_done) /
                static_cast<double>(s.reduce_tasks_done);
    } else if (s.phase == "done") {
      s.eta_s = 0;
    }
    return s;
  }
  void SetPhase(const char* phase) {
    std::lock_guard<std::mutex> lock(mu);
    status.phase = phase;
  }
};

// ------------------------------------------------------------------ planning

Status PlanAvroFile(io::FileSystem* fs, InputFile* file, int64_t records_limit,
                    std::vector<Split>* splits, uint32_t file_index) {
  avro::ReaderOptions ro;
  ro.fs = fs;
  ASSIGN_OR_RETURN(auto reader, avro::ContainerReader::Open(file->path, ro));
  file->schema = reader->schema();
  file->header_bytes = reader->header().size;
  ASSIGN_OR_RETURN(std::vector<avro::BlockInfo> blocks, reader->ListBlocks());
  int64_t first = 0;
  for (const avro::BlockInfo& b : blocks) {
    if (records_limit >= 0 && first >= records_limit) break;
    Split s;
    s.file = file_index;
    s.offset = b.offset;
    s.end = b.end();
    s.first_record = first;
    s.records =
        records_limit >= 0 ? std::min(b.record_count, records_limit - first) : b.record_count;
    first += b.record_count;
    if (s.records > 0) splits->push_back(s);
  }
  if (records_limit >= 0 && first < records_limit) {
    return Status::Corruption("file " + file->path + " holds " + std::to_string(first) +
                              " records, the manifest lists " + std::to_string(records_limit));
  }
  return Status::OK();
}

Result<Plan> PlanInputs(const std::vector<Input>& inputs, Shared* sh) {
  Plan plan;
  std::vector<int64_t> limits;  // per file: records to read (-1: all)
  for (const Input& in : inputs) {
    switch (in.kind) {
      case Input::Kind::kDataset: {
        if (in.dataset == nullptr) return Status::InvalidArgument("dataset input without dataset");
        ASSIGN_OR_RETURN(archive::ReadPlan rp, in.dataset->Plan(in.topic, in.cut, in.time));
        // By event hour first: a map task then covers a short stretch of
        // event time across partitions, so its buffer holds the few cells of
        // those hours (not of the whole history) and runs barely overlap.
        std::stable_sort(rp.files.begin(), rp.files.end(),
                         [](const archive::PlannedFile& a, const archive::PlannedFile& b) {
                           return a.entry.hour < b.entry.hour;
                         });
        for (const archive::PlannedFile& pf : rp.files) {
          InputFile f;
          f.path = pf.path;
          f.fs = in.dataset->fs();
          f.topic = in.topic;
          f.entry = pf.entry;
          plan.files.push_back(std::move(f));
          limits.push_back(pf.records_below_cut);
        }
        plan.leases.push_back(std::move(rp.lease));
        break;
      }
      case Input::Kind::kAvroFiles:
      case Input::Kind::kTextFiles:
        for (const std::string& p : in.paths) {
          InputFile f;
          f.path = p;
          f.fs = sh->fs;
          f.text = in.kind == Input::Kind::kTextFiles;
          plan.files.push_back(std::move(f));
          limits.push_back(-1);
        }
        break;
    }
  }
  // Frame every Avro file's blocks (in parallel: one header and block
  // framing pass per file).
  std::vector<std::vector<Split>> per_file(plan.files.size());
  std::vector<Status> errors(plan.files.size());
  ParallelFor(sh->options->threads, plan.files.size(), sh->stop, [&](size_t i) {
    InputFile& f = plan.files[i];
    if (f.text) {
      auto size = f.fs->GetFileSize(f.path);
      if (!size.ok()) {
        errors[i] = size.status().WithContext("file " + f.path);
        return;
      }
      const uint64_t step = std::max<uint64_t>(1, sh->options->text_split_bytes);
      for (uint64_t o = 0; o < *size; o += step) {
        Split s;
        s.file = static_cast<uint32_t>(i);
        s.offset = o;
        s.end = std::min(*size, o + step);
        per_file[i].push_back(s);
      }
      return;
    }
    errors[i] = PlanAvroFile(f.fs, &f, limits[i], &per_file[i], static_cast<uint32_t>(i));
    if (!errors[i].ok() && errors[i].message().find(f.path) == std::string_view::npos) {
      errors[i] = errors[i].WithContext("file " + f.path);
    }
  });
  for (size_t i = 0; i < plan.files.size(); ++i) {
    RETURN_IF_ERROR(errors[i]);
    for (const Split& s : per_file[i]) {
      plan.bytes += s.end - s.offset;
      plan.splits.push_back(s);
    }
  }
  return plan;
}

std::vector<Task> CutTasks(const Plan& plan, uint64_t task_bytes) {
  std::vector<Task> tasks;
  size_t begin = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < plan.splits.size(); ++i) {
    bytes += plan.splits[i].end - plan.splits[i].offset;
    if (bytes >= task_bytes) {
      tasks.push_back({begin, i + 1});
      begin = i + 1;
      bytes = 0;
    }
  }
  if (begin < plan.splits.size()) tasks.push_back({begin, plan.splits.size()});
  return tasks;
}

// ----------------------------------------------------------------------- map

class MapTask final : public Emitter {
 public:
  MapTask(Shared* sh, size_t task_index)
      : sh_(sh),
        task_(task_index),
        buffer_(sh->job->merger, sh->buffer_limit),
        combiner_(sh->job->new_combiner && sh->job->merger == nullptr ? sh->job->new_combiner()
                                                                      : nullptr),
        partitioner_(sh->job->new_partitioner && !sh->job->total_order ? sh->job->new_partitioner()
                                                                       : nullptr) {}

  using Emitter::Emit;
  void Emit(std::string_view key, std::string_view sort_key, std::string_view value) override {
    if (!status_.ok()) return;
    uint32_t p = 0;
    if (!sh_->job->total_order && sh_->partitions > 1) {
      if (partitioner_ != nullptr) {
        p = partitioner_->Partition(key, sh_->partitions);
        if (p >= sh_->partitions) {
          status_ =
              Status::InvalidArgument("the partitioner returned " + std::to_string(p) + " for " +
                                      std::to_string(sh_->partitions) + " partitions");
          return;
        }
      } else {
        p = static_cast<uint32_t>(XXH64(key.data(), key.size(), 0) % sh_->partitions);
      }
    }
    ++emitted_;
    status_ = buffer_.Add(p, key, sort_key, value);
    if (status_.ok() && buffer_.full()) status_ = Flush();
  }
  void Count(std::string_view name, int64_t n) override { counters_[std::string(name)] += n; }

  // Maps the task's splits. Returns the runs.
  Result<std::vector<std::shared_ptr<const Run>>> Execute(const Plan& plan, const Task& task);

 private:
  Status MapAvroRange(const Plan& plan, size_t begin, size_t end, SplitMapper* mapper);
  Status MapTextSplit(const Plan& plan, const Split& split, SplitMapper* mapper);
  Status Flush();
  Status Check(Status s) {
    if (!s.ok()) return s;
    return status_;
  }

  Shared* sh_;
  size_t task_;
  MapBuffer buffer_;
  std::unique_ptr<GroupReducer> combiner_;
  std::unique_ptr<KeyPartitioner> partitioner_;
  std::map<std::string, int64_t> counters_;
  std::vector<std::shared_ptr<const Run>> runs_;
  uint64_t emitted_ = 0;
  uint64_t buffer_reported_ = 0;
  Status status_;
};

Status MapTask::Flush() {
  if (buffer_.empty()) return Status::OK();
  const uint64_t size = buffer_.memory();
  std::unique_ptr<RunWriter> w;
  bool in_memory = false;
  if (sh_->run_memory.fetch_add(size) + size <= sh_->run_memory_limit) {
    in_memory = true;
    w = RunWriter::ToMemory(sh_->options->run);
  } else {
    sh_->run_memory.fetch_sub(size);
    const std::string path =
        io::JoinPath(sh_->spill_dir, "run-" + std::to_string(task_) + "-" +
                                         std::to_string(sh_->next_spill.fetch_add(1)) + ".run");
    ASSIGN_OR_RETURN(w, RunWriter::ToFile(sh_->fs, path, sh_->options->run));
  }
  Status s = buffer_.Drain(combiner_.get(), w.get(), &counters_);
  Result<std::shared_ptr<const Run>> run =
      s.ok() ? w->Finish() : Result<std::shared_ptr<const Run>>(s);
  if (in_memory) {
    // Replace the reservation by the run's real size.
    sh_->run_memory.fetch_sub(size);
    if (run.ok()) sh_->run_memory.fetch_add((*run)->stored_bytes());
  }
  sh_->buffer_memory.fetch_sub(std::min(sh_->buffer_memory.load(), buffer_reported_));
  buffer_reported_ = 0;
  if (!run.ok()) return run.status();
  sh_->runs.fetch_add(1);
  if ((*run)->on_disk()) {
    sh_->spill_files.fetch_add(1);
    sh_->spilled_bytes.fetch_add((*run)->stored_bytes());
  }
  runs_.push_back(std::move(*run));
  sh_->NotePeak();
  return Status::OK();
}

Status MapTask::MapAvroRange(const Plan& plan, size_t begin, size_t end, SplitMapper* mapper) {
  const Split& first = plan.splits[begin];
  const InputFile& file = plan.files[first.file];
  avro::ReaderOptions ro;
  ro.fs = file.fs;
  ASSIGN_OR_RETURN(auto reader, avro::ContainerReader::Open(file.path, ro));
  RETURN_IF_ERROR(reader->SetRange(first.offset, plan.splits[end - 1].end));
  for (size_t i = begin; i < end; ++i) {
    if (sh_->Stopped()) return Status::OK();
    const Split& s = plan.splits[i];
    avro::Block block;
    ASSIGN_OR_RETURN(bool got, reader->NextBlock(&block));
    if (!got || block.info.offset != s.offset) {
      return Status::Corruption("the block at byte offset " + std::to_string(s.offset) +
                                " changed since the job was planned");
    }
    AvroBlock ab;
    ab.file = &file;
    ab.offset = s.offset;
    ab.first_record = s.first_record;
    ab.records = s.records;
    ab.data = block.data;
    Status st = Check(mapper->MapBlock(ab, this));
    if (!st.ok()) {
      return st.WithContext("block at byte offset " + std::to_string(s.offset));
    }
    const uint64_t mem = buffer_.memory();
    if (mem > buffer_reported_) {
      sh_->buffer_memory.fetch_add(mem - buffer_reported_);
      buffer_reported_ = mem;
      sh_->NotePeak();
    }
    sh_->records_read.fetch_add(static_cast<uint64_t>(s.records));
    sh_->bytes_done.fetch_add(s.end - s.offset);
    sh_->splits_done.fetch_add(1);
  }
  return Status::OK();
}

Status MapTask::MapTextSplit(const Plan& plan, const Split& split, SplitMapper* mapper) {
  const InputFile& file = plan.files[split.file];
  ASSIGN_OR_RETURN(auto f, file.fs->NewRandomAccessFile(file.path));
  ASSIGN_OR_RETURN(uint64_t size, f->Size());
  constexpr size_t kChunk = 1 << 20;
  constexpr size_t kMaxLine = size_t{256} << 20;
  std::string buf;
  uint64_t buf_off = split.offset;
  size_t pos = 0;  // in buf
  // Reads more of the file into buf; false at the end of the file.
  auto fill = [&]() -> Result<bool> {
    const uint64_t at = buf_off + buf.size();
    if (at >= size) return false;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - at));
    const size_t old = buf.size();
    buf.resize(old + n);
    ASSIGN_OR_RETURN(size_t got, f->Read(at, n, buf.data() + old));
    buf.resize(old + got);
    return got > 0;
  };
  uint64_t line_start = split.offset;
  if (split.offset > 0) {
    // The line that starts before the split belongs to the previous split.
    char prev = 0;
    ASSIGN_OR_RETURN(size_t n, f->Read(split.offset - 1, 1, &prev));
    if (n != 1) return Status::IOError("short read");
    if (prev != '\n') {
      for (;;) {
        const size_t nl = buf.find('\n', pos);
        if (nl != std::string::npos) {
          pos = nl + 1;
          break;
        }
        pos = buf.size();
        ASSIGN_OR_RETURN(bool more, fill());
        if (!more) break;
      }
      line_start = buf_off + pos;
    }
  }
  uint64_t records = 0;
  while (line_start < split.end && line_start < size) {
    if (sh_->Stopped()) return Status::OK();
    size_t nl;
    while ((nl = buf.find('\n', pos)) == std::string::npos) {
      if (buf.size() - pos > kMaxLine) {
        return Status::TooLarge("a line longer than 256 MiB at byte offset " +
                                std::to_string(line_start));
      }
      // Drop what was consumed before reading more.
      buf.erase(0, pos);
      buf_off += pos;
      pos = 0;
      ASSIGN_OR_RETURN(bool more, fill());
      if (!more) break;
    }
    const size_t line_end = nl == std::string::npos ? buf.size() : nl;
    std::string_view line(buf.data() + pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    TextLine tl{&file, line_start, line};
    Status st = Check(mapper->MapLine(tl, this));
    if (!st.ok()) return st.WithContext("line at byte offset " + std::to_string(line_start));
    ++records;
    pos = nl == std::string::npos ? buf.size() : nl + 1;
    line_start = buf_off + pos;
    if (nl == std::string::npos) break;
  }
  sh_->records_read.fetch_add(records);
  sh_->bytes_done.fetch_add(split.end - split.offset);
  sh_->splits_done.fetch_add(1);
  return Status::OK();
}

Result<std::vector<std::shared_ptr<const Run>>> MapTask::Execute(const Plan& plan,
                                                                 const Task& task) {
  std::unique_ptr<SplitMapper> mapper = sh_->job->new_mapper();
  size_t i = task.begin;
  while (i < task.end && !sh_->Stopped()) {
    const Split& s = plan.splits[i];
    const InputFile& file = plan.files[s.file];
    Status st;
    if (file.text) {
      st = MapTextSplit(plan, s, mapper.get());
      ++i;
    } else {
      size_t j = i + 1;
      while (j < task.end && plan.splits[j].file == s.file) ++j;
      st = MapAvroRange(plan, i, j, mapper.get());
      i = j;
    }
    if (!st.ok()) {
      if (st.message().find(file.path) == std::string_view::npos) {
        st = st.WithContext("file " + file.path);
      }
      return st;
    }
  }
  if (sh_->Stopped()) return runs_;
  RETURN_IF_ERROR(Check(mapper->Finish(this)));
  RETURN_IF_ERROR(Flush());
  sh_->map_output.fetch_add(emitted_);
  sh_->AddCounters(counters_);
  return runs_;
}

// --------------------------------------------------------------- k-way merge

// Merges cursors by (key, sort key, source order).
class KWayMerge {
 public:
  // `end`: stop before the first key >= end (empty: no end).
  KWayMerge(std::vector<std::unique_ptr<RunCursor>> cursors, std::string end)
      : cursors_(std::move(cursors)), end_(std::move(end)) {
    for (size_t i = 0; i < cursors_.size(); ++i) {
      if (cursors_[i]->Valid()) heap_.push_back(i);
    }
    std::make_heap(heap_.begin(), heap_.end(), Greater{this});
  }
  bool Valid() const {
    if (heap_.empty()) return false;
    return end_.empty() || Top()->key() < end_;
  }
  std::string_view key() const { return Top()->key(); }
  std::string_view sort_key() const { return Top()->sort_key(); }
  std::string_view value() const { return Top()->value(); }
  Status Next() {
    std::pop_heap(heap_.begin(), heap_.end(), Greater{this});
    const size_t i = heap_.back();
    RETURN_IF_ERROR(cursors_[i]->Next());
    if (cursors_[i]->Valid()) {
      std::push_heap(heap_.begin(), heap_.end(), Greater{this});
    } else {
      heap_.pop_back();
    }
    return Status::OK();
  }

 private:
  struct Greater {
    const KWayMerge* m;
    bool operator()(size_t a, size_t b) const {
      const RunCursor& x = *m->cursors_[a];
      const RunCursor& y = *m->cursors_[b];
      if (int c = x.key().compare(y.key()); c != 0) return c > 0;
      if (int c = x.sort_key().compare(y.sort_key()); c != 0) return c > 0;
      return a > b;
    }
  };
  const RunCursor* Top() const { return cursors_[heap_.front()].get(); }

  std::vector<std::unique_ptr<RunCursor>> cursors_;
  std::vector<size_t> heap_;
  std::string end_;
};

// The values of the current key of a merge.
class MergedValues final : public ValueIterator {
 public:
  MergedValues(KWayMerge* m, const std::string* key, Shared* sh) : m_(m), key_(key), sh_(sh) {}
  bool Next(std::string_view* value, std::string_view* sort_key) override {
    if (!started_) {
      started_ = true;
    } else if (!Advance()) {
      return false;
    }
    if (!status_.ok() || !m_->Valid() || m_->key() != *key_) return false;
    *value = m_->value();
    if (sort_key != nullptr) *sort_key = m_->sort_key();
    ++consumed_;
    return true;
  }
  // Skips what the reducer left of the group; the merge is then on the next key.
  Status Finish() {
    if (!started_) {
      started_ = true;
    } else {
      Advance();
    }
    while (status_.ok() && m_->Valid() && m_->key() == *key_) {
      ++consumed_;
      Advance();
    }
    sh_->reduce_input.fetch_add(consumed_);
    return status_;
  }

 private:
  bool Advance() {
    if (!status_.ok() || !m_->Valid() || m_->key() != *key_) return false;
    status_ = m_->Next();
    return status_.ok();
  }
  KWayMerge* m_;
  const std::string* key_;
  Shared* sh_;
  bool started_ = false;
  uint64_t consumed_ = 0;
  Status status_;
};

class ReduceContext final : public Emitter {
 public:
  ReduceContext(OutputPart* part, Shared* sh) : part_(part), sh_(sh) {}
  using Emitter::Emit;
  void Emit(std::string_view key, std::string_view, std::string_view value) override {
    if (!status_.ok()) return;
    status_ = part_->Write(key, value);
    ++written_;
  }
  void Count(std::string_view name, int64_t n) override { counters_[std::string(name)] += n; }
  Status status() const { return status_; }
  std::map<std::string, int64_t>& counters() { return counters_; }
  uint64_t written() const { return written_; }

 private:
  OutputPart* part_;
  Shared* sh_;
  std::map<std::string, int64_t> counters_;
  uint64_t written_ = 0;
  Status status_;
};

Result<KWayMerge> OpenMerge(const std::vector<std::shared_ptr<const Run>>& runs, uint32_t partition,
                            const std::string& from, const std::string& to) {
  std::vector<std::unique_ptr<RunCursor>> cursors;
  for (const auto& r : runs) {
    ASSIGN_OR_RETURN(auto c, r->Open(partition, from));
    cursors.push_back(std::move(c));
  }
  return KWayMerge(std::move(cursors), to);
}

// Merges `runs` (all partitions) into one spilled run, merging equal keys
// with the job's merger if it has one.
Result<std::shared_ptr<const Run>> MergeRuns(const std::vector<std::shared_ptr<const Run>>& runs,
                                             Shared* sh) {
  std::vector<uint32_t> partitions;
  for (const auto& r : runs) {
    for (const auto& ix : r->index()) partitions.push_back(ix.partition);
  }
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  const std::string path =
      io::JoinPath(sh->spill_dir, "merge-" + std::to_string(sh->next_spill.fetch_add(1)) + ".run");
  ASSIGN_OR_RETURN(auto w, RunWriter::ToFile(sh->fs, path, sh->options->run));
  std::string key, acc;
  for (uint32_t p : partitions) {
    ASSIGN_OR_RETURN(KWayMerge m, OpenMerge(runs, p, "", ""));
    while (m.Valid()) {
      if (sh->Stopped()) return Status::Aborted("stopped");
      if (sh->job->merger == nullptr || !sh->job->merger->Merges(m.key())) {
        RETURN_IF_ERROR(w->Add(p, m.key(), m.sort_key(), m.value()));
        RETURN_IF_ERROR(m.Next());
        continue;
      }
      key.assign(m.key());
      acc.assign(m.value());
      RETURN_IF_ERROR(m.Next());
      while (m.Valid() && m.key() == key) {
        RETURN_IF_ERROR(sh->job->merger->Merge(key, &acc, m.value()));
        RETURN_IF_ERROR(m.Next());
      }
      RETURN_IF_ERROR(w->Add(p, key, {}, acc));
    }
  }
  ASSIGN_OR_RETURN(auto run, w->Finish());
  sh->spill_files.fetch_add(1);
  sh->spilled_bytes.fetch_add(run->stored_bytes());
  return run;
}

// Total order: range boundaries from the runs' block indexes, weighted by
// entries, so that each reduce task gets about the same number of entries.
std::vector<std::string> RangeBoundaries(const std::vector<std::shared_ptr<const Run>>& runs,
                                         const EngineJob& job, uint32_t tasks) {
  std::vector<std::pair<std::string_view, uint64_t>> samples;
  uint64_t total = 0;
  for (const auto& r : runs) {
    for (const auto& ix : r->index()) {
      samples.emplace_back(ix.first_key, ix.entries);
      total += ix.entries;
    }
  }
  std::sort(samples.begin(), samples.end());
  std::vector<std::string> bounds;
  if (tasks <= 1 || total == 0) return bounds;
  uint64_t seen = 0;
  uint32_t next = 1;
  for (const auto& [key, n] : samples) {
    seen += n;
    if (next < tasks && seen >= total * next / tasks) {
      std::string b = job.range_boundary ? job.range_boundary(key) : std::string(key);
      if (!b.empty() && (bounds.empty() || b > bounds.back())) bounds.push_back(std::move(b));
      ++next;
    }
  }
  return bounds;
}

Status RunReduceTask(const std::vector<std::shared_ptr<const Run>>& runs, uint32_t partition,
                     const std::string& from, const std::string& to, uint32_t part_index,
                     Output* output, Shared* sh) {
  ASSIGN_OR_RETURN(std::unique_ptr<OutputPart> part, output->OpenPart(part_index));
  std::unique_ptr<GroupReducer> reducer = sh->job->new_reducer();
  ReduceContext ctx(part.get(), sh);
  ASSIGN_OR_RETURN(KWayMerge m, OpenMerge(runs, partition, from, to));
  std::string key;
  while (m.Valid()) {
    if (sh->Stopped()) return Status::OK();
    key.assign(m.key());
    MergedValues values(&m, &key, sh);
    RETURN_IF_ERROR(reducer->Reduce(key, &values, &ctx));
    RETURN_IF_ERROR(ctx.status());
    RETURN_IF_ERROR(values.Finish());
  }
  RETURN_IF_ERROR(reducer->Finish(&ctx));
  RETURN_IF_ERROR(ctx.status());
  RETURN_IF_ERROR(part->Close());
  sh->output_records.fetch_add(ctx.written());
  sh->AddCounters(ctx.counters());
  sh->reduce_done.fetch_add(1);
  return Status::OK();
}

std::atomic<uint64_t> g_job_seq{0};

Status RunPhases(const std::vector<Input>& inputs, Output* output, Shared* sh) {
  const JobOptions& o = *sh->options;
  ASSIGN_OR_RETURN(Plan plan, PlanInputs(inputs, sh));
  // Small inputs: at least 4 tasks per thread, so that every core works.
  const uint64_t task_bytes = std::max<uint64_t>(
      64 << 10, std::min<uint64_t>(o.task_bytes, plan.bytes / (4 * std::max(1, o.threads))));
  const std::vector<Task> tasks = CutTasks(plan, task_bytes);
  {
    std::lock_guard<std::mutex> lock(sh->mu);
    sh->status.splits_total = plan.splits.size();
    sh->status.input_bytes_total = plan.bytes;
    sh->status.phase = "map";
  }
  // Map.
  std::vector<std::vector<std::shared_ptr<const Run>>> task_runs(tasks.size());
  ParallelFor(o.threads, tasks.size(), sh->stop, [&](size_t t) {
    if (sh->Stopped()) return;
    MapTask mt(sh, t);
    auto runs = mt.Execute(plan, tasks[t]);
    if (!runs.ok()) {
      sh->Fail(runs.status());
      return;
    }
    task_runs[t] = std::move(*runs);
  });
  sh->map_end = Clock::now();
  if (sh->Stopped()) return Status::OK();
  std::vector<std::shared_ptr<const Run>> runs;
  for (auto& tr : task_runs) {
    for (auto& r : tr) runs.push_back(std::move(r));
  }
  task_runs.clear();
  plan.leases.clear();
  // Merge down to merge_factor runs, keeping their order.
  const size_t factor = std::max<size_t>(2, o.merge_factor);
  if (runs.size() > factor) sh->SetPhase("merge");
  while (runs.size() > factor) {
    const size_t groups = (runs.size() + factor - 1) / factor;
    std::vector<std::shared_ptr<const Run>> merged(groups);
    ParallelFor(o.threads, groups, sh->stop, [&](size_t g) {
      std::vector<std::shared_ptr<const Run>> group(
          runs.begin() + static_cast<ptrdiff_t>(g * factor),
          runs.begin() + static_cast<ptrdiff_t>(std::min(runs.size(), (g + 1) * factor)));
      auto r = MergeRuns(group, sh);
      if (!r.ok()) {
        sh->Fail(r.status());
        return;
      }
      merged[g] = std::move(*r);
    });
    if (sh->Stopped()) return Status::OK();
    for (const auto& r : runs) {
      if (!r->on_disk())
        sh->run_memory.fetch_sub(std::min(sh->run_memory.load(), r->stored_bytes()));
    }
    runs = std::move(merged);
  }
  // Reduce.
  struct ReduceTask {
    uint32_t partition;
    std::string from, to;
  };
  std::vector<ReduceTask> rtasks;
  if (sh->job->total_order) {
    const std::vector<std::string> bounds = RangeBoundaries(runs, *sh->job, sh->partitions);
    for (size_t i = 0; i <= bounds.size(); ++i) {
      rtasks.push_back({0, i == 0 ? std::string() : bounds[i - 1],
                        i == bounds.size() ? std::string() : bounds[i]});
    }
  } else {
    for (uint32_t p = 0; p < sh->partitions; ++p) rtasks.push_back({p, "", ""});
  }
  {
    std::lock_guard<std::mutex> lock(sh->mu);
    sh->status.reduce_tasks = rtasks.size();
    sh->status.phase = "reduce";
  }
  ParallelFor(o.threads, rtasks.size(), sh->stop, [&](size_t i) {
    const ReduceTask& rt = rtasks[i];
    Status s =
        RunReduceTask(runs, rt.partition, rt.from, rt.to, static_cast<uint32_t>(i), output, sh);
    if (!s.ok()) sh->Fail(s.WithContext("reduce task " + std::to_string(i)));
  });
  return Status::OK();
}

}  // namespace

Result<JobStatus> RunJob(const EngineJob& job, const std::vector<Input>& inputs, Output* output,
                         const JobOptions& options) {
  if (options.spill_dir.empty())
    return Status::InvalidArgument("JobOptions::spill_dir is required");
  if (!job.new_mapper || !job.new_reducer) {
    return Status::InvalidArgument("job " + job.name + " has no mapper or reducer");
  }
  Shared sh;
  sh.job = &job;
  sh.options = &options;
  sh.fs = options.fs != nullptr ? options.fs : io::DefaultFileSystem();
  sh.start = Clock::now();
  sh.map_end = sh.start;
  sh.status.job = job.name;
  const int threads = std::max(1, options.threads);
  sh.partitions = job.reduce_tasks > 0 ? job.reduce_tasks : static_cast<uint32_t>(threads);
  sh.buffer_limit = std::max<uint64_t>(64 << 10, options.memory_budget / (2 * threads));
  sh.run_memory_limit = options.memory_budget / 2;
  sh.spill_dir = io::JoinPath(options.spill_dir, "job-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(g_job_seq.fetch_add(1)));
  RETURN_IF_ERROR(sh.fs->CreateDirs(sh.spill_dir).WithContext("spill directory"));

  std::mutex progress_mu;
  std::condition_variable progress_cv;
  bool finished = false;
  std::thread progress;
  if (options.progress) {
    progress = std::thread([&] {
      std::unique_lock<std::mutex> lock(progress_mu);
      while (!progress_cv.wait_for(
          lock, std::chrono::milliseconds(std::max<int64_t>(10, options.progress_interval_ms)),
          [&] { return finished; })) {
        lock.unlock();
        options.progress(sh.Snapshot());
        lock.lock();
      }
    });
  }

  Status s = RunPhases(inputs, output, &sh);
  if (!s.ok()) sh.Fail(s);
  Status err;
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    err = sh.error;
  }
  const bool cancelled = err.ok() && options.cancel != nullptr && options.cancel->load();
  if (err.ok() && !cancelled) {
    sh.SetPhase("commit");
    err = output->Commit();
  }
  if (!err.ok() || cancelled) output->Abort();
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    sh.status.phase = cancelled ? "cancelled" : err.ok() ? "done" : "failed";
    if (!err.ok()) sh.status.error = err.ToString();
  }
  {
    std::lock_guard<std::mutex> lock(progress_mu);
    finished = true;
  }
  progress_cv.notify_all();
  if (progress.joinable()) progress.join();
  JobStatus final_status = sh.Snapshot();
  if (options.progress) options.progress(final_status);
  sh.fs->DeleteDirRecursive(sh.spill_dir).IgnoreError();
  if (cancelled) return Status::Aborted("job " + job.name + " cancelled");
  if (!err.ok()) return err;
  return final_status;
}

}  // namespace braid::batch
