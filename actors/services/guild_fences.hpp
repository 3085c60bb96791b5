// SPDX-License-Identifier: Apache-2.0
#pragma once
// The guilds this node stopped ordering because a commit of theirs was fenced (another node
// claimed the guild in the store, docs/cluster.md, "Guild ownership: epochs and fencing"). A
// fenced guild is not started again here until this node's ring changes or the hold passes, so
// two nodes whose rings disagree for a while do not take the guild from each other in a loop.
// One per node (services::fences); thread-safe (one mutex): guild actors put, guild starts ask.
// Invariant: an entry is answered only while its ring generation is the current one and its
// hold has not passed; an answered-stale entry is dropped.

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
  };

  /// Records (or replaces) the guild's hold.
  void put(std::uint64_t guild_id, entry e);
  /// The guild's hold while it applies: same ring generation and before `until`. A hold that no
  /// longer applies is forgotten.
  std::optional<entry> holding(std::uint64_t guild_id, std::uint64_t ring_generation,
                               clock::time_point now);

private:
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, entry> entries_;
};

}  // namespace herald::dispatch
