// Helpers shared by kafka/protocol tests.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "base/status.h"
#include "kafka/protocol/wire.h"

namespace braid::kafka::testing {

// Reads src/kafka/protocol/tests/data/<name> (BRAID_SOURCE_DIR is set by
// braid_test; falls back to the compile-time source path).
inline std::string ReadTestData(const std::string& name) {
  const char* src = std::getenv("BRAID_SOURCE_DIR");
  std::string root = src ? std::string(src) : std::string(BRAID_KAFKA_PROTOCOL_SOURCE_ROOT);
  std::ifstream f(root + "/src/kafka/protocol/tests/data/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Encodes `msg` at `version` into a fresh string.
template <typename M>
Result<std::string> EncodeToString(const M& msg, int16_t version) {
  std::string out;
  Writer w(&out);
  RETURN_IF_ERROR(msg.Encode(version, &w));
  return out;
}

// Decodes `bytes` as M at `version`, requiring every byte to be consumed.
template <typename M>
Result<M> DecodeAll(std::string_view bytes, int16_t version) {
  M m;
  Reader r(bytes);
  RETURN_IF_ERROR(m.Decode(&r, version));
  if (!r.empty()) return Status::Corruption(std::to_string(r.remaining()) + " bytes left over");
  return m;
}

}  // namespace braid::kafka::testing
