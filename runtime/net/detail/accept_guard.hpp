// SPDX-License-Identifier: Apache-2.0
#pragma once
// What a listener does about failing accepts, so that running out of file descriptors
// neither spins the acceptor nor floods the log: classifies the error, counts it in
// herald_net_accept_errors_total{server,reason}, logs at most one line per log_interval (with
// how many were suppressed), computes the backoff before the next accept, and keeps a spare
// descriptor (/dev/null) to give up when the process is out of them, so that the waiting
// connection can still be accepted (and refused or served) instead of hanging.
// Owner: the http_server state. failed()/succeeded() run on the acceptor's strand only; the
// spare's and recent_failure() may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "runtime/metrics/metrics.hpp"

namespace spdlog {
class logger;
}

namespace herald::net::detail {

enum class accept_failure : int {
  none,
  emfile,   ///< the process is out of descriptors
  enfile,   ///< the system is out of descriptors
  enobufs,  ///< out of socket buffers
  enomem,   ///< out of kernel memory
  other,    ///< a per-connection error (e.g. ECONNABORTED): retried at once
};

std::string_view to_string(accept_failure f);  ///< "EMFILE", ...
accept_failure classify(const boost::system::error_code& ec);

class accept_guard {
public:
  static constexpr std::chrono::milliseconds min_backoff{1};
  static constexpr std::chrono::milliseconds max_backoff{100};
  static constexpr std::chrono::seconds log_interval{10};

  accept_guard(std::string server, std::shared_ptr<spdlog::logger> log);
  ~accept_guard();
  accept_guard(const accept_guard&) = delete;
  accept_guard& operator=(const accept_guard&) = delete;

  /// Records a failed accept (count, throttled log line, readiness) and returns how long to
  /// wait before accepting again: zero for per-connection errors, else an exponential backoff
  /// from min_backoff to max_backoff while the failures go on.
  std::chrono::milliseconds failed(const boost::system::error_code& ec);
  /// An accept succeeded: the backoff starts over; the spare is taken back if it was given up.
  void succeeded();

  /// Opens the spare descriptor if it is not held; false if that failed (no descriptor free).
  /// Called right after a connection served on the spare closed, it takes that number back.
  bool hold_spare();
  /// Closes the spare so its descriptor number is free for one accept; false if none was held.
  bool give_up_spare();

  /// The kind of the last resource failure if it happened within `window`, else none.
  accept_failure recent_failure(std::chrono::steady_clock::duration window) const;

private:
  std::string server_;
  std::shared_ptr<spdlog::logger> log_;
  std::atomic<int> spare_fd_{-1};
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point next_log_{};
  uint64_t suppressed_ = 0;
  std::atomic<int64_t> last_failure_ns_{0};
  std::atomic<int> last_failure_{static_cast<int>(accept_failure::none)};
};

}  // namespace herald::net::detail
