// The batch engine: runs an EngineJob (job.h) locally on a pool of worker
// threads with a memory budget.
//
//   plan     the inputs become splits: the blocks of every Avro container
//            file (archive::Dataset::Plan for the master dataset, cut by
//            records_below_cut; avro::ContainerReader::ListBlocks), byte
//            ranges of text files (a line belongs to the split it starts
//            in). Consecutive splits form map tasks of about task_bytes,
//            so one large file keeps every core busy.
//   map      each task maps its splits into a buffer (sorted entries, or a
//            hash table when the job has a Merger); a full buffer is
//            sorted, combined and becomes a run (run_file.h), kept in memory
//            while the runs held fit in half the budget, else spilled to a
//            compressed run file under spill_dir.
//   merge    more runs than merge_factor are merged (and combined) in
//            groups first.
//   reduce   per reduce task (a hash partition, or a key range in total
//            order), the runs are merged k-way and the reducer sees each key
//            with its values ordered by (sort key, task, emission order);
//            its output goes to the task's Output part.
//   commit   Output::Commit() once every part is closed.
//
// Deterministic: tasks are cut from the inputs and the options (task_bytes,
// threads), buffers flush at sizes fixed by the options, and merges keep the
// run order, so the same input and options give the same output bytes (and
// a job whose combining is commutative, every view, the same output
// whatever the options).
//
// Failure: the first error of any task cancels the others; the job returns
// it (naming the input file and byte offset for input and map errors),
// Output::Abort() runs and the spill files are deleted. cancel (if set)
// makes the job stop with Aborted.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "batch/job.h"
#include "batch/run_file.h"
#include "io/file_system.h"

namespace braid::batch {

struct JobOptions {
  // File system of the inputs, outputs and spill files. Default:
  // io::DefaultFileSystem().
  io::FileSystem* fs = nullptr;
  // Directory of the spill files; a fresh subdirectory per job is created
  // in it and deleted at the end. Required.
  std::string spill_dir;
  // Worker threads. Default: 2.
  int threads = 2;
  // Memory for map buffers and in-memory runs: each worker's buffer gets
  // budget / (2 * threads), the runs kept in memory at most budget / 2;
  // beyond, runs spill. Default: 256 MiB.
  uint64_t memory_budget = uint64_t{256} << 20;
  // Input bytes (as stored) per map task, at most (smaller inputs get 4
  // tasks per thread, of at least 64 KiB). Default: 32 MiB.
  uint64_t task_bytes = uint64_t{32} << 20;
  // Split size of text files. Default: 32 MiB.
  uint64_t text_split_bytes = uint64_t{32} << 20;
  // Most runs one merge reads at once. Default: 64.
  size_t merge_factor = 64;
  RunOptions run;
  // Called with the job's status every progress_interval_ms and once at the
  // end (from an engine thread). Default: none.
  std::function<void(const struct JobStatus&)> progress;
  int64_t progress_interval_ms = 500;
  // Set to true (by any thread) to cancel the job. Default: none.
  const std::atomic<bool>* cancel = nullptr;
};

// Figures of a job, running or done (also its progress reports).
struct JobStatus {
  std::string job;
  // "planning", "map", "merge", "reduce", "commit", "done", "failed",
  // "cancelled".
  std::string phase = "planning";
  double elapsed_s = 0;
  uint64_t splits_total = 0;
  uint64_t splits_done = 0;
  uint64_t input_bytes_total = 0;  // as stored (compressed)
  uint64_t input_bytes_done = 0;
  uint64_t records_read = 0;
  uint64_t map_output_records = 0;  // emitted by the mappers
  uint64_t runs = 0;                // sorted runs produced (in memory or spilled)
  uint64_t spill_files = 0;
  uint64_t spilled_bytes = 0;  // bytes written to run files
  uint64_t reduce_tasks = 0;
  uint64_t reduce_tasks_done = 0;
  uint64_t reduce_input_records = 0;
  uint64_t output_records = 0;
  // Most bytes held at once by map buffers and in-memory runs.
  uint64_t peak_memory_bytes = 0;
  double records_per_s = 0;                 // records_read / map time
  double eta_s = -1;                        // -1: unknown
  std::map<std::string, int64_t> counters;  // user counters (Context::Count)
  std::string error;                        // failed: the reason
};

// Runs `job` over `inputs` into `output`. Returns the final status (phase
// "done") or the job's error.
Result<JobStatus> RunJob(const EngineJob& job, const std::vector<Input>& inputs, Output* output,
                         const JobOptions& options);

}  // namespace braid::batch
