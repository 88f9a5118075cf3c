#include "avro/container.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <utility>

#include "avro/binary.h"
#include "base/coding.h"

namespace braid::avro {
namespace {

std::string At(uint64_t offset) { return " at offset " + std::to_string(offset); }

// Reads a zig-zag long at `*pos` of `data`. Truncation (the varint runs off
// the end of a short buffer) is OutOfRange so that the caller can read more;
// an over-long varint is Corruption.
Status ReadHeaderLong(std::string_view data, size_t* pos, int64_t* v, std::string_view what) {
  const char* p = data.data() + *pos;
  const char* end = data.data() + data.size();
  const char* q = coding::GetZigZag64(p, end, v);
  if (q == nullptr) {
    if (end - p < 10)
      return Status::OutOfRange("header truncated in " + std::string(what) + At(*pos));
    return Status::Corruption("malformed varint in header " + std::string(what) + At(*pos));
  }
  *pos += static_cast<size_t>(q - p);
  return Status::OK();
}

Status ReadHeaderBytes(std::string_view data, size_t* pos, uint64_t max_bytes,
                       std::string_view what, std::string* out) {
  size_t start = *pos;
  int64_t n;
  RETURN_IF_ERROR(ReadHeaderLong(data, pos, &n, what));
  if (n < 0) {
    return Status::Corruption("negative length " + std::to_string(n) + " of header " +
                              std::string(what) + At(start));
  }
  if (static_cast<uint64_t>(n) > max_bytes) {
    return Status::Corruption("header " + std::string(what) + " length " + std::to_string(n) +
                              " exceeds the limit of " + std::to_string(max_bytes) + At(start));
  }
  if (static_cast<uint64_t>(n) > data.size() - *pos) {
    return Status::OutOfRange("header truncated in " + std::string(what) + At(start));
  }
  out->assign(data.substr(*pos, static_cast<size_t>(n)));
  *pos += static_cast<size_t>(n);
  return Status::OK();
}

std::string HexBytes(std::string_view b) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    if (!s.empty()) s += ' ';
    s += kHex[c >> 4];
    s += kHex[c & 15];
  }
  return s;
}

}  // namespace

SyncMarker NewSyncMarker() {
  std::random_device rd;
  SyncMarker m;
  for (size_t i = 0; i < m.size(); i += 4) {
    uint32_t r = rd();
    std::memcpy(m.data() + i, &r, 4);
  }
  return m;
}

const std::string* ContainerHeader::FindMetadata(std::string_view key) const {
  const std::string* found = nullptr;
  for (const auto& [k, v] : metadata) {
    if (k == key) found = &v;  // the last occurrence wins, as in Java's map
  }
  return found;
}

Result<std::string> EncodeContainerHeader(
    std::string_view schema_json, CodecKind codec,
    const std::vector<std::pair<std::string, std::string>>& user_metadata, const SyncMarker& sync) {
  std::string out(kContainerMagic, 4);
  int64_t count = 2 + static_cast<int64_t>(user_metadata.size());
  coding::PutZigZag64(&out, count);
  auto put = [&](std::string_view s) {
    coding::PutZigZag64(&out, static_cast<int64_t>(s.size()));
    out.append(s);
  };
  put("avro.schema");
  put(schema_json);
  put("avro.codec");
  put(CodecName(codec));
  for (const auto& [k, v] : user_metadata) {
    if (k.starts_with("avro.")) {
      return Status::InvalidArgument("metadata key \"" + k +
                                     "\" is reserved (keys starting with \"avro.\")");
    }
    put(k);
    put(v);
  }
  coding::PutZigZag64(&out, 0);
  out.append(sync.data(), sync.size());
  return out;
}

