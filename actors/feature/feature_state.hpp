// SPDX-License-Identifier: Apache-2.0
#pragma once
// A feature's keyed state in the store (table feature_state: feature, key, value bytes), on
// both backends. Writes go through the store's write batches, so they ride the group commit
// and follow its rule: acknowledged only once durable. Two ways to write:
// - with a publish (state_writes::apply_to a custom_dispatch): the guild commits them in the
//   batch of the event, so they are durable exactly when the event is dispatched and acked —
//   the way to persist a change the feature publishes;
// - alone (feature_state::submit): through the node's store writer, for changes that publish
//   nothing (e.g. dropping state of an observed MESSAGE_DELETE).
// Loading (feature_state::load) is a blocking store read: for an actor's start (its spawn
// function or first handler), never per event on a hot path.
//
//   feature::state_writes w{"pins"};
//   w.put(key, value);             // or erase(key), erase_prefix(prefix)
//   w.apply_to(*event.mutable_custom());        // rides the publish
//   feature::feature_state{svc, "pins"}.load(prefix);  // → [{key_, value_}], ascending keys
//
// Keys: UTF-8 text without NUL, compared bytewise; shape them so the loads and erasures you
// need are prefixes (e.g. "<channel>/<message>/<user>"). Values: any bytes. Plain values; any
// thread.

#include <functional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/services/services.hpp"
#include "actors/store/store.hpp"
#include "proto/domain.pb.h"

namespace herald::feature {

using state_entry = store::feature_state_entry;  ///< {key_, value_}

/// Writes of one feature's state, applied in the order added, all or nothing.
class state_writes {
public:
  /// `feature`: the feature's module name (its rows are apart from every other feature's).
  explicit state_writes(std::string feature);

  state_writes& put(std::string key, std::string value);
  state_writes& erase(std::string key);
  /// Drops every key starting with `prefix` ("" drops all of the feature's state).
  state_writes& erase_prefix(std::string prefix);

  bool empty() const { return ops_.empty(); }
  const std::string& feature() const { return feature_; }

  /// Adds them to a feature event: the guild commits them with it (proto custom_dispatch).
  void apply_to(proto::custom_dispatch& custom) const;
  /// Adds them to a store batch (feature_state::submit, tests).
  void add_to(store::write_batch& batch) const;

private:
  std::string feature_;
  std::vector<store::write_batch::op> ops_;
};

/// One feature's view of its state in the node's store.
class feature_state {
public:
  /// Runs on the store writer's thread once the writes are durable (empty error) or failed;
  /// must not block: post a message (caf::anon_send) and return.
  using completion = std::function<void(const caf::error&)>;

  feature_state(dispatch::services_ptr svc, std::string feature);

  /// Entries whose key starts with `prefix`, ascending by key. Blocking store read: non-io
  /// threads only, at an actor's start. Errors: the store's (dispatch::from_store_error).
  caf::expected<std::vector<state_entry>> load(const std::string& prefix) const;

  /// Submits `writes` (of this feature) to the node's store writer as one batch. An error now
  /// (busy: retry later; closed) means it was not taken and `done` is never called.
  caf::error submit(const state_writes& writes, completion done = {}) const;

  const std::string& feature() const { return feature_; }

private:
  dispatch::services_ptr svc_;
  std::string feature_;
};

}  // namespace herald::feature
