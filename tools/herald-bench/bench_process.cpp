// SPDX-License-Identifier: Apache-2.0
#include "tools/herald-bench/bench_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "runtime/net/http_client.hpp"

namespace herald::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

std::string self_dir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

uint16_t free_port() {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
  return acceptor.local_endpoint().port();
}

child child::spawn(const std::vector<std::string>& argv, bool pipes) {
  child c;
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  if (pipes && (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t parent = getpid();
  c.pid = fork();
  if (c.pid < 0) {
    throw std::runtime_error("fork failed: " + std::string{std::strerror(errno)});
  }
  if (c.pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {
      _exit(127);
    }
    if (pipes) {
      dup2(in[0], 0);
      dup2(out[1], 1);
    } else {
      int null_fd = open("/dev/null", O_WRONLY);
      dup2(null_fd, 1);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  if (pipes) {
    close(in[0]);
    close(out[1]);
    c.to_child = in[1];
    c.from_child = fdopen(out[0], "r");
  }
  return c;
}

void child::tell(const std::string& line) const {
  if (to_child >= 0) {
    std::string l = line + "\n";
    [[maybe_unused]] auto n = write(to_child, l.data(), l.size());
  }
}

int child::wait_exit(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(20ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

std::string id_of(const nlohmann::json& j) {
  const auto& id = j.at("id");
  return id.is_string() ? id.get<std::string>() : std::to_string(id.get<uint64_t>());
}

/// POST on the admin API with the admin token heraldd generated into its data dir.
nlohmann::json admin_post(uint16_t admin_port, const std::string& admin_token,
                          const std::string& path, const nlohmann::json& body) {
  auto r = net::http_fetch("127.0.0.1", admin_port, "POST", path, body.dump(), 30s,
                           {{"Authorization", "Bearer " + admin_token}});
  if (!r.ok() || r.status / 100 != 2) {
    throw std::runtime_error(
        "admin " + path +
        " failed: " + (r.ok() ? std::to_string(r.status) + " " + r.body : net::describe(r.error)));
  }
  return nlohmann::json::parse(r.body);
}

}  // namespace herald::bench
