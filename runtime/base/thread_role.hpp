// SPDX-License-Identifier: Apache-2.0
#pragma once
// The role of the current thread, for the debug checks of docs/conventions.md#threading:
// io threads (a net::http_server's io_context runners) never block, so blocking calls (store
// reads and writes) state HERALD_EXPECTS_NOT_IO_THREAD() and strand-only code states
// HERALD_EXPECTS_IO_THREAD(). The tag is thread-local: set by the thread itself for its whole
// life (scoped_thread_role), read by the checks on the same thread.
// Checked when HERALD_CHECKS is 1 (see expects.hpp: Debug and sanitizer builds); in Release
// the macros compile to nothing. Invariant: a thread's role is `other` unless a
// scoped_thread_role on that thread's stack says otherwise.

#include "runtime/base/expects.hpp"

namespace herald::base {

enum class thread_role : unsigned char {
  other,  ///< CAF workers, tools, tests: may block (within their own rules)
  io,     ///< runs a net::http_server io_context: must never block
};

/// The calling thread's role.
thread_role current_thread_role() noexcept;

/// Sets the calling thread's role for its lifetime, restoring the previous one on exit.
/// Not movable: it belongs to one thread's stack.
class scoped_thread_role {
public:
  explicit scoped_thread_role(thread_role role) noexcept;
  ~scoped_thread_role();
  scoped_thread_role(const scoped_thread_role&) = delete;
  scoped_thread_role& operator=(const scoped_thread_role&) = delete;

private:
  thread_role previous_;
};

}  // namespace herald::base

/// The caller runs on an io thread (a connection's strand).
#define HERALD_EXPECTS_IO_THREAD() \
  HERALD_EXPECTS(::herald::base::current_thread_role() == ::herald::base::thread_role::io)
/// The caller may block: it must not run on an io thread (store calls, blocking waits).
#define HERALD_EXPECTS_NOT_IO_THREAD() \
  HERALD_EXPECTS(::herald::base::current_thread_role() != ::herald::base::thread_role::io)
