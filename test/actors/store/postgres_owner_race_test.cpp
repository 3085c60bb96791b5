// SPDX-License-Identifier: Apache-2.0
// The ownership race on PostgreSQL (docs/cluster.md, "Guild ownership: epochs and fencing"): two
// stores on one database stand for two nodes, each with its own connections. When both claim
// the same guild at once, exactly the later claim's owner can commit; an owner committing while
// another node claims keeps exactly the commits the claim saw, and every later one is fenced.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "test/actors/store/store_fixture.hpp"

using namespace herald::store;
using namespace herald::domain;
using herald::store::test::backend;
using herald::store::test::backend_fixture;
using herald::store::test::sample_message;

namespace {

constexpr snowflake gid = 100;

write_batch batch_of(std::uint64_t epoch, std::uint64_t order, snowflake message_id) {
  write_batch b;
  auto m = sample_message(message_id);
  m.guild_id_ = gid;
  b.add(write_op::insert_message{m});
  b.set_fence({gid, epoch, order});
  return b;
}

}  // namespace

TEST_CASE("two_nodes_claiming_one_guild_at_once_leave_only_the_later_claim_able_to_commit") {
  backend_fixture fx(backend::postgres, sync_mode::normal);
  auto node_a = fx.open();
  auto node_b = fx.open();
  REQUIRE(node_a->upsert_guild(guild{gid, "contested", 1}));
  snowflake next_message = 1;
  std::uint64_t order = 0;
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    std::promise<void> go;
    auto start = go.get_future().share();
    auto claim = [&](store& node, std::uint64_t node_id) {
      return std::async(std::launch::async, [&node, node_id, start] {
        start.wait();
        return node.claim_guild(gid, node_id);
      });
    };
    auto a = claim(*node_a, 1);
    auto b = claim(*node_b, 2);
    go.set_value();
    auto claim_a = a.get();
    auto claim_b = b.get();
    REQUIRE(claim_a);
    REQUIRE(claim_b);
    const auto ea = claim_a.value().epoch_;
    const auto eb = claim_b.value().epoch_;
    // Serialised by the store: two consecutive epochs, never the same one.
    REQUIRE(ea != eb);
    CHECK((ea > eb ? ea - eb : eb - ea) == 1);
    const bool a_won = ea > eb;
    auto row = node_a->guild_owner_of(gid);
    REQUIRE(row);
    CHECK(row.value().epoch_ == std::max(ea, eb));
    CHECK(row.value().node_id_ == (a_won ? 1u : 2u));

    // Both believe they own the guild and commit the next order.
    ++order;
    const auto id_a = next_message++;
    const auto id_b = next_message++;
    auto ba = batch_of(ea, order, id_a);
    auto bb = batch_of(eb, order, id_b);
    auto ra = node_a->apply(ba);
    auto rb = node_b->apply(bb);
    CHECK(static_cast<bool>(ra) == a_won);
    CHECK(static_cast<bool>(rb) == !a_won);
    const auto& loser = a_won ? rb : ra;
    REQUIRE_FALSE(loser);
    CHECK(loser.error().code_ == store_errc::fenced);
    CHECK(static_cast<bool>(node_a->get_message(id_a)) == a_won);
    CHECK(static_cast<bool>(node_a->get_message(id_b)) == !a_won);
    CHECK(node_b->guild_owner_of(gid).value().last_order_ == order);
  }
}

TEST_CASE("an_owner_committing_while_another_node_claims_keeps_exactly_what_the_claim_saw") {
  backend_fixture fx(backend::postgres, sync_mode::normal);
  auto old_owner = fx.open();
  auto new_owner = fx.open();
  REQUIRE(old_owner->upsert_guild(guild{gid, "moving", 1}));
  auto first = old_owner->claim_guild(gid, 1);
  REQUIRE(first);
  const auto epoch = first.value().epoch_;

  std::atomic<std::uint64_t> committed{0};  // last order the old owner got success for
  std::atomic<bool> fenced{false};
  std::thread committer([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (std::uint64_t n = 1; n <= 200000 && std::chrono::steady_clock::now() < deadline; ++n) {
      auto b = batch_of(epoch, n, n);
      auto r = old_owner->apply(b);
      if (!r) {
        fenced = r.error().code_ == store_errc::fenced;
        return;
      }
      committed = n;
    }
  });
  const auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (committed.load() < 20 && std::chrono::steady_clock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto claimed = new_owner->claim_guild(gid, 2);
  committer.join();
  REQUIRE(claimed);
  REQUIRE(fenced.load());
  const auto seen = claimed.value().last_order_;
  // Every commit the old owner was told succeeded is in what the claim saw, and nothing after.
  CHECK(seen >= 20);
  CHECK(committed.load() == seen);
  CHECK(new_owner->get_message(seen));
  CHECK(new_owner->get_message(seen + 1).error().code_ == store_errc::not_found);
  CHECK(new_owner->guild_owner_of(gid).value().last_order_ == seen);
}
