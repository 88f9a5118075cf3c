// libFuzzer target: Kafka request frames (header + body of every implemented
// API and version), RecordBatch v2 parsing with record iteration, and the
// magic 0/1 MessageSet conversions of Produce v0-2 / Fetch v0-3.
//
// Input: the first byte selects the mode (byte % 6); the rest is a request
// without its size prefix (modes 0, 2), a records field (1, 3), a MessageSet
// to up-convert (4) or batches to down-convert (5).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kafka/protocol/protocol.h"
#include "log/legacy_records.h"
#include "log/records.h"

namespace braid::kafka {
namespace {

template <typename Req, typename Resp>
void RoundTrip(Reader* r, int16_t version) {
  Req req;
  if (!req.Decode(r, version).ok()) return;
  // A decoded request must re-encode, and re-decode to the same bytes.
  std::string bytes;
  Writer w(&bytes);
  if (!req.Encode(version, &w).ok()) return;
  Req again;
  Reader r2(bytes);
  if (!again.Decode(&r2, version).ok()) __builtin_trap();
  std::string bytes2;
  Writer w2(&bytes2);
  if (!again.Encode(version, &w2).ok() || bytes != bytes2) __builtin_trap();
  // Responses: decode the same bytes as a response too (hostile clients'
  // answers are never parsed by the broker, but tests and tools do).
  Resp resp;
  Reader r3(bytes);
  resp.Decode(&r3, version).IgnoreError();
}

void FuzzRequest(std::string_view data) {
  Reader r(data);
  RequestHeader h;
  if (!DecodeRequestHeader(&r, &h).ok()) return;
  if (!IsSupportedVersion(h.api_key, h.api_version)) return;
  int16_t v = h.api_version;
  switch (static_cast<ApiKey>(h.api_key)) {
#define CASE(key, Name)                              \
  case ApiKey::key:                                  \
    RoundTrip<Name##Request, Name##Response>(&r, v); \
    break;
    BRAID_KAFKA_FOR_EACH_API(CASE)
#undef CASE
    default:
      break;
  }
}

void FuzzRecords(std::string_view data, bool verify_crc) {
  log::SplitOptions opts;
  opts.verify_crc = verify_crc;
  opts.allow_partial_tail = !verify_crc;
  auto batches = log::SplitBatches(data, opts);
  if (!batches.ok()) return;
  for (const log::BatchView& b : *batches) {
    log::VerifyOptions vo;
    vo.max_decompressed_size = 1 << 20;
    log::VerifyBatchRecords(b, vo).IgnoreError();
    auto reader = log::RecordReader::Create(b, 1 << 20);
    if (!reader.ok()) continue;
    log::RecordView rec;
    for (int i = 0; i < 100000; ++i) {
      auto more = reader->Next(&rec);
      if (!more.ok() || !*more) break;
    }
  }
}

void FuzzLegacy(std::string_view data, bool up) {
  if (up) {
    log::UpConvertOptions o;
    o.max_decompressed_size = 1 << 20;
    auto converted = log::UpConvertMessageSet(data, o);
    // What the broker appends must pass the log's append validation.
    if (converted.ok() && !log::ValidateBatch(converted->batch).ok()) __builtin_trap();
    log::DecodeMessageSet(data, 1 << 20).status().IgnoreError();
    return;
  }
  for (int8_t magic : {log::kMagicV0, log::kMagicV1}) {
    log::DownConvertOptions o;
    o.max_decompressed_size = 1 << 20;
    auto down = log::DownConvertBatches(data, magic, o);
    // What the broker sends an old client must decode.
    if (down.ok() && !log::DecodeMessageSet(down->message_set, 256u << 20).ok()) __builtin_trap();
  }
}

}  // namespace
}  // namespace braid::kafka

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
    case 2:
      braid::kafka::FuzzRequest(in);
      break;
    case 1:
      braid::kafka::FuzzRecords(in, /*verify_crc=*/false);
      break;
    case 3:
      braid::kafka::FuzzRecords(in, /*verify_crc=*/true);
      break;
    case 4:
      braid::kafka::FuzzLegacy(in, /*up=*/true);
      break;
    case 5:
      braid::kafka::FuzzLegacy(in, /*up=*/false);
      break;
  }
  return 0;
}
