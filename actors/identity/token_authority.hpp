// SPDX-License-Identifier: Apache-2.0
#pragma once
// Issues and checks user tokens: base64url(user id) "." base64url(issued_at seconds) "."
// base64url(HMAC-SHA256(secret, "<part1>.<part2>.<token epoch>")). One per node (built by the
// app composition), shared by REST, the gateway and the admin API; thread-safe.
// Invariant: authenticate() never throws and accepts a token only if its MAC matches the
// node secret and the user's current token epoch; revoke() raises the epoch first.
//
// Revocation: every user has a token epoch in the store (0 until the first revoke). The epoch
// is bound into the MAC but not sent, so raising it invalidates every earlier token of the
// user at once, with no per-token state. Epochs are cached in memory after a read, for at most
// the epoch cache TTL (config identity.epoch_cache_ttl, 30 s by default): revoke() goes through
// the store and then this authority's cache; other authorities on the same store (the other
// nodes of a cluster) drop their entry when told (forget(), the cluster's revoke notice,
// revoke_notifier.hpp) and in any case read the store again once their entry is older than
// the TTL, so a node that missed the notice refuses the revoked token within one TTL.
//
// Expiry: with a max age (config identity.token_max_age; 0 = off, the default) a token whose
// issue time lies further back than the max age is refused like a revoked one. The issue time
// is signed, so it cannot be moved forward.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "actors/store/store.hpp"

namespace herald::identity {

class token_authority {
public:
  /// `secret` must not be empty (load_secret() gives one); `st` must outlive the authority.
  /// `epoch_cache_ttl`: how long an epoch read from the store is trusted; 0 reads the store on
  /// every check.
  token_authority(std::string secret, std::shared_ptr<store::store> st,
                  std::chrono::seconds max_age = std::chrono::seconds{0},
                  std::chrono::milliseconds epoch_cache_ttl = default_epoch_cache_ttl);

  /// identity.epoch_cache_ttl's default.
  static constexpr std::chrono::milliseconds default_epoch_cache_ttl{30000};

  /// A new token for `user_id`, valid until the next revoke(). Issuing does not check that
  /// the user exists; authenticate() does.
  std::string issue(uint64_t user_id);
  /// As issue(), with an explicit issue time (tests).
  std::string issue_at(uint64_t user_id, int64_t issued_at_s);

  /// Accepts "Bot <t>", "Bearer <t>" or a bare <t> (surrounding spaces ignored). nullopt when
  /// malformed, bad MAC (tampered or another secret), revoked, expired (older than the max
  /// age), unknown user or store failure.
  std::optional<uint64_t> authenticate(std::string_view token) const;

  /// Every earlier token of the user stops working. Returns the user's new token epoch;
  /// nullopt if the user does not exist or the store failed (then nothing changed).
  std::optional<uint64_t> revoke(uint64_t user_id);

  /// Drops the cached epoch of `user_id`: the next check reads the store. Called when another
  /// authority on the same store revoked the user (the cluster's revoke notice).
  void forget(uint64_t user_id);

private:
  /// A cached epoch and when it was read from the store (steady clock).
  struct cached_epoch {
    uint64_t epoch = 0;
    std::chrono::steady_clock::time_point read_at;
  };

  std::optional<uint64_t> epoch_of(uint64_t user_id) const;
  std::string mac(std::string_view signed_part, uint64_t epoch) const;

  std::string secret_;
  std::shared_ptr<store::store> store_;
  std::chrono::seconds max_age_;               // 0: tokens never expire
  std::chrono::milliseconds epoch_cache_ttl_;  // 0: no caching
  mutable std::mutex mutex_;                   // guards epochs_ and invalidations_
  mutable std::unordered_map<uint64_t, cached_epoch> epochs_;
  /// Counts revoke() and forget() calls. Invariant: epoch_of() caches a value it read from the
  /// store only if this count did not change while it read (the store is read without the
  /// lock), so a cached epoch is never older than a revoke or forget that completed.
  uint64_t invalidations_ = 0;
};

/// base64url without padding (RFC 4648 §5).
std::string base64url_encode(std::string_view bytes);
/// Strict inverse of base64url_encode: nullopt on any other character, padding or bad length.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace herald::identity
