// Forward declarations of kafka/protocol's main types.
#pragma once

#include <cstdint>

namespace braid::kafka {

class Reader;
class Writer;
class RecordReader;
class RecordBatchBuilder;
struct RecordBatchHeader;
struct RecordBatchView;
struct RequestHeader;
struct ApiInfo;
enum class ApiKey : int16_t;
enum class ErrorCode : int16_t;
enum class Compression : int8_t;

}  // namespace braid::kafka
