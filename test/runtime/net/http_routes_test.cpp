// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <thread>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/http_client.hpp"
#include "runtime/net/http_server.hpp"

using namespace herald;

namespace {

net::http_response text(unsigned status, std::string body) {
  return net::http_response{status, "text/plain", std::move(body), {}};
}

std::unique_ptr<net::http_server> started(std::unique_ptr<net::http_server> s) {
  REQUIRE_FALSE(s->start());
  return s;
}

std::unique_ptr<net::http_server> server_named(const std::string& name) {
  net::server_options opts;
  opts.name = name;
  return std::make_unique<net::http_server>(opts);
}

double requests(const std::string& server, const std::string& code) {
  return metrics::registry::global().value_of("herald_http_requests_total",
                                              {{"server", server}, {"code", code}});
}

}  // namespace

TEST_CASE("pattern_segments_become_named_params") {
  auto s = server_named("t_params");
  s->route("GET", "/api/v10/channels/{channel_id}/messages/{message_id}",
           [](const net::http_request& r) {
             return text(200, r.param("channel_id") + "/" + r.param("message_id") + "/" +
                                  std::to_string(r.params.size()) + "/" + r.param("nope"));
           });
  s = started(std::move(s));
  auto res =
      net::http_fetch("127.0.0.1", s->port(), "GET", "/api/v10/channels/123/messages/456?limit=5");
  REQUIRE(res.ok());
  CHECK(res.status == 200);
  CHECK(res.body == "123/456/2/");
}

TEST_CASE("a_param_matches_exactly_one_non_empty_segment") {
  auto s = server_named("t_param_segments");
  s->route("GET", "/users/{id}",
           [](const net::http_request& r) { return text(200, r.param("id")); });
  s = started(std::move(s));
  CHECK(net::http_fetch("127.0.0.1", s->port(), "GET", "/users/42").body == "42");
  CHECK(net::http_fetch("127.0.0.1", s->port(), "GET", "/users/").status == 404);
  CHECK(net::http_fetch("127.0.0.1", s->port(), "GET", "/users/42/x").status == 404);
  CHECK(net::http_fetch("127.0.0.1", s->port(), "GET", "/users").status == 404);
}

TEST_CASE("a_literal_segment_beats_a_param_whatever_the_registration_order") {
  auto s = server_named("t_specific");
  s->route("GET", "/users/{id}",
           [](const net::http_request& r) { return text(200, "id " + r.param("id")); });
  s->route("GET", "/users/@me", [](const net::http_request&) { return text(200, "me"); });
  s = started(std::move(s));
  CHECK(net::http_fetch("127.0.0.1", s->port(), "GET", "/users/@me").body == "me");
  CHECK(net::http_fetch("127.0.0.1", s->port(), "GET", "/users/7").body == "id 7");
}

TEST_CASE("a_pattern_path_with_another_method_is_405_with_allowed_methods") {
  auto s = server_named("t_pattern_405");
  auto ok = [](const net::http_request&) { return text(200, "ok"); };
  s->route("PATCH", "/channels/{c}/messages/{m}", ok);
  s->route("DELETE", "/channels/{c}/messages/{m}", ok);
  s = started(std::move(s));
  auto res = net::http_fetch("127.0.0.1", s->port(), "GET", "/channels/1/messages/2");
  CHECK(res.status == 405);
  CHECK(net::http_fetch("127.0.0.1", s->port(), "DELETE", "/channels/1/messages/2").status == 200);
}

TEST_CASE("duplicate_patterns_and_late_routes_are_refused") {
  auto s = server_named("t_dup_pattern");
  auto ok = [](const net::http_request&) { return text(200, "ok"); };
  s->route("GET", "/a/{x}", ok);
  CHECK_THROWS_AS(s->route("GET", "/a/{x}", ok), std::logic_error);
  CHECK_THROWS_AS(
      s->route_async("GET", "/a/{x}", [](const net::http_request&, net::http_responder) {}),
      std::logic_error);
  s = started(std::move(s));
  CHECK_THROWS_AS(s->route_async("GET", "/b", [](const net::http_request&, net::http_responder) {}),
                  std::logic_error);
  CHECK_THROWS_AS(s->set_filter({}), std::logic_error);
}

