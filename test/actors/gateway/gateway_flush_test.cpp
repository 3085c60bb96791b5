// SPDX-License-Identifier: Apache-2.0
// Batched write wake-ups (detail::ready_queue): many sessions made ready by one burst are
// written by shared flushes, inline on the only io thread or posted to each strand, with or
// without a coalescing delay, and every client still gets every frame, in order.
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "test/actors/gateway/gateway_fixture.hpp"

using namespace herald;
using namespace herald::gateway_test;

namespace {

void burst_reaches_every_client(gateway::gateway_options o) {
  gateway_env g{o};
  std::vector<std::unique_ptr<gateway_client>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(g.client());
    clients.back()->login(bob_token, 1);
  }
  std::vector<uint64_t> ids;
  for (int i = 0; i < 30; ++i) {
    ids.push_back(g.post("burst " + std::to_string(i)));
  }
  for (auto& c : clients) {
    for (auto id : ids) {
      auto m = c->next_op(0, "MESSAGE_CREATE");
      REQUIRE(m);
      CHECK((*m)["d"]["id"] == std::to_string(id));
    }
    INFO("first seq error: " << (c->seq_errors().empty() ? "" : c->seq_errors().front()));
    REQUIRE(c->seq_errors().empty());
  }
}

}  // namespace

TEST_CASE(
    "a_burst_to_many_sessions_flushed_inline_on_the_one_io_thread_delivers_every_frame_in_order") {
  gateway::gateway_options o;
  o.io_threads = 1;
  burst_reaches_every_client(o);
}

TEST_CASE(
    "a_burst_flushed_through_each_connections_strand_io_threads_unknown_delivers_every_frame_in_"
    "order") {
  gateway::gateway_options o;
  o.io_threads = 0;
  burst_reaches_every_client(o);
}

TEST_CASE("with_a_coalescing_flush_delay_every_frame_still_arrives_in_order") {
  gateway::gateway_options o;
  o.io_threads = 1;
  o.flush_delay = std::chrono::milliseconds{5};
  burst_reaches_every_client(o);
}
