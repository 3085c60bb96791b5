// SPDX-License-Identifier: Apache-2.0
#include "tools/local-service/local_service.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

extern char** environ;

namespace herald::tools {

std::filesystem::path make_private_dir(const std::string& prefix, const std::string& who) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error(who + ": mkdtemp failed: " + std::strerror(errno));
  }
  return tmpl;
}

int spawn_with_default_signals(pid_t& pid, const std::vector<std::string>& argv,
                               const posix_spawn_file_actions_t& actions) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> argv_store = argv;  // posix_spawn takes char*, not const char*
  std::vector<char*> args;
  for (auto& a : argv_store) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  int rc = posix_spawn(&pid, argv_store.at(0).c_str(), &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  return rc;
}

bool reap(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid || w < 0) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

}  // namespace herald::tools
