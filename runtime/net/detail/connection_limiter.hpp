// SPDX-License-Identifier: Apache-2.0
#pragma once
// Counts a listener's open connections, in all and per client IP, against
// server_options::max_connections and max_connections_per_ip. Owned by the http_server state;
// admit() runs on the acceptor's strand, slots are released from any io thread.
// Invariant: every admitted connection holds exactly one slot until its socket is closed, so
// open() is the number of descriptors the listener's connections hold.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/ip/address.hpp>

#include "runtime/metrics/metrics.hpp"

namespace herald::net::detail {

class connection_limiter;

/// One admitted connection's place; move-only, gives it back on destruction or release().
class connection_slot {
public:
  connection_slot() = default;
  connection_slot(std::shared_ptr<connection_limiter> owner, boost::asio::ip::address ip);
  connection_slot(connection_slot&& other) noexcept;
  connection_slot& operator=(connection_slot&& other) noexcept;
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;
  ~connection_slot();
  void release();

private:
  std::shared_ptr<connection_limiter> owner_;
  boost::asio::ip::address ip_;
};

class connection_limiter : public std::enable_shared_from_this<connection_limiter> {
public:
  enum class verdict { admitted, over_total, over_per_ip };

  /// 0 means no limit. `server` labels herald_net_connections.
  connection_limiter(size_t max_total, size_t max_per_ip, const std::string& server);

  /// Takes a slot for a connection from `ip` into `out`, or says which limit refuses it.
  /// IPv4-mapped IPv6 addresses count as their IPv4 address.
  verdict admit(boost::asio::ip::address ip, connection_slot& out);

  size_t open() const;
  /// True while max_connections (if any) is reached.
  bool at_capacity() const;

private:
  friend class connection_slot;
  void release(const boost::asio::ip::address& ip);

  const size_t max_total_;
  const size_t max_per_ip_;
  metrics::gauge& open_gauge_;
  mutable std::mutex mutex_;
  size_t total_ = 0;                                   // guarded
  std::map<boost::asio::ip::address, size_t> per_ip_;  // guarded; only with a per-IP limit
};

}  // namespace herald::net::detail
