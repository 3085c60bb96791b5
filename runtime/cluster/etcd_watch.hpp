// SPDX-License-Identifier: Apache-2.0
#pragma once
// A watch stream of one etcd key prefix (POST /v3/watch on etcd's v3 JSON gateway: a chunked
// HTTP response that stays open and carries one JSON message per change). It is only a
// trigger: every message that reports a change, and every (re)created stream, calls
// `on_change`, and the caller reads the prefix (its range read stays the one source of truth),
// so a lost message or a gap between two streams can never leave the view behind; it only
// makes the read come at once instead of at the next periodic one.
//
// Threads: one private thread ("etcd watch thread") holds the stream and runs on_change;
// start(), kick() and stop() may be called from any other thread. A stream that ends or fails
// is opened again (100 ms, doubling, at most `max_backoff` apart), on the next endpoint after a
// failure. kick() abandons the current stream (the caller saw etcd fail: a read blocked on a
// silent connection would otherwise wait for TCP to notice).
// Invariant: after stop() returns, on_change is not running and is never called again.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace herald::cluster {

class etcd_watch {
public:
  /// `endpoints`: "http://HOST:PORT" each (validated by the config). `on_change` must not block
  /// for long (it wakes the membership thread).
  etcd_watch(std::vector<std::string> endpoints, std::string prefix,
             std::function<void()> on_change, std::chrono::milliseconds max_backoff);
  ~etcd_watch();  ///< stop()
  etcd_watch(const etcd_watch&) = delete;
  etcd_watch& operator=(const etcd_watch&) = delete;

  void start();
  /// Drops the current stream (it is opened again); no-op when none is open.
  void kick();
  /// Ends the stream and joins the thread. Idempotent.
  void stop();

  /// Change messages received (each one called on_change).
  uint64_t events() const noexcept { return events_.load(std::memory_order_relaxed); }
  /// Streams opened after the first one (ended, failed or kicked).
  uint64_t restarts() const noexcept { return restarts_.load(std::memory_order_relaxed); }

private:
  void run();
  /// One stream on `endpoint` until it ends, fails or is kicked; returns why it ended.
  std::string watch_once(const std::string& endpoint);
  /// Handles one complete JSON message of the stream.
  void on_message(const std::string& line);
  void set_fd(int fd);

  std::vector<std::string> endpoints_;
  std::string prefix_;
  std::function<void()> on_change_;
  std::chrono::milliseconds max_backoff_;
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> restarts_{0};

  std::mutex mutex_;  // guards fd_ and stopping_
  int fd_ = -1;       // the open stream's socket, shut down by kick() and stop()
  bool stopping_ = false;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace herald::cluster