Result<ContainerHeader> DecodeContainerHeader(std::string_view data, uint64_t max_metadata_bytes) {
  if (data.size() < 4) {
    if (!data.empty() && std::memcmp(data.data(), kContainerMagic, data.size()) != 0) {
      return Status::Corruption("not an Avro object container file: bad magic" + At(0));
    }
    return Status::OutOfRange("header truncated in magic" + At(0));
  }
  if (std::memcmp(data.data(), kContainerMagic, 4) != 0) {
    std::string msg = "not an Avro object container file: bad magic bytes " +
                      HexBytes(data.substr(0, 4)) + At(0) + " (expected 4f 62 6a 01)";
    if (std::memcmp(data.data(), "Obj\0", 4) == 0) msg += "; Obj\\0 is the pre-1.3 Avro format";
    return Status::Corruption(msg);
  }
  ContainerHeader h;
  size_t pos = 4;
  const std::string* schema = nullptr;
  const std::string* codec = nullptr;
  size_t codec_pos = 0;
  for (;;) {
    size_t block_pos = pos;
    int64_t count;
    RETURN_IF_ERROR(ReadHeaderLong(data, &pos, &count, "metadata count"));
    if (count == 0) break;
    if (count < 0) {
      if (count == INT64_MIN) {
        return Status::Corruption("invalid metadata block count" + At(block_pos));
      }
      count = -count;
      int64_t bytes;
      RETURN_IF_ERROR(ReadHeaderLong(data, &pos, &bytes, "metadata block size"));
      if (bytes < 0) return Status::Corruption("negative metadata block size" + At(block_pos));
    }
    // Each entry takes at least two bytes, so the loop ends with the input.
    for (int64_t i = 0; i < count; ++i) {
      std::string key, value;
      RETURN_IF_ERROR(ReadHeaderBytes(data, &pos, max_metadata_bytes, "metadata key", &key));
      size_t value_pos = pos;
      RETURN_IF_ERROR(ReadHeaderBytes(data, &pos, max_metadata_bytes, "metadata value", &value));
      h.metadata.emplace_back(std::move(key), std::move(value));
      if (h.metadata.back().first == "avro.codec") codec_pos = value_pos;
    }
  }
  if (data.size() - pos < kSyncMarkerSize) {
    return Status::OutOfRange("header truncated in sync marker" + At(pos));
  }
  std::memcpy(h.sync.data(), data.data() + pos, kSyncMarkerSize);
  pos += kSyncMarkerSize;
  h.size = pos;
  schema = h.FindMetadata("avro.schema");
  codec = h.FindMetadata("avro.codec");
  if (schema == nullptr) {
    return Status::Corruption("container header has no avro.schema (header ends" + At(pos) + ")");
  }
  h.schema_json = *schema;
  if (codec != nullptr) {
    Result<CodecKind> kind = ParseCodecName(*codec);
    if (!kind.ok()) {
      return Status::InvalidArgument(std::string(kind.status().message()) + " in header" +
                                     At(codec_pos));
    }
    h.codec = *kind;
  }
  return h;
}

// ---------------------------------------------------------------------------
// ContainerReader

ContainerReader::~ContainerReader() = default;

Result<std::unique_ptr<ContainerReader>> ContainerReader::Open(const std::string& path,
                                                               const ReaderOptions& options) {
  io::FileSystem* fs = options.fs ? options.fs : io::DefaultFileSystem();
  ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
  return Open(std::move(file), path, options);
}

Result<std::unique_ptr<ContainerReader>> ContainerReader::Open(
    std::unique_ptr<io::RandomAccessFile> file, std::string name, const ReaderOptions& options) {
  std::unique_ptr<ContainerReader> r(new ContainerReader());
  ASSIGN_OR_RETURN(r->file_size_, file->Size());
  r->file_ = std::move(file);
  r->name_ = std::move(name);
  r->options_ = options;
  RETURN_IF_ERROR(r->Init());
  return r;
}

Result<std::unique_ptr<ContainerReader>> ContainerReader::OpenBuffer(std::string_view data,
                                                                     const ReaderOptions& options) {
  std::unique_ptr<ContainerReader> r(new ContainerReader());
  r->mem_ = data;
  r->file_size_ = data.size();
  r->name_ = "<memory>";
  r->options_ = options;
  RETURN_IF_ERROR(r->Init());
  return r;
}

