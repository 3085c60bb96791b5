// SPDX-License-Identifier: Apache-2.0
#include "actors/gateway/detail/ready_queue.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/gateway/gateway_connection.hpp"

namespace herald::gateway::detail {

void ready_queue::push(std::shared_ptr<gateway_connection> conn) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (pending_) {
    ready_.push_back(std::move(conn));
    return;  // the scheduled flush takes it (no executor copy per push: it showed in profiles)
  }
  pending_ = true;
  auto ex = conn->executor();  // valid: conn's stream keeps its io_context alive
  ready_.push_back(std::move(conn));
  auto self = shared_from_this();
  if (delay_.count() <= 0) {
    boost::asio::post(ex, [self] { self->flush(); });
    return;
  }
  boost::asio::post(ex, [self, ex] {
    auto timer = std::make_shared<boost::asio::steady_timer>(ex);
    timer->expires_after(self->delay_);
    // Runs also when the wait is aborted: a flush that never ran would stall every
    // connection queued behind it (pending_ stays set).
    timer->async_wait([self, timer](const boost::system::error_code&) { self->flush(); });
  });
}

uint64_t ready_queue::flushes() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return flushes_;
}

void ready_queue::flush() {
  std::vector<std::shared_ptr<gateway_connection>> batch;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    // Pushes from now on schedule the next flush (which, with several io threads, may run
    // while this one still writes: hence a local batch).
    batch.swap(ready_);
    ready_.swap(spare_);  // the previous burst's capacity
    pending_ = false;
    ++flushes_;
  }
  for (auto& conn : batch) {
    if (inline_writes_) {
      conn->flush_ready();
    } else {
      conn->post_flush_ready();
    }
  }
  batch.clear();
  std::lock_guard<std::mutex> guard{mutex_};
  if (spare_.capacity() < batch.capacity()) {
    spare_.swap(batch);
  }
}

}  // namespace herald::gateway::detail
