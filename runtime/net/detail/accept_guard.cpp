// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/detail/accept_guard.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <spdlog/spdlog.h>
#include <boost/asio/error.hpp>

namespace herald::net::detail {

std::string_view to_string(accept_failure f) {
  switch (f) {
    case accept_failure::none:
      return "none";
    case accept_failure::emfile:
      return "EMFILE";
    case accept_failure::enfile:
      return "ENFILE";
    case accept_failure::enobufs:
      return "ENOBUFS";
    case accept_failure::enomem:
      return "ENOMEM";
    case accept_failure::other:
      return "other";
  }
  return "other";
}

accept_failure classify(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) {
    return accept_failure::other;
  }
  switch (ec.value()) {
    case EMFILE:
      return accept_failure::emfile;
    case ENFILE:
      return accept_failure::enfile;
    case ENOBUFS:
      return accept_failure::enobufs;
    case ENOMEM:
      return accept_failure::enomem;
    default:
      return accept_failure::other;
  }
}

namespace {

metrics::counter& errors_counter(const std::string& server, accept_failure f) {
  std::string reason{to_string(f)};
  std::transform(reason.begin(), reason.end(), reason.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return metrics::registry::global().get_counter("herald_net_accept_errors_total",
                                                 "Failed accepts of a listener, by errno.",
                                                 {{"server", server}, {"reason", reason}});
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

accept_guard::accept_guard(std::string server, std::shared_ptr<spdlog::logger> log)
    : server_(std::move(server)), log_(std::move(log)) {}

accept_guard::~accept_guard() {
  give_up_spare();
}

std::chrono::milliseconds accept_guard::failed(const boost::system::error_code& ec) {
  accept_failure kind = classify(ec);
  // Registry lookups only on failures; the metric exists from the first one on.
  errors_counter(server_, kind).inc();
  auto now = std::chrono::steady_clock::now();
  if (now >= next_log_) {
    if (suppressed_ > 0) {
      log_->warn("{}: accept failed: {} ({} more failed accepts in the last {} s not logged)",
                 server_, ec.message(), suppressed_, log_interval.count());
    } else {
      log_->warn("{}: accept failed: {}", server_, ec.message());
    }
    suppressed_ = 0;
    next_log_ = now + log_interval;
  } else {
    ++suppressed_;
  }
  if (kind == accept_failure::other) {
    return std::chrono::milliseconds{0};
  }
  last_failure_.store(static_cast<int>(kind), std::memory_order_relaxed);
  last_failure_ns_.store(now_ns(), std::memory_order_relaxed);
  backoff_ = backoff_.count() == 0 ? min_backoff : std::min(backoff_ * 2, max_backoff);
  return backoff_;
}

void accept_guard::succeeded() {
  backoff_ = std::chrono::milliseconds{0};
  hold_spare();
}

bool accept_guard::hold_spare() {
  if (spare_fd_.load() >= 0) {
    return true;
  }
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  int expected = -1;
  if (!spare_fd_.compare_exchange_strong(expected, fd)) {
    ::close(fd);  // another thread took one meanwhile
  }
  return true;
}

bool accept_guard::give_up_spare() {
  int fd = spare_fd_.exchange(-1);
  if (fd < 0) {
    return false;
  }
  ::close(fd);
  return true;
}

accept_failure accept_guard::recent_failure(std::chrono::steady_clock::duration window) const {
  int64_t at = last_failure_ns_.load(std::memory_order_relaxed);
  if (at == 0 ||
      now_ns() - at > std::chrono::duration_cast<std::chrono::nanoseconds>(window).count()) {
    return accept_failure::none;
  }
  return static_cast<accept_failure>(last_failure_.load(std::memory_order_relaxed));
}

}  // namespace herald::net::detail