Status ContainerReader::Init() {
  if (options_.read_ahead_bytes < 4096) options_.read_ahead_bytes = 4096;
  uint64_t want = std::min<uint64_t>({file_size_, 65536, options_.max_header_bytes});
  for (;;) {
    ASSIGN_OR_RETURN(std::string_view head, ReadAt(0, static_cast<size_t>(want), "header"));
    Result<ContainerHeader> h = DecodeContainerHeader(head, options_.max_header_bytes);
    if (h.ok()) {
      header_ = std::move(*h);
      break;
    }
    if (h.status().code() != StatusCode::kOutOfRange) return h.status().WithContext(name_);
    if (want >= file_size_) {
      return Status::Corruption(std::string(h.status().message()) + " (file has " +
                                std::to_string(file_size_) + " bytes)")
          .WithContext(name_);
    }
    if (want >= options_.max_header_bytes) {
      return Status::TooLarge("container header exceeds " +
                              std::to_string(options_.max_header_bytes) + " bytes")
          .WithContext(name_);
    }
    want = std::min<uint64_t>({want * 4, file_size_, options_.max_header_bytes});
  }
  Result<Schema> schema = ParseSchema(std::string_view(header_.schema_json));
  if (!schema.ok()) {
    return Status::Corruption("invalid avro.schema in the header: " +
                              std::string(schema.status().message()))
        .WithContext(name_);
  }
  schema_ = std::move(*schema);
  ASSIGN_OR_RETURN(codec_, NewCodec(header_.codec));
  next_block_ = header_.size;
  return Status::OK();
}

Result<std::string_view> ContainerReader::ReadAt(uint64_t offset, size_t n, std::string_view what) {
  if (offset > file_size_ || n > file_size_ - offset) {
    return Status::Corruption(name_ + ": truncated " + std::string(what) + At(offset) + ": needs " +
                              std::to_string(n) + " bytes, the file ends at " +
                              std::to_string(file_size_));
  }
  if (file_ == nullptr) return mem_.substr(static_cast<size_t>(offset), n);
  if (offset >= buf_offset_ && offset + n <= buf_offset_ + buf_.size()) {
    return std::string_view(buf_).substr(static_cast<size_t>(offset - buf_offset_), n);
  }
  uint64_t len = std::min<uint64_t>(std::max(n, options_.read_ahead_bytes), file_size_ - offset);
  buf_.resize(static_cast<size_t>(len));
  ASSIGN_OR_RETURN(size_t got, file_->Read(offset, buf_.size(), buf_.data()));
  buf_.resize(got);
  buf_offset_ = offset;
  if (got < n) {
    return Status::Corruption(name_ + ": short read of " + std::string(what) + At(offset) +
                              " (the file shrank?)");
  }
  return std::string_view(buf_).substr(0, n);
}

Status ContainerReader::SetRange(uint64_t start, uint64_t end) {
  range_end_ = end;
  records_left_ = 0;
  rec_pos_ = rec_end_ = nullptr;
  block_ = Block{};
  if (start <= header_.size) {
    next_block_ = header_.size;
    return Status::OK();
  }
  // The block starting at b is preceded by the marker at b - 16; find the
  // first marker at or after start - 16 (that begins before `end` - 16).
  uint64_t p = start - kSyncMarkerSize;
  const size_t chunk = std::max<size_t>(options_.read_ahead_bytes, 4096);
  while (p + kSyncMarkerSize <= file_size_ && p + kSyncMarkerSize < end) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk, file_size_ - p));
    ASSIGN_OR_RETURN(std::string_view win, ReadAt(p, n, "data"));
    auto it =
        std::search(win.begin(), win.end(),
                    std::boyer_moore_horspool_searcher(header_.sync.begin(), header_.sync.end()));
    if (it != win.end()) {
      next_block_ = p + static_cast<uint64_t>(it - win.begin()) + kSyncMarkerSize;
      return Status::OK();
    }
    if (n < kSyncMarkerSize) break;
    p += n - (kSyncMarkerSize - 1);
  }
  next_block_ = file_size_;
  return Status::OK();
}

Status ContainerReader::Rewind() {
  RETURN_IF_ERROR(SetRange(0, UINT64_MAX));
  return Status::OK();
}

