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
#include <utility>

#include "base/clock.h"
#include "base/logging.h"

namespace braid {

// Printable form of a string that came from a client, for log lines:
// printable ASCII is kept (backslash doubled), every other byte becomes
// \xNN; longer than `max_bytes` input is cut and "..." appended.
std::string EscapeForLog(std::string_view s, size_t max_bytes = 256);

class LogLimiter {
 public:
  // Defaults: 20 lines per key per second, SystemClock(), 4096 keys (lines
  // for further keys share the key "*", so that many client addresses
  // cannot grow the table).
  explicit LogLimiter(int burst = 20, int64_t interval_ms = 1000, Clock* clock = nullptr,
                      size_t max_keys = 4096);

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
  const size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // guarded by mu_
  int64_t last_sweep_ms_ = 0;                        // guarded by mu_
};

// "host" of a client address "host:port" (or "[v6 address]:port").
std::string_view HostOfPeer(std::string_view peer);

// The process-wide limiter of warnings about bad client input (malformed
// frames, refused connections, timeouts): 5 lines per reason per client
// host per 10 seconds.
LogLimiter& ClientInputLogLimiter();

// Logs a warning about input from client `peer` ("host:port") at most as
// often as ClientInputLogLimiter() allows for (`reason`, host); the line
// let through after refused ones ends with "(N similar lines suppressed)".
// Arguments that came from the client must be passed through EscapeForLog.
template <typename... Args>
void WarnClientInput(std::string_view reason, std::string_view peer,
                     fmt::format_string<Args...> format, Args&&... args) {
  if (!spdlog::should_log(spdlog::level::warn)) return;
  uint64_t suppressed = 0;
  std::string key(reason);
  key += ' ';
  key += HostOfPeer(peer);
  if (!ClientInputLogLimiter().Allow(key, &suppressed)) return;
  std::string line = fmt::format(format, std::forward<Args>(args)...);
  if (suppressed > 0) line += " (" + std::to_string(suppressed) + " similar lines suppressed)";
  LOG_WARN("{}", line);
}

}  // namespace braid
