// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/transport.hpp"

#include <sys/socket.h>

#include <atomic>
#include <memory>

#include <caf/binary_deserializer.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/basp/header.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor_impl.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/operation.hpp>
#include <caf/io/network/scribe_impl.hpp>
#include <caf/openssl/manager.hpp>

#include "runtime/cluster/tls_scribe.hpp"
#include "runtime/cluster/wire.hpp"
#include "runtime/log/log.hpp"

namespace herald::cluster {

namespace {

std::atomic<uint64_t> refused{0};

/// True if `buf` is a valid BASP header announcing a client handshake: what the first bytes of
/// a herald (CAF) node connecting to this port are.
bool is_client_handshake(caf::execution_unit* ctx, const void* buf, size_t n) {
  if (n != caf::io::basp::header_size) {
    return false;
  }
  caf::binary_deserializer source{ctx, static_cast<const char*>(buf), n};
  caf::io::basp::header hdr;
  if (auto err = source(hdr)) {
    return false;
  }
  return caf::io::basp::valid(hdr) &&
         hdr.operation == caf::io::basp::message_type::client_handshake;
}

/// What every accepted connection is judged by, whatever carries its bytes.
class handshake_judge {
public:
  virtual ~handshake_judge() = default;
  /// The handshake deadline passed: drop the connection unless it was judged. Multiplexer thread.
  virtual void deadline_passed(caf::execution_unit* ctx) = 0;
};

/// The handshake deadline's way back to a scribe that may be gone by then: the scribe clears
/// `live` in its destructor. Read and written on the multiplexer thread only.
struct deadline_link {
  handshake_judge* live = nullptr;
};

/// An accepted connection (plain: CAF's scribe_impl; TLS: tls_scribe) that must open with a
/// BASP client handshake header (BASP reads exactly one header first) before the handshake
/// deadline. A connection that closes, fails its TLS handshake, sends anything else or stays
/// silent is counted once in `refused`. Owned by the BASP broker; runs on the multiplexer thread.
template <class Scribe>
class guarded_scribe final : public Scribe, public handshake_judge {
public:
  template <class... Ts>
  explicit guarded_scribe(Ts&&... xs)
      : Scribe(std::forward<Ts>(xs)...), link_(std::make_shared<deadline_link>()) {
    link_->live = this;
  }

  ~guarded_scribe() override {
    link_->live = nullptr;
    if (!judged_) {
      refused.fetch_add(1, std::memory_order_relaxed);  // still pending when BASP let go of it
    }
  }

  const std::shared_ptr<deadline_link>& link() const noexcept { return link_; }

  bool consume(caf::execution_unit* ctx, const void* buf, size_t n) override {
    if (!judged_ && !is_client_handshake(ctx, buf, n)) {
      refuse("did not open with a cluster handshake");
      // BASP closes the connection on the invalid header it is about to read.
    }
    judged_ = true;
    return Scribe::consume(ctx, buf, n);
  }

  void deadline_passed(caf::execution_unit* ctx) override {
    if (judged_ || this->detached()) {
      return;
    }
    refuse("sent no cluster handshake within cluster.handshake_timeout_ms");
    // As if the socket failed: BASP forgets the connection (dropping its reference to us), the
    // stream leaves the loop. `keep` holds us alive until io_failure has returned.
    caf::io::scribe_ptr keep{this};
    this->io_failure(ctx, caf::io::network::operation::read);
    // A TLS stream still waits to write BASP's server handshake through the unfinished TLS
    // handshake; shutting the socket down fails that write, so the multiplexer lets go of the
    // stream and the descriptor is closed.
    ::shutdown(this->stream_.fd(), SHUT_RDWR);
  }

protected:
  caf::message detach_message() override {
    // Reached through io_failure only: the peer closed, reset or failed the TLS handshake.
    if (!judged_) {
      refuse("closed or failed before a cluster handshake");
    }
    return Scribe::detach_message();
  }

private:
  void refuse(const char* why) {
    judged_ = true;
    refused.fetch_add(1, std::memory_order_relaxed);
    log::get("cluster")->warn("cluster port: dropped a connection from {}:{} that {}", this->addr(),
                              this->port(), why);
  }

  bool judged_ = false;
  std::shared_ptr<deadline_link> link_;
};

/// Closes an unjudged connection when `timeout` has passed, through a short-lived hidden actor
/// (no CAF io timer exists for servants); the connection may be gone by then.
void arm_handshake_deadline(caf::actor_system& sys, caf::io::network::default_multiplexer& mpx,
                            std::shared_ptr<deadline_link> link,
                            std::chrono::milliseconds timeout) {
  sys.spawn<caf::hidden>([&mpx, link = std::move(link), timeout](caf::event_based_actor* self) {
    self->delayed_send(self, timeout, caf::timeout_atom::value);
    return caf::behavior{[self, &mpx, link](caf::timeout_atom) {
      mpx.dispatch([link, &mpx] {
        if (link->live != nullptr) {
          link->live->deadline_passed(&mpx);
        }
      });
      self->quit();
    }};
  });
}

/// CAF's acceptor, handing each connection to a guarded scribe, over TLS when `tls`.
class guarded_doorman : public caf::io::network::doorman_impl {
public:
  guarded_doorman(caf::io::network::default_multiplexer& mpx, caf::io::network::native_socket fd,
                  bool tls, std::chrono::milliseconds handshake_timeout)
      : doorman_impl(mpx, fd), tls_(tls), handshake_timeout_(handshake_timeout) {}

