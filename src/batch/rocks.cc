#include "batch/rocks.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <string>

namespace braid::batch {

rocksdb::Options RocksOptions() {
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(32 << 20);
  rocksdb::Options o;
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kLZ4Compression;
  o.max_open_files = -1;
  o.create_if_missing = true;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.keep_log_file_num = 1;
  rocksdb::BlockBasedTableOptions t;
  t.block_size = 16 << 10;
  t.block_cache = cache;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.whole_key_filtering = true;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::OK();
  std::string m = std::string(context) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(m);
  if (s.IsCorruption()) return Status::Corruption(m);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(m);
  if (s.IsNoSpace()) return Status::ResourceExhausted(m, StatusSubcode::kNoSpace);
  if (s.IsIOError()) {
    if (m.find("No space left") != std::string::npos) {
      return Status::ResourceExhausted(m, StatusSubcode::kNoSpace);
    }
    return Status::IOError(m);
  }
  if (s.IsNotSupported()) return Status::Unimplemented(m);
  if (s.IsBusy() || s.IsTryAgain()) return Status::Unavailable(m);
  return Status::Internal(m);
}

}  // namespace braid::batch
