// Job outputs (job.h Output): text files, Avro container files, memory.
//
// Text and Avro outputs write part files into a directory the way Hadoop's
// FileOutputFormat does: each part is written as `.part-r-NNNNN.tmp`, closed
// (fsync), and on Commit() renamed to `part-r-NNNNN` (`.avro`), then an empty
// `_SUCCESS` file marks the directory complete; Abort() deletes the
// temporary files. A directory with `_SUCCESS` holds exactly the job's
// output; one without it was not committed.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "batch/job.h"
#include "io/file_system.h"

namespace braid::batch {

// One `key TAB value NEWLINE` line per record (Hadoop's TextOutputFormat;
// keys and values written as they are, so they should not contain tabs or
// newlines: a job that cannot guarantee it should escape them, see
// streaming.h). `dir` is created; existing part files are replaced.
std::unique_ptr<Output> NewTextOutput(io::FileSystem* fs, std::string dir);

// Avro container files `part-r-NNNNN.avro` with `codec`. With an empty
// `schema_json` the records are {"key": bytes, "value": bytes}
// (record braid.mr.KeyValue); otherwise each value must be the Avro binary
// encoding of one record of that schema (checked: a value that does not
// decode completely fails the job) and keys are dropped.
Result<std::unique_ptr<Output>> NewAvroOutput(io::FileSystem* fs, std::string dir,
                                              const std::string& schema_json,
                                              std::string codec = "deflate");

// Collects every (key, value) in memory: parts are concatenated in part
// order on Commit() (tests, small results).
class MemoryOutput final : public Output {
 public:
  Result<std::unique_ptr<OutputPart>> OpenPart(uint32_t part) override;
  Status Commit() override;
  void Abort() override;
  const std::vector<std::pair<std::string, std::string>>& records() const { return records_; }

 private:
  class Part;
  std::mutex mu_;
  std::map<uint32_t, std::vector<std::pair<std::string, std::string>>> parts_;  // stable nodes
  std::vector<std::pair<std::string, std::string>> records_;
};

}  // namespace braid::batch
