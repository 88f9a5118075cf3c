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

}  // namespace braid::kafka
