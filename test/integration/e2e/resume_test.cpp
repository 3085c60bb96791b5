// SPDX-License-Identifier: Apache-2.0
// Resume after a dropped connection replays exactly the missed dispatches in order, then
// RESUMED; a wrong session id or a session the client closed with 1000 gets op 9 d:false.
#include <string>
#include <vector>

#include "e2e_fixture.hpp"

using namespace herald;
using namespace herald::e2e;

namespace {

/// Opens a connection, reads Hello and sends op 6.
std::unique_ptr<testing::gateway_client> resume_on_new_connection(const node& n, const user& u,
                                                                  const std::string& session_id,
                                                                  uint64_t seq) {
  auto c = std::make_unique<testing::gateway_client>(n.gateway_port());
  auto hello = c->next();
  REQUIRE(hello);
  REQUIRE((*hello)["op"] == 10);
  c->set_last_seq(seq);
  c->resume(u.token, session_id, seq);
  return c;
}

}  // namespace

TEST_CASE("resume_after_a_dropped_connection_replays_exactly_the_missed_dispatches_then_resumed") {
  node n;
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  n.add_member(guild, bob);

  auto alice_ws = connect(n, alice, 1);
  auto bob_ws = connect(n, bob, 1);
  auto first = n.post_message(alice, general, "before the drop");
  REQUIRE(wait_message(*bob_ws, first["id"].get<std::string>()));
  auto session_id = bob_ws->session_id();
  auto seq = bob_ws->last_seq();
  REQUIRE(seq == 3);  // READY, GUILD_CREATE, MESSAGE_CREATE

  // TCP goes away without a close frame; three messages are posted meanwhile.
  bob_ws->drop();
  std::vector<std::string> missed;
  for (int i = 0; i < 3; ++i) {
    missed.push_back(
        n.post_message(alice, general, "missed " + std::to_string(i))["id"].get<std::string>());
  }
  // alice's copy of the last one means the guild has fanned them out.
  REQUIRE(wait_message(*alice_ws, missed.back()));

  auto resumed = resume_on_new_connection(n, bob, session_id, seq);
  for (size_t i = 0; i < missed.size(); ++i) {
    auto f = resumed->next();
    REQUIRE(f);
    INFO("replayed frame " << f->dump());
    CHECK((*f)["op"] == 0);
    CHECK((*f)["t"] == "MESSAGE_CREATE");
    CHECK((*f)["s"] == seq + 1 + i);
    CHECK((*f)["d"]["id"] == missed[i]);
  }
  auto done = resumed->next();
  REQUIRE(done);
  INFO("after the replay " << done->dump());
  CHECK((*done)["op"] == 0);
  CHECK((*done)["t"] == "RESUMED");
  // RESUMED is a dispatch: it continues the sequence.
  CHECK((*done)["s"] == seq + missed.size() + 1);

  // The resumed session is live again and keeps counting.
  auto live = n.post_message(alice, general, "live again");
  auto got = wait_message(*resumed, live["id"].get<std::string>());
  REQUIRE(got);
  CHECK((*got)["s"] == (*done)["s"].get<uint64_t>() + 1);
  CHECK(resumed->seq_errors().empty());

  SECTION("a resume with a wrong session id gets op 9 d:false") {
    auto wrong = resume_on_new_connection(n, bob, "not-a-session", 1);
    auto invalid = wrong->next_op(9);
    REQUIRE(invalid);
    CHECK((*invalid)["d"].is_boolean());
    CHECK((*invalid)["d"] == false);
  }

  SECTION("a session the client closed with 1000 cannot be resumed") {
    auto last = resumed->last_seq();
    resumed->close(1000);
    auto again = resume_on_new_connection(n, bob, session_id, last);
    auto invalid = again->next_op(9);
    REQUIRE(invalid);
    CHECK((*invalid)["d"].is_boolean());
    CHECK((*invalid)["d"] == false);
  }
}

TEST_CASE("gateway_resume_max_frames_bounds_what_a_resume_can_replay") {
  // 16 queued / 32 kept: the smallest legal pair (the resume bound must be twice the queue's).
  node n{"queue_max_frames = 16\nresume_max_frames = 32"};
  auto alice = n.create_user("alice");
  auto bob = n.create_user("bob");
  auto guild = n.create_guild("guild", alice);
  auto general = n.create_channel(guild, "general");
  n.add_member(guild, bob);

  auto alice_ws = connect(n, alice, 1);
  auto bob_ws = connect(n, bob, 1);
  auto session_id = bob_ws->session_id();
  auto seq = bob_ws->last_seq();  // READY, GUILD_CREATE
  bob_ws->drop();

  SECTION("within the bound the replay is exact") {
    std::vector<std::string> missed;
    for (int i = 0; i < 20; ++i) {
      missed.push_back(
          n.post_message(alice, general, "m" + std::to_string(i))["id"].get<std::string>());
    }
    REQUIRE(wait_message(*alice_ws, missed.back()));
    auto resumed = resume_on_new_connection(n, bob, session_id, seq);
    for (const auto& id : missed) {
      auto f = resumed->next();
      REQUIRE(f);
      CHECK((*f)["d"]["id"] == id);
    }
    auto done = resumed->next();
    REQUIRE(done);
    CHECK((*done)["t"] == "RESUMED");
  }

  SECTION("past the bound the resume gets op 9 d:false") {
    std::string last;
    for (int i = 0; i < 40; ++i) {
      last = n.post_message(alice, general, "m" + std::to_string(i))["id"].get<std::string>();
    }
    REQUIRE(wait_message(*alice_ws, last));
    auto resumed = resume_on_new_connection(n, bob, session_id, seq);
    auto invalid = resumed->next_op(9);
    REQUIRE(invalid);
    CHECK((*invalid)["d"] == false);
  }
}

TEST_CASE("a_resume_bound_below_twice_the_queue_bound_is_refused_at_start") {
  testing::temp_dir dir;
  auto r = testing::run_process(
      testing::bin_path("heraldd"),
      {"--node.data_dir", dir.file("data"), "--admin.listen",
       "127.0.0.1:" + std::to_string(testing::free_port()), "--gateway.listen",
       "127.0.0.1:" + std::to_string(testing::free_port()), "--gateway.resume_max_frames", "3000"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("gateway.resume_max_frames (3000) must be at least twice "
                   "gateway.queue_max_frames (2048)") != std::string::npos);
}
