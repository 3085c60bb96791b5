// SPDX-License-Identifier: Apache-2.0
#pragma once
// Typed outcome of herald::server::call: the reply value or why there is none.
// Produced on the calling thread (blocking call) or in the calling actor's
// handler (async call). Invariant: a call_result holds exactly one of value or
// error, and `cause()` keeps the original caf::error for logs.

#include <caf/error.hpp>

#include <optional>
#include <string>
#include <utility>

namespace herald::server {

enum class call_error {
  /// No reply within the timeout. The request may still run; its late reply
  /// is discarded.
  timeout,
  /// The handle was invalid, or the actor was dead or died before replying.
  actor_down,
  /// A reply arrived but its element types do not match the expected R.
  unexpected_reply,
  /// The actor has no handler for the request (caf::sec::unexpected_message).
  unhandled_request,
  /// The actor replied with an error of its own; see call_result::cause().
  actor_error,
};

/// Stable snake_case name of `e`, e.g. "actor_down".
std::string to_string(call_error e);

/// Maps a caf::error delivered in place of a reply to a call_error.
call_error classify(const caf::error& err);

/// Value of a successful call of type R, or the error. R = void for calls
/// whose reply is empty.
template <class R>
class call_result {
public:
  call_result(R value) : value_(std::move(value)) {  // NOLINT: implicit
  }
  call_result(call_error error, caf::error cause = caf::error{})
      : error_(error), cause_(std::move(cause)) {}

  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  /// Precondition: ok().
  R& value() { return *value_; }
  const R& value() const { return *value_; }
  R& operator*() { return *value_; }
  /// Set when !ok().
  std::optional<call_error> error() const noexcept { return error_; }
  /// The CAF error behind error(), empty for locally detected errors.
  const caf::error& cause() const noexcept { return cause_; }

private:
  std::optional<R> value_;
  std::optional<call_error> error_;
  caf::error cause_;
};

template <>
class call_result<void> {
public:
  call_result() = default;
  call_result(call_error error, caf::error cause = caf::error{})
      : error_(error), cause_(std::move(cause)) {}

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  std::optional<call_error> error() const noexcept { return error_; }
  const caf::error& cause() const noexcept { return cause_; }

private:
  std::optional<call_error> error_;
  caf::error cause_;
};

}  // namespace herald::server
