// SPDX-License-Identifier: Apache-2.0
#include "actors/store/store_writer.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "runtime/log/log.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::store {

namespace {

struct writer_metrics {
  metrics::counter& commits_;
  metrics::counter& refused_;
  metrics::histogram& batches_per_commit_;
  metrics::histogram& events_per_commit_;
  metrics::histogram& commit_seconds_;
  metrics::gauge& queue_batches_;
  metrics::gauge& queue_bytes_;
  metrics::histogram& claims_per_commit_;

  static writer_metrics& get() {
    auto& reg = metrics::registry::global();
    const std::vector<double> counts{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};
    static writer_metrics m{
        reg.get_counter("herald_store_writer_commits_total",
                        "Group commits of the store writer (one transaction each)"),
        reg.get_counter("herald_store_writer_refused_total",
                        "Batches the store writer refused with busy (queue full)"),
        reg.get_histogram("herald_store_writer_commit_batches",
                          "Batches (guild batches) per group commit", {}, counts),
        reg.get_histogram("herald_store_writer_commit_events", "Events per group commit", {},
                          counts),
        reg.get_histogram("herald_store_writer_commit_seconds",
                          "Time of one group commit (apply_group, fsync included)"),
        reg.get_gauge("herald_store_writer_queue_batches",
                      "Batches queued in the store writer or being committed"),
        reg.get_gauge("herald_store_writer_queue_bytes",
                      "Approximate bytes of the batches queued or being committed"),
        reg.get_histogram("herald_store_writer_commit_claims",
                          "Guild claims per claim transaction of the store writer", {}, counts)};
    return m;
  }
};

struct op_bytes {
  std::size_t operator()(const write_op::insert_message& op) const {
    return op.value_.content_.size() +
           8 * (op.value_.mentions_.size() + op.value_.mention_roles_.size());
  }
  std::size_t operator()(const write_op::update_message& op) const { return op.content_.size(); }
  std::size_t operator()(const write_op::put_feature_state& op) const {
    return op.feature_.size() + op.key_.size() + op.value_.size();
  }
  std::size_t operator()(const write_op::erase_feature_state& op) const {
    return op.feature_.size() + op.key_.size();
  }
  template <class Op>
  std::size_t operator()(const Op&) const {
    return 0;
  }
};

}  // namespace

store_writer::core::core(std::shared_ptr<store> target, writer_options options)
    : target_(std::move(target)), options_([&] {
        options.max_batches = std::max<std::size_t>(options.max_batches, 1);
        options.queue_batches = std::max<std::size_t>(options.queue_batches, 1);
        options.queue_bytes = std::max<std::size_t>(options.queue_bytes, 1);
        return options;
      }()) {
  round_.reserve(options_.max_batches);
  round_batches_.reserve(options_.max_batches);
}

store_writer::store_writer(std::shared_ptr<store> target, writer_options options)
    : core_(std::make_shared<core>(std::move(target), options)) {
  // The thread holds its own reference: a detached thread outlives this object.
  thread_ = std::thread([c = core_] { c->run(); });
}

store_writer::~store_writer() {
  if (thread_.joinable() && thread_.get_id() == std::this_thread::get_id()) {
    // A completion dropped the last reference: joining itself would throw EDEADLK (abort).
    // The thread commits what was accepted and ends on its own, holding core_.
    core_->refuse_new();
    thread_.detach();
    return;
  }
  stop();
}

std::size_t store_writer::approx_bytes(const write_batch& batch) {
  std::size_t bytes = sizeof(write_batch) + batch.size() * sizeof(write_batch::op);
  for (const auto& op : batch.ops()) {
    bytes += std::visit(op_bytes{}, op);
  }
  for (const auto& e : batch.tail()) {
    bytes += sizeof(tail_event) + e.event_.size();
  }
  return bytes;
}

bool store_writer::core::room_for(std::size_t bytes) const {
  if (held_batches_ == 0) {
    return true;  // one batch always fits, or an oversized one could never commit
  }
  return held_batches_ < options_.queue_batches && held_bytes_ + bytes <= options_.queue_bytes;
}

