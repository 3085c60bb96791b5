// SPDX-License-Identifier: Apache-2.0
#pragma once
// Batched write wake-ups: connections whose session has frames ready, written by ONE flush
// task per burst instead of one strand post (and io-thread wake-up) per connection.
// Owned by gateway_context; push() from any thread (relay threads, buffer lock held).
// Invariant: at most one flush is scheduled at a time; every pushed connection is flushed
// by the flush scheduled at or after its push.

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace herald::gateway {
class gateway_connection;
}

namespace herald::gateway::detail {

class ready_queue : public std::enable_shared_from_this<ready_queue> {
public:
  /// `delay`: how long a flush waits after the first push of a burst, so that a burst's
  /// frames coalesce (more connections per flush, more frames per writev).
  /// `inline_writes`: the io_context runs on exactly one thread, so the flush may write
  /// every connection directly; otherwise it posts each connection's write to its strand.
  ready_queue(std::chrono::microseconds delay, bool inline_writes)
      : delay_(delay), inline_writes_(inline_writes) {}

  /// Queues `conn` (its frames-ready flag is set by the caller, so once per flush at most)
  /// and schedules a flush on conn's executor if none is pending. Any thread; never blocks
  /// on anything but the queue's own mutex.
  void push(std::shared_ptr<gateway_connection> conn);

  /// Flushes run so far (for tests and metrics).
  uint64_t flushes() const;

private:
  void flush();

  const std::chrono::microseconds delay_;
  const bool inline_writes_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<gateway_connection>> ready_;  // guarded
  std::vector<std::shared_ptr<gateway_connection>> spare_;  // guarded; empty, for capacity
  bool pending_ = false;                                    // guarded
  uint64_t flushes_ = 0;                                    // guarded
};

}  // namespace herald::gateway::detail
