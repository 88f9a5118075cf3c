// The registry's durable state: an append-only sequence of key/value records,
// replayed in order on open. The record format is the one the Confluent Schema
// Registry keeps in its `_schemas` topic (JSON keys and values, a null value is
// a tombstone), so the sequence may be a compacted Kafka topic.
//
// Implementations: MemoryStore (tests), FileStore (a standalone, CRC-checked
// record file) and LogStore (log_store.h: the `_schemas` topic of braid's log).
//
// Thread safety: implementations are not required to be thread-safe; the
// Registry serialises all calls.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace braid::registry {

struct StoreRecord {
  std::string key;
  // nullopt: a tombstone (the key is deleted; compaction may drop both).
  std::optional<std::string> value;
};

class Store {
 public:
  virtual ~Store() = default;

  // Appends `records` in order, atomically if the implementation can, and
  // makes them durable before returning OK. On error nothing may be assumed
  // about which records were stored; the caller must not apply them.
  virtual Status Append(const std::vector<StoreRecord>& records) = 0;

  // Calls `fn` for every stored record, in append order. Stops at and returns
  // the first error of `fn` or of reading.
  virtual Status Replay(const std::function<Status(const StoreRecord&)>& fn) = 0;
};

// Keeps records in memory. Optionally fails appends (for tests).
class MemoryStore final : public Store {
 public:
  Status Append(const std::vector<StoreRecord>& records) override;
  Status Replay(const std::function<Status(const StoreRecord&)>& fn) override;

  // When set, Append returns this status and stores nothing.
  void FailAppends(Status status) { fail_ = std::move(status); }
  const std::vector<StoreRecord>& records() const { return records_; }

 private:
  std::vector<StoreRecord> records_;
  Status fail_;
};

// A single append-only file of framed records:
//   u32 BE length of payload | u32 BE CRC32C of payload | payload
//   payload = varint key length | key | u8 has_value | [varint value length | value]
// Every Append is fsynced. On open a torn or corrupt tail (a crash during an
// append) is truncated away; Replay never reads past it.
class FileStore final : public Store {
 public:
  // Opens (creating if needed) `dir`/schemas.log.
  static Result<std::unique_ptr<FileStore>> Open(const std::string& dir);
  ~FileStore() override;

  Status Append(const std::vector<StoreRecord>& records) override;
  Status Replay(const std::function<Status(const StoreRecord&)>& fn) override;

 private:
  FileStore(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

}  // namespace braid::registry
