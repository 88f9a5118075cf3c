// The Hadoop Streaming contract (`braid mr map|reduce`): the same view or
// raw job runs as a streaming mapper and reducer on a Hadoop cluster, or in
// a shell pipe (`braid mr map | sort | braid mr reduce`), and gives the same
// result as braid's local engine.
//
// Lines (UTF-8 or bytes, '\n'-terminated, fields separated by TAB):
//
//   raw jobs   KEY TAB VALUE
//   views      KEY TAB GRANULARITY TAB BUCKET_START TAB VALUE
//              (run Hadoop with -D stream.num.map.output.key.fields=3)
//
// KEY and a raw job's VALUE are escaped: '\' → "\\", TAB → "\t", LF → "\n",
// CR → "\r", other bytes below 0x20 and 0x7f → "\xHH"; everything else
// (UTF-8 included) is written as is, so `sort` (LC_ALL=C) groups equal keys
// and a word count reads naturally. GRANULARITY is hour|day|week|month|all,
// BUCKET_START the bucket's start in ms since the epoch (all: the smallest
// int64), a view's VALUE the monoid encoding in base64 (RFC 4648, with
// padding). A view's map writes one line per cell of every granularity the
// view keeps (no roll-up: each line stands alone); its reduce merges the
// lines of one cell with the monoid and writes one line per cell in the
// same format (so it also works as a Hadoop combiner).
//
// Sessionised views (views/session.h) are refused (CheckStreamingView):
// their visits need every event of a view key sorted by (person, time) in
// one reduce call, which cell lines do not carry; `braid mr run --view` and
// `braid batch run` compute them with braid's engine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "avro/field_extractor.h"
#include "avro/schema.h"
#include "base/status.h"
#include "batch/job.h"
#include "views/mapper.h"
#include "views/time_bucket.h"
#include "views/view.h"

namespace braid::mr {
class Job;
}  // namespace braid::mr

namespace braid::batch {

std::string EscapeField(std::string_view s);
// InvalidArgument for a malformed escape or a raw TAB/LF.
Result<std::string> UnescapeField(std::string_view s);
std::string Base64Encode(std::string_view s);
Result<std::string> Base64Decode(std::string_view s);

struct CellLine {
  std::string key;
  views::Granularity granularity = views::Granularity::kAll;
  int64_t bucket_start = 0;
  std::string value;  // decoded (monoid encoding)
};
// Appends "KEY\tGRAN\tBUCKET\tBASE64\n".
void AppendCellLine(std::string_view key, views::Granularity g, int64_t bucket_start,
                    std::string_view value, std::string* out);
// Parses a line (without '\n'). InvalidArgument naming what is wrong.
Result<CellLine> ParseCellLine(std::string_view line);

// Reads '\n'-terminated lines (a last line without '\n' included); false at
// the end. Lines above 256 MiB are an error.
using LineReader = std::function<Result<bool>(std::string* line)>;
// Receives output bytes.
using Writer = std::function<Status(std::string_view bytes)>;

// OK if the view can run as cell lines; InvalidArgument naming the view
// and the alternatives for a sessionised view.
Status CheckStreamingView(const views::ViewDefinition& view);

// A view's streaming reduce: lines sorted (grouped) by their first three
// fields → one merged line per cell. With `json`, VALUE is the monoid's JSON
// rendering instead of base64 (not readable back). Errors name the line
// number.
Status ReduceViewLines(const views::ViewDefinition& view, const LineReader& in, const Writer& out,
                       bool json = false);

// A raw job's streaming reduce: KEY TAB VALUE lines sorted by KEY → the
// job's reducer per key (values in input order) → KEY TAB VALUE lines.
// `combine`: run the job's combiner (or merger) instead of the reducer.
Status ReduceJobLines(const mr::Job& job, const LineReader& in, const Writer& out,
                      bool combine = false);

// A raw job's streaming map: each input line is a text record → KEY TAB
// VALUE lines (sort keys are dropped: Hadoop sorts by key only).
Status MapJobLines(const mr::Job& job, const LineReader& in, const Writer& out);

// An Output (for a ViewJob's engine job) writing the cells of view 0 as
// cell lines into `text` (a text output whose keys and values are written
// as they are): the local engine's result in the streaming format.
std::unique_ptr<Output> NewCellLinesOutput(std::unique_ptr<Output> text);

// An Output writing a raw job's records as escaped KEY TAB VALUE lines into
// `text`.
std::unique_ptr<Output> NewEscapedLinesOutput(std::unique_ptr<Output> text);

// A view's streaming map over Avro records: every emit becomes one line per
// kept granularity.
class ViewLineMapper {
 public:
  explicit ViewLineMapper(std::shared_ptr<const views::ViewDefinition> view);
  ~ViewLineMapper();
  // One record: its Avro binary `body` under `writer` (the value is given
  // to the view framed with `schema_id` when >= 0). Map errors of the view
  // are counted and skipped; undecodable bodies fail.
  Status MapAvro(std::string_view body, const avro::Schema& writer, int32_t schema_id,
                 const Writer& out);
  uint64_t map_errors() const { return map_errors_; }

 private:
  std::shared_ptr<const views::ViewDefinition> view_;
  std::map<int32_t, avro::Schema> schemas_;  // by registry id, from the files
  std::unique_ptr<views::Mapper> mapper_;    // the shared map step
  std::vector<views::Emit> emits_;
  std::string line_;
  uint64_t map_errors_ = 0;
};

}  // namespace braid::batch
