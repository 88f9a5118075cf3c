#include "base/log_limiter.h"

#include <algorithm>
#include <cstdio>

namespace braid {

std::string EscapeForLog(std::string_view s, size_t max_bytes) {
  std::string out;
  const bool cut = s.size() > max_bytes;
  if (cut) s = s.substr(0, max_bytes);
  out.reserve(s.size() + (cut ? 3 : 0));
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (cut) out += "...";
  return out;
}

LogLimiter::LogLimiter(int burst, int64_t interval_ms, Clock* clock, size_t max_keys)
    : burst_(burst),
      interval_ms_(interval_ms),
      clock_(clock != nullptr ? clock : SystemClock()),
      max_keys_(std::max<size_t>(1, max_keys)) {}

std::string_view HostOfPeer(std::string_view peer) {
  if (!peer.empty() && peer.front() == '[') {
    const size_t close = peer.find(']');
    return close == std::string_view::npos ? peer : peer.substr(1, close - 1);
  }
  const size_t colon = peer.rfind(':');
  return colon == std::string_view::npos ? peer : peer.substr(0, colon);
}

LogLimiter& ClientInputLogLimiter() {
  static LogLimiter* limiter = new LogLimiter(5, 10000);
  return *limiter;
}

bool LogLimiter::Allow(std::string_view key, uint64_t* suppressed) {
  const int64_t now = clock_->MonotonicMicros() / 1000;
  std::lock_guard<std::mutex> lock(mu_);
  if (now - last_sweep_ms_ >= interval_ms_) {
    // Forget keys idle for a whole interval (their suppressed count was
    // reported, or is dropped with them: nothing came after it).
    for (auto it = windows_.begin(); it != windows_.end();) {
      it = now - it->second.start_ms >= 2 * interval_ms_ && it->second.suppressed == 0
               ? windows_.erase(it)
               : std::next(it);
    }
    last_sweep_ms_ = now;
  }
  if (windows_.size() >= max_keys_ && windows_.find(std::string(key)) == windows_.end()) {
    key = "*";
  }
  auto [it, fresh] = windows_.try_emplace(std::string(key));
  Window& w = it->second;
  if (fresh || now - w.start_ms >= interval_ms_) {
    w.start_ms = now;
    w.used = 0;
  }
  if (w.used >= burst_) {
    ++w.suppressed;
    return false;
  }
  ++w.used;
  *suppressed = w.suppressed;
  w.suppressed = 0;
  return true;
}

}  // namespace braid
