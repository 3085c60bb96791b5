// SPDX-License-Identifier: Apache-2.0
// The guarded cluster port over real loopback sockets: garbage and idle plain-TCP clients are
// dropped and counted, and the node keeps serving real CAF peers.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/cluster/transport.hpp"
#include "test/support/eventually.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

struct cluster_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  cluster_system() {
    cluster::settings s;
    cluster::configure_actor_system(cfg, s);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

caf::behavior doubler(caf::event_based_actor*) {
  return {[](int x) { return 2 * x; }};
}

/// Connects to 127.0.0.1:port, writes `bytes`, reads until the peer closes (bounded).
bool send_and_wait_for_close(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (!bytes.empty() && ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return true;
  }
  if (bytes.empty()) {
    ::close(fd);  // a probe: connects and goes
    return true;
  }
  char buf[512];
  bool closed = false;
  for (int i = 0; i < 100; ++i) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) {
      closed = true;
      break;
    }
    if (n < 0) {
      break;  // timeout or reset
    }
  }
  ::close(fd);
  return closed;
}

}  // namespace

TEST_CASE("garbage_on_the_cluster_port_is_dropped_and_counted_and_real_peers_still_connect") {
  cluster_system a;
  auto mm = cluster::spawn_guarded_middleman(*a.sys, cluster::settings{});
  auto worker = a.sys->spawn(doubler);
  uint16_t port = 0;
  {
    caf::scoped_actor self{*a.sys};
    self->request(mm, 10s, caf::publish_atom::value, uint16_t{0},
                  caf::actor_cast<caf::strong_actor_ptr>(worker), std::set<std::string>{},
                  std::string{"127.0.0.1"}, false)
        .receive([&](uint16_t p) { port = p; }, [&](caf::error& err) { FAIL(a.sys->render(err)); });
  }
  REQUIRE(port != 0);
  auto before = cluster::refused_connections();
  std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(64, 'x');
  CHECK(send_and_wait_for_close(port, http));
  CHECK(send_and_wait_for_close(port, std::string(40, '\0')));
  CHECK(send_and_wait_for_close(port, ""));
  CHECK(testing::eventually([&] { return cluster::refused_connections() >= before + 3; }, 10s));

  // The node survived and serves a real peer.
  cluster_system b;
  auto remote = b.sys->middleman().remote_actor("127.0.0.1", port);
  REQUIRE(remote);
  caf::scoped_actor self{*b.sys};
  int answer = 0;
  self->request(*remote, 10s, 21)
      .receive([&](int x) { answer = x; }, [&](caf::error& err) { FAIL(b.sys->render(err)); });
  CHECK(answer == 42);
  CHECK(cluster::refused_connections() == before + 3);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(mm, caf::exit_reason::user_shutdown);
}
