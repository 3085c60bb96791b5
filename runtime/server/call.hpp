// SPDX-License-Identifier: Apache-2.0
#pragma once
// GenServer-style helpers: call (request/reply with a typed result and a
// timeout) and cast (fire-and-forget). Used by any thread or actor; they own
// nothing. Invariant: a call always completes — with the reply or a
// call_error — within its timeout plus scheduling delay; it never hangs.
//
// Callers:
//   * non-actor code: call<R>(system, actor, [timeout,] msg...) blocks the
//     calling thread on a fresh caf::scoped_actor (one spawn per call; in a
//     loop pass your own scoped_actor instead) and returns call_result<R>;
//   * actor code: call<R>(self, actor, [timeout,] msg...).then(f) sends a
//     multiplexed request (other messages keep flowing) and later runs
//     f(call_result<R>) inside `self`, like self->request(...).then(...).
// R is void (empty reply), a single type T, or std::tuple<Ts...>. A
// std::chrono::duration as the first message element is taken as the timeout.

#include "runtime/server/call_error.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace herald::server {

/// Timeout of call() when none is given: 5 s, like OTP's gen_server:call/2.
inline constexpr caf::timespan default_call_timeout = std::chrono::seconds{5};

namespace detail {

template <class T>
struct is_duration : std::false_type {};
template <class Rep, class Period>
struct is_duration<std::chrono::duration<Rep, Period>> : std::true_type {};

template <class T>
using not_duration_t = std::enable_if_t<!is_duration<std::decay_t<T>>::value>;

template <class Self>
using if_async_caller_t = std::enable_if_t<std::is_base_of<caf::scheduled_actor, Self>::value>;

/// Builds the CAF reply handler that turns a matching reply into call_result.
template <class R>
struct reply_traits {
  template <class F>
  static auto handler(F f) {
    return [f](R& x) mutable { f(call_result<R>{std::move(x)}); };
  }
};

template <>
struct reply_traits<void> {
  template <class F>
  static auto handler(F f) {
    return [f]() mutable { f(call_result<void>{}); };
  }
};

template <class... Ts>
struct reply_traits<std::tuple<Ts...>> {
  template <class F>
  static auto handler(F f) {
    return [f](Ts&... xs) mutable {
      f(call_result<std::tuple<Ts...>>{std::make_tuple(std::move(xs)...)});
    };
  }
};

}  // namespace detail

/// Pending call from an actor; finish it with then(f).
template <class R, class Handle>
class async_call {
public:
  explicit async_call(std::optional<Handle> handle) : handle_(std::move(handle)) {}

  /// Runs f(call_result<R>) once, inside the calling actor. f must be copyable.
  /// If the target handle was invalid, f runs right away with actor_down.
  template <class F>
  void then(F f) && {
    if (!handle_) {
      f(call_result<R>{call_error::actor_down});
      return;
    }
    handle_->then(detail::reply_traits<R>::handler(f), [f](caf::error& err) mutable {
      f(call_result<R>{classify(err), err});
    });
  }

private:
  std::optional<Handle> handle_;
};

/// Blocking call on an existing scoped actor (cheapest for repeated calls).
template <class R, class Rep, class Period, class... Ts>
call_result<R> call(caf::scoped_actor& self, const caf::actor& dst,
                    std::chrono::duration<Rep, Period> timeout, Ts&&... xs) {
  if (!dst) {
    return call_result<R>{call_error::actor_down};
  }
  std::optional<call_result<R>> out;
  auto on_reply = [&out](call_result<R> r) { out.emplace(std::move(r)); };
  self->request(dst, std::chrono::duration_cast<caf::timespan>(timeout), std::forward<Ts>(xs)...)
      .receive(detail::reply_traits<R>::handler(on_reply),
               [&out](caf::error& err) { out.emplace(classify(err), err); });
  if (!out) {
    // receive() returned without a handler running; CAF 0.17 does not do
    // this, but a call must never yield garbage.
    return call_result<R>{call_error::timeout};
  }
  return std::move(*out);
}

/// Blocking call from a non-actor thread (spawns a scoped actor per call).
template <class R, class Rep, class Period, class... Ts>
call_result<R> call(caf::actor_system& sys, const caf::actor& dst,
                    std::chrono::duration<Rep, Period> timeout, Ts&&... xs) {
  caf::scoped_actor self{sys};
  return call<R>(self, dst, timeout, std::forward<Ts>(xs)...);
}

/// Asynchronous call from an event-based (or stateful) actor.
template <class R, class Self, class Rep, class Period, class... Ts,
          class = detail::if_async_caller_t<Self>>
auto call(Self* self, const caf::actor& dst, std::chrono::duration<Rep, Period> timeout,
          Ts&&... xs) {
  using handle = decltype(self->request(dst, caf::timespan{}, std::forward<Ts>(xs)...));
  if (!dst) {
    return async_call<R, handle>{std::nullopt};
  }
  return async_call<R, handle>{self->request(
      dst, std::chrono::duration_cast<caf::timespan>(timeout), std::forward<Ts>(xs)...)};
}

/// Any of the above with default_call_timeout (5 s).
template <class R, class Caller, class T0, class... Ts, class = detail::not_duration_t<T0>>
auto call(Caller&& caller, const caf::actor& dst, T0&& x0, Ts&&... xs) {
  return call<R>(std::forward<Caller>(caller), dst, default_call_timeout, std::forward<T0>(x0),
                 std::forward<Ts>(xs)...);
}

/// Fire-and-forget from a non-actor thread: exactly caf::anon_send (no
/// sender, so replies and errors are dropped). No-op for an invalid handle.
template <class... Ts>
inline void cast(const caf::actor& dst, Ts&&... xs) {
  caf::anon_send(dst, std::forward<Ts>(xs)...);
}

/// Fire-and-forget from an actor: exactly self->send (sender is `self`).
template <class Self, class... Ts, class = detail::if_async_caller_t<Self>>
inline void cast(Self* self, const caf::actor& dst, Ts&&... xs) {
  self->send(dst, std::forward<Ts>(xs)...);
}

}  // namespace herald::server
