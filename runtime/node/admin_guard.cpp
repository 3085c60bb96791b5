// SPDX-License-Identifier: Apache-2.0
#include "runtime/node/admin_guard.hpp"

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

#include <boost/asio/ip/address.hpp>

#include "runtime/metrics/metrics.hpp"
#include "runtime/node/admin_token.hpp"
#include "runtime/node/request_error.hpp"

namespace herald::node {

namespace {

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

/// `name` as it appears in a Host header: IPv6 literals in brackets.
std::string host_form(const std::string& name) {
  return name.find(':') != std::string::npos ? "[" + name + "]" : name;
}

/// A refusal of the guard: the admin API's request error, plus the challenge on a 401.
net::http_response refusal(unsigned status, std::string code, std::string message) {
  auto r = error_response(request_error{status, std::move(code), std::move(message)});
  if (status == 401) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"herald-admin\"");
  }
  return r;
}

struct guard_state {
  admin_guard_options opts;
  /// Host names (lower-case, Host form, no port) accepted with the bound port.
  std::vector<std::string> names_on_port;
  /// Exact lower-case Host values from admin.allowed_hosts entries with a port.
  std::vector<std::string> exact_hosts;
  metrics::counter* missing_token = nullptr;
  metrics::counter* wrong_token = nullptr;
  metrics::counter* bad_host = nullptr;
  metrics::counter* content_type = nullptr;

  bool is_open(const std::string& path) const {
    return std::find(opts.open_paths.begin(), opts.open_paths.end(), path) != opts.open_paths.end();
  }

  bool host_accepted(std::string_view host_header) const {
    auto host = lower(trim(host_header));
    if (host.empty()) {
      return false;
    }
    if (std::find(exact_hosts.begin(), exact_hosts.end(), host) != exact_hosts.end()) {
      return true;
    }
    // The port follows the last ':' unless that ':' is inside an IPv6 literal's brackets.
    auto colon = host.rfind(':');
    if (colon == std::string::npos || (host.front() == '[' && host.find(']') > colon)) {
      return false;  // no port: only an explicit allowed_hosts entry could match
    }
    auto name = host.substr(0, colon);
    auto port = host.substr(colon + 1);
    if (port != std::to_string(opts.bound_port())) {
      return false;
    }
    return std::find(names_on_port.begin(), names_on_port.end(), name) != names_on_port.end();
  }

  std::optional<net::http_response> check(const net::http_request& req) const {
    if (is_open(req.path)) {
      return std::nullopt;
    }
    if (!host_accepted(req.header("Host"))) {
      bad_host->inc();
      return refusal(421, "host_not_accepted",
                     "Host header not accepted by the admin API (see admin.allowed_hosts)");
    }
    if (opts.require_token) {
      auto header = req.header("Authorization");
      auto auth = trim(header);
      constexpr std::string_view scheme = "bearer ";
      if (auth.size() <= scheme.size() || lower(auth.substr(0, scheme.size())) != scheme) {
        missing_token->inc();
        return refusal(401, "missing_token",
                       "the admin API needs Authorization: Bearer <admin token>");
      }
      if (!constant_time_equals(trim(auth.substr(scheme.size())), opts.token)) {
        wrong_token->inc();
        return refusal(401, "wrong_token", "wrong admin token");
      }
    }
    auto type = req.header("Content-Type");
    if (!req.body.empty() || !type.empty()) {
      auto media = lower(trim(std::string_view{type}.substr(0, type.find(';'))));
      if (media != "application/json") {
        content_type->inc();
        return refusal(415, "unsupported_media_type",
                       "request bodies must be Content-Type: application/json");
      }
    }
    return std::nullopt;
  }
};

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (lower(host) == "localhost") {
    return true;
  }
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(std::string{host}, ec);
  return !ec && addr.is_loopback();
}

bool is_wildcard_host(std::string_view host) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(std::string{host}, ec);
  return !ec && addr.is_unspecified();
}

net::http_filter make_admin_guard(admin_guard_options opts) {
  auto st = std::make_shared<guard_state>();
  st->names_on_port.push_back(lower(host_form(opts.listen_host)));
  if (is_loopback_host(opts.listen_host) || is_wildcard_host(opts.listen_host)) {
    for (const char* name : {"localhost", "127.0.0.1", "[::1]"}) {
      st->names_on_port.emplace_back(name);
    }
  }
  for (const auto& entry : opts.allowed_hosts) {
    auto e = lower(trim(entry));
    // `name:port`, `[v6]:port` carry a port; `name`, `[v6]` and a bare v6 literal do not.
    bool bracketed = !e.empty() && e.front() == '[';
    auto colon = e.rfind(':');
    bool has_port = bracketed ? (colon != std::string::npos && colon > e.find(']'))
                              : (colon != std::string::npos && e.find(':') == colon);
    if (has_port) {
      st->exact_hosts.push_back(e);
    } else {
      st->names_on_port.push_back(bracketed ? e : host_form(e));
    }
  }
  auto& reg = metrics::registry::global();
  const std::string help = "Admin API requests refused by the admin guard, by reason.";
  st->missing_token =
      &reg.get_counter("herald_admin_auth_failures_total", help, {{"reason", "missing_token"}});
  st->wrong_token =
      &reg.get_counter("herald_admin_auth_failures_total", help, {{"reason", "wrong_token"}});
  st->bad_host = &reg.get_counter("herald_admin_auth_failures_total", help, {{"reason", "host"}});
  st->content_type =
      &reg.get_counter("herald_admin_auth_failures_total", help, {{"reason", "content_type"}});
  st->opts = std::move(opts);
  return [st](const net::http_request& req) { return st->check(req); };
}

}  // namespace herald::node
