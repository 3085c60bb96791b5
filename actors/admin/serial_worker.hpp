// SPDX-License-Identifier: Apache-2.0
#pragma once
// One background thread that runs submitted tasks one at a time, in submission order. The
// admin control routes use it so that their blocking dispatch calls neither hold the admin
// io thread (health and readiness probes stay responsive) nor race each other (an overwrite
// update reads the channel, then publishes the whole channel).
// Invariant: every task submitted before destruction runs exactly once. The destructor joins,
// except when it runs on the worker thread itself (a task dropped the last reference to the
// worker's owner, e.g. an answer callback holding the admin server at shutdown): then the thread
// is detached and finishes the queue on its own, touching only the shared queue state.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace herald::admin {

class serial_worker {
public:
  serial_worker();
  /// Runs the queued tasks, then joins (or, on the worker thread, detaches: see above).
  ~serial_worker();
  serial_worker(const serial_worker&) = delete;
  serial_worker& operator=(const serial_worker&) = delete;

  /// Thread-safe; never blocks on a running task.
  void submit(std::function<void()> task);

private:
  /// Everything the thread touches; shared with the thread so that it outlives a detached worker.
  struct queue_state {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> tasks;
    bool stopping = false;
  };
  static void loop(const std::shared_ptr<queue_state>& queue);

  std::shared_ptr<queue_state> queue_ = std::make_shared<queue_state>();
  std::thread thread_;
};

}  // namespace herald::admin
