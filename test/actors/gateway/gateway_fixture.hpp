// SPDX-License-Identifier: Apache-2.0
#pragma once
// In-process gateway fixture: dispatch services on a fresh SQLite store with two seeded
// guilds, an http_server on a free loopback port whose upgrades go to a gateway_server,
// and fixed tokens. Owned by one test case; clients connect from the test thread.
// Invariant: the http_server is stopped before the gateway and the services go away.

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <catch2/catch.hpp>

#include "actors/dispatch/api.hpp"
#include "actors/domain/guild_state.hpp"
#include "actors/gateway/gateway_server.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/store/sqlite_store.hpp"
#include "runtime/net/http_server.hpp"
#include "test/support/eventually.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/temp_dir.hpp"

namespace herald::gateway_test {

using herald::testing::gateway_client;
using namespace std::chrono_literals;

using herald::testing::eventually;

inline uint64_t next_message_id() {
  static std::atomic<uint64_t> counter{0};
  return (uint64_t{1} << 58) + counter.fetch_add(1) + 1;
}

/// A guild with its owner, members and text channels, saved to the store.
inline void seed_guild(store::store& st, uint64_t guild_id, uint64_t owner,
                       const std::vector<uint64_t>& members,
                       const std::vector<uint64_t>& channels) {
  domain::guild_state state{domain::guild{guild_id, "guild" + std::to_string(guild_id), owner}};
  auto add = [&](uint64_t user_id) {
    domain::member m;
    m.user_id_ = user_id;
    m.joined_at_ = 1;
    state.restore_member(m, domain::user{user_id, "user" + std::to_string(user_id), false});
  };
  add(owner);
  for (auto m : members) {
    add(m);
  }
  for (auto id : channels) {
    domain::channel ch;
    ch.id_ = id;
    ch.guild_id_ = guild_id;
    ch.name_ = "channel" + std::to_string(id);
    state.restore_channel(ch);
  }
  auto ok = st.save_guild(state);
  REQUIRE(ok);
}

/// Actor system, SQLite store in a temp_dir and dispatch services.
struct services_env {
  explicit services_env(dispatch::dispatch_config dc) {
    cfg.set("scheduler.max-threads", size_t{2});
    system = std::make_unique<caf::actor_system>(cfg);
    store::sqlite_options o;
    o.data_dir_ = dir.path() / "data";
    o.sync_ = store::sync_mode::normal;
    auto opened = store::sqlite_store::open(o);
    REQUIRE(opened);
    storage = std::shared_ptr<store::store>{std::move(opened).value()};
    auto started = dispatch::start_services(*system, std::move(dc), storage);
    if (!started) {
      FAIL("start_services: " << dispatch::describe(started.error()));
    }
    svc = *started;
  }
  ~services_env() {
    if (svc) {
      dispatch::stop_services(svc);
    }
    svc.reset();
    storage.reset();
    system.reset();
  }
  services_env(const services_env&) = delete;
  services_env& operator=(const services_env&) = delete;

  testing::temp_dir dir;  // outlives the store and the system
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  std::shared_ptr<store::store> storage;
  dispatch::services_ptr svc;
};

inline constexpr uint64_t alice = 100;
inline constexpr uint64_t bob = 101;
inline constexpr uint64_t carol = 102;  // a user without guilds
// (id >> 22) % 2: guild_a is shard 1 of 2, guild_b shard 0 of 2.
inline constexpr uint64_t guild_a = (uint64_t{1} << 22) | 7;
inline constexpr uint64_t guild_b = (uint64_t{2} << 22) | 7;
inline constexpr uint64_t channel_a = guild_a + 1;
inline constexpr uint64_t channel_b = guild_b + 1;
inline const std::string alice_token = "tok-alice";
inline const std::string bob_token = "tok-bob";
inline const std::string carol_token = "tok-carol";
/// Authenticates as ghost, a user id the store does not hold.
inline constexpr uint64_t ghost = 103;
inline const std::string ghost_token = "tok-ghost";
/// The fixture's authenticator throws for this token (a failing injected authenticator).
inline const std::string throwing_token = "tok-throws";

inline dispatch::dispatch_config gateway_dispatch_config() {
  dispatch::dispatch_config dc;
  dc.resume_gateway_url = "ws://127.0.0.1:1";
  return dc;
}

struct gateway_env {
  /// `close_timeout`: how long the server waits for a client's close frame after its own.
  explicit gateway_env(gateway::gateway_options opts = {},
                       dispatch::dispatch_config dc = gateway_dispatch_config(),
                       std::chrono::seconds close_timeout = std::chrono::seconds{2})
      : env(std::move(dc)) {
    for (auto [id, name] :
         {std::pair{alice, "alice"}, std::pair{bob, "bob"}, std::pair{carol, "carol"}}) {
      auto ok = env.storage->upsert_user(domain::user{id, name, false});
      REQUIRE(ok);
    }
    seed_guild(*env.storage, guild_a, alice, {bob}, {channel_a});
    seed_guild(*env.storage, guild_b, alice, {}, {channel_b});
    gateway = std::make_unique<gateway::gateway_server>(
        env.svc, std::move(opts), [](std::string_view token) -> std::optional<uint64_t> {
          if (token == alice_token) {
            return alice;
          }
          if (token == bob_token) {
            return bob;
          }
          if (token == carol_token) {
            return carol;
          }
          if (token == ghost_token) {
            return ghost;
          }
          if (token == throwing_token) {
            throw std::runtime_error("authenticator failed");
          }
          return std::nullopt;
        });
    net::server_options so;
    so.name = "gateway-test";
    so.threads = 1;
    so.websocket.close_timeout = close_timeout;
    server = std::make_unique<net::http_server>(so);
    auto* gw = gateway.get();
    server->on_websocket([gw](net::ws_connection_ptr conn) { gw->accept(std::move(conn)); });
    auto ec = server->start();
    REQUIRE_FALSE(ec);
  }
  ~gateway_env() {
    server->stop();
    server.reset();
    gateway.reset();
  }

  uint16_t port() const { return server->port(); }
  std::unique_ptr<gateway_client> client(const std::string& target = "/?v=10&encoding=json",
                                         int receive_buffer = 0) {
    return std::make_unique<gateway_client>(port(), target, receive_buffer);
  }
  /// Publishes a message by alice in guild_a's channel; returns its id.
  uint64_t post(const std::string& content, uint64_t guild = guild_a,
                uint64_t channel = channel_a) {
    uint64_t id = next_message_id();
    proto::event ev;
    ev.set_guild_id(guild);
    auto* m = ev.mutable_message_create();
    m->set_id(id);
    m->set_guild_id(guild);
    m->set_channel_id(channel);
    m->set_author_id(alice);
    m->set_content(content);
    auto ack = dispatch::publish(env.svc, ev, 10s);
    if (!ack) {
      FAIL("publish failed: " << dispatch::describe(ack.error()));
    }
    return id;
  }

  services_env env;
  std::unique_ptr<gateway::gateway_server> gateway;
  std::unique_ptr<net::http_server> server;
};

}  // namespace herald::gateway_test
