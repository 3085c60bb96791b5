// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/transport.hpp"

#include <atomic>

#include <caf/binary_deserializer.hpp>
#include <caf/io/basp/header.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor_impl.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/scribe_impl.hpp>

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

/// An accepted connection: judges its first chunk (BASP reads exactly one header first).
/// Owned by the BASP broker; runs on the multiplexer thread.
class guarded_scribe : public caf::io::network::scribe_impl {
public:
  using scribe_impl::scribe_impl;

  ~guarded_scribe() override {
    if (!judged_) {
      // Closed before it sent a whole header: a probe, a port scan, a client that gave up.
      refused.fetch_add(1, std::memory_order_relaxed);
    }
  }

  bool consume(caf::execution_unit* ctx, const void* buf, size_t n) override {
    if (!judged_) {
      judged_ = true;
      if (!is_client_handshake(ctx, buf, n)) {
        refused.fetch_add(1, std::memory_order_relaxed);
        log::get("cluster")->warn(
            "cluster port: dropped a connection from {}:{} that did not "
            "open with a cluster handshake",
            addr(), port());
        // BASP closes the connection on the invalid header it is about to read.
      }
    }
    return scribe_impl::consume(ctx, buf, n);
  }

private:
  bool judged_ = false;
};

/// CAF's acceptor, handing each connection to a guarded_scribe.
class guarded_doorman : public caf::io::network::doorman_impl {
public:
  using doorman_impl::doorman_impl;

  bool new_connection() override {
    if (detached()) {
      return false;  // the broker let go of us while the multiplexer still polled the socket
    }
    auto& mpx = acceptor_.backend();
    auto fd = acceptor_.accepted_socket();
    caf::io::network::keepalive(fd, true);
    auto scribe = caf::make_counted<guarded_scribe>(mpx, fd);
    auto hdl = scribe->hdl();
    parent()->add_scribe(std::move(scribe));
    return doorman::new_connection(&mpx, hdl);
  }
};

class guarded_middleman_actor : public caf::io::middleman_actor_impl {
public:
  using middleman_actor_impl::middleman_actor_impl;

  const char* name() const override { return "herald.cluster.middleman"; }

protected:
  caf::expected<caf::io::doorman_ptr> open(uint16_t port, const char* addr, bool reuse) override {
    auto fd = caf::io::network::new_tcp_acceptor_impl(port, addr, reuse);
    if (!fd) {
      return std::move(fd.error());
    }
    auto& mpx = static_cast<caf::io::network::default_multiplexer&>(system().middleman().backend());
    return caf::make_counted<guarded_doorman>(mpx, *fd);
  }
};

}  // namespace

void configure_actor_system(caf::actor_system_config& cfg, const settings& s) {
  cfg.load<caf::io::middleman>();
  wire::announce_wire_types(cfg);
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{std::chrono::duration_cast<caf::timespan>(s.heartbeat_interval)});
  cfg.set("middleman.connection-timeout",
          caf::timespan{std::chrono::duration_cast<caf::timespan>(s.connection_timeout)});
}

caf::io::middleman_actor spawn_guarded_middleman(caf::actor_system& sys) {
  auto basp = sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  return sys.spawn<guarded_middleman_actor, caf::detached + caf::hidden>(std::move(basp));
}

uint64_t refused_connections() noexcept {
  return refused.load(std::memory_order_relaxed);
}

}  // namespace herald::cluster
