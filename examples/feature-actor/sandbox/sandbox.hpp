// SPDX-License-Identifier: Apache-2.0
#pragma once
// A node-less, in-process herald for the demo and the tests: actor system,
// SQLite store in a fresh temp dir, dispatch services, the reactions feature,
// and session probes that read frames as a gateway connection would. Owned by
// one thread (the demo's main or one test case); it throws std::runtime_error
// when setup fails. Invariant: every wait is bounded by its timeout.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <nlohmann/json.hpp>

#include "actors/dispatch/api.hpp"
#include "actors/domain/guild_state.hpp"
#include "features/reactions/reactions.hpp"

namespace herald::reactions::sandbox {

using json = nlohmann::json;

/// Bound of every "eventually" wait in the sandbox: 20 s.
inline constexpr std::chrono::milliseconds default_wait{20000};

/// Polls `done` every 2 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = default_wait);

/// A guild to seed: members (the owner is one) and channels; a channel with
/// `viewers` is hidden from @everyone and shown to those members only.
struct guild_plan {
  struct channel_plan {
    uint64_t id = 0;
    std::vector<uint64_t> viewers;  ///< empty: every member may view it
  };
  uint64_t id = 0;
  uint64_t owner = 0;
  std::vector<uint64_t> members;
  std::vector<channel_plan> channels;
};

domain::guild_state build_guild(const guild_plan& plan);

/// A session as its connection sees it: frames collected from its outbound
/// buffer and parsed. Read from one thread only.
class session_probe {
public:
  explicit session_probe(dispatch::opened_session opened);
  ~session_probe();
  session_probe(const session_probe&) = delete;
  session_probe& operator=(const session_probe&) = delete;

  const caf::actor& actor() const { return opened_.actor; }
  /// Collects every frame written so far; returns how many were new.
  size_t drain();
  /// Drains until `done(frames())` holds; false after `timeout`.
  bool drain_until(const std::function<bool(const std::vector<json>&)>& done,
                   std::chrono::milliseconds timeout = default_wait);
  const std::vector<json>& frames() const { return frames_; }
  /// Frames whose `t` is `type`, in seq order.
  std::vector<json> of_type(const std::string& type) const;

private:
  class listener;
  dispatch::opened_session opened_;
  std::unique_ptr<listener> listener_;
  std::vector<json> frames_;
};

class sandbox {
public:
  /// Actor system with `threads` scheduler threads and an empty store.
  explicit sandbox(size_t threads = 2);
  ~sandbox();
  sandbox(const sandbox&) = delete;
  sandbox& operator=(const sandbox&) = delete;

  /// Writes a guild to the store; call before start().
  void seed(const guild_plan& plan);
  /// Starts the dispatch services and the reactions feature.
  void start();

  caf::actor_system& system() { return *system_; }
  const dispatch::services_ptr& services() const { return services_; }
  const reactions_ptr& reactions() const { return reactions_; }
  /// The node's store (thread-safe); tests write to it directly.
  store::store& store() { return *store_; }

  /// Opens a session for `user_id` and waits for READY and each GUILD_CREATE.
  std::unique_ptr<session_probe> open_session(uint64_t user_id, std::vector<uint64_t> guild_ids,
                                              session::intents granted);
  /// Publishes MESSAGE_CREATE through the guild; returns its guild order.
  uint64_t post_message(uint64_t guild_id, uint64_t channel_id, uint64_t author_id,
                        uint64_t message_id, const std::string& content);

private:
  std::filesystem::path dir_;
  caf::actor_system_config cfg_;
  std::unique_ptr<caf::actor_system> system_;
  std::shared_ptr<store::store> store_;
  dispatch::services_ptr services_;
  reactions_ptr reactions_;
};

/// Every intent the core filters on, plus GUILD_MESSAGE_REACTIONS.
session::intents all_intents();

}  // namespace herald::reactions::sandbox