TEST_CASE("an_async_route_answers_from_another_thread_and_keeps_the_connection_alive") {
  auto s = server_named("t_async");
  std::vector<std::thread> workers;
  std::mutex m;
  s->route_async("POST", "/later/{n}", [&](const net::http_request& r, net::http_responder done) {
    std::lock_guard<std::mutex> guard{m};
    workers.emplace_back([done, n = r.param("n"), body = r.body] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      done(net::http_response{201, "application/json", body + n, {{"X-Async", "yes"}}});
    });
  });
  s = started(std::move(s));
  auto& accepted = metrics::registry::global().get_counter("herald_http_connections_total", "",
                                                           {{"server", "t_async"}});
  auto before = accepted.value();
  net::http_client client{"127.0.0.1", s->port()};
  for (int i = 0; i < 3; ++i) {
    auto res = client.request("POST", "/later/" + std::to_string(i), "x");
    REQUIRE(res.ok());
    CHECK(res.status == 201);
    CHECK(res.body == "x" + std::to_string(i));
    CHECK(res.keep_alive);
  }
  CHECK(accepted.value() == before + 1);
  CHECK(requests("t_async", "201") == 3);
  std::lock_guard<std::mutex> guard{m};
  for (auto& t : workers) {
    t.join();
  }
}

TEST_CASE("a_responder_called_twice_answers_once") {
  auto s = server_named("t_async_twice");
  s->route_async("GET", "/twice", [](const net::http_request&, net::http_responder done) {
    done(text(200, "first"));
    done(text(500, "second"));
  });
  s = started(std::move(s));
  net::http_client client{"127.0.0.1", s->port()};
  CHECK(client.request("GET", "/twice").body == "first");
  CHECK(client.request("GET", "/twice").body == "first");
  CHECK(requests("t_async_twice", "500") == 0);
}

TEST_CASE("a_responder_dropped_without_a_call_answers_500") {
  auto s = server_named("t_async_dropped");
  s->route_async("GET", "/dropped", [](const net::http_request&, net::http_responder done) {
    // Handed to another thread which loses it, as an actor that crashed would.
    std::thread([d = std::move(done)]() mutable { d = nullptr; }).join();
  });
  s->route_async("GET", "/throws", [](const net::http_request&, net::http_responder) {
    throw std::runtime_error("boom");
  });
  s = started(std::move(s));
  net::http_client client{"127.0.0.1", s->port()};
  auto res = client.request("GET", "/dropped");
  REQUIRE(res.ok());
  CHECK(res.status == 500);
  CHECK(client.request("GET", "/throws").status == 500);
  CHECK(requests("t_async_dropped", "500") == 2);
}

TEST_CASE("a_pending_async_request_does_not_block_stop") {
  auto s = server_named("t_async_stop");
  std::promise<net::http_responder> parked;
  s->route_async("GET", "/park", [&](const net::http_request&, net::http_responder done) {
    parked.set_value(std::move(done));
  });
  s = started(std::move(s));
  auto client = std::async(std::launch::async, [port = s->port()] {
    return net::http_fetch("127.0.0.1", port, "GET", "/park", {}, std::chrono::seconds{5});
  });
  auto done = parked.get_future().get();
  s->stop();
  done(text(200, "too late"));  // a no-op after stop
  CHECK_FALSE(client.get().ok());
}

TEST_CASE("the_filter_short_circuits_before_routing") {
  auto s = server_named("t_filter");
  std::atomic<bool> draining{false};
  s->route("GET", "/x/{id}", [](const net::http_request& r) { return text(200, r.param("id")); });
  s->set_filter([&](const net::http_request& r) -> std::optional<net::http_response> {
    CHECK(r.params.empty());
    if (draining) {
      return net::http_response{503, "application/json", "{}", {{"Retry-After", "5"}}};
    }
    return std::nullopt;
  });
  s = started(std::move(s));
  CHECK(net::http_fetch("127.0.0.1", s->port(), "GET", "/x/1").body == "1");
  draining = true;
  CHECK(net::http_fetch("127.0.0.1", s->port(), "GET", "/x/1").status == 503);
  CHECK(net::http_fetch("127.0.0.1", s->port(), "GET", "/unknown").status == 503);
  CHECK(requests("t_filter", "503") == 2);
}

// Regression: the session (and its socket) must not outlive the io_context it needs.
TEST_CASE("a_responder_outliving_its_server_is_harmless") {
  net::http_responder kept;
  std::future<net::client_response> client;
  {
    auto s = server_named("t_async_outlived");
    std::promise<net::http_responder> parked;
    s->route_async("GET", "/park", [&](const net::http_request&, net::http_responder done) {
      parked.set_value(std::move(done));
    });
    s = started(std::move(s));
    client = std::async(std::launch::async, [port = s->port()] {
      return net::http_fetch("127.0.0.1", port, "GET", "/park", {}, std::chrono::seconds{5});
    });
    kept = parked.get_future().get();
  }
  kept(text(200, "nobody listens"));
  kept = nullptr;  // the last reference to the session and the server state
  CHECK_FALSE(client.get().ok());
}