Result<bool> ContainerReader::FrameBlock(BlockInfo* info) {
  uint64_t off = next_block_;
  if (off >= range_end_ || off >= file_size_) return false;
  size_t head_len = static_cast<size_t>(std::min<uint64_t>(20, file_size_ - off));
  ASSIGN_OR_RETURN(std::string_view head, ReadAt(off, head_len, "block header"));
  const char* p = head.data();
  const char* end = p + head.size();
  int64_t count, size;
  const char* q = coding::GetZigZag64(p, end, &count);
  if (q == nullptr) {
    return Status::Corruption(name_ + ": " + (head_len < 20 ? "truncated" : "malformed") +
                              " record count of block" + At(off));
  }
  const char* r = coding::GetZigZag64(q, end, &size);
  if (r == nullptr) {
    return Status::Corruption(name_ + ": " + (head_len < 20 ? "truncated" : "malformed") +
                              " byte size of block" + At(off));
  }
  if (count < 0 || count > options_.max_block_records) {
    return Status::Corruption(name_ + ": block" + At(off) + " has an invalid record count " +
                              std::to_string(count) + " (limit " +
                              std::to_string(options_.max_block_records) + ")");
  }
  if (size < 0 || static_cast<uint64_t>(size) > options_.max_block_bytes) {
    return Status::Corruption(name_ + ": block" + At(off) + " has an invalid byte size " +
                              std::to_string(size) + " (limit " +
                              std::to_string(options_.max_block_bytes) + ")");
  }
  info->offset = off;
  info->record_count = count;
  info->data_offset = off + static_cast<uint64_t>(r - p);
  info->data_size = static_cast<uint64_t>(size);
  info->size = (info->data_offset - off) + info->data_size + kSyncMarkerSize;
  if (info->data_offset + info->data_size + kSyncMarkerSize > file_size_) {
    return Status::Corruption(name_ + ": truncated block" + At(off) + ": needs " +
                              std::to_string(info->size) + " bytes, the file ends at " +
                              std::to_string(file_size_));
  }
  return true;
}

Result<bool> ContainerReader::NextBlockInfo(BlockInfo* info) {
  ASSIGN_OR_RETURN(bool more, FrameBlock(info));
  if (!more) return false;
  uint64_t sync_at = info->data_offset + info->data_size;
  ASSIGN_OR_RETURN(std::string_view sync, ReadAt(sync_at, kSyncMarkerSize, "sync marker"));
  if (std::memcmp(sync.data(), header_.sync.data(), kSyncMarkerSize) != 0) {
    return Status::Corruption(name_ + ": sync marker mismatch after block" + At(info->offset) +
                              " (marker expected" + At(sync_at) + ")");
  }
  next_block_ = info->end();
  return true;
}

Result<bool> ContainerReader::NextBlock(Block* block) {
  BlockInfo info;
  ASSIGN_OR_RETURN(bool more, FrameBlock(&info));
  if (!more) return false;
  ASSIGN_OR_RETURN(
      std::string_view raw,
      ReadAt(info.data_offset, static_cast<size_t>(info.data_size) + kSyncMarkerSize, "block"));
  std::string_view data = raw.substr(0, static_cast<size_t>(info.data_size));
  if (std::memcmp(raw.data() + data.size(), header_.sync.data(), kSyncMarkerSize) != 0) {
    return Status::Corruption(name_ + ": sync marker mismatch after block" + At(info.offset) +
                              " (marker expected" + At(info.data_offset + info.data_size) + ")");
  }
  if (codec_->kind() != CodecKind::kNull) {
    Status s = codec_->Decompress(data, options_.max_decompressed_block_bytes, &decompressed_);
    if (!s.ok()) {
      return Status(s.code(),
                    name_ + ": block" + At(info.offset) + ": " + std::string(s.message()));
    }
    data = decompressed_;
  } else if (data.size() > options_.max_decompressed_block_bytes) {
    return Status::TooLarge(name_ + ": block" + At(info.offset) + " exceeds " +
                            std::to_string(options_.max_decompressed_block_bytes) + " bytes");
  }
  next_block_ = info.end();
  block->info = info;
  block->data = data;
  return true;
}

Result<std::vector<BlockInfo>> ContainerReader::ListBlocks() {
  RETURN_IF_ERROR(Rewind());
  std::vector<BlockInfo> blocks;
  BlockInfo info;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, NextBlockInfo(&info));
    if (!more) break;
    blocks.push_back(info);
  }
  return blocks;
}

Result<bool> ContainerReader::LoadRecordBlock() {
  while (records_left_ == 0) {
    ASSIGN_OR_RETURN(bool more, NextBlock(&block_));
    if (!more) {
      block_ = Block{};
      rec_pos_ = rec_end_ = nullptr;
      return false;
    }
    records_left_ = block_.info.record_count;
    rec_pos_ = block_.data.data();
    rec_end_ = rec_pos_ + block_.data.size();
    if (records_left_ == 0 && rec_pos_ != rec_end_) {
      return Status::Corruption(name_ + ": block" + At(block_.info.offset) + " has 0 records but " +
                                std::to_string(block_.data.size()) + " data bytes");
    }
  }
  return true;
}

