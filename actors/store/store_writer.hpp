// SPDX-License-Identifier: Apache-2.0
#pragma once
// The store writer: cross-batch group commit on its own thread (never a CAF scheduler thread).
// Any thread submits a write batch with a completion; the writer takes everything queued since
// its previous commit (up to writer_options::max_batches) into one store::apply_group (one
// transaction, one fsync under store.sync=full), then runs the completions in submission order.
// One writer per store object, shared by every guild actor of the node (services::writer).
//
// Invariants:
// - A completion runs exactly once per accepted batch, on the writer thread, after the commit
//   that holds the batch returned (success means durable) or failed; never before.
// - Batches commit in submission order; two batches of one submitter (one key) never share a
//   round out of order.
// - Memory is bounded: submit refuses with store_errc::busy once writer_options::queue_batches
//   batches or queue_bytes bytes are queued or being committed (one batch is always accepted
//   when nothing is held, whatever its size).
// - stop() refuses new batches (store_errc::closed), commits everything already accepted and
//   runs its completions before it returns.
// - claim() blocks its caller until the writer thread ran its claim: every claim queued while a
//   commit ran goes into one store::claim_guilds (one transaction) before the next round of
//   batches, so starting many guilds at once costs a few commits, not one per guild.
// - wait_idle(key) returns only once no batch of that key is queued or being committed: a
//   restarted guild loads its state only after its previous incarnation's batch is settled.
// - The destructor never joins the writer thread from that thread itself (which would throw
//   EDEADLK and abort): when a completion drops the last reference to the writer (or to an
//   owner of it), the thread is detached and finishes every accepted batch on its own, with
//   the state it shares with the thread (core), and completions still run exactly once.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "actors/store/store.hpp"
#include "actors/store/writer_options.hpp"

namespace herald::store {

class store_writer {
public:
  /// Runs on the writer thread with the batch's result; must not block or throw (it should
  /// only post a message, e.g. caf::anon_send to the submitting actor).
  using completion = std::function<void(const result<void>&)>;

  /// Starts the writer thread. `target` must outlive the writer (it is shared).
  explicit store_writer(std::shared_ptr<store> target, writer_options options = {});
  /// stop(); on the writer thread itself (a completion held the last reference) it refuses new
  /// batches and detaches instead of joining: the thread commits what was accepted, then ends.
  ~store_writer();
  store_writer(const store_writer&) = delete;
  store_writer& operator=(const store_writer&) = delete;

  /// Any thread. Queues `batch` for the next group commit (moved from only when accepted: a
  /// refused batch stays with the caller, to be submitted again). `key` groups a submitter's
  /// batches for wait_idle (a guild id; 0 for none); `events` counts the events the batch
  /// carries (metrics only). Errors, after which `done` is never called: busy (queue full; retry
  /// later), closed (stopped).
  result<void> submit(std::uint64_t key, write_batch&& batch, std::size_t events, completion done);

  /// Any thread but the writer's (a completion must not call it). Claims the guild for
  /// `node_id` (store::claim_guild) together with every other claim queued meanwhile: one
  /// store::claim_guilds transaction, ahead of the next round of batches. Blocks until that
  /// transaction ends. Claims are not bounded by the queue limits (each holds its caller's
  /// thread). Errors: those of claim_guild, closed (stopped before it was taken).
  result<guild_owner> claim(snowflake guild_id, std::uint64_t node_id);

  /// Any thread. Whether a submit of a small batch would be accepted now. A hint for admission
  /// control (another thread may fill the queue right after).
  bool has_room() const;

  /// Any thread but the writer's (a completion must not call it). Blocks until no batch of
  /// `key` is queued or being committed (its completion has run).
  void wait_idle(std::uint64_t key);

  /// Any thread but the writer's. Refuses new batches, commits every accepted one, runs their
  /// completions, and joins the thread. Idempotent.
  void stop();

  /// Totals since start, for tests and benchmarks (the global metrics aggregate all writers).
  struct stats {
    std::uint64_t commits = 0;        ///< apply_group calls (transactions)
    std::uint64_t batches = 0;        ///< batches committed or failed by those calls
    std::uint64_t events = 0;         ///< events those batches carried
    std::uint64_t refused = 0;        ///< submits refused with busy
    std::uint64_t claim_commits = 0;  ///< claim_guilds calls (transactions)
    std::uint64_t claims = 0;         ///< claims those calls made
  };
  stats totals() const;
  /// Batches queued or being committed now.
  std::size_t held() const;
  /// Threads blocked in wait_idle now (tests: a restart is waiting for its barrier).
  std::size_t idle_waiters() const;
  /// Claims queued and not yet taken by the writer thread (tests: claims are gathering).
  std::size_t queued_claims() const;

  /// What a batch is charged against writer_options::queue_bytes: its ops and their strings.
  static std::size_t approx_bytes(const write_batch& batch);

private:
  struct entry {
    std::uint64_t key;
    write_batch batch;
    std::size_t events;
    std::size_t bytes;
    completion done;
  };

  struct claim_entry {
    snowflake guild_id;
    std::uint64_t node_id;
    std::promise<result<guild_owner>> done;
  };

  /// Everything the writer thread touches. Shared between the writer object and its thread, so
  /// that a detached thread (destructor on the writer thread) keeps it until it ends.
  struct core {
    core(std::shared_ptr<store> target, writer_options options);
    void run();
    void commit_round();
    void claim_round();
    bool room_for(std::size_t bytes) const;  // under mutex_
    void held_changed();                     // under mutex_: gauges and room_
    void refuse_new();                       // stopping_ = true, writer woken

    std::shared_ptr<store> target_;
    const writer_options options_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;     // writer: work queued or stopping
    std::condition_variable idle_;     // wait_idle: a round settled
    std::deque<entry> queue_;          // accepted, not yet taken by a round
    std::vector<claim_entry> claims_;  // claims waiting for the next claim round
    std::size_t held_batches_ = 0;     // queued + in the current round
    std::size_t held_bytes_ = 0;
    std::unordered_map<std::uint64_t, std::uint32_t> held_by_key_;
    bool stopping_ = false;
    std::size_t idle_waiters_ = 0;
    std::atomic<bool> room_{true};  // !stopping_ && room_for(small batch), kept under mutex_

    // Writer thread only: the round being committed (reused to avoid allocations).
    std::vector<entry> round_;
    std::vector<const write_batch*> round_batches_;
    std::vector<claim_entry> claim_round_;

    std::atomic<std::uint64_t> commits_{0}, batches_{0}, events_{0}, refused_{0};
    std::atomic<std::uint64_t> claim_commits_{0}, claims_made_{0};
  };

  std::shared_ptr<core> core_;
  std::thread thread_;  // last: started once core_ is initialised
};

}  // namespace herald::store
