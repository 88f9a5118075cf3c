// Avro object container files: writer, appender, reader, range (split)
// reader.
//
// Format (Avro specification 1.11, "Object Container Files"):
//   header = "Obj" 0x01, metadata as an Avro map<bytes> (avro.schema
//            required, avro.codec optional, user keys), 16-byte sync marker;
//   block  = long record count, long byte size of the (compressed) data,
//            the data, the 16-byte sync marker.
// The first block starts right after the header; every block, the first
// included, is preceded by the sync marker. Codecs: codec.h.
//
// Splits. A byte range [start, end) of a file owns exactly the blocks whose
// first byte lies in it (the first block starts at header().size). A range
// reader finds its first block by scanning forward from `start - 16` for the
// sync marker (never inside the header, so a marker copy stored in the
// metadata, as avro-c 1.5.4 did under "avro.sync", is harmless) and reads
// blocks until one starts at or after `end`. Ranges that tile a file therefore
// read every record exactly once. (A sync marker that occurs by chance inside
// block data, probability 2^-128 per position, would break this, as it does
// for Hadoop.)
//
// Hostile input. Every length read from a file is checked against the file
// size and the ReaderOptions limits before anything is allocated; every error
// is a Status (Corruption, ResourceExhausted or InvalidArgument) whose message
// names the byte offset in the file.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "avro/codec.h"
#include "avro/datum.h"
#include "avro/schema.h"
#include "base/status.h"
#include "io/file_system.h"

namespace braid::avro {

inline constexpr char kContainerMagic[4] = {'O', 'b', 'j', '\x01'};
inline constexpr size_t kSyncMarkerSize = 16;
using SyncMarker = std::array<char, kSyncMarkerSize>;

// 16 random bytes (std::random_device).
SyncMarker NewSyncMarker();

// A decoded container header.
struct ContainerHeader {
  // Every metadata entry in file order, avro.* keys included.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string schema_json;  // avro.schema
  CodecKind codec = CodecKind::kNull;
  SyncMarker sync{};
  // Length of the header in bytes: the file offset of the first block.
  uint64_t size = 0;

  // The value of metadata key `key`, or nullptr.
  const std::string* FindMetadata(std::string_view key) const;
};

// Encodes a header. `user_metadata` keys must not start with "avro."
// (InvalidArgument otherwise).
Result<std::string> EncodeContainerHeader(
    std::string_view schema_json, CodecKind codec,
    const std::vector<std::pair<std::string, std::string>>& user_metadata, const SyncMarker& sync);

// Decodes a header from the first bytes of a file. If `data` ends before the
// header does, fails with OutOfRange (read more and retry); other errors are
// Corruption (bad magic, malformed metadata, missing avro.schema) or
// InvalidArgument (unknown codec), each naming the byte offset.
// `max_metadata_bytes` bounds each metadata key and value.
Result<ContainerHeader> DecodeContainerHeader(std::string_view data,
                                              uint64_t max_metadata_bytes = uint64_t{64} << 20);

// Where a block lies in its file.
struct BlockInfo {
  uint64_t offset = 0;       // first byte of the block (its record count)
  int64_t record_count = 0;  // records in the block
  uint64_t data_offset = 0;  // first byte of the (compressed) data
  uint64_t data_size = 0;    // bytes of (compressed) data
  // Bytes of the whole block, counts and sync marker included; the next
  // block starts at offset + size.
  uint64_t size = 0;
  uint64_t end() const { return offset + size; }
};

struct ReaderOptions {
  // File system to open paths with. Default: io::DefaultFileSystem().
  io::FileSystem* fs = nullptr;
  // Largest accepted (compressed) block data size; a larger size field is
  // Corruption. Default: 256 MiB.
  uint64_t max_block_bytes = uint64_t{256} << 20;
  // Largest accepted decompressed block; a block that inflates beyond it is
  // ResourceExhausted. Default: 256 MiB.
  uint64_t max_decompressed_block_bytes = uint64_t{256} << 20;
  // Largest accepted record count of one block. Default: 2^31 - 1.
  int64_t max_block_records = (int64_t{1} << 31) - 1;
  // Largest accepted header (metadata included). Default: 64 MiB.
  uint64_t max_header_bytes = uint64_t{64} << 20;
  // Read-ahead buffer size. Default: 1 MiB.
  size_t read_ahead_bytes = size_t{1} << 20;
};

// A block as read: its place in the file and its decompressed data.
struct Block {
  BlockInfo info;
  // The concatenated binary records; valid until the next call on the
  // reader that produced it.
  std::string_view data;
};

// Reads a container file. Open() decodes the header and parses the writer
// schema; reads then start at the first block (or at a range, SetRange).
//
// Thread safety: one thread at a time.
class ContainerReader {
 public:
  ~ContainerReader();

