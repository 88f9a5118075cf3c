#include "archive/layout.h"

#include <fmt/format.h>

namespace braid::archive {

namespace {
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
}  // namespace

int64_t HourOf(int64_t time_ms) { return FloorDiv(time_ms, 3'600'000); }

std::string HourDir(int64_t hour) {
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  const int64_t days = FloorDiv(hour, 24);
  const int64_t h = hour - days * 24;
  const int64_t z = days + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  return fmt::format("dt={:04}-{:02}-{:02}/hour={:02}", y, m, d, h);
}

std::string PartFileName(PartitionId partition, Offset first_offset) {
  return fmt::format("part-{}-{}.avro", partition, first_offset);
}

std::string ConsolidatedFileName(PartitionId partition, Offset first_offset, Offset last_offset) {
  return fmt::format("part-{}-{}-{}.avro", partition, first_offset, last_offset);
}

std::vector<std::pair<std::string, std::string>> FileMetadata(const std::string& topic,
                                                              PartitionId partition, FileKind kind,
                                                              int32_t schema_id) {
  std::vector<std::pair<std::string, std::string>> md = {
      {"braid.topic", topic},
      {"braid.partition", std::to_string(partition.value())},
      {"braid.kind", std::string(FileKindName(kind))}};
  if (kind == FileKind::kAvro) md.emplace_back("braid.schema_id", std::to_string(schema_id));
  return md;
}

}  // namespace braid::archive
