// SPDX-License-Identifier: Apache-2.0
#include "actors/admin/serial_worker.hpp"

namespace herald::admin {

serial_worker::serial_worker() : thread_([queue = queue_] { loop(queue); }) {}

serial_worker::~serial_worker() {
  {
    std::lock_guard<std::mutex> lock(queue_->mutex);
    queue_->stopping = true;
  }
  queue_->wake.notify_one();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // joining itself would throw (EDEADLK); the loop ends on its own
  } else {
    thread_.join();
  }
}

void serial_worker::submit(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(queue_->mutex);
    queue_->tasks.push_back(std::move(task));
  }
  queue_->wake.notify_one();
}

void serial_worker::loop(const std::shared_ptr<queue_state>& queue) {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(queue->mutex);
      queue->wake.wait(lock, [&queue] { return queue->stopping || !queue->tasks.empty(); });
      if (queue->tasks.empty()) {
        return;
      }
      task = std::move(queue->tasks.front());
      queue->tasks.pop_front();
    }
    task();
  }
}

}  // namespace herald::admin
