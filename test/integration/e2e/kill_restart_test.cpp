// SPDX-License-Identifier: Apache-2.0
// Invariant 7 across a crash of the whole node (docs/architecture.md#invariants): heraldd with
// store.sync = full is killed with SIGKILL while producers post through REST; after a restart
// every message that was acknowledged (200 with its id) is readable with its content, and no
// message is stored twice. Runs once per store backend: SQLite, and PostgreSQL (a fresh
// database on the test process's server, test/support/postgres_server.hpp). Bounded: each
// producer posts at most a fixed count, the run waits at most seconds.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "test/integration/e2e/e2e_fixture.hpp"
#include "test/support/postgres_server.hpp"

namespace herald::e2e {
namespace {

constexpr int producers = 4;
constexpr int max_posts_per_producer = 400;
constexpr size_t acked_before_kill = 60;

/// Every message of the channel, oldest first, through GET /channels/{id}/messages pages.
std::vector<json> read_all(const node& n, const user& reader, const std::string& channel) {
  testing::rest_client rest{n.gateway_port(), reader.token};
  std::vector<json> out;
  std::string before;
  for (int page = 0; page < 100; ++page) {
    std::string path = "/channels/" + channel + "/messages?limit=100";
    if (!before.empty()) {
      path += "&before=" + before;
    }
    auto r = rest.get(path);
    INFO("GET " << path << " -> " << r.status << " " << r.body << r.error);
    REQUIRE(r.status == 200);
    auto j = r.json();
    REQUIRE(j.is_array());
    if (j.empty()) {
      break;
    }
    for (auto& m : j) {
      out.push_back(m);
    }
    before = j.back().at("id").get<std::string>();  // newest first: the last is the oldest
  }
  return out;
}

/// The [store] lines of `backend`: none for SQLite (the default), a fresh database for
/// PostgreSQL (the test fails, never skips, when its server cannot start).
std::string store_keys_of(const std::string& backend) {
  if (backend != "postgres") {
    return {};
  }
  auto& server = testing::shared_postgres_server();
  return "backend = \"postgres\"\npostgres_url = \"" + server.url(server.create_database()) +
         "\"\n";
}

}  // namespace

TEST_CASE("every_acked_message_survives_a_kill_9_exactly_once") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("store.backend = " << backend);
  node n({}, "full", store_keys_of(backend));
  auto owner = n.create_user("owner");
  auto guild = n.create_guild("crash", owner);
  auto channel = n.create_channel(guild, "posts");
  std::vector<user> authors;
  for (int p = 0; p < producers; ++p) {
    authors.push_back(n.create_user("producer" + std::to_string(p)));
    n.add_member(guild, authors.back());
  }

  std::mutex mutex;
  std::map<std::string, std::string> acked;  // message id -> content
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      testing::rest_client rest{n.gateway_port(), authors[static_cast<size_t>(p)].token};
      for (int i = 0; i < max_posts_per_producer && !stop.load(); ++i) {
        const std::string content = "p" + std::to_string(p) + "-" + std::to_string(i);
        auto r = rest.post_message(channel, content);
        if (r.status == 200) {
          auto m = r.json();
          std::lock_guard<std::mutex> guard(mutex);
          acked[m.at("id").get<std::string>()] = content;
        } else if (r.status == 429) {
          std::this_thread::sleep_for(20ms);  // the per-user REST rate limit
        } else if (r.status == 0) {
          return;  // the node is gone
        }
      }
    });
  }
  const bool enough = testing::eventually(
      [&] {
        std::lock_guard<std::mutex> guard(mutex);
        return acked.size() >= acked_before_kill;
      },
      60s);
  // Producers are still posting: SIGKILL lands with requests in flight.
  n.process().kill();
  stop = true;
  for (auto& t : threads) {
    t.join();
  }
  REQUIRE(enough);

  n.start();
  auto stored = read_all(n, owner, channel);
  std::map<std::string, int> copies_of_content;
  std::map<std::string, std::string> content_of_id;
  for (auto& m : stored) {
    ++copies_of_content[m.at("content").get<std::string>()];
    content_of_id[m.at("id").get<std::string>()] = m.at("content").get<std::string>();
  }
  INFO(acked.size() << " acked, " << stored.size() << " stored");
  for (auto& [id, content] : acked) {
    INFO("acked message " << id << " '" << content << "'");
    REQUIRE(content_of_id.count(id) == 1);
    CHECK(content_of_id[id] == content);
  }
  for (auto& [content, copies] : copies_of_content) {
    INFO("content '" << content << "'");
    CHECK(copies == 1);
  }
  // The restarted node takes new posts.
  n.post_message(owner, channel, "after the restart");
}

}  // namespace herald::e2e