Status ContainerReader::FinishRecord() {
  --records_left_;
  if (records_left_ == 0 && rec_pos_ != rec_end_) {
    uint64_t off = block_.info.offset;
    int64_t extra = rec_end_ - rec_pos_;
    rec_pos_ = rec_end_;
    return Status::Corruption(name_ + ": block" + At(off) + " has " + std::to_string(extra) +
                              " bytes after its last record");
  }
  return Status::OK();
}

Result<bool> ContainerReader::Next(Datum* datum) {
  ASSIGN_OR_RETURN(bool more, LoadRecordBlock());
  if (!more) return false;
  size_t base = static_cast<size_t>(rec_pos_ - block_.data.data());
  Decoder dec(std::string_view(rec_pos_, static_cast<size_t>(rec_end_ - rec_pos_)), base);
  Status s = DecodeBinary(schema_.root(), &dec, datum);
  if (!s.ok()) {
    records_left_ = 0;
    rec_pos_ = rec_end_;
    return Status(s.code(), name_ + ": block" + At(block_.info.offset) +
                                " (record offsets are within its decompressed data): " +
                                std::string(s.message()));
  }
  rec_pos_ += dec.consumed();
  RETURN_IF_ERROR(FinishRecord());
  return true;
}

Result<bool> ContainerReader::NextRecordBytes(std::string_view* record) {
  ASSIGN_OR_RETURN(bool more, LoadRecordBlock());
  if (!more) return false;
  size_t base = static_cast<size_t>(rec_pos_ - block_.data.data());
  Decoder dec(std::string_view(rec_pos_, static_cast<size_t>(rec_end_ - rec_pos_)), base);
  Status s = SkipBinary(schema_.root(), &dec);
  if (!s.ok()) {
    records_left_ = 0;
    rec_pos_ = rec_end_;
    return Status(s.code(), name_ + ": block" + At(block_.info.offset) +
                                " (record offsets are within its decompressed data): " +
                                std::string(s.message()));
  }
  *record = std::string_view(rec_pos_, dec.consumed());
  rec_pos_ += dec.consumed();
  RETURN_IF_ERROR(FinishRecord());
  return true;
}

// ---------------------------------------------------------------------------
// ContainerWriter

ContainerWriter::~ContainerWriter() {
  if (file_ != nullptr && !closed_) Close().IgnoreError();
}

Result<std::unique_ptr<ContainerWriter>> ContainerWriter::Create(const std::string& path,
                                                                 const Schema& schema,
                                                                 const WriterOptions& options) {
  io::FileSystem* fs = options.fs ? options.fs : io::DefaultFileSystem();
  ASSIGN_OR_RETURN(auto file,
                   fs->NewWritableFile(path, options.fail_if_exists ? io::OpenMode::kCreateNew
                                                                    : io::OpenMode::kTruncate));
  return Create(std::move(file), schema, options);
}

Result<std::unique_ptr<ContainerWriter>> ContainerWriter::Create(
    std::unique_ptr<io::WritableFile> file, const Schema& schema, const WriterOptions& options) {
  if (options.block_size_bytes == 0) {
    return Status::InvalidArgument("block_size_bytes must be positive");
  }
  if (options.records_per_block < 0) {
    return Status::InvalidArgument("records_per_block must not be negative");
  }
  std::unique_ptr<ContainerWriter> w(new ContainerWriter());
  w->options_ = options;
  w->schema_ = schema;
  ASSIGN_OR_RETURN(w->codec_, NewCodec(options.codec, options.compression_level));
  w->sync_ = options.sync_marker ? *options.sync_marker : NewSyncMarker();
  ASSIGN_OR_RETURN(std::string header, EncodeContainerHeader(schema.ToJson(), w->codec_->kind(),
                                                             options.metadata, w->sync_));
  RETURN_IF_ERROR(file->Append(header));
  w->file_ = std::move(file);
  return w;
}

