// SPDX-License-Identifier: Apache-2.0
#pragma once
// The error type and result<T> every store call returns; no exception ever crosses the store API.
// Plain values: created by the store on the caller's thread and owned by the caller.
// Invariant: a result holds exactly one of a value or a store_error (never an error with code ok).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace herald::store {

enum class store_errc : std::uint8_t {
  not_found,         ///< the guild, user or message does not exist (or is deleted, for updates)
  constraint,        ///< a write broke a uniqueness rule (e.g. a message id inserted twice)
  invalid_argument,  ///< the call itself is malformed (e.g. limit 0, empty data dir)
  io_error,          ///< the file or its directory cannot be created, read or written
  not_a_database,    ///< the file exists but is not an SQLite database
  corrupt,           ///< the database is damaged or holds rows the schema forbids
  schema_too_new,    ///< the file was written by a newer herald (user_version above ours)
  busy,              ///< another process held the lock past busy_timeout; retryable
  closed,            ///< the store was closed or failed to open
  in_doubt,  ///< the connection was lost during COMMIT: the write may or may not be durable;
             ///< never retry it as new (PostgreSQL)
  internal,  ///< any other backend failure; the message has the detail
  fenced,    ///< the batch's guild was claimed under a newer epoch (store::claim_guild): its writer
             ///< no longer owns the guild; nothing of the batch was written
};

const char* to_string(store_errc code);

struct store_error {
  store_errc code_ = store_errc::internal;
  std::string message_;  ///< human-readable detail for logs, e.g. the backend's text

  /// True for errors a caller may retry unchanged (busy).
  bool retryable() const { return code_ == store_errc::busy; }
};

namespace detail {
[[noreturn]] inline void bad_result_access(const store_error& error) {
  std::fprintf(stderr, "herald::store: value() of a failed result: %s: %s\n",
               to_string(error.code_), error.message_.c_str());
  std::abort();
}
}  // namespace detail

/// Value or error. value() on an error is a bug: it aborts with the error text.
template <class T>
class [[nodiscard]] result {
public:
  result(T value) : state_(std::move(value)) {}            // NOLINT: implicit by design
  result(store_error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return ok() ? std::get<0>(state_) : fail(); }
  const T& value() const& { return ok() ? std::get<0>(state_) : fail(); }
  T&& value() && { return std::move(ok() ? std::get<0>(state_) : fail()); }

  /// Precondition: !ok().
  const store_error& error() const { return std::get<1>(state_); }

private:
  [[noreturn]] T& fail() const { detail::bad_result_access(std::get<1>(state_)); }

  std::variant<T, store_error> state_;
};

template <>
class [[nodiscard]] result<void> {
public:
  result() = default;
  result(store_error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }

  /// Precondition: !ok().
  const store_error& error() const { return *error_; }

private:
  std::optional<store_error> error_;
};

}  // namespace herald::store
