// Sorted runs: the map output of one buffer flush, sorted by (partition,
// key, sort key) and combined, kept in memory or spilled to a compressed run
// file; the reduce phase merges runs k-way. Format: docs/formats/run-file.md
// (summary below).
//
// A run is a sequence of blocks, each holding entries of one partition in
// order; each block is compressed on disk (snappy) and checksummed
// (CRC-32C); an index lists every block's partition, place and first key,
// so a reader seeks to a partition and a key range without reading the rest.
//
//   block  = u8 compression (0 none, 1 snappy) | u32 raw size | u32 stored
//            size | u32 CRC-32C of the stored bytes | stored bytes
//   raw    = entries: varint key size, key, varint sort key size, sort key,
//            varint value size, value
//   index  = varint block count, per block: varint partition, varint
//            offset, varint entry count, varint first key size, first key
//   footer = u64 index offset | u32 index size | u32 CRC-32C of the index |
//            u64 magic "BRAIDRUN"        (all integers little-endian)
//
// Hostile input (a run file damaged on disk): every size is checked against
// the file and the block before use; errors are Corruption naming the file
// and the byte offset.
//
// Thread safety: a RunWriter is used by one thread. A Run is immutable and
// may be read by any number of RunCursors at once, each used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"

namespace braid::batch {

struct RunOptions {
  // Uncompressed bytes per block. Default: 64 KiB.
  size_t block_bytes = 64 << 10;
  // Compress the blocks of run files (snappy). In-memory runs are never
  // compressed. Default: true.
  bool compress = true;
};

struct RunBlockIndex {
  uint32_t partition = 0;
  uint64_t offset = 0;  // of the block header (file) or raw bytes (memory)
  uint64_t entries = 0;
  std::string first_key;
};

class Run;

class RunCursor {
 public:
  ~RunCursor();
  // True while positioned on an entry.
  bool Valid() const { return valid_; }
  std::string_view key() const { return key_; }
  std::string_view sort_key() const { return sort_; }
  std::string_view value() const { return value_; }
  // Moves to the next entry of the cursor's partition (not valid at its end).
  Status Next();

 private:
  friend class Run;
  RunCursor(const Run* run, uint32_t partition, size_t block)
      : run_(run), partition_(partition), block_(block) {}
  Status LoadBlock();
  Status ParseEntry();

  const Run* run_;
  uint32_t partition_;
  size_t block_;  // index of the current block
  std::string buf_;
  std::string scratch_;
  std::string_view data_;  // current block's raw entries
  const char* pos_ = nullptr;
  bool valid_ = false;
  std::string_view key_, sort_, value_;
};

// An immutable sorted run, in memory or in a file.
class Run {
 public:
  ~Run();  // deletes its file, if any

  bool on_disk() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  uint64_t entries() const { return entries_; }
  // Bytes of entries (uncompressed).
  uint64_t raw_bytes() const { return raw_bytes_; }
  // Bytes held: the file size on disk, else the memory used.
  uint64_t stored_bytes() const { return stored_bytes_; }
  const std::vector<RunBlockIndex>& index() const { return index_; }

  // A cursor on the first entry of `partition` whose key is >= `from`
  // (every entry of the partition for an empty `from`).
  Result<std::unique_ptr<RunCursor>> Open(uint32_t partition, std::string_view from = {}) const;

  // Opens a run file written by RunWriter.
  static Result<std::shared_ptr<const Run>> OpenFile(io::FileSystem* fs, const std::string& path);

 private:
  friend class RunWriter;
  friend class RunCursor;
  Run() = default;
  Status ReadBlock(size_t i, std::string* buf, std::string* scratch, std::string_view* raw) const;

  io::FileSystem* fs_ = nullptr;
  std::string path_;
  std::unique_ptr<io::RandomAccessFile> file_;
  std::string memory_;                 // in-memory runs: the raw blocks back to back
  std::vector<uint64_t> block_sizes_;  // raw size (memory) or stored size incl. header (file)
  std::vector<RunBlockIndex> index_;
  uint64_t entries_ = 0;
  uint64_t raw_bytes_ = 0;
  uint64_t stored_bytes_ = 0;
};

// Writes a run. Entries must come in nondecreasing (partition, key, sort
// key) order (InvalidArgument otherwise).
class RunWriter {
 public:
  // A run file at `path` (created; deleted again by Abort or on error).
  static Result<std::unique_ptr<RunWriter>> ToFile(io::FileSystem* fs, std::string path,
                                                   RunOptions options = {});
  static std::unique_ptr<RunWriter> ToMemory(RunOptions options = {});
  ~RunWriter();

  Status Add(uint32_t partition, std::string_view key, std::string_view sort_key,
             std::string_view value);
  // Writes the last block, the index and the footer; syncs nothing (runs
  // are temporary). Returns the run.
  Result<std::shared_ptr<const Run>> Finish();
  // Bytes added so far (uncompressed).
  uint64_t raw_bytes() const { return run_->raw_bytes_; }

 private:
  RunWriter() = default;
  Status FlushBlock();

  RunOptions options_;
  std::unique_ptr<io::WritableFile> file_;
  std::unique_ptr<Run> run_;
  std::string block_;
  uint64_t block_entries_ = 0;
  uint32_t block_partition_ = 0;
  std::string block_first_key_;
  std::string last_key_, last_sort_;
  uint32_t last_partition_ = 0;
  bool have_last_ = false;
  std::string compressed_;
  Status error_;
};

}  // namespace braid::batch