bool store_writer::has_room() const {
  // Lock-free: every publish asks.
  return core_->room_.load(std::memory_order_relaxed);
}

void store_writer::core::held_changed() {
  auto& m = writer_metrics::get();
  m.queue_batches_.set(static_cast<int64_t>(held_batches_));
  m.queue_bytes_.set(static_cast<int64_t>(held_bytes_));
  room_.store(!stopping_ && room_for(sizeof(write_batch)), std::memory_order_relaxed);
}

result<void> store_writer::submit(std::uint64_t key, write_batch&& batch, std::size_t events,
                                  completion done) {
  const std::size_t bytes = approx_bytes(batch);
  auto& m = writer_metrics::get();
  core& c = *core_;
  {
    std::lock_guard<std::mutex> guard(c.mutex_);
    if (c.stopping_) {
      return store_error{store_errc::closed, "store writer stopped"};
    }
    if (!c.room_for(bytes)) {
      c.refused_.fetch_add(1, std::memory_order_relaxed);
      m.refused_.inc();
      return store_error{store_errc::busy, "store writer queue full (" +
                                               std::to_string(c.held_batches_) + " batches, " +
                                               std::to_string(c.held_bytes_) + " bytes)"};
    }
    c.queue_.push_back(entry{key, std::move(batch), events, bytes, std::move(done)});
    ++c.held_batches_;
    c.held_bytes_ += bytes;
    ++c.held_by_key_[key];
    c.held_changed();
  }
  c.wake_.notify_one();
  return {};
}

result<guild_owner> store_writer::claim(snowflake guild_id, std::uint64_t node_id) {
  core& c = *core_;
  std::future<result<guild_owner>> answer;
  {
    std::lock_guard<std::mutex> guard(c.mutex_);
    if (c.stopping_) {
      return store_error{store_errc::closed, "store writer stopped"};
    }
    c.claims_.push_back(claim_entry{guild_id, node_id, {}});
    answer = c.claims_.back().done.get_future();
  }
  c.wake_.notify_one();
  return answer.get();
}

std::size_t store_writer::queued_claims() const {
  std::lock_guard<std::mutex> guard(core_->mutex_);
  return core_->claims_.size();
}

void store_writer::wait_idle(std::uint64_t key) {
  core& c = *core_;
  std::unique_lock<std::mutex> lock(c.mutex_);
  ++c.idle_waiters_;
  c.idle_.wait(lock, [&] { return c.held_by_key_.find(key) == c.held_by_key_.end(); });
  --c.idle_waiters_;
}

std::size_t store_writer::held() const {
  std::lock_guard<std::mutex> guard(core_->mutex_);
  return core_->held_batches_;
}

std::size_t store_writer::idle_waiters() const {
  std::lock_guard<std::mutex> guard(core_->mutex_);
  return core_->idle_waiters_;
}

void store_writer::core::refuse_new() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
    held_changed();
  }
  wake_.notify_one();
}

void store_writer::stop() {
  core_->refuse_new();
  if (thread_.joinable()) {
    thread_.join();
  }
}

store_writer::stats store_writer::totals() const {
  const core& c = *core_;
  return stats{c.commits_.load(), c.batches_.load(),       c.events_.load(),
               c.refused_.load(), c.claim_commits_.load(), c.claims_made_.load()};
}

void store_writer::core::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return !queue_.empty() || !claims_.empty() || stopping_; });
      if (queue_.empty() && claims_.empty()) {
        return;  // stopping, and everything accepted is settled
      }
      // Claims first: each holds a thread that starts a guild, and a claim is short.
      claim_round_.swap(claims_);
    }
    if (!claim_round_.empty()) {
      claim_round();
    }
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (queue_.empty()) {
        continue;
      }
      if (options_.max_wait.count() > 0 && !stopping_ && queue_.size() < options_.max_batches) {
        wake_.wait_for(lock, options_.max_wait,
                       [&] { return stopping_ || queue_.size() >= options_.max_batches; });
      }
      const std::size_t take = std::min(queue_.size(), options_.max_batches);
      for (std::size_t i = 0; i < take; ++i) {
        round_.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit_round();
  }
}

