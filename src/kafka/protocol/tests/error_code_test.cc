#include "kafka/protocol/error_code.h"

#include <gtest/gtest.h>

namespace braid::kafka {
namespace {

TEST(ErrorCodeTest, OneMapFromStatus) {
  EXPECT_EQ(ErrorCodeForStatus(Status::OK()), ErrorCode::kNone);
  EXPECT_EQ(ErrorCodeForStatus(Status::Corruption("crc")), ErrorCode::kCorruptMessage);
  EXPECT_EQ(ErrorCodeForStatus(Status::InvalidArgument("magic 1")), ErrorCode::kInvalidRecord);
  EXPECT_EQ(ErrorCodeForStatus(Status::InvalidArgument("bad config"), ErrorCode::kInvalidConfig),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(ErrorCodeForStatus(Status::Unimplemented("codec 7")),
            ErrorCode::kUnsupportedCompressionType);
  // ResourceExhausted: too large vs disk full, told apart by the subcode.
  EXPECT_EQ(ErrorCodeForStatus(Status::TooLarge("batch above max.message.bytes")),
            ErrorCode::kMessageTooLarge);
  EXPECT_EQ(ErrorCodeForStatus(Status::FromErrno(ENOSPC, "append")), ErrorCode::kKafkaStorageError);
  EXPECT_EQ(ErrorCodeForStatus(Status::ResourceExhausted("quota")), ErrorCode::kKafkaStorageError);
  EXPECT_EQ(ErrorCodeForStatus(Status::TooLarge("x").WithContext("partition events-0")),
            ErrorCode::kMessageTooLarge);
  EXPECT_EQ(ErrorCodeForStatus(Status::IOError("EIO")), ErrorCode::kKafkaStorageError);
  EXPECT_EQ(ErrorCodeForStatus(Status::FailedPrecondition("offline")),
            ErrorCode::kKafkaStorageError);
  EXPECT_EQ(ErrorCodeForStatus(Status::NotFound("topic")), ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(ErrorCodeForStatus(Status::OutOfRange("offset")), ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(ErrorCodeForStatus(Status::AlreadyExists("topic")), ErrorCode::kTopicAlreadyExists);
  EXPECT_EQ(ErrorCodeForStatus(Status::TimedOut("wait")), ErrorCode::kRequestTimedOut);
  EXPECT_EQ(ErrorCodeForStatus(Status::Internal("bug")), ErrorCode::kUnknownServerError);
}

}  // namespace
}  // namespace braid::kafka
