// SPDX-License-Identifier: Apache-2.0
// Session migration on drain (docs/cluster.md, "Session migration") in a cluster of three real
// heraldd processes: sessions on the node that drains, in guilds the other two own, while
// producers post continuously through every node. Each session is told op 7 and resumes, with
// its session id and last seq, on one of the other nodes, which takes the session over from the
// draining node: RESUMED (never op 9, so no re-identify), gapless `s` across both connections,
// and every acknowledged post received exactly once and in its producer's order
// (chaos_ledger.hpp), also the ones ordered while the session moved. The migration counters of
// both sides and the resumes counted `migrated` add up.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/chaos_ledger.hpp"
#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/eventually.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/rest_client.hpp"
#include "test/support/temp_dir.hpp"

using namespace herald;
using namespace herald::cluster_test;
using namespace std::chrono_literals;

namespace {

constexpr auto heartbeat = 200ms;
constexpr auto failure_timeout = 5000ms;
constexpr size_t guild_count = 4;
constexpr auto post_pacing = 30ms;  // per producer: stays inside the REST rate limit
constexpr uint64_t max_posts_per_producer = 2000;

/// One session on the draining node, followed across its migration by its own thread (no
/// Catch2 assertion there: results are checked on the test thread).
struct migrating_session {
  std::string token;
  std::unique_ptr<testing::gateway_client> before;  // on the draining node
  std::unique_ptr<testing::gateway_client> after;   // where it resumed
  bool told_reconnect = false;
  bool resumed = false;
  int invalid_sessions = 0;  // op 9: the client would identify again
  std::vector<std::string> seq_errors;
};

/// Records the frame's post in the ledger, or counts an end marker or a resync.
void record(const json& f, size_t session, chaos_ledger& ledger, size_t& ends,
            std::atomic<size_t>& resyncs) {
  if (f["op"] != 0 || !f["t"].is_string()) {
    return;
  }
  const auto t = f["t"].get<std::string>();
  if (t == "MESSAGE_CREATE") {
    auto content = f["d"].value("content", "");
    if (content.rfind("end-", 0) == 0) {
      ++ends;
    } else {
      ledger.received(session, content, chaos_clock::now());
    }
  } else if (t == "GUILD_DELETE" && f["d"].value("unavailable", false)) {
    resyncs.fetch_add(1);
  }
}

/// Reads the session on the draining node up to op 7, resumes it on `next` with its session id
/// and last seq, and reads there until every guild's end marker or `deadline`.
void follow(migrating_session& s, size_t session, const node_spec& next, chaos_ledger& ledger,
            chaos_clock::time_point deadline, std::atomic<size_t>& resyncs) {
  size_t ends = 0;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - chaos_clock::now());
  };
  for (int frames = 0; frames < 1000000 && left().count() > 0; ++frames) {
    auto f = s.before->next(left());
    if (!f) {
      return;  // closed before op 7: checked on the test thread
    }
    if ((*f)["op"] == 7) {
      s.told_reconnect = true;
      break;
    }
    record(*f, session, ledger, ends, resyncs);
  }
  if (!s.told_reconnect) {
    return;
  }
  s.seq_errors = s.before->seq_errors();
  s.after = std::make_unique<testing::gateway_client>(next.gateway);
  if (!s.after->next_op(10)) {
    return;
  }
  s.after->set_last_seq(s.before->last_seq());  // the seq check goes on across the two sockets
  s.after->resume(s.token, s.before->session_id(), s.before->last_seq());
  for (int frames = 0; frames < 1000000 && ends < guild_count && left().count() > 0; ++frames) {
    auto f = s.after->next(left());
    if (!f) {
      break;
    }
    if ((*f)["op"] == 9) {
      ++s.invalid_sessions;
      break;
    }
    if ((*f)["op"] == 0 && (*f)["t"] == "RESUMED") {
      s.resumed = true;
    }
    record(*f, session, ledger, ends, resyncs);
  }
  auto more = s.after->seq_errors();
  s.seq_errors.insert(s.seq_errors.end(), more.begin(), more.end());
}

}  // namespace

