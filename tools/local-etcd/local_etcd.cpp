// SPDX-License-Identifier: Apache-2.0
#include "tools/local-etcd/local_etcd.hpp"
#include "tools/local-service/local_service.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace herald::tools {

namespace {

std::string etcd_bin() {
  const char* bin = std::getenv("HERALD_ETCD_BIN");
  return bin != nullptr ? bin : "/usr/bin/etcd";
}

}  // namespace

local_etcd_server::local_etcd_server() : dir_(make_private_dir("herald-etcd", "local_etcd")) {
  try {
    start_with_port_retries([this] {
      client_port_ = free_loopback_port("local_etcd");
      peer_port_ = free_loopback_port("local_etcd");
      start();
    });
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

local_etcd_server::~local_etcd_server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(pid_, std::chrono::seconds{10});
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string local_etcd_server::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(client_port_);
}

void local_etcd_server::start() {
  const std::string client = endpoint();
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  std::vector<std::string> args{etcd_bin(),
                                "--name=herald-test",
                                "--data-dir=" + (dir_ / "data").string(),
                                "--listen-client-urls=" + client,
                                "--advertise-client-urls=" + client,
                                "--listen-peer-urls=" + peer,
                                "--initial-advertise-peer-urls=" + peer,
                                "--initial-cluster=herald-test=" + peer,
                                "--initial-cluster-state=new"};
  const std::string log_path = (dir_ / "etcd.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  int rc = spawn_with_default_signals(pid, args, actions);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("local_etcd: cannot spawn " + args[0] + ": " + std::strerror(rc) +
                             " (install etcd-server: tools/setup/install-deps.sh)");
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      throw std::runtime_error("local_etcd: etcd exited at start on " + client + ":\n" + log());
    }
    if (answers()) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  ::kill(pid_, SIGKILL);
  reap(pid_, std::chrono::seconds{10});
  pid_ = 0;
  throw std::runtime_error("local_etcd: etcd did not answer on " + client + " within 30 s:\n" +
                           log());
}

void local_etcd_server::stop() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  if (!reap(pid_, std::chrono::seconds{10})) {
    ::kill(pid_, SIGKILL);
    reap(pid_, std::chrono::seconds{10});
  }
  pid_ = 0;
}

/// GET /health answers {"health":"true"} once the member has a leader.
bool local_etcd_server::answers() const {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(client_port_);
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      std::string answer;
      char buf[512];
      ssize_t n = 0;
      while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
        answer.append(buf, static_cast<size_t>(n));
      }
      ok = answer.find("\"health\":\"true\"") != std::string::npos;
    }
  }
  ::close(fd);
  return ok;
}

std::string local_etcd_server::log() const {
  std::ifstream in{dir_ / "etcd.log", std::ios::binary};
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace herald::tools
