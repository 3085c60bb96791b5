// SPDX-License-Identifier: Apache-2.0
#pragma once
// The new owner's side of a guild handoff (docs/cluster.md, "Guild ownership: epochs and fencing",
// step 6). Before a node claims a guild whose store row names another node that is still up, it
// asks that node to hand the guild off (the router carries the request) and refuses the guild's
// producers (retryably) until the answer, so that the old owner commits what it accepted before the
// claim fences it. One per node (services::releases); thread-safe (one mutex): guild starts
// ask, the router records answers.
// Invariant: a guild waits for one holder epoch at most `patience` after it first asked; after
// that, or once the holder answered (handed off, or failed to), the claim goes ahead.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace herald::dispatch {

class guild_releases {
public:
  using clock = std::chrono::steady_clock;
  enum class step {
    claim,  ///< nothing to wait for (any more): claim the guild
    ask,    ///< first time for this holder epoch: send the request, refuse meanwhile
    wait,   ///< asked, no answer yet: refuse meanwhile
  };

  /// What a start of `guild_id` does while the store names another live node as its holder
  /// under `epoch`. `ask` is answered once per (guild, epoch).
  step next(std::uint64_t guild_id, std::uint64_t epoch, clock::time_point now,
            clock::duration patience);
  /// The holder under `epoch` answered (the guild is settled there, or the request failed).
  void answered(std::uint64_t guild_id, std::uint64_t epoch);
  /// The guild was claimed here: forget it.
  void forget(std::uint64_t guild_id);

private:
  struct entry {
    std::uint64_t epoch = 0;
    clock::time_point give_up;
    bool answered = false;
  };
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, entry> entries_;
};

}  // namespace herald::dispatch
