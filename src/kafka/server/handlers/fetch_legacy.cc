// Fetch v0-3 (key 1): the old message formats. Kafka 3.x down-converts the
// stored RecordBatch v2 to magic 0 for Fetch v0-1 and magic 1 for v2-3
// (log/legacy_records.h); braid does the same, once the v4+ path has built
// the response, so the long poll, limits and errors are shared.
#include <map>
#include <utility>

#include "base/logging.h"
#include "kafka/server/broker.h"
#include "log/legacy_records.h"

namespace braid::kafka {

std::function<void(const FetchResponse&)> Broker::DownConvertingFetchReply(
    int16_t version, const FetchRequest& req, std::function<void(const FetchResponse&)> reply) {
  const int8_t magic = version <= 1 ? log::kMagicV0 : log::kMagicV1;
  std::map<std::pair<std::string, int32_t>, Offset> fetch_offsets;
  for (const auto& t : req.topics) {
    for (const auto& p : t.partitions) {
      fetch_offsets[{t.name, p.partition_index.value()}] = p.fetch_offset;
    }
  }
  return [magic, fetch_offsets = std::move(fetch_offsets),
          reply = std::move(reply)](const FetchResponse& built) {
    FetchResponse resp = built;
    for (auto& t : resp.responses) {
      for (auto& p : t.partitions) {
        if (!p.records || p.records->empty()) continue;
        log::DownConvertOptions o;
        auto it = fetch_offsets.find({t.name, p.partition_index.value()});
        if (it != fetch_offsets.end()) o.first_offset = it->second;
        auto down = log::DownConvertBatches(*p.records, magic, o);
        if (!down.ok()) {
          // zstd (Unimplemented) is UNSUPPORTED_COMPRESSION_TYPE, as in Kafka.
          p.error_code = ErrorCodeForStatus(down.status());
          p.records = std::string();
          LOG_DEBUG("kafka: fetch {}-{} for magic {}: {}", t.name, p.partition_index.value(),
                    static_cast<int>(magic), down.status().ToString());
          continue;
        }
        p.records = std::move(down->message_set);
      }
    }
    reply(resp);
  };
}

}  // namespace braid::kafka