  // Opens `path` on options.fs.
  static Result<std::unique_ptr<ContainerReader>> Open(const std::string& path,
                                                       const ReaderOptions& options = {});
  // Reads from an open file; `name` is used in error messages.
  static Result<std::unique_ptr<ContainerReader>> Open(std::unique_ptr<io::RandomAccessFile> file,
                                                       std::string name,
                                                       const ReaderOptions& options = {});
  // Reads from memory; `data` must outlive the reader.
  static Result<std::unique_ptr<ContainerReader>> OpenBuffer(std::string_view data,
                                                             const ReaderOptions& options = {});

  const ContainerHeader& header() const { return header_; }
  // The writer schema (avro.schema, parsed).
  const Schema& schema() const { return schema_; }
  uint64_t file_size() const { return file_size_; }

  // Restricts reading to the blocks that start in [start, end) (see the file
  // comment) and positions at the first of them. end > file_size() means
  // to the end of the file. Fails if scanning for the marker fails (I/O).
  Status SetRange(uint64_t start, uint64_t end);
  // Reads the whole file again from its first block.
  Status Rewind();

  // Reads the next block: frames it, checks its sync marker, decompresses
  // it. Returns false at the end of the range or file. Errors (truncated
  // block, bad size or count, sync mismatch, codec error such as a snappy
  // CRC mismatch) name the block's offset; after an error the reader stays
  // at the failed block.
  Result<bool> NextBlock(Block* block);

  // Like NextBlock but only frames the block (counts, sizes, sync marker
  // check) without reading or decompressing its data.
  Result<bool> NextBlockInfo(BlockInfo* info);

  // Frames every block of the file from the first one (Rewind() then
  // NextBlockInfo until the end); leaves the reader at the end.
  Result<std::vector<BlockInfo>> ListBlocks();

  // Decodes the next record into `*datum` (a Datum of schema()), reading
  // blocks as needed; false at the end of the range or file. A record that
  // runs past its block's data, or data left over after a block's last
  // record, is Corruption naming the block offset.
  Result<bool> Next(Datum* datum);

  // Like Next but yields the record's binary encoding (a view into the
  // current block, valid until the next call).
  Result<bool> NextRecordBytes(std::string_view* record);

  // Offset of the block the last record came from (for error messages and
  // the batch layer's progress).
  const BlockInfo& current_block() const { return block_.info; }

 private:
  ContainerReader() = default;
  Status Init();
  // A view of bytes [offset, offset + n) of the file; fails if they are not
  // all in the file (truncated) or on I/O errors.
  Result<std::string_view> ReadAt(uint64_t offset, size_t n, std::string_view what);
  Result<bool> FrameBlock(BlockInfo* info);
  Result<bool> LoadRecordBlock();
  Status FinishRecord();

  friend class ContainerWriter;

