#include "log/tests/batch_builder.h"

#include <algorithm>

#include "base/coding.h"
#include "base/crc.h"

namespace braid::log::testing {

std::string BuildBatch(const std::vector<TestRecord>& records, const BatchOptions& o) {
  int64_t first_ts = records.empty() ? 0 : records[0].timestamp;
  int64_t max_ts = first_ts;
  std::string body;
  for (size_t i = 0; i < records.size(); ++i) {
    const TestRecord& r = records[i];
    max_ts = std::max(max_ts, r.timestamp);
    std::string rec;
    rec.push_back(0);  // attributes
    coding::PutZigZag64(&rec, r.timestamp - first_ts);
    coding::PutZigZag64(&rec, static_cast<int64_t>(i));
    if (r.key) {
      coding::PutZigZag64(&rec, static_cast<int64_t>(r.key->size()));
      rec += *r.key;
    } else {
      coding::PutZigZag64(&rec, -1);
    }
    if (r.value) {
      coding::PutZigZag64(&rec, static_cast<int64_t>(r.value->size()));
      rec += *r.value;
    } else {
      coding::PutZigZag64(&rec, -1);
    }
    coding::PutZigZag64(&rec, 0);  // headers
    coding::PutZigZag64(&body, static_cast<int64_t>(rec.size()));
    body += rec;
  }
  std::string b;
  coding::PutBigEndian64(&b, static_cast<uint64_t>(o.base_offset));
  coding::PutBigEndian32(&b, static_cast<uint32_t>(49 + body.size()));
  coding::PutBigEndian32(&b, static_cast<uint32_t>(-1));  // leader epoch
  b.push_back(2);                                         // magic
  coding::PutBigEndian32(&b, 0);                          // crc placeholder
  coding::PutBigEndian16(&b, static_cast<uint16_t>(o.attributes));
  coding::PutBigEndian32(&b, static_cast<uint32_t>(records.size() - 1));
  coding::PutBigEndian64(&b, static_cast<uint64_t>(first_ts));
  coding::PutBigEndian64(&b, static_cast<uint64_t>(max_ts));
  coding::PutBigEndian64(&b, static_cast<uint64_t>(o.producer_id));
  coding::PutBigEndian16(&b, static_cast<uint16_t>(o.producer_epoch));
  coding::PutBigEndian32(&b, static_cast<uint32_t>(o.base_sequence));
  coding::PutBigEndian32(&b, static_cast<uint32_t>(records.size()));
  b += body;
  uint32_t crc = Crc32c(std::string_view(b).substr(21));
  coding::EncodeBigEndian32(b.data() + 17, crc);
  return b;
}

std::string MakeBatch(int n, int64_t ts, size_t value_size) {
  std::vector<TestRecord> records;
  for (int i = 0; i < n; ++i) {
    std::string key = std::to_string(i);  // (not "k" + ...: g++ 12 -Wrestrict false positive)
    records.push_back({key, std::string(value_size, static_cast<char>('a' + i % 26)), ts + i});
  }
  return BuildBatch(records);
}

}  // namespace braid::log::testing