// Writer thread, mutex_ not held: one store::claim_guilds for every claim taken, then each
// claimer is answered.
void store_writer::core::claim_round() {
  std::vector<snowflake> guilds;
  guilds.reserve(claim_round_.size());
  // One node's writer claims for that node; claims for several node ids (tests) go in groups.
  std::vector<result<guild_owner>> results;
  try {
    std::size_t from = 0;
    while (from < claim_round_.size()) {
      const auto node_id = claim_round_[from].node_id;
      guilds.clear();
      std::size_t to = from;
      for (; to < claim_round_.size() && claim_round_[to].node_id == node_id; ++to) {
        guilds.push_back(claim_round_[to].guild_id);
      }
      auto part = target_->claim_guilds(guilds, node_id);
      if (part.size() != guilds.size()) {
        part.assign(guilds.size(),
                    result<guild_owner>{
                        store_error{store_errc::internal, "store writer: a claim went missing"}});
      }
      for (auto& r : part) {
        results.push_back(std::move(r));
      }
      claim_commits_.fetch_add(1, std::memory_order_relaxed);
      writer_metrics::get().claims_per_commit_.observe(static_cast<double>(guilds.size()));
      from = to;
    }
  } catch (const std::exception& e) {
    log::get("store")->error("store writer: claim_guilds threw: {}", e.what());
  } catch (...) {
    log::get("store")->error("store writer: claim_guilds threw a non-exception");
  }
  claims_made_.fetch_add(claim_round_.size(), std::memory_order_relaxed);
  for (std::size_t i = 0; i < claim_round_.size(); ++i) {
    if (i < results.size()) {
      claim_round_[i].done.set_value(std::move(results[i]));
    } else {
      claim_round_[i].done.set_value(
          store_error{store_errc::internal, "store writer: the claim did not complete"});
    }
  }
  claim_round_.clear();
}

// Writer thread, mutex_ not held: the store call and the completions run unlocked, so that
// submitters never wait for a commit.
void store_writer::core::commit_round() {
  auto& m = writer_metrics::get();
  std::size_t events = 0;
  for (const auto& e : round_) {
    round_batches_.push_back(&e.batch);
    events += e.events;
  }
  const auto started = std::chrono::steady_clock::now();
  std::vector<result<void>> results;
  try {
    results = target_->apply_group(round_batches_);
  } catch (const std::exception& e) {
    results.clear();
    log::get("store")->error("store writer: apply_group threw: {}", e.what());
  } catch (...) {
    results.clear();
    log::get("store")->error("store writer: apply_group threw a non-exception");
  }
  if (results.size() != round_.size()) {
    // A broken backend: nothing of this round can be called durable.
    results.assign(round_.size(),
                   result<void>{store_error{store_errc::internal,
                                            "store writer: the commit did not complete"}});
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  batches_.fetch_add(round_.size(), std::memory_order_relaxed);
  events_.fetch_add(events, std::memory_order_relaxed);
  m.commits_.inc();
  m.batches_per_commit_.observe(static_cast<double>(round_.size()));
  m.events_per_commit_.observe(static_cast<double>(events));
  m.commit_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  for (std::size_t i = 0; i < round_.size(); ++i) {
    try {
      round_[i].done(results[i]);
    } catch (...) {
      log::get("store")->error("store writer: a completion threw (ignored)");
    }
  }
  {
    std::lock_guard<std::mutex> guard(mutex_);
    for (const auto& e : round_) {
      held_bytes_ -= e.bytes;
      auto it = held_by_key_.find(e.key);
      if (--it->second == 0) {
        held_by_key_.erase(it);
      }
    }
    held_batches_ -= round_.size();
    held_changed();
  }
  idle_.notify_all();
  round_.clear();
  round_batches_.clear();
}

}  // namespace herald::store
