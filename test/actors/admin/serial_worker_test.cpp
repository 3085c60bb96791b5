// SPDX-License-Identifier: Apache-2.0
// serial_worker: tasks run once, in order, and a worker whose last owner is dropped by one of
// its own tasks (an admin answer callback holding the server at shutdown) does not join itself.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <vector>

#include "actors/admin/serial_worker.hpp"

using namespace herald;

TEST_CASE("tasks_run_once_each_in_submission_order_and_the_destructor_runs_the_rest") {
  std::vector<int> order;
  {
    admin::serial_worker worker;
    for (int i = 0; i < 100; ++i) {
      worker.submit([&order, i] { order.push_back(i); });
    }
  }
  REQUIRE(order.size() == 100);
  for (int i = 0; i < 100; ++i) {
    CHECK(order[static_cast<size_t>(i)] == i);
  }
}

TEST_CASE("a_worker_destroyed_by_its_own_task_finishes_without_joining_itself") {
  auto worker = std::make_shared<admin::serial_worker>();
  auto* raw = worker.get();
  std::promise<void> after_destructor;
  auto done = after_destructor.get_future();
  // The last owner reference moves into a task, so the worker's destructor runs on its own
  // thread. Before the fix, join() threw std::system_error (EDEADLK) there: std::terminate.
  raw->submit([owner = std::move(worker), &after_destructor]() mutable {
    owner.reset();
    after_destructor.set_value();
  });
  REQUIRE(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}
