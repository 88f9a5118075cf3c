// Executor: how request handlers defer work without seeing Asio. The network
// server implements it over its io_context; tests may implement it inline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace braid::kafka {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `fn` soon on one of the server's io threads.
  virtual void Post(std::function<void()> fn) = 0;
  // Runs `fn` soon on the io thread of connection `connection_id`
  // (ConnectionInfo::id), where its response will be written; on any io
  // thread if the connection is gone. Default: Post(fn).
  virtual void PostToConnection(uint64_t connection_id, std::function<void()> fn) {
    Post(std::move(fn));
  }
  // Runs `fn` on an io thread after `delay_ms` (>= 0). The returned function
  // cancels the timer (fn then never runs, unless it already started); it is
  // safe to call from any thread, more than once, and after `fn` ran.
  virtual std::function<void()> RunAfter(int64_t delay_ms, std::function<void()> fn) = 0;
};

}  // namespace braid::kafka
