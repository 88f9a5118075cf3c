// Forward declarations of kafka/protocol's main types.
#pragma once

#include <cstdint>

namespace braid::kafka {

class Reader;
class Writer;
struct RequestHeader;
struct ApiInfo;
enum class ApiKey : int16_t;
enum class ErrorCode : int16_t;

}  // namespace braid::kafka
