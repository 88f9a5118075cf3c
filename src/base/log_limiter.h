// LogLimiter: keeps repeated log lines about client input from flooding the
// log. Per key (a reason plus a client address, say) at most `burst` lines
// are let through per `interval_ms`; the lines held back are counted and the
// count is handed to the next line let through, which should report it
// ("... (N similar lines suppressed)").
//
// Thread safety: thread-safe. Memory: one small entry per key seen during
// the current interval; keys idle for a whole interval are dropped.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"

namespace braid {

// Printable form of a string that came from a client, for log lines:
// printable ASCII is kept (backslash doubled), every other byte becomes
// \xNN; longer than `max_bytes` input is cut and "..." appended.
std::string EscapeForLog(std::string_view s, size_t max_bytes = 256);

class LogLimiter {
 public:
  // Defaults: 20 lines per key per second, SystemClock().
  explicit LogLimiter(int burst = 20, int64_t interval_ms = 1000, Clock* clock = nullptr);

  // True if a line for `key` may be logged now. When true, *suppressed is
  // the number of lines for `key` refused since the last one allowed.
  bool Allow(std::string_view key, uint64_t* suppressed);

 private:
  struct Window {
    int64_t start_ms = 0;
    int used = 0;
    uint64_t suppressed = 0;
  };
  const int burst_;
  const int64_t interval_ms_;
  Clock* const clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // guarded by mu_
  int64_t last_sweep_ms_ = 0;                        // guarded by mu_
};

}  // namespace braid
