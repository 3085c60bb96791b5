// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/detail/connection_limiter.hpp"

#include <utility>

namespace herald::net::detail {

namespace ip = boost::asio::ip;

connection_slot::connection_slot(std::shared_ptr<connection_limiter> owner, ip::address ip)
    : owner_(std::move(owner)), ip_(std::move(ip)) {}

connection_slot::connection_slot(connection_slot&& other) noexcept
    : owner_(std::move(other.owner_)), ip_(other.ip_) {}

connection_slot& connection_slot::operator=(connection_slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::move(other.owner_);
    ip_ = other.ip_;
  }
  return *this;
}

connection_slot::~connection_slot() {
  release();
}

void connection_slot::release() {
  if (owner_) {
    owner_->release(ip_);
    owner_.reset();
  }
}

connection_limiter::connection_limiter(size_t max_total, size_t max_per_ip,
                                       const std::string& server)
    : max_total_(max_total),
      max_per_ip_(max_per_ip),
      open_gauge_(metrics::registry::global().get_gauge(
          "herald_net_connections", "Open connections of a listener (counted against its limits).",
          {{"server", server}})) {}

connection_limiter::verdict connection_limiter::admit(ip::address ip, connection_slot& out) {
  if (ip.is_v6() && ip.to_v6().is_v4_mapped()) {
    ip = ip.to_v6().to_v4();  // one client, whichever socket family accepted it
  }
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (max_total_ != 0 && total_ >= max_total_) {
      return verdict::over_total;
    }
    if (max_per_ip_ != 0) {
      size_t& n = per_ip_[ip];
      if (n >= max_per_ip_) {
        return verdict::over_per_ip;
      }
      ++n;
    }
    ++total_;
  }
  open_gauge_.add();
  out = connection_slot{shared_from_this(), std::move(ip)};
  return verdict::admitted;
}

size_t connection_limiter::open() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return total_;
}

bool connection_limiter::at_capacity() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return max_total_ != 0 && total_ >= max_total_;
}

void connection_limiter::release(const ip::address& ip) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    --total_;
    if (max_per_ip_ != 0) {
      auto it = per_ip_.find(ip);
      if (it != per_ip_.end() && --it->second == 0) {
        per_ip_.erase(it);
      }
    }
  }
  open_gauge_.sub();
}

}  // namespace herald::net::detail
