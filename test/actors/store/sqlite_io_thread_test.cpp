// SPDX-License-Identifier: Apache-2.0
// The store's blocking-call check: a read or a write from a thread tagged as an io thread
// aborts in builds with HERALD_CHECKS (Debug, the sanitizer build), so an io-thread handler
// that reaches the store fails every test that drives it (docs/conventions.md#threading).
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include <catch2/catch.hpp>

#include "runtime/base/thread_role.hpp"
#include "store_fixture.hpp"

namespace herald::store::test {

namespace {

/// Runs `fn` in a forked child with stderr silenced; true if it ended by SIGABRT.
template <class Fn>
bool aborts_in_child(Fn fn) {
  std::fflush(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen("/dev/null", "w", stderr);
    fn();
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

}  // namespace

TEST_CASE("store_calls_pass_off_io_threads_and_abort_on_one_when_checks_are_on") {
  temp_dir dir;
  auto store = open_ok(options_for(dir));
  REQUIRE(store->upsert_user({7, "alice", false}));
  REQUIRE(store->get_user(7));

  using base::scoped_thread_role;
  using base::thread_role;
#if HERALD_CHECKS
  // The child aborts at the check, before it touches the connection it inherited.
  CHECK(aborts_in_child([&] {
    scoped_thread_role io{thread_role::io};
    (void)store->get_user(7);
  }));
  CHECK(aborts_in_child([&] {
    scoped_thread_role io{thread_role::io};
    (void)store->upsert_user({8, "bob", false});
  }));
#else
  // Release: the checks are compiled out and the calls simply run.
  scoped_thread_role io{thread_role::io};
  CHECK(store->get_user(7));
  CHECK(store->upsert_user({8, "bob", false}));
#endif
}

}  // namespace herald::store::test
