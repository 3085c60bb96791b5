// SPDX-License-Identifier: Apache-2.0
#pragma once
// herald::testing's feature sandbox: what heraldd runs for a feature, in process and real —
// a SQLite store in a fresh temp dir, the dispatch services, the given feature modules started
// by the feature platform exactly as heraldd starts them (feature::feature_set: services,
// observers, routes, message decorators), and the REST API (core and feature routes) on a
// loopback port — plus session probes that read dispatches as a gateway connection would.
// Works for any feature. Owned by one test thread; setup failures throw std::runtime_error.
//
//   testing::feature_sandbox box{{pins::feature_module()}};
//   box.seed(testing::guild_plan{guild, owner}.member(alice).channel(general));
//   box.start();
//   auto bob_session = box.open_session(bob, {guild});
//   auto r = box.rest(alice, "PUT", "/channels/" + id(general) + "/messages/pins/" + id(m));
//
// Invariant: every wait is bounded; restart() keeps the store's directory (state survives).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/dispatch/api.hpp"
#include "actors/feature/feature_module.hpp"
#include "actors/feature/feature_set.hpp"
#include "actors/outbound/intents.hpp"
#include "runtime/net/http_server.hpp"
#include "test/support/rest_client.hpp"
#include "test/testing/guild_plan.hpp"
#include "test/testing/session_probe.hpp"

namespace herald::testing {

/// Every intent there is (bits 0..25): sessions see whatever a feature emits.
inline constexpr session::intents every_intent = (session::intents{1} << 26) - 1;

/// Decimal text of an id, as REST paths and JSON carry it.
inline std::string id(uint64_t value) {
  return std::to_string(value);
}

class feature_sandbox {
public:
  explicit feature_sandbox(std::vector<feature::feature_module> features, size_t threads = 2);
  ~feature_sandbox();
  feature_sandbox(const feature_sandbox&) = delete;
  feature_sandbox& operator=(const feature_sandbox&) = delete;

  /// Writes a guild to the store; before start() (or between stop() and start()).
  void seed(const guild_plan& plan);
  /// Starts the dispatch services, every feature given (enabled in that order), the REST API.
  void start();
  /// Stops REST, features and services, last started first; the store's files stay.
  void stop();
  /// stop(), then start() on the same store directory: what a node restart keeps.
  void restart();

  /// A REST request as `user_id` (a token only this sandbox accepts) to `path` below /api/v10.
  /// No per-user rate limit applies in the sandbox (tests send many requests back to back).
  http_answer rest(uint64_t user_id, const std::string& method, const std::string& path,
                   const std::string& body = {});
  /// Opens a session for `user_id` and waits for READY and each GUILD_CREATE.
  std::unique_ptr<session_probe> open_session(uint64_t user_id, std::vector<uint64_t> guild_ids,
                                              session::intents granted = every_intent);
  /// Publishes MESSAGE_CREATE through the guild as `author_id`; returns the new message's id.
  uint64_t post_message(uint64_t guild_id, uint64_t channel_id, uint64_t author_id,
                        const std::string& content);
  /// Publishes any event through its guild (e.g. a MESSAGE_DELETE); throws when refused.
  guild::publish_ack publish(const proto::event& event);

  const dispatch::services_ptr& services() const { return services_; }
  store::store& store() { return *store_; }
  uint16_t rest_port() const;

private:
  /// Opens the SQLite store in dir_ unless open.
  void open_store();

  std::vector<feature::feature_module> modules_;
  std::filesystem::path dir_;
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> system_;
  std::shared_ptr<store::store> store_;
  dispatch::services_ptr services_;
  std::unique_ptr<feature::feature_set> features_;
  std::unique_ptr<net::http_server> rest_;
  uint64_t next_message_ = 0;
};

}  // namespace herald::testing
