// Kafka request/response headers and frames.
//
// A frame is int32 size (big-endian, bytes that follow) + header + body.
// Request header v1: api_key i16, api_version i16, correlation_id i32,
// client_id NULLABLE_STRING; v2 adds a tagged-field section (flexible
// versions). The client id keeps its int16 length even in v2.
// Response header v0: correlation_id; v1 adds a tagged-field section.
// Which version applies is decided by api_versions.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "kafka/protocol/api_versions.h"
#include "kafka/protocol/wire.h"

namespace braid::kafka {

// Kafka's default socket.request.max.bytes (100 MiB).
inline constexpr int32_t kDefaultMaxFrameSize = 100 * 1024 * 1024;

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;  // null when the client sent -1
  int16_t header_version = 1;            // 1 or 2 (as decoded / to encode)
};

// Decodes a request header from the start of `r` (the frame without its
// size prefix). The header version is RequestHeaderVersion(key, version) for
// any key Kafka defines; unknown keys are read as header v1. On success `r`
// is positioned at the body. Errors: Corruption (truncated, bad tags).
Status DecodeRequestHeader(Reader* r, RequestHeader* out);

// Appends a request header of h.header_version.
void EncodeRequestHeader(const RequestHeader& h, Writer* w);

// Appends a response header of the given version (0 or 1).
void EncodeResponseHeader(int32_t correlation_id, int16_t header_version, Writer* w);

// Decodes a response header (for tests and clients).
Status DecodeResponseHeader(Reader* r, int16_t header_version, int32_t* correlation_id);

// Reads the int32 size prefix at the start of `data`. Returns the frame body
// size, or Corruption if it is negative or larger than max_frame_size.
// Precondition: data.size() >= 4.
Result<int32_t> DecodeFrameSize(std::string_view data, int32_t max_frame_size);

// Builds a complete response frame: size + response header (version from
// ResponseHeaderVersion, so ApiVersions gets v0) + body encoded at `version`.
// Message is any response struct of messages.h.
template <typename Message>
Result<std::string> EncodeResponseFrame(int32_t correlation_id, int16_t version,
                                        const Message& msg) {
  std::string out;
  Writer w(&out);
  size_t size_pos = w.ReserveInt32();
  EncodeResponseHeader(correlation_id,
                       ResponseHeaderVersion(static_cast<int16_t>(Message::kApiKey), version), &w);
  RETURN_IF_ERROR(msg.Encode(version, &w));
  w.PatchInt32(size_pos, static_cast<int32_t>(out.size() - 4));
  return out;
}

// Builds a complete request frame (for tests, fuzz seeds and clients):
// size + header (version from RequestHeaderVersion) + body.
template <typename Message>
Result<std::string> EncodeRequestFrame(int32_t correlation_id, int16_t version,
                                       const std::optional<std::string>& client_id,
                                       const Message& msg) {
  std::string out;
  Writer w(&out);
  size_t size_pos = w.ReserveInt32();
  RequestHeader h;
  h.api_key = static_cast<int16_t>(Message::kApiKey);
  h.api_version = version;
  h.correlation_id = correlation_id;
  h.client_id = client_id;
  h.header_version = RequestHeaderVersion(h.api_key, version);
  EncodeRequestHeader(h, &w);
  RETURN_IF_ERROR(msg.Encode(version, &w));
  w.PatchInt32(size_pos, static_cast<int32_t>(out.size() - 4));
  return out;
}

}  // namespace braid::kafka
