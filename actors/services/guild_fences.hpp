// SPDX-License-Identifier: Apache-2.0
#pragma once
// The guilds this node stopped ordering because a commit of theirs was fenced (another node
// claimed the guild in the store, docs/cluster.md, "Guild ownership: epochs and fencing"). A
// fenced guild is not started again here until this node's ring changes or its hold passes, so
// two nodes whose rings disagree for a while do not take the guild from each other in a loop.
// The hold backs off: the first fence of a guild holds it `first` (short: the usual case is a
// node that was frozen or cut off and whose stale incarnation met its first commit, after which
// every ring agrees again), each fence that follows within `max` of the previous hold's end
// doubles it, up to `max` (rings that keep disagreeing).
// One per node (services::fences); thread-safe (one mutex): guild actors put, guild starts ask.
// Invariant: an entry is answered only while its ring generation is the current one and its
// hold has not passed.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace herald::dispatch {

class guild_fences {
public:
  using clock = std::chrono::steady_clock;
  struct entry {
    std::uint64_t ring_generation = 0;  ///< this node's ring when the commit was fenced
    clock::time_point until;            ///< the hold ends here even if the ring did not change
    std::string reason;                 ///< the fenced commit's error, for the refusal
    clock::duration hold{};             ///< how long this hold is (the next one doubles it)
  };

  /// Records that the guild's commit was fenced at `now` while the ring was `ring_generation`;
  /// returns the hold it gets: `first`, or twice the previous hold (at most `max`) when the
  /// previous one ended less than `max` ago.
  clock::duration fenced(std::uint64_t guild_id, std::uint64_t ring_generation,
                         clock::time_point now, std::string reason, clock::duration first,
                         clock::duration max);
  /// The guild's hold while it applies: same ring generation and before `until`.
  std::optional<entry> holding(std::uint64_t guild_id, std::uint64_t ring_generation,
                               clock::time_point now);

private:
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, entry> entries_;
};

}  // namespace herald::dispatch
