// SPDX-License-Identifier: Apache-2.0
#include "actors/gateway/gateway_server.hpp"

#include <string>

#include "actors/gateway/detail/gateway_context.hpp"
#include "actors/gateway/gateway_connection.hpp"

namespace herald::gateway {

namespace detail {

namespace {
metrics::registry& reg() {
  return metrics::registry::global();
}
}  // namespace

gateway_metrics::gateway_metrics()
    : connections(reg().get_gauge("herald_gateway_connections", "Open gateway connections")),
      identifies(reg().get_counter("herald_gateway_identifies_total",
                                   "Identify payloads that passed validation and authentication")),
      resumes_ok(reg().get_counter("herald_gateway_resumes_total", "Resume attempts by result",
                                   {{"result", "ok"}})),
      resumes_failed(reg().get_counter("herald_gateway_resumes_total", "Resume attempts by result",
                                       {{"result", "failed"}})),
      resumes_migrated(reg().get_counter("herald_gateway_resumes_total",
                                         "Resume attempts by result", {{"result", "migrated"}})),
      frames_sent(reg().get_counter("herald_gateway_frames_sent_total",
                                    "Frames sent to gateway clients (dispatch and control)")),
      frames_received(reg().get_counter("herald_gateway_frames_received_total",
                                        "Text messages received from gateway clients")) {}

void gateway_metrics::closed(uint16_t code) {
  reg()
      .get_counter("herald_gateway_closes_total", "Connections the server closed, by close code",
                   {{"code", std::to_string(code)}})
      .inc();
}

void gateway_metrics::inbound(inbound_error e) {
  reg()
      .get_counter("herald_gateway_inbound_errors_total", "Refused client input, by kind",
                   {{"kind", std::string{to_string(e)}}})
      .inc();
}

void gateway_context::claim(uint64_t session_id, const std::shared_ptr<gateway_connection>& conn) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& owner = owners_[session_id];
  if (auto old = owner.lock(); old && old != conn) {
    old->release_session();  // stops its collecting before the new connection attaches
  }
  owner = conn;
}

void gateway_context::disown(uint64_t session_id, const gateway_connection* conn) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = owners_.find(session_id);
  if (it == owners_.end()) {
    return;
  }
  auto owner = it->second.lock();
  if (!owner || owner.get() == conn) {
    owners_.erase(it);
  }
}

void gateway_context::add(const std::shared_ptr<gateway_connection>& conn) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (connections_.emplace(conn->id(), conn).second) {
    stats.connections.add(1);
  }
}

void gateway_context::remove(uint64_t connection_id) {
  std::shared_ptr<gateway_connection> gone;  // destroyed outside the lock
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = connections_.find(connection_id);
  if (it != connections_.end()) {
    gone = std::move(it->second);
    connections_.erase(it);
    stats.connections.sub(1);
  }
}

std::vector<std::shared_ptr<gateway_connection>> gateway_context::snapshot() const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<std::shared_ptr<gateway_connection>> out;
  out.reserve(connections_.size());
  for (const auto& [id, conn] : connections_) {
    out.push_back(conn);
  }
  return out;
}

size_t gateway_context::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return connections_.size();
}

}  // namespace detail

gateway_server::gateway_server(dispatch::services_ptr svc, gateway_options opts,
                               authenticator authenticate)
    : ctx_(std::make_shared<detail::gateway_context>(std::move(svc), std::move(opts),
                                                     std::move(authenticate))) {}

gateway_server::~gateway_server() = default;

void gateway_server::accept(net::ws_connection_ptr conn) {
  auto c = std::make_shared<gateway_connection>(ctx_, std::move(conn));
  ctx_->add(c);
  c->start();
  if (ctx_->draining.load()) {
    c->drain();
  }
}

void gateway_server::revoke_user(uint64_t user_id) {
  for (const auto& c : ctx_->snapshot()) {
    c->revoke_user(user_id);
  }
}

void gateway_server::drain() {
  ctx_->draining.store(true);
  for (auto& c : ctx_->snapshot()) {
    c->drain();
  }
}

size_t gateway_server::drain_some(size_t max) {
  size_t told = 0;
  for (auto& c : ctx_->snapshot()) {
    if (told == max) {
      break;
    }
    if (!c->told_to_drain()) {
      c->drain();
      ++told;
    }
  }
  return told;
}

identify_budget gateway_server::identify_budget_of(uint64_t user_id) const {
  return ctx_->identify_budget.budget_of(user_id);
}

size_t gateway_server::connections() const {
  return ctx_->size();
}

const gateway_options& gateway_server::options() const {
  return ctx_->opts;
}

}  // namespace herald::gateway
