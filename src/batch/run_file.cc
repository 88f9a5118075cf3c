#include "batch/run_file.h"

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "base/crc.h"
#include "log/compression.h"

namespace braid::batch {
namespace {

constexpr char kMagic[8] = {'B', 'R', 'A', 'I', 'D', 'R', 'U', 'N'};
constexpr size_t kBlockHeader = 13;  // u8 + 3 x u32
constexpr size_t kFooter = 24;
constexpr uint8_t kNone = 0;
constexpr uint8_t kSnappy = 1;
// Largest raw block accepted from a file (a block holds at least one entry,
// so a huge entry makes a huge block; values are bounded by memory anyway).
constexpr uint64_t kMaxBlockBytes = uint64_t{1} << 31;

void PutFixed32(std::string* s, uint32_t v) { coding::PutLittleEndian32(s, v); }

const char* GetLen(const char* p, const char* end, std::string_view* out) {
  uint64_t n = 0;
  p = coding::GetVarint64(p, end, &n);
  if (p == nullptr || n > static_cast<uint64_t>(end - p)) return nullptr;
  *out = std::string_view(p, n);
  return p + n;
}

int CompareEntry(uint32_t pa, std::string_view ka, std::string_view sa, uint32_t pb,
                 std::string_view kb, std::string_view sb) {
  if (pa != pb) return pa < pb ? -1 : 1;
  if (int c = ka.compare(kb); c != 0) return c;
  return sa.compare(sb);
}

}  // namespace

// ---------------------------------------------------------------- RunWriter

Result<std::unique_ptr<RunWriter>> RunWriter::ToFile(io::FileSystem* fs, std::string path,
                                                     RunOptions options) {
  std::unique_ptr<RunWriter> w(new RunWriter());
  w->options_ = options;
  w->run_.reset(new Run());
  w->run_->fs_ = fs;
  ASSIGN_OR_RETURN(w->file_, fs->NewWritableFile(path, io::OpenMode::kTruncate));
  w->run_->path_ = std::move(path);
  return w;
}

std::unique_ptr<RunWriter> RunWriter::ToMemory(RunOptions options) {
  std::unique_ptr<RunWriter> w(new RunWriter());
  w->options_ = options;
  w->options_.compress = false;
  w->run_.reset(new Run());
  return w;
}

RunWriter::~RunWriter() = default;  // an unfinished run's file goes with run_

Status RunWriter::Add(uint32_t partition, std::string_view key, std::string_view sort_key,
                      std::string_view value) {
  if (!error_.ok()) return error_;
  if (have_last_ &&
      CompareEntry(last_partition_, last_key_, last_sort_, partition, key, sort_key) > 0) {
    return Status::InvalidArgument("run entries out of order: key \"" + std::string(key) +
                                   "\" after \"" + last_key_ + "\"");
  }
  if (!block_.empty() && (partition != block_partition_ || block_.size() >= options_.block_bytes)) {
    if (Status s = FlushBlock(); !s.ok()) return error_ = s;
  }
  if (block_.empty()) {
    block_partition_ = partition;
    block_first_key_.assign(key);
  }
  coding::PutVarint64(&block_, key.size());
  block_.append(key);
  coding::PutVarint64(&block_, sort_key.size());
  block_.append(sort_key);
  coding::PutVarint64(&block_, value.size());
  block_.append(value);
  ++block_entries_;
  ++run_->entries_;
  run_->raw_bytes_ += key.size() + sort_key.size() + value.size();
  last_partition_ = partition;
  last_key_.assign(key);
  last_sort_.assign(sort_key);
  have_last_ = true;
  return Status::OK();
}

Status RunWriter::FlushBlock() {
  if (block_.empty()) return Status::OK();
  RunBlockIndex ix;
  ix.partition = block_partition_;
  ix.entries = block_entries_;
  ix.first_key = std::move(block_first_key_);
  block_first_key_.clear();
  if (file_ == nullptr) {
    ix.offset = run_->memory_.size();
    run_->memory_.append(block_);
    run_->block_sizes_.push_back(block_.size());
  } else {
    ix.offset = file_->Size();
    uint8_t comp = kNone;
    std::string_view stored = block_;
    if (options_.compress) {
      compressed_.clear();
      log::CompressOptions co;
      co.snappy_xerial_framing = false;
      RETURN_IF_ERROR(log::Compress(log::Compression::kSnappy, block_, co, &compressed_));
      if (compressed_.size() < block_.size()) {
        comp = kSnappy;
        stored = compressed_;
      }
    }
    std::string header(1, static_cast<char>(comp));
    PutFixed32(&header, static_cast<uint32_t>(block_.size()));
    PutFixed32(&header, static_cast<uint32_t>(stored.size()));
    PutFixed32(&header, Crc32c(stored));
    RETURN_IF_ERROR(file_->Append(header).WithContext("spill " + run_->path_));
    RETURN_IF_ERROR(file_->Append(stored).WithContext("spill " + run_->path_));
    run_->block_sizes_.push_back(kBlockHeader + stored.size());
  }
  run_->index_.push_back(std::move(ix));
  block_.clear();
  block_entries_ = 0;
  return Status::OK();
}

Result<std::shared_ptr<const Run>> RunWriter::Finish() {
  if (!error_.ok()) return error_;
  if (Status s = FlushBlock(); !s.ok()) return error_ = s;
  if (file_ == nullptr) {
    run_->stored_bytes_ = run_->memory_.size() + run_->index_.size() * 48;
    for (const auto& ix : run_->index_) run_->stored_bytes_ += ix.first_key.size();
    return std::shared_ptr<const Run>(std::move(run_));
  }
  std::string index;
  coding::PutVarint64(&index, run_->index_.size());
  for (const RunBlockIndex& ix : run_->index_) {
    coding::PutVarint64(&index, ix.partition);
    coding::PutVarint64(&index, ix.offset);
    coding::PutVarint64(&index, ix.entries);
    coding::PutVarint64(&index, ix.first_key.size());
    index.append(ix.first_key);
  }
  std::string footer;
  coding::PutLittleEndian64(&footer, file_->Size());
  PutFixed32(&footer, static_cast<uint32_t>(index.size()));
  PutFixed32(&footer, Crc32c(index));
  footer.append(kMagic, sizeof(kMagic));
  Status s = file_->Append(index);
  if (s.ok()) s = file_->Append(footer);
  if (s.ok()) s = file_->Close();
  if (!s.ok()) return error_ = s.WithContext("spill " + run_->path_);
  run_->stored_bytes_ = file_->Size();
  file_.reset();
  ASSIGN_OR_RETURN(run_->file_, run_->fs_->NewRandomAccessFile(run_->path_));
  return std::shared_ptr<const Run>(std::move(run_));
}

// ---------------------------------------------------------------------- Run

Run::~Run() {
  file_.reset();
  if (!path_.empty() && fs_ != nullptr) fs_->DeleteFile(path_).IgnoreError();
}

Result<std::shared_ptr<const Run>> Run::OpenFile(io::FileSystem* fs, const std::string& path) {
  std::shared_ptr<Run> run(new Run());
  run->fs_ = fs;
  ASSIGN_OR_RETURN(run->file_, fs->NewRandomAccessFile(path));
  run->path_ = path;
  auto fail = [&](const std::string& what, uint64_t at) {
    // Not ours to delete: a damaged file stays for inspection.
    run->path_.clear();
    return Status::Corruption("run file " + path + ": " + what + " at byte offset " +
                              std::to_string(at));
  };
  ASSIGN_OR_RETURN(uint64_t size, run->file_->Size());
  if (size < kFooter) return fail("too short for a footer", 0);
  char footer[kFooter];
  ASSIGN_OR_RETURN(size_t n, run->file_->Read(size - kFooter, kFooter, footer));
  if (n != kFooter || std::memcmp(footer + 16, kMagic, 8) != 0) {
    return fail("bad footer magic", size - kFooter);
  }
  const uint64_t index_offset = coding::DecodeLittleEndian64(footer);
  const uint32_t index_size = coding::DecodeLittleEndian32(footer + 8);
  if (index_offset > size - kFooter || index_size != size - kFooter - index_offset) {
    return fail("bad index position", size - kFooter);
  }
  std::string index(index_size, '\0');
  ASSIGN_OR_RETURN(n, run->file_->Read(index_offset, index_size, index.data()));
  if (n != index_size || Crc32c(index) != coding::DecodeLittleEndian32(footer + 12)) {
    return fail("index checksum mismatch", index_offset);
  }
  const char* p = index.data();
  const char* end = p + index.size();
  uint64_t count = 0;
  p = coding::GetVarint64(p, end, &count);
  if (p == nullptr || count > index.size()) return fail("bad block count", index_offset);
  for (uint64_t i = 0; i < count; ++i) {
    RunBlockIndex ix;
    uint64_t part = 0;
    std::string_view first;
    if ((p = coding::GetVarint64(p, end, &part)) == nullptr ||
        (p = coding::GetVarint64(p, end, &ix.offset)) == nullptr ||
        (p = coding::GetVarint64(p, end, &ix.entries)) == nullptr ||
        (p = GetLen(p, end, &first)) == nullptr || part > UINT32_MAX || ix.offset >= index_offset) {
      return fail("malformed index entry " + std::to_string(i), index_offset);
    }
    ix.partition = static_cast<uint32_t>(part);
    ix.first_key.assign(first);
    run->entries_ += ix.entries;
    run->index_.push_back(std::move(ix));
  }
  for (size_t i = 0; i < run->index_.size(); ++i) {
    const uint64_t next = i + 1 < run->index_.size() ? run->index_[i + 1].offset : index_offset;
    if (next <= run->index_[i].offset) return fail("blocks out of order", run->index_[i].offset);
    run->block_sizes_.push_back(next - run->index_[i].offset);
  }
  run->stored_bytes_ = size;
  return std::shared_ptr<const Run>(std::move(run));
}

Status Run::ReadBlock(size_t i, std::string* buf, std::string* scratch,
                      std::string_view* raw) const {
  const RunBlockIndex& ix = index_[i];
  if (file_ == nullptr) {
    *raw = std::string_view(memory_).substr(ix.offset, block_sizes_[i]);
    return Status::OK();
  }
  auto fail = [&](const std::string& what) {
    return Status::Corruption("run file " + path_ + ": " + what + " in the block at byte offset " +
                              std::to_string(ix.offset));
  };
  const uint64_t size = block_sizes_[i];
  if (size < kBlockHeader || size > kMaxBlockBytes) return fail("bad block size");
  buf->resize(size);
  ASSIGN_OR_RETURN(size_t n, file_->Read(ix.offset, size, buf->data()));
  if (n != size) return fail("truncated block");
  const uint8_t comp = static_cast<uint8_t>((*buf)[0]);
  const uint32_t raw_size = coding::DecodeLittleEndian32(buf->data() + 1);
  const uint32_t stored_size = coding::DecodeLittleEndian32(buf->data() + 5);
  const uint32_t crc = coding::DecodeLittleEndian32(buf->data() + 9);
  if (stored_size != size - kBlockHeader) return fail("bad stored size");
  std::string_view stored(buf->data() + kBlockHeader, stored_size);
  if (Crc32c(stored) != crc) return fail("checksum mismatch");
  if (comp == kNone) {
    if (raw_size != stored_size) return fail("bad raw size");
    *raw = stored;
    return Status::OK();
  }
  if (comp != kSnappy) return fail("unknown compression");
  scratch->clear();
  Status s = log::Decompress(log::Compression::kSnappy, stored, raw_size, scratch);
  if (!s.ok() || scratch->size() != raw_size) {
    return fail("cannot decompress: " + std::string(s.message()));
  }
  *raw = *scratch;
  return Status::OK();
}

Result<std::unique_ptr<RunCursor>> Run::Open(uint32_t partition, std::string_view from) const {
  // The first block of the partition, or with from: the last block of the
  // partition whose first key is < from (earlier ones hold smaller keys
  // only; strictly smaller, since entries of `from` itself, several values
  // of one key, may begin in a block whose first key is smaller).
  auto it = std::lower_bound(index_.begin(), index_.end(), partition,
                             [](const RunBlockIndex& ix, uint32_t p) { return ix.partition < p; });
  size_t block = static_cast<size_t>(it - index_.begin());
  if (!from.empty()) {
    while (block + 1 < index_.size() && index_[block + 1].partition == partition &&
           index_[block + 1].first_key < from) {
      ++block;
    }
  }
  std::unique_ptr<RunCursor> c(new RunCursor(this, partition, block));
  RETURN_IF_ERROR(c->LoadBlock());
  while (c->Valid() && c->key() < from) RETURN_IF_ERROR(c->Next());
  return c;
}

// ---------------------------------------------------------------- RunCursor

RunCursor::~RunCursor() = default;

Status RunCursor::LoadBlock() {
  valid_ = false;
  if (block_ >= run_->index_.size() || run_->index_[block_].partition != partition_) {
    return Status::OK();
  }
  RETURN_IF_ERROR(run_->ReadBlock(block_, &buf_, &scratch_, &data_));
  pos_ = data_.data();
  return ParseEntry();
}

Status RunCursor::ParseEntry() {
  const char* end = data_.data() + data_.size();
  if (pos_ == end) {
    ++block_;
    return LoadBlock();
  }
  const char* p = pos_;
  if ((p = GetLen(p, end, &key_)) == nullptr || (p = GetLen(p, end, &sort_)) == nullptr ||
      (p = GetLen(p, end, &value_)) == nullptr) {
    return Status::Corruption("run " +
                              (run_->path_.empty() ? std::string("(memory)") : run_->path_) +
                              ": malformed entry in the block at byte offset " +
                              std::to_string(run_->index_[block_].offset));
  }
  pos_ = p;
  valid_ = true;
  return Status::OK();
}

Status RunCursor::Next() {
  if (!valid_) return Status::OK();
  return ParseEntry();
}

}  // namespace braid::batch