  std::unique_ptr<io::RandomAccessFile> file_;  // null when reading memory
  std::string_view mem_;                        // the data of OpenBuffer
  std::string name_;
  ReaderOptions options_;
  ContainerHeader header_;
  Schema schema_;
  uint64_t file_size_ = 0;
  std::unique_ptr<Codec> codec_;
  // Read-ahead window: buf_ holds file bytes [buf_offset_, buf_offset_ + buf_.size()).
  std::string buf_;
  uint64_t buf_offset_ = 0;
  std::string decompressed_;
  // Position of the next block to frame, and the range's end.
  uint64_t next_block_ = 0;
  uint64_t range_end_ = UINT64_MAX;
  // Record iteration inside the current block.
  Block block_;
  int64_t records_left_ = 0;
  const char* rec_pos_ = nullptr;
  const char* rec_end_ = nullptr;
};

struct WriterOptions {
  // File system to create files on. Default: io::DefaultFileSystem().
  io::FileSystem* fs = nullptr;
  // Codec name (codec.h). Ignored when appending (the file's codec is
  // used). Default: "null".
  std::string codec = "null";
  // Codec level; kDefaultCompressionLevel picks the codec's default.
  int compression_level = kDefaultCompressionLevel;
  // A block is written once its uncompressed records reach this many bytes
  // (Java's default sync interval). Default: 64000.
  size_t block_size_bytes = 64000;
  // A block is also written once it holds this many records; 0 means no
  // limit. Default: 0.
  int64_t records_per_block = 0;
  // User metadata written into the header (keys must not start with
  // "avro."). Ignored when appending. Default: none.
  std::vector<std::pair<std::string, std::string>> metadata;
  // The sync marker; unset means 16 random bytes. Ignored when appending.
  // Default: unset.
  std::optional<SyncMarker> sync_marker;
  // Whether Close() makes the file durable (fsync). Default: true.
  bool sync_on_close = true;
  // Create(path): fail with AlreadyExists if the file exists instead of
  // replacing it. Default: false.
  bool fail_if_exists = false;
};

// Writes a container file.
//
// Records are buffered into the current block and a block is written to the
// file when it reaches block_size_bytes or records_per_block. Durability:
// Flush() hands every buffered record to the file (a reader of the file sees
// them; a crash may lose them); Sync() does that and fsyncs, after which the
// records survive a crash; Close() flushes and, by default, syncs. A crash
// or error mid-block can leave a torn last block; readers report it as
// truncated, and OpenForAppend refuses such a file.
//
// After any write error the writer is failed: every later call returns the
// first error.
//
// Thread safety: one thread at a time.
class ContainerWriter {
 public:
  ~ContainerWriter();  // closes (errors ignored) if Close() was not called

  // Creates (or replaces) `path` and writes the header.
  static Result<std::unique_ptr<ContainerWriter>> Create(const std::string& path,
                                                         const Schema& schema,
                                                         const WriterOptions& options = {});
  // Writes the header into an open, empty file.
  static Result<std::unique_ptr<ContainerWriter>> Create(std::unique_ptr<io::WritableFile> file,
                                                         const Schema& schema,
                                                         const WriterOptions& options = {});
  // Opens an existing container file to append blocks: the schema, codec and
  // sync marker come from its header. Fails with Corruption if the file does
  // not end with its sync marker (a torn last block).
  static Result<std::unique_ptr<ContainerWriter>> OpenForAppend(const std::string& path,
                                                                const WriterOptions& options = {});

  const Schema& schema() const { return schema_; }
  const SyncMarker& sync_marker() const { return sync_; }

  // Encodes and buffers one record. `datum` must be valid for schema()
  // (InvalidArgument otherwise; nothing is written then).
  Status Append(const Datum& datum);
  // Buffers one record given in its binary encoding. The caller guarantees
  // it is one valid record of schema() (not checked).
  Status AppendEncoded(std::string_view record);

  // Writes the current block, if any, to the file (not durable).
  Status Flush();
  // Flush(), then fsync.
  Status Sync();
  // Flush(), Sync() if options.sync_on_close, close the file. Later calls
  // fail with FailedPrecondition.
  Status Close();

  // Records appended through this writer.
  uint64_t records_written() const { return records_written_; }
  // Size of the file including the buffered block (uncompressed).
  uint64_t bytes_written() const { return file_ ? file_->Size() + block_.size() : 0; }

 private:
  ContainerWriter() = default;
  Status WriteBlock();
  Status Fail(Status s);

  std::unique_ptr<io::WritableFile> file_;
  WriterOptions options_;
  Schema schema_;
  SyncMarker sync_{};
  std::unique_ptr<Codec> codec_;
  std::string block_;
  int64_t block_records_ = 0;
  std::string scratch_;
  uint64_t records_written_ = 0;
  Status error_;
  bool closed_ = false;
};

}  // namespace braid::avro
