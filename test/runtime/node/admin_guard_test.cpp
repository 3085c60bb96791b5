// SPDX-License-Identifier: Apache-2.0
// The admin guard on a real http_server: token, Host and content-type checks on guarded paths,
// open endpoints untouched, every refusal counted by reason.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>

#include <nlohmann/json.hpp>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/http_client.hpp"
#include "runtime/net/http_server.hpp"
#include "runtime/node/admin_guard.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

const std::string token = "k3Yb8Hf2xQ9zL1mN4pR7sT0uV5wX6yZa-_AbCdEfGhI";

/// A server with the guard in front of GET/POST /v1/thing (which counts its calls) and the
/// probes; `tune` adjusts the guard options.
struct guarded_server {
  explicit guarded_server(const std::function<void(node::admin_guard_options&)>& tune = {}) {
    net::server_options so;
    so.name = "admin_guard_test";
    server = std::make_unique<net::http_server>(so);
    node::admin_guard_options o;
    o.token = token;
    o.listen_host = "127.0.0.1";
    o.bound_port = [s = server.get()] { return s->port(); };
    o.open_paths = {"/healthz", "/readyz", "/metrics"};
    if (tune) {
      tune(o);
    }
    server->set_filter(node::make_admin_guard(o));
    auto count = [this](const net::http_request&) {
      ++calls;
      return net::http_response{200, "application/json", "{}", {}};
    };
    server->route("GET", "/v1/thing", count);
    server->route("POST", "/v1/thing", count);
    server->route("GET", "/healthz", count);
    server->route("GET", "/metrics", count);
    REQUIRE_FALSE(server->start());
  }

  net::client_response call(const std::string& method, const std::string& target,
                            const net::header_list& headers, const std::string& body = {}) {
    return net::http_fetch("127.0.0.1", server->port(), method, target, body, 5s, headers);
  }

  std::string host(const std::string& name) const {
    return name + ":" + std::to_string(server->port());
  }

  std::unique_ptr<net::http_server> server;
  std::atomic<int> calls{0};
};

net::header_list bearer(const std::string& t) {
  return {{"Authorization", "Bearer " + t}};
}

double refused(const std::string& reason) {
  return metrics::registry::global().value_of("herald_admin_auth_failures_total",
                                              {{"reason", reason}});
}

}  // namespace

TEST_CASE("a_guarded_path_needs_the_bearer_token_refusals_are_401_json_and_counted") {
  guarded_server s;
  auto missing_before = refused("missing_token");
  auto wrong_before = refused("wrong_token");

  auto none = s.call("GET", "/v1/thing", {});
  CHECK(none.status == 401);
  CHECK(none.content_type == "application/json");
  // The admin request error shape (runtime/node/request_error.hpp).
  auto body = nlohmann::json::parse(none.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body.at("error").is_string());
  CHECK(body.at("code") == "missing_token");
  CHECK(s.call("GET", "/v1/thing", {{"Authorization", "Bot " + token}}).status == 401);
  CHECK(s.call("GET", "/v1/thing", {{"Authorization", token}}).status == 401);
  CHECK(s.call("GET", "/v1/thing", bearer(token + "x")).status == 401);
  CHECK(s.call("GET", "/v1/thing", bearer(token.substr(1))).status == 401);
  CHECK(s.call("GET", "/v1/thing", bearer("")).status == 401);
  // Unknown paths are guarded too: no probing of the route table without the token.
  CHECK(s.call("GET", "/v1/nope", {}).status == 401);
  CHECK(s.calls == 0);
  CHECK(refused("missing_token") - missing_before == 5);
  CHECK(refused("wrong_token") - wrong_before == 2);

  CHECK(s.call("GET", "/v1/thing", bearer(token)).status == 200);
  CHECK(s.call("GET", "/v1/thing", {{"Authorization", "bearer  " + token + " "}}).status == 200);
  CHECK(s.call("GET", "/v1/nope", bearer(token)).status == 404);
  CHECK(s.calls == 2);
}

