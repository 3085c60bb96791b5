// SPDX-License-Identifier: Apache-2.0
#include "actors/feature/feature_wire.hpp"

#include <utility>

namespace herald::feature::feature_wire {

namespace {

const char* calls_help =
    "Feature REST calls and message decorations forwarded to the owner of their guild (out) or "
    "received from another node as the owner (in)";

}  // namespace

std::string refusal_of(const call_request& x) {
  if (x.feature.empty() || x.method.empty() || x.route.empty()) {
    return "call without a feature, method or route";
  }
  if (x.guild_id == 0) {
    return "call for " + x.method + " " + x.route + " without a guild";
  }
  if (x.params.size() % 2 != 0) {
    return "call for " + x.method + " " + x.route + " with an odd path parameter list";
  }
  return {};
}

std::string refusal_of(const decorate_request& x) {
  if (x.feature.empty() || x.guild_id == 0 || x.channel_id == 0) {
    return "decoration without a feature, guild or channel";
  }
  if (x.message_ids.size() > max_decorated_messages) {
    return "decoration of " + std::to_string(x.message_ids.size()) + " messages";
  }
  return {};
}

call_request to_wire(std::string feature, std::string method, std::string route, uint64_t guild_id,
                     uint64_t user_id,
                     const std::vector<std::pair<std::string, std::string>>& params,
                     std::string query, std::string body) {
  call_request out{std::move(feature), std::move(method), std::move(route), guild_id, user_id, {},
                   std::move(query),   std::move(body)};
  out.params.reserve(params.size() * 2);
  for (const auto& [name, value] : params) {
    out.params.push_back(name);
    out.params.push_back(value);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> params_of(const call_request& x) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i + 1 < x.params.size(); i += 2) {
    out.emplace_back(x.params[i], x.params[i + 1]);
  }
  return out;
}

call_reply to_wire(const net::http_response& r) {
  call_reply out;
  out.status = static_cast<uint16_t>(r.status);
  out.content_type = r.content_type;
  out.body = r.body;
  for (const auto& [name, value] : r.headers) {
    out.headers.push_back(name);
    out.headers.push_back(value);
  }
  return out;
}

net::http_response from_wire(call_reply r) {
  net::http_response out;
  out.status = r.status;
  out.content_type = std::move(r.content_type);
  out.body = std::move(r.body);
  for (size_t i = 0; i + 1 < r.headers.size(); i += 2) {
    out.headers.emplace_back(std::move(r.headers[i]), std::move(r.headers[i + 1]));
  }
  return out;
}

metrics::counter& calls_counter(bool out) {
  static auto& sent = metrics::registry::global().get_counter("herald_cluster_feature_calls_total",
                                                              calls_help, {{"direction", "out"}});
  static auto& received = metrics::registry::global().get_counter(
      "herald_cluster_feature_calls_total", calls_help, {{"direction", "in"}});
  return out ? sent : received;
}

metrics::counter& failures_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_cluster_feature_call_failures_total",
      "Forwarded feature calls and decorations that got no answer from the owner of their guild "
      "(not connected, no front door there, refused, no answer within the request timeout)");
  return c;
}

metrics::counter& refused_counter() {
  static auto& c = metrics::registry::global().get_counter(
      "herald_cluster_feature_refused_total",
      "Malformed forwarded feature calls and decorations this node's front door refused");
  return c;
}

void announce_feature_wire_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<call_request>("herald.feature.call_request.v1");
  cfg.add_message_type<call_reply>("herald.feature.call_reply.v1");
  cfg.add_message_type<decorate_request>("herald.feature.decorate_request.v1");
  cfg.add_message_type<decorate_reply>("herald.feature.decorate_reply.v1");
}

}  // namespace herald::feature::feature_wire
