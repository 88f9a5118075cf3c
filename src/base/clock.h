// Clock: the source of time for everything that expires, rolls or stamps.
// Production code takes a Clock* (default: SystemClock()); tests pass a
// ManualClock and advance it explicitly. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

namespace braid {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, milliseconds since the Unix epoch (record timestamps).
  virtual int64_t NowMillis() const = 0;
  // Monotonic time in microseconds (timeouts, latency); unrelated to the epoch.
  virtual int64_t MonotonicMicros() const = 0;
};

// The real clock. Never null; lives forever.
Clock* SystemClock();

// A clock that only moves when told to. Both readings advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_millis = 1'700'000'000'000)
      : millis_(start_millis), micros_(0) {}
  int64_t NowMillis() const override { return millis_.load(); }
  int64_t MonotonicMicros() const override { return micros_.load(); }
  void AdvanceMillis(int64_t ms) {
    millis_ += ms;
    micros_ += ms * 1000;
  }
  void SetMillis(int64_t ms) { millis_ = ms; }

 private:
  std::atomic<int64_t> millis_;
  std::atomic<int64_t> micros_;
};

}  // namespace braid
