// SPDX-License-Identifier: Apache-2.0
// HERALD_EXPECTS / HERALD_ASSERT and the thread-role checks, with checks forced on (as in the
// Debug and sanitizer builds) whatever this build's type: a failed check aborts the process
// with file:line and the expression, so each failing case runs in a forked child.
#undef HERALD_CHECKS
#define HERALD_CHECKS 1
#include "runtime/base/expects.hpp"
#include "runtime/base/thread_role.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

namespace {

struct child_outcome {
  bool aborted = false;
  std::string stderr_text;
};

/// Runs `fn` in a forked child with stderr captured; tells whether it ended by SIGABRT.
child_outcome run_in_child(const std::function<void()>& fn) {
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  std::fflush(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    fn();
    _exit(0);
  }
  close(pipe_fds[1]);
  child_outcome out;
  char buf[512];
  ssize_t n = 0;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) {
    out.stderr_text.append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  out.aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  return out;
}

}  // namespace

TEST_CASE("a_held_expectation_costs_nothing_and_continues") {
  int evaluated = 0;
  HERALD_EXPECTS(++evaluated == 1);
  HERALD_ASSERT(evaluated == 1);
  CHECK(evaluated == 1);
}

TEST_CASE("a_failed_expectation_aborts_naming_the_expression_and_its_location") {
  auto out = run_in_child([] {
    int index = 5;
    HERALD_EXPECTS(index < 4);
  });
  CHECK(out.aborted);
  CHECK(out.stderr_text.find("expects_test.cpp:") != std::string::npos);
  CHECK(out.stderr_text.find("precondition failed: index < 4") != std::string::npos);
}

TEST_CASE("a_failed_assertion_aborts") {
  auto out = run_in_child([] { HERALD_ASSERT(1 + 1 == 3); });
  CHECK(out.aborted);
  CHECK(out.stderr_text.find("assertion failed: 1 + 1 == 3") != std::string::npos);
}

TEST_CASE("a_thread_s_role_is_other_until_a_scope_sets_it_per_thread") {
  using herald::base::current_thread_role;
  using herald::base::scoped_thread_role;
  using herald::base::thread_role;
  CHECK(current_thread_role() == thread_role::other);
  {
    scoped_thread_role io{thread_role::io};
    CHECK(current_thread_role() == thread_role::io);
    thread_role seen_elsewhere = thread_role::io;
    std::thread other([&] { seen_elsewhere = current_thread_role(); });
    other.join();
    CHECK(seen_elsewhere == thread_role::other);
  }
  CHECK(current_thread_role() == thread_role::other);
}

TEST_CASE("a_blocking_call_on_an_io_thread_aborts_elsewhere_it_passes") {
  using herald::base::scoped_thread_role;
  using herald::base::thread_role;
  auto on_io = run_in_child([] {
    scoped_thread_role io{thread_role::io};
    HERALD_EXPECTS_NOT_IO_THREAD();
  });
  CHECK(on_io.aborted);
  CHECK(on_io.stderr_text.find("thread_role::io") != std::string::npos);
  auto elsewhere = run_in_child([] { HERALD_EXPECTS_NOT_IO_THREAD(); });
  CHECK_FALSE(elsewhere.aborted);
  auto strand_code_off_io = run_in_child([] { HERALD_EXPECTS_IO_THREAD(); });
  CHECK(strand_code_off_io.aborted);
}