  bool new_connection() override {
    if (detached()) {
      return false;  // the broker let go of us while the multiplexer still polled the socket
    }
    auto& mpx = acceptor_.backend();
    auto fd = acceptor_.accepted_socket();
    caf::io::network::keepalive(fd, true);
    caf::io::scribe_ptr scribe;
    std::shared_ptr<deadline_link> link;
    if (tls_) {
      caf::io::network::nonblocking(fd, true);
      auto session = make_tls_session(parent()->system(), fd, true);
      if (!session) {
        refused.fetch_add(1, std::memory_order_relaxed);
        caf::io::network::close_socket(fd);
        return false;
      }
      auto s = caf::make_counted<guarded_scribe<tls_scribe>>(mpx, fd, std::move(session));
      link = s->link();
      scribe = std::move(s);
    } else {
      auto s = caf::make_counted<guarded_scribe<caf::io::network::scribe_impl>>(mpx, fd);
      link = s->link();
      scribe = std::move(s);
    }
    auto hdl = scribe->hdl();
    parent()->add_scribe(std::move(scribe));
    arm_handshake_deadline(parent()->system(), mpx, std::move(link), handshake_timeout_);
    return doorman::new_connection(&mpx, hdl);
  }

private:
  bool tls_;
  std::chrono::milliseconds handshake_timeout_;
};

class guarded_middleman_actor : public caf::io::middleman_actor_impl {
public:
  guarded_middleman_actor(caf::actor_config& cfg, caf::actor basp, bool tls,
                          std::chrono::milliseconds handshake_timeout)
      : middleman_actor_impl(cfg, std::move(basp)),
        tls_(tls),
        handshake_timeout_(handshake_timeout) {}

  const char* name() const override { return "herald.cluster.middleman"; }

protected:
  caf::expected<caf::io::doorman_ptr> open(uint16_t port, const char* addr, bool reuse) override {
    auto fd = caf::io::network::new_tcp_acceptor_impl(port, addr, reuse);
    if (!fd) {
      return std::move(fd.error());
    }
    return caf::make_counted<guarded_doorman>(mpx(), *fd, tls_, handshake_timeout_);
  }

  /// Outgoing connections: CAF's plain TCP, or TLS verifying the peer against the cluster CA.
  caf::expected<caf::io::scribe_ptr> connect(const std::string& host, uint16_t port) override {
    if (!tls_) {
      return middleman_actor_impl::connect(host, port);
    }
    auto fd = caf::io::network::new_tcp_connection(host, port);
    if (!fd) {
      return std::move(fd.error());
    }
    caf::io::network::nonblocking(*fd, true);
    auto session = make_tls_session(system(), *fd, false);
    if (!session) {
      caf::io::network::close_socket(*fd);
      return caf::sec::cannot_connect_to_node;
    }
    return caf::make_counted<tls_scribe>(mpx(), *fd, std::move(session));
  }

private:
  caf::io::network::default_multiplexer& mpx() {
    return static_cast<caf::io::network::default_multiplexer&>(system().middleman().backend());
  }

  bool tls_;
  std::chrono::milliseconds handshake_timeout_;
};

}  // namespace

void configure_actor_system(caf::actor_system_config& cfg, const settings& s) {
  cfg.load<caf::io::middleman>();
  if (s.tls()) {
    // caf-openssl reads these for every session; with a certificate set it verifies peers in
    // both directions and never offers an anonymous cipher.
    cfg.openssl_cafile = s.tls_ca_file;
    cfg.openssl_certificate = s.tls_cert_file;
    cfg.openssl_key = s.tls_key_file;
    cfg.load<caf::openssl::manager>();
  }
  wire::announce_wire_types(cfg);
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{std::chrono::duration_cast<caf::timespan>(s.heartbeat_interval)});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::duration_cast<caf::timespan>(s.connection_timeout)});
}

caf::io::middleman_actor spawn_guarded_middleman(caf::actor_system& sys, const settings& s) {
  if (s.tls()) {
    log::get("cluster")->info("cluster transport: mutual TLS, peers verified against {}",
                              s.tls_ca_file);
  } else {
    log::get("cluster")->warn(
        "cluster transport: plaintext, peers unauthenticated (cluster.allow_plaintext)");
  }
  auto basp = sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  return sys.spawn<guarded_middleman_actor, caf::detached + caf::hidden>(std::move(basp), s.tls(),
                                                                         s.handshake_timeout);
}

uint64_t refused_connections() noexcept {
  return refused.load(std::memory_order_relaxed);
}

}  // namespace herald::cluster
