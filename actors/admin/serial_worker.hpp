// SPDX-License-Identifier: Apache-2.0
#pragma once
// One background thread that runs submitted tasks one at a time, in submission order. The
// admin control routes use it so that their blocking dispatch calls neither hold the admin
// io thread (health and readiness probes stay responsive) nor race each other (an overwrite
// update reads the channel, then publishes the whole channel).
// Invariant: every task submitted before destruction runs exactly once; the destructor joins.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace herald::admin {

class serial_worker {
public:
  serial_worker();
  /// Runs the queued tasks, then joins. Must not run inside one of its own tasks (so tasks
  /// must not own the worker).
  ~serial_worker();
  serial_worker(const serial_worker&) = delete;
  serial_worker& operator=(const serial_worker&) = delete;

  /// Thread-safe; never blocks on a running task.
  void submit(std::function<void()> task);

private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace herald::admin
