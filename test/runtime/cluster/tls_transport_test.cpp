// SPDX-License-Identifier: Apache-2.0
// The cluster transport over mutual TLS, real actor systems on loopback sockets: peers with
// certificates of the cluster CA talk; a peer with another CA's certificate, a plaintext CAF
// peer, garbage and a silent client are dropped and counted, and the port keeps serving.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/cluster/transport.hpp"
#include "test/support/cluster_ca.hpp"
#include "test/support/eventually.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

cluster::settings tls_settings(const testing::cluster_tls_files& f) {
  cluster::settings s;
  s.tls_ca_file = f.ca_file;
  s.tls_cert_file = f.cert_file;
  s.tls_key_file = f.key_file;
  s.handshake_timeout = 300ms;
  return s;
}

/// An actor system configured like a clustered node, with herald's guarded middleman actor.
struct node_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::io::middleman_actor mm;
  explicit node_system(const cluster::settings& s) {
    cluster::configure_actor_system(cfg, s);
    sys = std::make_unique<caf::actor_system>(cfg);
    mm = cluster::spawn_guarded_middleman(*sys, s);
  }
  ~node_system() { caf::anon_send_exit(mm, caf::exit_reason::user_shutdown); }

  uint16_t publish(const caf::actor& a) {
    uint16_t port = 0;
    caf::scoped_actor self{*sys};
    self->request(mm, 10s, caf::publish_atom::value, uint16_t{0},
                  caf::actor_cast<caf::strong_actor_ptr>(a), std::set<std::string>{},
                  std::string{"127.0.0.1"}, false)
        .receive([&](uint16_t p) { port = p; }, [&](caf::error& err) { FAIL(sys->render(err)); });
    return port;
  }

  /// Asks the actor published on `port` to double 21; 0 if the connection was refused.
  int ask_double(uint16_t port) {
    caf::scoped_actor self{*sys};
    caf::actor remote;
    self->request(mm, 10s, caf::connect_atom::value, std::string{"127.0.0.1"}, port)
        .receive([&](const caf::node_id&, caf::strong_actor_ptr& ptr,
                     const std::set<std::string>&) { remote = caf::actor_cast<caf::actor>(ptr); },
                 [&](caf::error&) {});
    if (!remote) {
      return 0;
    }
    int answer = 0;
    self->request(remote, 10s, 21).receive([&](int x) { answer = x; }, [&](caf::error&) {});
    return answer;
  }
};

caf::behavior doubler(caf::event_based_actor*) {
  return {[](int x) { return 2 * x; }};
}

int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/// Sends `bytes` (nothing: stays silent) and reads until the node closes the connection; false
/// if it was still open after 5 s without data.
bool node_closes_after(uint16_t port, const std::string& bytes) {
  int fd = connect_loopback(port);
  if (fd < 0) {
    return false;
  }
  if (!bytes.empty()) {
    (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  char buf[512];
  bool closed = false;
  for (int i = 0; i < 100; ++i) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = n == 0 || errno == ECONNRESET;
      break;
    }
  }
  ::close(fd);
  return closed;
}

}  // namespace

