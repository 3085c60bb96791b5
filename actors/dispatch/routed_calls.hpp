// SPDX-License-Identifier: Apache-2.0
#pragma once
// The router's remote calls in flight (router.hpp), each with the owner node it waits on. When
// membership declares that node down, the router fails every call waiting on it at once with the
// retryable unavailable error (REST 503 + Retry-After) instead of letting it run into
// dispatch_config::request_timeout: a frozen or cut-off owner would otherwise hold every routed
// request for the whole timeout. Owned by the router actor; touched only on its thread.
// Invariant: every call added is answered exactly once, by whichever comes first: its own answer
// (settle() returns true and the caller answers) or its owner going down (fail_not_up() answers
// it; the late answer then finds nothing to settle and is dropped).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>

#include <caf/error.hpp>

namespace herald::dispatch {

class routed_calls {
public:
  /// Answers the call's caller with an error.
  using fail_fn = std::function<void(caf::error)>;

  /// Records a call sent to `owner`'s router; returns its id for settle().
  uint64_t add(uint16_t owner, fail_fn fail);
  /// The call's answer came: true when it was still in flight (the caller answers it now), false
  /// when fail_not_up() already answered it.
  bool settle(uint64_t id);
  /// Answers every call whose owner is not in `up` with `error_for(owner)`, in the order they
  /// were added, and forgets them; returns how many.
  size_t fail_not_up(const std::set<uint16_t>& up,
                     const std::function<caf::error(uint16_t owner)>& error_for);
  size_t size() const noexcept { return calls_.size(); }

private:
  struct call {
    uint16_t owner = 0;
    fail_fn fail;
  };
  uint64_t next_id_ = 1;
  std::map<uint64_t, call> calls_;  // by id, so in the order added
};

}  // namespace herald::dispatch
