// SPDX-License-Identifier: Apache-2.0
#include "test/support/process.hpp"
#include "tools/local-service/local_service.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace herald::testing {

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

child_process::child_process(const std::string& path, const std::vector<std::string>& args,
                             std::optional<uint64_t> open_files_limit) {
  // posix_spawn_file_actions_addopen keeps the path pointers until posix_spawn.
  const std::string out_path = dir_.file("stdout");
  const std::string err_path = dir_.file("stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv{path};
  argv.insert(argv.end(), args.begin(), args.end());
  // Tests spawn from their one main thread, so nothing else opens files in this window.
  rlimit saved{};
  getrlimit(RLIMIT_NOFILE, &saved);
  if (open_files_limit) {
    rlimit lowered = saved;
    lowered.rlim_cur = std::min<rlim_t>(*open_files_limit, saved.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lowered);
  }
  // The child starts with default signal dispositions and an empty mask, whatever the
  // test runner blocked.
  int rc = tools::spawn_with_default_signals(pid_, argv, actions);
  if (open_files_limit) {
    setrlimit(RLIMIT_NOFILE, &saved);
  }
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("cannot spawn " + path + ": " + std::strerror(rc));
  }
}

child_process::~child_process() {
  if (running()) {
    kill();
  }
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code_) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = decode_status(status);
      break;
    }
    if (r < 0 || std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return exit_code_;
}

bool child_process::running() {
  return !wait_for(std::chrono::milliseconds{0});
}

void child_process::send_signal(int sig) {
  if (!exit_code_) {
    ::kill(pid_, sig);
  }
}

void child_process::kill() {
  send_signal(SIGKILL);
  wait_for(std::chrono::seconds{10});
}

std::string child_process::out() const {
  return read_all(dir_.file("stdout"));
}

std::string child_process::err() const {
  return read_all(dir_.file("stderr"));
}

run_result run_process(const std::string& path, const std::vector<std::string>& args,
                       std::chrono::milliseconds timeout) {
  child_process p{path, args};
  run_result r;
  r.exit_code = p.wait_for(timeout);
  if (!r.exit_code) {
    p.kill();
  }
  r.out = p.out();
  r.err = p.err();
  return r;
}

uint16_t free_port() {
  return tools::free_loopback_port("free_port");
}

std::string bin_path(const std::string& name) {
  const char* dir = std::getenv("HERALD_BIN_DIR");
  if (dir == nullptr) {
    throw std::runtime_error("HERALD_BIN_DIR is not set");
  }
  return std::string{dir} + "/" + name;
}

std::map<std::string, std::string> key_values(const std::string& out) {
  std::map<std::string, std::string> keys;
  std::istringstream in(out);
  std::string token;
  while (in >> token) {
    if (auto eq = token.find('='); eq != std::string::npos && eq > 0) {
      keys[token.substr(0, eq)] = token.substr(eq + 1);
    }
  }
  return keys;
}

}  // namespace herald::testing
