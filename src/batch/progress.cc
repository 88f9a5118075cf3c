#include "batch/progress.h"

#include <unistd.h>

#include <cinttypes>
#include <cmath>

namespace braid::batch {

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

namespace {
std::string FormatDuration(double s) {
  if (s < 0 || !std::isfinite(s)) return "?";
  const auto t = static_cast<int64_t>(s + 0.5);
  char buf[32];
  if (t >= 3600) {
    std::snprintf(buf, sizeof(buf), "%" PRId64 ":%02d:%02d", t / 3600,
                  static_cast<int>(t / 60 % 60), static_cast<int>(t % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%d:%02d", static_cast<int>(t / 60), static_cast<int>(t % 60));
  }
  return buf;
}
}  // namespace

std::string FormatProgress(const JobStatus& s, int bar_width) {
  const double frac = s.phase == "done"         ? 1.0
                      : s.input_bytes_total > 0 ? static_cast<double>(s.input_bytes_done) /
                                                      static_cast<double>(s.input_bytes_total)
                                                : 0.0;
  std::string bar(static_cast<size_t>(bar_width), '.');
  for (int i = 0; i < static_cast<int>(frac * bar_width); ++i) bar[static_cast<size_t>(i)] = '#';
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "[%s] %3.0f%% %-7s splits %" PRIu64 "/%" PRIu64 "  %.2f M rec/s  spilled %s  %s",
                bar.c_str(), frac * 100, s.phase.c_str(), s.splits_done, s.splits_total,
                s.records_per_s / 1e6, FormatBytes(s.spilled_bytes).c_str(),
                s.phase == "done" ? ("in " + FormatDuration(s.elapsed_s)).c_str()
                                  : ("ETA " + FormatDuration(s.eta_s)).c_str());
  return buf;
}

TerminalProgress::TerminalProgress(std::FILE* out)
    : out_(out), tty_(::isatty(::fileno(out)) != 0) {}

void TerminalProgress::Update(const JobStatus& s) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool final = s.phase == "done" || s.phase == "failed" || s.phase == "cancelled";
  if (tty_) {
    std::fprintf(out_, "\r%s\x1b[K", FormatProgress(s).c_str());
    open_line_ = true;
    if (final) {
      std::fputc('\n', out_);
      open_line_ = false;
    }
  } else if (final || s.elapsed_s - last_print_ >= 5) {
    last_print_ = s.elapsed_s;
    std::fprintf(out_, "%s\n", FormatProgress(s).c_str());
  }
  std::fflush(out_);
}

}  // namespace braid::batch
