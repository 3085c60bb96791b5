// SPDX-License-Identifier: Apache-2.0
#include "actors/store/detail/pg_reader_pool.hpp"

#include "runtime/metrics/metrics.hpp"

namespace herald::store {

namespace {

metrics::counter& reader_waits() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_store_reader_waits_total",
      "Store reads that found every reader connection busy and waited for one "
      "(store.postgres_readers)",
      {{"backend", "postgres"}});
  return c;
}

}  // namespace

postgres_store::reader_pool::reader_pool(std::vector<std::unique_ptr<connection_slot>> slots,
                                         std::chrono::milliseconds wait_bound)
    : slots_(std::move(slots)), wait_bound_(wait_bound) {
  // Reversed so that the first slot (connected by open()) is leased first.
  for (std::size_t i = slots_.size(); i > 0; --i) {
    free_.push_back(i - 1);
  }
}

result<std::size_t> postgres_store::reader_pool::acquire(std::string_view what) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (free_.empty()) {
    reader_waits().inc();
    if (!freed_.wait_for(lock, wait_bound_, [this] { return !free_.empty(); })) {
      return store_error{store_errc::busy, std::string(what) + ": all " +
                                               std::to_string(slots_.size()) +
                                               " reader connections stayed busy for " +
                                               std::to_string(wait_bound_.count()) + " ms"};
    }
  }
  const std::size_t index = free_.back();
  free_.pop_back();
  return index;
}

void postgres_store::reader_pool::release(std::size_t index) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(index);
  }
  freed_.notify_one();
}

}  // namespace herald::store
