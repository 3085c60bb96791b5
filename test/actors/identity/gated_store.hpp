// SPDX-License-Identifier: Apache-2.0
#pragma once
// A real store with a gate in token_epoch(): once armed, the next token_epoch() reads the inner
// store and then waits, holding what it read, until the test opens the gate. It lets a test
// place a revoke or forget between an authority's store read and what it does with the value.
// Every other call goes straight to the inner store. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "actors/store/store.hpp"

namespace herald::identity {

class gated_store : public herald::store::store {
public:
  explicit gated_store(std::shared_ptr<herald::store::store> inner) : inner_(std::move(inner)) {}

  /// The next token_epoch() stops after its read until open().
  void arm() {
    std::lock_guard<std::mutex> lock{mutex_};
    armed_ = true;
    held_ = false;
    open_ = false;
  }
  /// Waits (at most 30 s) until an armed token_epoch() holds its read value; false if none did
  /// (the check under test never read the store).
  bool wait_until_held() {
    std::unique_lock<std::mutex> lock{mutex_};
    return changed_.wait_for(lock, std::chrono::seconds{30}, [&] { return held_; });
  }
  void open() {
    std::lock_guard<std::mutex> lock{mutex_};
    open_ = true;
    changed_.notify_all();
  }

  herald::store::result<std::uint64_t> token_epoch(domain::snowflake user_id) override {
    auto read = inner_->token_epoch(user_id);
    std::unique_lock<std::mutex> lock{mutex_};
    if (armed_) {
      armed_ = false;
      held_ = true;
      changed_.notify_all();
      // Bounded, so that a test that fails before open() ends instead of hanging.
      changed_.wait_for(lock, std::chrono::seconds{30}, [&] { return open_; });
    }
    return read;
  }

  herald::store::result<void> apply(const herald::store::write_batch& batch) override {
    return inner_->apply(batch);
  }
  std::vector<herald::store::result<void>> apply_group(
      const std::vector<const herald::store::write_batch*>& batches) override {
    return inner_->apply_group(batches);
  }
  herald::store::result<domain::guild_state> load_guild(domain::snowflake guild_id) override {
    return inner_->load_guild(guild_id);
  }
  herald::store::result<std::vector<domain::snowflake>> list_guild_ids() override {
    return inner_->list_guild_ids();
  }
  herald::store::result<std::vector<domain::snowflake>> guilds_of_user(
      domain::snowflake user_id) override {
    return inner_->guilds_of_user(user_id);
  }
  herald::store::result<domain::user> get_user(domain::snowflake user_id) override {
    return inner_->get_user(user_id);
  }
  herald::store::result<domain::message> get_message(domain::snowflake message_id) override {
    return inner_->get_message(message_id);
  }
  herald::store::result<std::vector<domain::message>> recent_messages(
      domain::snowflake channel_id, std::size_t limit, domain::snowflake before) override {
    return inner_->recent_messages(channel_id, limit, before);
  }
  herald::store::result<domain::snowflake> guild_of_channel(domain::snowflake channel_id) override {
    return inner_->guild_of_channel(channel_id);
  }
  herald::store::result<std::vector<herald::store::feature_state_entry>> load_feature_state(
      const std::string& feature, const std::string& prefix) override {
    return inner_->load_feature_state(feature, prefix);
  }
  herald::store::result<std::uint64_t> bump_token_epoch(domain::snowflake user_id) override {
    return inner_->bump_token_epoch(user_id);
  }
  herald::store::result<herald::store::guild_owner> claim_guild(domain::snowflake guild_id,
                                                                std::uint64_t node_id) override {
    return inner_->claim_guild(guild_id, node_id);
  }
  herald::store::result<herald::store::guild_owner> guild_owner_of(
      domain::snowflake guild_id) override {
    return inner_->guild_owner_of(guild_id);
  }

private:
  std::shared_ptr<herald::store::store> inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool armed_ = false;
  bool held_ = false;
  bool open_ = false;
};

}  // namespace herald::identity
