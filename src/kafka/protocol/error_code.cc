#include "kafka/protocol/error_code.h"

namespace braid::kafka {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
#define BRAID_KAFKA_ERROR_NAME(e, c, n) \
  case ErrorCode::e:                    \
    return n;
    BRAID_KAFKA_ERROR_CODES(BRAID_KAFKA_ERROR_NAME)
#undef BRAID_KAFKA_ERROR_NAME
  }
  return "UNKNOWN_ERROR_CODE";
}

ErrorCode ErrorCodeForStatus(const Status& status, ErrorCode invalid_argument) {
  switch (status.code()) {
    case StatusCode::kOk:
      return ErrorCode::kNone;
    case StatusCode::kCorruption:
      return ErrorCode::kCorruptMessage;
    case StatusCode::kInvalidArgument:
      return invalid_argument;
    case StatusCode::kUnimplemented:
      return ErrorCode::kUnsupportedCompressionType;
    case StatusCode::kResourceExhausted:
      return status.IsTooLarge() ? ErrorCode::kMessageTooLarge : ErrorCode::kKafkaStorageError;
    case StatusCode::kIOError:
    case StatusCode::kFailedPrecondition:
      return ErrorCode::kKafkaStorageError;
    case StatusCode::kNotFound:
      return ErrorCode::kUnknownTopicOrPartition;
    case StatusCode::kOutOfRange:
      return ErrorCode::kOffsetOutOfRange;
    case StatusCode::kAlreadyExists:
      return ErrorCode::kTopicAlreadyExists;
    case StatusCode::kTimedOut:
      return ErrorCode::kRequestTimedOut;
    default:
      return ErrorCode::kUnknownServerError;
  }
}

}  // namespace braid::kafka