TEST_CASE("sessions_of_a_draining_node_resume_on_the_others_with_every_post_exactly_once") {
  testing::temp_dir dir;
  auto cluster = start_draining_cluster(dir, {{"na", 1}, {"nb", 2}, {"nc", 3}}, heartbeat,
                                        failure_timeout, 1500ms);
  auto& nodes = cluster.nodes;
  auto& procs = cluster.procs;
  require_all_up(nodes);

  auto alice = create_user(nodes[0], "alice");
  std::vector<json> members;
  for (const char* name : {"bob", "carol", "dave", "watcher", "producer0", "producer1"}) {
    members.push_back(create_user(nodes[0], name));
  }
  // Guilds until guild_count of them avoid one node: that node drains, so no guild moves and
  // what the sessions receive depends on the migration alone (moving guilds with their events
  // is the owner failover's part).
  std::vector<std::vector<std::pair<std::string, std::string>>> by_owner(nodes.size());
  size_t drained = nodes.size();
  for (int g = 0; g < 40 && drained == nodes.size(); ++g) {
    auto id = created_id(
        nodes[0], {"guild", "create", "--name", "g" + std::to_string(g), "--owner", id_of(alice)});
    auto channel = created_id(nodes[0], {"channel", "create", "--guild", id, "--name", "general"});
    by_owner[place_guild(nodes, id).owner].emplace_back(id, channel);
    for (size_t d = 0; d < nodes.size(); ++d) {
      size_t others = 0;
      for (size_t o = 0; o < nodes.size(); ++o) {
        others += o == d ? 0 : by_owner[o].size();
      }
      if (others >= guild_count) {
        drained = d;
        break;
      }
    }
  }
  REQUIRE(drained < nodes.size());
  std::vector<std::string> channels;
  std::vector<size_t> survivors;
  for (size_t o = 0; o < nodes.size(); ++o) {
    if (o != drained) {
      survivors.push_back(o);
      for (const auto& [id, channel] : by_owner[o]) {
        if (channels.size() < guild_count) {
          channels.push_back(channel);
          for (const auto& m : members) {  // members of the guilds the drained node lacks only
            REQUIRE(ctl_json(nodes[0], {"member", "add", "--guild", id, "--user", id_of(m)})
                        .is_object());
          }
        }
      }
    }
  }
  const auto& d = nodes[drained];
  INFO("draining " << d.name);

  // Three members' sessions on the draining node; the watcher on both others (so each of them
  // relays every guild before the sessions arrive).
  std::vector<migrating_session> moving(3);
  for (size_t i = 0; i < moving.size(); ++i) {
    moving[i].token = members[i].value("token", "");
    moving[i].before = std::make_unique<testing::gateway_client>(d.gateway);
    moving[i].before->login(moving[i].token, guild_count);
  }
  std::vector<std::unique_ptr<testing::gateway_client>> watchers;
  for (auto i : survivors) {
    watchers.push_back(std::make_unique<testing::gateway_client>(nodes[i].gateway));
    watchers.back()->login(members[3].value("token", ""), guild_count);
  }

  chaos_ledger ledger;
  std::atomic<size_t> resyncs{0};
  std::atomic<bool> stop_producers{false};
  const auto deadline = chaos_clock::now() + 120s;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < moving.size(); ++i) {
    threads.emplace_back([&, i] {
      follow(moving[i], i, nodes[survivors[i % survivors.size()]], ledger, deadline, resyncs);
    });
  }
  std::vector<std::thread> producers;
  for (size_t p = 0; p < 2; ++p) {
    producers.emplace_back([&, p] {
      std::vector<uint64_t> next_k(guild_count, 0);
      const auto token = members[4 + p].value("token", "");
      for (uint64_t n = 0; n < max_posts_per_producer && !stop_producers.load(); ++n) {
        size_t g = (n + p) % guild_count;
        chaos_post post;
        post.producer = static_cast<int>(p);
        post.guild = g;
        post.k = next_k[g]++;
        post.sent = chaos_clock::now();
        const auto& via = nodes[(n + p) % nodes.size()];  // the draining node too: it routes
        auto r = testing::http_call(
            via.gateway, "POST", "/api/v10/channels/" + channels[g] + "/messages",
            json{{"content", chaos_content(post.producer, g, post.k)}}.dump(),
            {{"Authorization", "Bot " + token}}, 5s);
        post.acked = r.status == 200;
        ledger.posted(post);
        std::this_thread::sleep_for(post_pacing);  // pacing, not a wait for a condition
      }
    });
  }

  std::this_thread::sleep_for(1s);  // traffic before the drain, not a wait
  auto started = ctl_json(d, {"drain"});
  REQUIRE(started.is_object());
  CHECK(started.value("state", "") == "draining");
  // Until every session moved (bounded by the deadline), then a little traffic after.
  CHECK(testing::eventually(
      [&] {
        return metric(d, "herald_gateway_sessions_migrated_total{direction=\"out\"}") >=
               static_cast<double>(moving.size());
      },
      30s, testing::slow_poll_step));
  std::this_thread::sleep_for(1s);  // posts after the move, not a wait
  stop_producers = true;
  for (auto& t : producers) {
    t.join();
  }
  const auto alice_token = alice.value("token", "");
  for (size_t g = 0; g < guild_count; ++g) {
    post_message(nodes[survivors[0]], alice_token, channels[g], "end-" + std::to_string(g));
  }
  for (auto& t : threads) {
    t.join();
  }

  for (size_t i = 0; i < moving.size(); ++i) {
    INFO("session " << i);
    CHECK(moving[i].told_reconnect);
    CHECK(moving[i].resumed);
    CHECK(moving[i].invalid_sessions == 0);  // no op 9: no re-identify
    CHECK(moving[i].seq_errors.empty());
  }
  auto report = ledger.compare(moving.size(), {}, chaos_clock::now());
  std::cout << "migration nodes=3 guilds=" << guild_count << " sessions=" << moving.size()
            << " acked=" << report.acked << " refused=" << report.refused << " lost=" << report.lost
            << " duplicated=" << report.duplicated << " reordered=" << report.reordered
            << " resyncs=" << resyncs.load() << " reidentifies=0" << std::endl;
  CHECK(report.acked > 0);
  CHECK(report.lost == 0);
  CHECK(report.duplicated == 0);
  CHECK(report.reordered == 0);
  CHECK(resyncs.load() == 0);

  double in = 0;
  double migrated = 0;
  for (auto i : survivors) {
    in += metric(nodes[i], "herald_gateway_sessions_migrated_total{direction=\"in\"}");
    migrated += metric(nodes[i], "herald_gateway_resumes_total{result=\"migrated\"}");
  }
  CHECK(metric(d, "herald_gateway_sessions_migrated_total{direction=\"out\"}") == moving.size());
  CHECK(in == moving.size());
  CHECK(migrated == moving.size());
  // Every session left the draining node by migration: it is drained without closing any.
  CHECK(testing::eventually([&] { return drain_status(d).value("state", "") == "drained"; }, 20s,
                            testing::slow_poll_step));
  CHECK(metric(d, "herald_drain_detached_sessions_closed_total") == 0);
  stop_cleanly(nodes, procs);
}
