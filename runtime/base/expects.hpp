// SPDX-License-Identifier: Apache-2.0
#pragma once
// Checked invariants: HERALD_EXPECTS(cond) for a precondition a caller must meet,
// HERALD_ASSERT(cond) for an invariant the code itself keeps. Any thread.
// Checked when HERALD_CHECKS is 1: by default in builds without NDEBUG (Debug, the sanitizer
// build) and compiled out in Release/RelWithDebInfo, where `cond` is not evaluated (so it
// must have no side effect). A failed check prints "file:line: check failed: expr" to stderr
// and aborts: a broken invariant is a bug, never an input error (input errors get a typed
// error, see docs/conventions.md#errors).
// Invariant: with HERALD_CHECKS 0 the macros cost nothing; with 1 they cost one branch.

#if !defined(HERALD_CHECKS)
#if defined(NDEBUG)
#define HERALD_CHECKS 0
#else
#define HERALD_CHECKS 1
#endif
#endif

namespace herald::base {

/// Prints `kind` failed with the expression and its location to stderr, then aborts.
[[noreturn]] void check_failed(const char* kind, const char* expr, const char* file,
                               int line) noexcept;

}  // namespace herald::base

#if HERALD_CHECKS
#define HERALD_CHECK_IMPL_(kind, cond) \
  ((cond) ? static_cast<void>(0) : ::herald::base::check_failed(kind, #cond, __FILE__, __LINE__))
#else
#define HERALD_CHECK_IMPL_(kind, cond) static_cast<void>(sizeof(!(cond)))
#endif

/// A precondition of the function it opens.
#define HERALD_EXPECTS(cond) HERALD_CHECK_IMPL_("precondition", cond)
/// An invariant the surrounding code keeps.
#define HERALD_ASSERT(cond) HERALD_CHECK_IMPL_("assertion", cond)