TEST_CASE("a_body_must_be_application_json_a_browser_s_text_plain_post_is_415") {
  guarded_server s;
  auto before = refused("content_type");
  auto headers = bearer(token);
  headers.emplace_back("Content-Type", "text/plain");
  auto plain = s.call("POST", "/v1/thing", headers, "{\"name\": \"x\"}");
  CHECK(plain.status == 415);
  CHECK(nlohmann::json::parse(plain.body, nullptr, false).value("code", "") ==
        "unsupported_media_type");
  auto form = bearer(token);
  form.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  CHECK(s.call("POST", "/v1/thing", form, "a=b").status == 415);
  auto typed_empty = bearer(token);
  typed_empty.emplace_back("Content-Type", "multipart/form-data; boundary=x");
  CHECK(s.call("POST", "/v1/thing", typed_empty).status == 415);
  CHECK(s.calls == 0);
  CHECK(refused("content_type") - before == 3);

  CHECK(s.call("POST", "/v1/thing", bearer(token), "{}").status == 200);
  auto charset = bearer(token);
  charset.emplace_back("Content-Type", "Application/JSON; charset=utf-8");
  CHECK(s.call("POST", "/v1/thing", charset, "{}").status == 200);
  // No body and no Content-Type (e.g. POST /v1/users/{id}/revoke) is fine.
  CHECK(s.call("POST", "/v1/thing", bearer(token)).status == 200);
  CHECK(s.calls == 3);
}

TEST_CASE("the_host_header_must_name_the_admin_listener_dns_rebinding_gets_421") {
  guarded_server s{[](node::admin_guard_options& o) {
    o.allowed_hosts = {"admin.internal", "Ops.Example:8443", "[fd00::1]"};
  }};
  auto before = refused("host");
  auto with_host = [&](const std::string& host) {
    auto h = bearer(token);
    h.emplace_back("Host", host);
    return s.call("GET", "/v1/thing", h).status;
  };
  for (const auto& host :
       {s.host("127.0.0.1"), s.host("localhost"), s.host("LOCALHOST"), s.host("[::1]"),
        s.host("admin.internal"), std::string{"ops.example:8443"}, s.host("[fd00::1]")}) {
    INFO("Host: " << host);
    CHECK(with_host(host) == 200);
  }
  for (const auto& host :
       {s.host("evil.example"), std::string{"127.0.0.1"}, std::string{"localhost"},
        std::string{"127.0.0.1:1"}, s.host("127.0.0.2"), std::string{"admin.internal:1"},
        std::string{"ops.example"}, std::string{""}, s.host("localhost.evil.example")}) {
    INFO("Host: " << host);
    CHECK(with_host(host) == 421);
  }
  CHECK(refused("host") - before == 9);
}

TEST_CASE("open_endpoints_skip_every_check_closing_one_makes_it_need_the_token") {
  guarded_server open;
  net::header_list evil_host{{"Host", "evil.example"}};
  CHECK(open.call("GET", "/healthz", evil_host).status == 200);
  CHECK(open.call("GET", "/metrics", {}).status == 200);

  guarded_server closed{[](node::admin_guard_options& o) { o.open_paths = {"/healthz"}; }};
  CHECK(closed.call("GET", "/healthz", {}).status == 200);
  CHECK(closed.call("GET", "/metrics", {}).status == 401);
  CHECK(closed.call("GET", "/metrics", bearer(token)).status == 200);
}

TEST_CASE("with_require_token_off_host_and_content_type_are_still_checked") {
  guarded_server s{[](node::admin_guard_options& o) { o.require_token = false; }};
  CHECK(s.call("GET", "/v1/thing", {}).status == 200);
  CHECK(s.call("GET", "/v1/thing", {{"Host", "evil.example"}}).status == 421);
  CHECK(s.call("POST", "/v1/thing", {{"Content-Type", "text/plain"}}, "{}").status == 415);
}

TEST_CASE("loopback_and_wildcard_hosts_are_recognised") {
  for (const char* h : {"127.0.0.1", "127.3.4.5", "::1", "localhost", "LocalHost"}) {
    INFO(h);
    CHECK(node::is_loopback_host(h));
  }
  for (const char* h : {"0.0.0.0", "::", "10.0.0.1", "example.com", "128.0.0.1", ""}) {
    INFO(h);
    CHECK_FALSE(node::is_loopback_host(h));
  }
  CHECK(node::is_wildcard_host("0.0.0.0"));
  CHECK(node::is_wildcard_host("::"));
  CHECK_FALSE(node::is_wildcard_host("127.0.0.1"));
}