TEST_CASE("nodes_with_certificates_of_the_cluster_ca_talk_over_mutual_tls") {
  testing::cluster_ca ca;
  node_system a{tls_settings(ca.issue("na"))};
  node_system b{tls_settings(ca.issue("nb"))};
  auto worker = a.sys->spawn(doubler);
  auto port = a.publish(worker);
  REQUIRE(port != 0);
  auto before = cluster::refused_connections();
  CHECK(b.ask_double(port) == 42);
  CHECK(cluster::refused_connections() == before);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

TEST_CASE("peers_without_a_certificate_of_the_cluster_ca_are_refused_in_both_directions") {
  testing::cluster_ca ca;
  testing::cluster_ca other{"another CA"};
  node_system a{tls_settings(ca.issue("na"))};
  auto worker = a.sys->spawn(doubler);
  auto port = a.publish(worker);
  REQUIRE(port != 0);

  // A node of another CA dialling in: a's handshake fails, counted.
  auto before = cluster::refused_connections();
  node_system foreign{tls_settings(other.issue("nx"))};
  CHECK(foreign.ask_double(port) == 0);
  CHECK(testing::eventually([&] { return cluster::refused_connections() >= before + 1; }, 10s));

  // A certificate of the cluster CA but trusting another CA (or a peer presenting another CA's
  // certificate): the dialling side refuses too, so a rogue listener gets no cluster traffic.
  auto mixed_files = ca.issue("nm");
  mixed_files.ca_file = other.ca_file();
  node_system mixed{tls_settings(mixed_files)};
  CHECK(mixed.ask_double(port) == 0);

  // A plaintext CAF node (no TLS): its BASP handshake is no TLS hello, counted.
  before = cluster::refused_connections();
  cluster::settings plain;
  node_system p{plain};
  CHECK(p.ask_double(port) == 0);
  CHECK(testing::eventually([&] { return cluster::refused_connections() >= before + 1; }, 10s));

  // The port still serves the cluster.
  node_system b{tls_settings(ca.issue("nb"))};
  CHECK(b.ask_double(port) == 42);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

TEST_CASE("garbage_and_a_silent_client_on_the_tls_cluster_port_are_dropped_and_counted") {
  testing::cluster_ca ca;
  node_system a{tls_settings(ca.issue("na"))};
  auto worker = a.sys->spawn(doubler);
  auto port = a.publish(worker);
  REQUIRE(port != 0);
  auto before = cluster::refused_connections();
  CHECK(node_closes_after(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(64, 'x')));
  CHECK(testing::eventually([&] { return cluster::refused_connections() >= before + 1; }, 10s));
  // Silent: dropped at the handshake deadline (300 ms here).
  CHECK(node_closes_after(port, ""));
  CHECK(testing::eventually([&] { return cluster::refused_connections() >= before + 2; }, 10s));
  node_system b{tls_settings(ca.issue("nb"))};
  CHECK(b.ask_double(port) == 42);
  CHECK(cluster::refused_connections() == before + 2);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

TEST_CASE("a_silent_client_on_the_plaintext_cluster_port_is_dropped_at_the_handshake_deadline") {
  cluster::settings s;
  s.handshake_timeout = 300ms;
  node_system a{s};
  auto worker = a.sys->spawn(doubler);
  auto port = a.publish(worker);
  REQUIRE(port != 0);
  auto before = cluster::refused_connections();
  CHECK(node_closes_after(port, ""));
  CHECK(testing::eventually([&] { return cluster::refused_connections() >= before + 1; }, 10s));
  node_system b{cluster::settings{}};
  CHECK(b.ask_double(port) == 42);
  CHECK(cluster::refused_connections() == before + 1);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

// A failed handshake once left OpenSSL errors on the multiplexer thread that made the next read
// of a healthy TLS link fail (see tls_policy): the link to b dropped with every refused peer.
TEST_CASE("a_refused_tls_peer_leaves_the_open_links_of_the_cluster_port_alone") {
  testing::cluster_ca ca;
  testing::cluster_ca other{"another CA"};
  node_system a{tls_settings(ca.issue("na"))};
  auto worker = a.sys->spawn(doubler);
  auto port = a.publish(worker);
  REQUIRE(port != 0);
  node_system b{tls_settings(ca.issue("nb"))};
  caf::scoped_actor self{*b.sys};
  caf::actor remote;
  self->request(b.mm, 10s, caf::connect_atom::value, std::string{"127.0.0.1"}, port)
      .receive([&](const caf::node_id&, caf::strong_actor_ptr& ptr,
                   const std::set<std::string>&) { remote = caf::actor_cast<caf::actor>(ptr); },
               [&](caf::error& err) { FAIL(b.sys->render(err)); });
  REQUIRE(remote);
  self->monitor(remote);
  for (int i = 0; i < 3; ++i) {
    node_system foreign{tls_settings(other.issue("nx" + std::to_string(i)))};
    CHECK(foreign.ask_double(port) == 0);
    CHECK(node_closes_after(port, "GET / HTTP/1.1\r\n\r\n"));
  }
  int answer = 0;
  self->request(remote, 10s, 21).receive([&](int x) { answer = x; }, [&](caf::error&) {});
  CHECK(answer == 42);
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; },
                caf::after(std::chrono::milliseconds{200}) >> [] {});
  CHECK_FALSE(down);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}
