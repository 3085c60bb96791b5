// SPDX-License-Identifier: Apache-2.0
// herald-local-postgres: the tests' throwaway PostgreSQL 15 server (local_postgres.hpp) as a
// command, for scripts that need one (examples/cluster). It starts a server, creates one empty
// database, prints `url=postgresql://herald@127.0.0.1:<port>/<db>` on stdout (one line,
// flushed) and runs until its stdin closes or it gets SIGTERM, SIGINT or SIGHUP; then it stops
// the server and removes its files. Exit 0 after a clean stop, 1 when the server did not start
// (the reason on stderr).
//
//   herald-local-postgres [--durable]
//
// Without --durable the server runs with fsync off (fast, not crash-safe: a throwaway).
// A parent that dies closes the pipe on the child's stdin, so the server never outlives it.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>

#include "tools/local-postgres/local_postgres.hpp"

namespace {

/// Reads stdin until EOF (or an error), then raises SIGTERM so that main's sigwait returns.
void watch_stdin() {
  char buf[256];
  while (true) {
    auto n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) {
      break;
    }
  }
  ::kill(::getpid(), SIGTERM);
}

}  // namespace

int main(int argc, char** argv) {
  herald::tools::local_postgres_options o;
  o.durable_ = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--durable") == 0) {
      o.durable_ = true;
    } else {
      std::fprintf(stderr, "usage: herald-local-postgres [--durable]\n");
      return 2;
    }
  }
  // Blocked in every thread (the watcher inherits the mask): only sigwait receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    herald::tools::local_postgres_server server{o};
    auto db = server.create_database();
    std::printf("url=%s\n", server.url(db).c_str());
    std::fflush(stdout);
    std::thread(watch_stdin).detach();
    int sig = 0;
    sigwait(&stop_signals, &sig);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "herald-local-postgres: %s\n", e.what());
    return 1;
  }
  return 0;
}
