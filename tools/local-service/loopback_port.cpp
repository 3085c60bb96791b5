// SPDX-License-Identifier: Apache-2.0
// free_loopback_port: ports reserved across the processes of one machine (local_service.hpp).
#include "tools/local-service/local_service.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>

namespace herald::tools {
namespace {

/// The lowest port this function hands out: below it sit well-known services.
constexpr unsigned lowest_reserved_port = 10000;

bool can_bind(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  // The servers the port is meant for set SO_REUSEADDR too, so a port in TIME_WAIT is usable.
  int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::uint16_t kernel_chosen_port(const std::string& who) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error(who + ": socket failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(who + ": cannot bind a loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// The first port of the kernel's ephemeral range (32768 when it cannot be read).
unsigned ephemeral_low() {
  std::ifstream in{"/proc/sys/net/ipv4/ip_local_port_range"};
  unsigned low = 0;
  unsigned high = 0;
  if (in >> low >> high && low > 0) {
    return low;
  }
  return 32768;
}

/// lock_port's answer when the lock file cannot be opened at all (another user's directory).
constexpr int cannot_lock = -2;

/// Locks `<dir>/<port>` without waiting; the open descriptor is the reservation (-1: taken).
int lock_port(const std::string& dir, unsigned port) {
  std::string path = dir + "/" + std::to_string(port);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    return cannot_lock;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::uint16_t free_loopback_port(const std::string& who) {
  static std::mutex mutex;
  // Descriptors of the lock files this process holds; never closed, so the reservations last
  // exactly as long as the process (the kernel drops the locks when it exits, however it exits).
  static std::vector<int> held;
  std::lock_guard<std::mutex> lock{mutex};
  unsigned low = lowest_reserved_port;
  unsigned high = ephemeral_low();  // exclusive
  if (high <= low + 1000) {
    return kernel_chosen_port(who);
  }
  std::string dir = (std::filesystem::temp_directory_path() / "herald-ports").string();
  if (::mkdir(dir.c_str(), 01777) == 0) {
    ::chmod(dir.c_str(), 01777);  // every user's tests share it, whatever the umask
  } else if (errno != EEXIST) {
    return kernel_chosen_port(who);
  }
  static std::minstd_rand rng{static_cast<unsigned>(::getpid()) * 2654435761u ^
                              static_cast<unsigned>(std::random_device{}())};
  unsigned span = high - low;
  unsigned first = rng() % span;
  for (unsigned i = 0; i < span; ++i) {
    unsigned port = low + (first + i) % span;
    int fd = lock_port(dir, port);
    if (fd == cannot_lock) {
      return kernel_chosen_port(who);  // no shared reservations here: the old behaviour
    }
    if (fd < 0) {
      continue;
    }
    if (!can_bind(static_cast<std::uint16_t>(port))) {
      ::close(fd);
      continue;
    }
    held.push_back(fd);
    return static_cast<std::uint16_t>(port);
  }
  throw std::runtime_error(who + ": no free loopback port in " + std::to_string(low) + ".." +
                           std::to_string(high - 1));
}

}  // namespace herald::tools
