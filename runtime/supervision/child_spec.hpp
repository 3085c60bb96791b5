// SPDX-License-Identifier: Apache-2.0
#pragma once
// Child specifications: how a supervisor starts, restarts and stops one child.
// Owned by the caller that builds a supervisor; shared read-only (child_spec_ptr) by every child
// started from it. Invariant: a start function runs on the supervisor's own actor thread, never
// blocks, and returns a live actor or an error.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

namespace herald::supervision {

/// When a child is restarted after it exits (OTP semantics).
enum class restart_type {
  permanent,  ///< always restarted
  transient,  ///< restarted only after an abnormal exit (not normal, not user_shutdown)
  temporary,  ///< never restarted; forgotten once it exits
};

/// What a child is; supervisors get an unbounded shutdown by default.
enum class child_type { worker, supervisor };

/// How a supervisor stops one child.
struct shutdown_policy {
  /// Send exit(user_shutdown), wait up to `ms` for the child to exit, then
  /// send exit(kill). Children that trap exits may clean up in that window.
  static shutdown_policy timeout(std::chrono::milliseconds ms) {
    return shutdown_policy{false, false, ms};
  }
  /// Send exit(kill) at once; the child cannot intercept it.
  static shutdown_policy brutal_kill() { return shutdown_policy{true, false, {}}; }
  /// Send exit(user_shutdown) and wait as long as it takes (OTP `infinity`,
  /// the default for supervisor children, which bound their own children).
  static shutdown_policy infinity() { return shutdown_policy{false, true, {}}; }

  bool brutal = false;
  bool unbounded = false;
  std::chrono::milliseconds wait{5000};  ///< default 5 s, as OTP workers
};

/// Key of a child under a dynamic or partition supervisor: none, a number or
/// a string. It picks the partition and is handed to the start function, so
/// one shared spec can start a million distinct children. 16 bytes (a tag
/// and a number or an owned string pointer): it sits in every child's
/// bookkeeping, where std::variant<..., std::string> would take 40.
class child_key {
public:
  child_key() noexcept = default;
  child_key(uint64_t n) noexcept : tag_(tag::number) { value_.number = n; }  // NOLINT
  child_key(int n) noexcept : child_key(static_cast<uint64_t>(n)) {}         // NOLINT
  child_key(std::string s) : tag_(tag::string) {
    value_.str = new std::string(std::move(s));
  }                                                        // NOLINT
  child_key(const char* s) : child_key(std::string{s}) {}  // NOLINT
  child_key(const child_key& other);
  child_key(child_key&& other) noexcept;
  child_key& operator=(const child_key& other);
  child_key& operator=(child_key&& other) noexcept;
  ~child_key();

  bool is_none() const noexcept { return tag_ == tag::none; }
  bool is_number() const noexcept { return tag_ == tag::number; }
  bool is_string() const noexcept { return tag_ == tag::string; }
  /// The numeric key; 0 unless is_number().
  uint64_t number() const noexcept;
  /// The string key; empty unless is_string().
  const std::string& str() const noexcept;
  /// Well-mixed 64-bit hash (splitmix64 of the number or of std::hash of the
  /// string), stable within one build; used for partition placement.
  uint64_t hash() const noexcept;
  /// "-" for none, the decimal number, or the string.
  std::string to_string() const;

  friend bool operator==(const child_key& a, const child_key& b) noexcept;

private:
  enum class tag : uint8_t { none, number, string };
  union payload {
    uint64_t number;
    std::string* str;  // owned when tag_ == string
  };
  void reset() noexcept;

  tag tag_ = tag::none;
  payload value_{0};
};

/// What a start function gets. References are valid only during the call.
struct start_context {
  caf::actor_system& system;
  const child_key& key;                ///< none for static children
  const std::string& supervisor_name;  ///< the supervisor starting this child
};

/// Starts one child. Runs on the supervisor's actor thread (during its init
/// for static children, while handling start_child for dynamic ones), so it
/// must only spawn, never block or wait for replies. Returns the new actor —
/// which the supervisor then monitors (not links) and kills when it dies
/// itself — or an error; an invalid handle without error also counts as a
/// failure. During supervisor init a failure makes the supervisor fail to
/// start (supervision_errc::start_failed carrying the child id and reason).
using start_fn = std::function<caf::expected<caf::actor>(const start_context&)>;

/// One child: id, start function, restart and shutdown policy, type, and the
/// `kind` label used for herald_actors_alive{kind=...}.
struct child_spec {
  std::string id;
  start_fn start;
  restart_type restart = restart_type::permanent;
  shutdown_policy shutdown = shutdown_policy::timeout(std::chrono::milliseconds{5000});
  child_type type = child_type::worker;
  std::string kind = "worker";
};

/// Specs are shared, immutable, between all children started from them.
using child_spec_ptr = std::shared_ptr<const child_spec>;

/// Convenience: a worker spec with the given restart type (shutdown 5 s).
child_spec worker_spec(std::string id, start_fn start,
                       restart_type restart = restart_type::permanent, std::string kind = "worker");

std::string to_string(restart_type x);
std::string to_string(child_type x);

}  // namespace herald::supervision
