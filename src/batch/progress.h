// Job progress on a terminal: one line redrawn in place (a bar of the input
// bytes done, splits, records/s, spilled bytes, ETA) when the stream is a
// terminal, else a plain line every few seconds; a summary at the end.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "batch/engine.h"

namespace braid::batch {

// "[#########.........]  41%  splits 120/290  2.31 M rec/s  spilled 0 B  ETA 0:04".
std::string FormatProgress(const JobStatus& s, int bar_width = 24);
// "12.3 MiB".
std::string FormatBytes(uint64_t bytes);

class TerminalProgress {
 public:
  // `out`: stderr by default. Not owned.
  explicit TerminalProgress(std::FILE* out = stderr);
  // A JobOptions::progress callback body (thread-safe).
  void Update(const JobStatus& s);

 private:
  std::FILE* out_;
  bool tty_;
  std::mutex mu_;
  double last_print_ = -1e9;
  bool open_line_ = false;
};

}  // namespace braid::batch
