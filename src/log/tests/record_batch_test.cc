#include "log/record_batch.h"

#include <gtest/gtest.h>

#include "base/coding.h"
#include "log/log_internal.h"
#include "log/tests/batch_builder.h"

namespace braid::log {
namespace {

using testing::BuildBatch;
using testing::MakeBatch;

TEST(RecordBatchTest, ValidBatchParses) {
  std::string b = MakeBatch(3, 1000);
  Result<BatchHeader> h = ValidateBatch(b);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->record_count, 3);
  EXPECT_EQ(h->last_offset_delta, 2);
  EXPECT_EQ(h->first_timestamp, 1000);
  EXPECT_EQ(h->max_timestamp, 1002);
  EXPECT_EQ(h->total_size(), b.size());
  EXPECT_EQ(h->producer_id, ProducerId(-1));
  EXPECT_EQ(h->compression(), Compression::kNone);
}

TEST(RecordBatchTest, CrcMismatchIsCorruption) {
  std::string b = MakeBatch(2, 5);
  b[b.size() - 3] ^= 1;
  EXPECT_TRUE(ValidateBatch(b).status().IsCorruption());
}

TEST(RecordBatchTest, BaseOffsetIsOutsideCrc) {
  std::string b = MakeBatch(2, 5);
  coding::EncodeBigEndian64(b.data(), 12345);
  coding::EncodeBigEndian32(b.data() + 12, 7);
  EXPECT_TRUE(ValidateBatch(b).ok());
}

TEST(RecordBatchTest, StructuralErrorsAreInvalidArgument) {
  std::string b = MakeBatch(2, 5);
  std::string bad_magic = b;
  bad_magic[16] = 1;
  EXPECT_TRUE(ValidateBatch(bad_magic).status().IsInvalidArgument());
  EXPECT_TRUE(ValidateBatch(b.substr(0, 30)).status().IsInvalidArgument());
  EXPECT_TRUE(ValidateBatch(b + "x").status().IsInvalidArgument());
  // Record count that disagrees with the records (CRC recomputed).
  std::string bad_count = b;
  coding::EncodeBigEndian32(bad_count.data() + kRecordCountPos, 3);
  coding::EncodeBigEndian32(bad_count.data() + kLastOffsetDeltaPos, 2);
  UpdateBatchCrc(&bad_count);
  Status s = ValidateBatch(bad_count).status();
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  std::string bad_delta = b;
  coding::EncodeBigEndian32(bad_delta.data() + kLastOffsetDeltaPos, 5);
  UpdateBatchCrc(&bad_delta);
  EXPECT_TRUE(ValidateBatch(bad_delta).status().IsInvalidArgument());
}

TEST(RecordBatchTest, HostileBytesNeverCrash) {
  std::string b = MakeBatch(4, 5, 30);
  for (size_t i = 0; i < b.size(); ++i) {
    for (int bit : {0, 7}) {
      std::string c = b;
      c[i] = static_cast<char>(c[i] ^ (1 << bit));
      UpdateBatchCrc(&c);
      ValidateBatch(c).status().IgnoreError();
    }
    ValidateBatch(std::string_view(b).substr(0, i)).status().IgnoreError();
  }
}

TEST(RecordBatchTest, FindRecordByTimestamp) {
  std::string b = BuildBatch({{"a", "1", 100}, {"b", "2", 50}, {"c", "3", 300}});
  Result<BatchHeader> h = ValidateBatch(b);
  ASSERT_TRUE(h.ok());
  Offset off;
  int64_t ts;
  const BatchView v{*h, b};
  ASSERT_TRUE(*internal::FindRecordByTimestamp(v, 200, Offset(0), &off, &ts));
  EXPECT_EQ(off, Offset(2));
  EXPECT_EQ(ts, 300);
  ASSERT_TRUE(*internal::FindRecordByTimestamp(v, 50, Offset(1), &off, &ts));
  EXPECT_EQ(off, Offset(1));
  EXPECT_FALSE(*internal::FindRecordByTimestamp(v, 301, Offset(0), &off, &ts));
}

}  // namespace
}  // namespace braid::log
