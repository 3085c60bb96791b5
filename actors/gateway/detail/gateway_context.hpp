// SPDX-License-Identifier: Apache-2.0
#pragma once
// State shared by one gateway_server and its connections: services, options, the
// authenticator, the live connection set, which connection owns which session, and metrics.
// Created by gateway_server; any thread, guarded by mutex_.
// Invariant: a session id maps to at most one connection (the one attached to its output).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "actors/gateway/close_codes.hpp"
#include "actors/gateway/detail/ready_queue.hpp"
#include "actors/gateway/gateway_options.hpp"
#include "actors/services/services.hpp"
#include "runtime/metrics/limit_refusals.hpp"
#include "runtime/metrics/metrics.hpp"

namespace herald::gateway {
class gateway_connection;
}

namespace herald::gateway::detail {

using authenticator = std::function<std::optional<uint64_t>(std::string_view token)>;

struct gateway_metrics {
  metrics::gauge& connections;
  metrics::counter& identifies;
  metrics::counter& resumes_ok;
  metrics::counter& resumes_failed;
  metrics::counter& resumes_migrated;  ///< resumed with a session taken over from another node
  metrics::counter& frames_sent;
  metrics::counter& frames_received;

  gateway_metrics();
  void closed(uint16_t code);
  void inbound(inbound_error e);
};

struct gateway_context {
  gateway_context(dispatch::services_ptr s, gateway_options o, authenticator a)
      : svc(std::move(s)),
        opts(std::move(o)),
        authenticate(std::move(a)),
        ready(std::make_shared<ready_queue>(opts.flush_delay, opts.io_threads == 1)),
        identify_budget(opts.identify_limits) {}

  const dispatch::services_ptr svc;
  const gateway_options opts;
  const authenticator authenticate;
  /// Connections with frames ready, written in batches (see ready_queue).
  const std::shared_ptr<ready_queue> ready;
  gateway_metrics stats;
  std::atomic<bool> draining{false};
  /// Identifies per user (any io thread; GET /gateway/bot reads it through gateway_server).
  identify_limiter identify_budget;
  /// herald_limit_refusals_total{limit="identify_rate"}.
  metrics::counter& identify_refusals = metrics::limit_refusal_counter("identify_rate");

  /// Makes `conn` the owner of `session_id`; a previous live owner is released first
  /// (release_session: detached and closed), so two connections never collect one buffer.
  void claim(uint64_t session_id, const std::shared_ptr<gateway_connection>& conn);
  /// Forgets the ownership if `conn` still holds it.
  void disown(uint64_t session_id, const gateway_connection* conn);

  void add(const std::shared_ptr<gateway_connection>& conn);
  void remove(uint64_t connection_id);
  std::vector<std::shared_ptr<gateway_connection>> snapshot() const;
  size_t size() const;

private:
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, std::shared_ptr<gateway_connection>> connections_;
  std::unordered_map<uint64_t, std::weak_ptr<gateway_connection>> owners_;
};

}  // namespace herald::gateway::detail