Result<std::unique_ptr<ContainerWriter>> ContainerWriter::OpenForAppend(
    const std::string& path, const WriterOptions& options) {
  io::FileSystem* fs = options.fs ? options.fs : io::DefaultFileSystem();
  ReaderOptions ropts;
  ropts.fs = fs;
  ASSIGN_OR_RETURN(auto reader, ContainerReader::Open(path, ropts));
  uint64_t size = reader->file_size();
  ASSIGN_OR_RETURN(std::string_view tail,
                   reader->ReadAt(size - kSyncMarkerSize, kSyncMarkerSize, "sync marker"));
  if (std::memcmp(tail.data(), reader->header().sync.data(), kSyncMarkerSize) != 0) {
    return Status::Corruption(path + ": does not end with its sync marker (a torn last block" +
                              At(size - kSyncMarkerSize) + "?); refusing to append");
  }
  std::unique_ptr<ContainerWriter> w(new ContainerWriter());
  w->options_ = options;
  w->schema_ = reader->schema();
  w->sync_ = reader->header().sync;
  ASSIGN_OR_RETURN(w->codec_, NewCodec(reader->header().codec, options.compression_level));
  ASSIGN_OR_RETURN(w->file_, fs->NewWritableFile(path, io::OpenMode::kAppend));
  if (w->file_->Size() != size) {
    return Status::Aborted(path + ": file changed while opening it for append");
  }
  return w;
}

Status ContainerWriter::Fail(Status s) {
  if (error_.ok()) error_ = s;
  return s;
}

Status ContainerWriter::Append(const Datum& datum) {
  if (!error_.ok()) return error_;
  if (closed_) return Status::FailedPrecondition("container writer is closed");
  size_t before = block_.size();
  Status s = EncodeBinary(schema_.root(), datum, &block_);
  if (!s.ok()) {
    block_.resize(before);
    return s;
  }
  ++block_records_;
  ++records_written_;
  if (block_.size() >= options_.block_size_bytes ||
      (options_.records_per_block > 0 && block_records_ >= options_.records_per_block)) {
    return WriteBlock();
  }
  return Status::OK();
}

Status ContainerWriter::AppendEncoded(std::string_view record) {
  if (!error_.ok()) return error_;
  if (closed_) return Status::FailedPrecondition("container writer is closed");
  block_.append(record);
  ++block_records_;
  ++records_written_;
  if (block_.size() >= options_.block_size_bytes ||
      (options_.records_per_block > 0 && block_records_ >= options_.records_per_block)) {
    return WriteBlock();
  }
  return Status::OK();
}

Status ContainerWriter::WriteBlock() {
  if (block_records_ == 0) return Status::OK();
  scratch_.clear();
  coding::PutZigZag64(&scratch_, block_records_);
  if (codec_->kind() == CodecKind::kNull) {
    coding::PutZigZag64(&scratch_, static_cast<int64_t>(block_.size()));
    scratch_.append(block_);
  } else {
    // Compress after a reserved gap for the size varint, then close the gap.
    size_t gap_at = scratch_.size();
    scratch_.append(10, '\0');
    Status s = codec_->Compress(block_, &scratch_);
    if (!s.ok()) return Fail(s);
    size_t data_size = scratch_.size() - gap_at - 10;
    char buf[10];
    int n = coding::EncodeVarint64(buf, coding::ZigZagEncode64(static_cast<int64_t>(data_size)));
    std::memcpy(scratch_.data() + gap_at + 10 - n, buf, static_cast<size_t>(n));
    scratch_.erase(gap_at, static_cast<size_t>(10 - n));
  }
  scratch_.append(sync_.data(), sync_.size());
  Status s = file_->Append(scratch_);
  if (!s.ok()) return Fail(s);
  block_.clear();
  block_records_ = 0;
  return Status::OK();
}

Status ContainerWriter::Flush() {
  if (!error_.ok()) return error_;
  if (closed_) return Status::FailedPrecondition("container writer is closed");
  return WriteBlock();
}

Status ContainerWriter::Sync() {
  RETURN_IF_ERROR(Flush());
  Status s = file_->Sync();
  if (!s.ok()) return Fail(s);
  return Status::OK();
}

Status ContainerWriter::Close() {
  if (closed_) return Status::FailedPrecondition("container writer is closed");
  if (!error_.ok()) {
    closed_ = true;
    file_->Close().IgnoreError();
    return error_;
  }
  Status s = options_.sync_on_close ? Sync() : Flush();
  closed_ = true;
  Status c = file_->Close();
  if (!s.ok()) return s;
  return c;
}

}  // namespace braid::avro
