#include "kafka/protocol/header.h"

#include "base/coding.h"

namespace braid::kafka {

Status DecodeRequestHeader(Reader* r, RequestHeader* out) {
  RETURN_IF_ERROR(r->ReadInt16(&out->api_key));
  RETURN_IF_ERROR(r->ReadInt16(&out->api_version));
  RETURN_IF_ERROR(r->ReadInt32(&out->correlation_id));
  // client_id is a classic NULLABLE_STRING even in header v2.
  RETURN_IF_ERROR(r->ReadNullableString(&out->client_id));
  out->header_version = RequestHeaderVersion(out->api_key, out->api_version);
  if (out->header_version >= 2) RETURN_IF_ERROR(r->SkipTaggedFields());
  return Status::OK();
}

void EncodeRequestHeader(const RequestHeader& h, Writer* w) {
  w->WriteInt16(h.api_key);
  w->WriteInt16(h.api_version);
  w->WriteInt32(h.correlation_id);
  if (h.header_version >= 1) w->WriteNullableString(h.client_id);
  if (h.header_version >= 2) w->WriteEmptyTaggedFields();
}

void EncodeResponseHeader(int32_t correlation_id, int16_t header_version, Writer* w) {
  w->WriteInt32(correlation_id);
  if (header_version >= 1) w->WriteEmptyTaggedFields();
}

Status DecodeResponseHeader(Reader* r, int16_t header_version, int32_t* correlation_id) {
  RETURN_IF_ERROR(r->ReadInt32(correlation_id));
  if (header_version >= 1) RETURN_IF_ERROR(r->SkipTaggedFields());
  return Status::OK();
}

Result<int32_t> DecodeFrameSize(std::string_view data, int32_t max_frame_size) {
  if (data.size() < 4) return Status::Corruption("truncated frame size at byte 0");
  auto size = static_cast<int32_t>(coding::DecodeBigEndian32(data.data()));
  if (size < 0) return Status::Corruption("negative frame size at byte 0");
  if (size > max_frame_size) {
    return Status::Corruption("frame size " + std::to_string(size) + " exceeds limit " +
                              std::to_string(max_frame_size) + " at byte 0");
  }
  return size;
}

}  // namespace braid::kafka
