// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/http_client.hpp"
#include "runtime/net/http_server.hpp"

using namespace herald;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// A started server on 127.0.0.1:0 with a few routes; `name` keeps metrics per test apart.
std::unique_ptr<net::http_server> make_server(const std::string& name, size_t body_limit = 1024) {
  net::server_options opts;
  opts.name = name;
  opts.port = 0;
  opts.body_limit = body_limit;
  auto s = std::make_unique<net::http_server>(opts);
  s->route("GET", "/hello", [](const net::http_request& r) {
    return net::http_response{200, "text/plain", "hello " + r.query, {}};
  });
  s->route("POST", "/echo", [](const net::http_request& r) {
    return net::http_response{201, "application/json", r.body, {{"X-Seen", r.header("x-test")}}};
  });
  s->route("GET", "/echo", [](const net::http_request&) {
    return net::http_response{200, "text/plain", "get echo", {}};
  });
  s->route("GET", "/boom", [](const net::http_request&) -> net::http_response {
    throw std::runtime_error("boom");
  });
  REQUIRE_FALSE(s->start());
  return s;
}

double requests(const std::string& server, const std::string& code) {
  return metrics::registry::global().value_of("herald_http_requests_total",
                                              {{"server", server}, {"code", code}});
}

// A raw Beast connection whose blocking reads give up after 10 s instead of hanging.
struct raw_connection {
  asio::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;

  explicit raw_connection(uint16_t port) {
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{10, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  http::response<http::string_body> round_trip(http::request<http::string_body> req) {
    req.prepare_payload();
    http::write(socket, req);
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return res;
  }
};

http::request<http::string_body> get(const std::string& target) {
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  return req;
}

}  // namespace

TEST_CASE("routes_dispatch_by_method_and_path") {
  auto s = make_server("t_routes");
  auto a = net::http_fetch("127.0.0.1", s->port(), "GET", "/hello?who=you");
  REQUIRE(a.ok());
  CHECK(a.status == 200);
  CHECK(a.body == "hello who=you");
  CHECK(a.content_type == "text/plain");
  auto b = net::http_fetch("127.0.0.1", s->port(), "POST", "/echo", R"({"x":1})");
  REQUIRE(b.ok());
  CHECK(b.status == 201);
  CHECK(b.body == R"({"x":1})");
  auto c = net::http_fetch("127.0.0.1", s->port(), "GET", "/echo");
  CHECK(c.body == "get echo");
}

TEST_CASE("an_unknown_path_is_404") {
  auto s = make_server("t_404");
  auto r = net::http_fetch("127.0.0.1", s->port(), "GET", "/nope");
  REQUIRE(r.ok());
  CHECK(r.status == 404);
}

TEST_CASE("a_known_path_with_another_method_is_405_listing_allowed_methods") {
  auto s = make_server("t_405");
  raw_connection conn{s->port()};
  http::request<http::string_body> req{http::verb::delete_, "/echo", 11};
  req.set(http::field::host, "127.0.0.1");
  auto res = conn.round_trip(req);
  CHECK(res.result_int() == 405);
  CHECK(res[http::field::allow] == "GET, POST");
}

TEST_CASE("a_body_over_the_limit_is_413_and_one_at_the_limit_is_served") {
  auto s = make_server("t_413", 16);
  auto at_limit = net::http_fetch("127.0.0.1", s->port(), "POST", "/echo", std::string(16, 'a'));
  REQUIRE(at_limit.ok());
  CHECK(at_limit.status == 201);
  auto over = net::http_fetch("127.0.0.1", s->port(), "POST", "/echo", std::string(100, 'a'));
  REQUIRE(over.ok());
  CHECK(over.status == 413);
  CHECK_FALSE(over.keep_alive);
  CHECK(requests("t_413", "413") == 1);
}

TEST_CASE("keep_alive_serves_several_requests_on_one_connection") {
  auto s = make_server("t_keepalive");
  auto& accepted = metrics::registry::global().get_counter("herald_http_connections_total", "",
                                                           {{"server", "t_keepalive"}});
  auto before = accepted.value();
  raw_connection conn{s->port()};
  for (int i = 0; i < 3; ++i) {
    auto res = conn.round_trip(get("/hello?n=" + std::to_string(i)));
    CHECK(res.result_int() == 200);
    CHECK(res.body() == "hello n=" + std::to_string(i));
    CHECK(res.keep_alive());
  }
  CHECK(accepted.value() == before + 1);
  CHECK(requests("t_keepalive", "200") == 3);
}

TEST_CASE("connection_close_from_the_client_is_honoured") {
  auto s = make_server("t_close");
  raw_connection conn{s->port()};
  auto req = get("/hello");
  req.keep_alive(false);
  auto res = conn.round_trip(req);
  CHECK(res.result_int() == 200);
  CHECK_FALSE(res.keep_alive());
  // The server closed its side: the next read sees end of stream.
  beast::error_code ec;
  http::response<http::string_body> more;
  http::read(conn.socket, conn.buffer, more, ec);
  CHECK(ec == http::error::end_of_stream);
}

TEST_CASE("port_zero_binds_a_free_port_and_a_taken_port_is_an_error") {
  auto s = make_server("t_port");
  CHECK(s->port() != 0);
  net::server_options opts;
  opts.name = "t_port2";
  opts.port = s->port();
  net::http_server clash{opts};
  auto err = clash.start();
  CHECK(err);
  CHECK(err == std::errc::address_in_use);
}

TEST_CASE("requests_are_counted_by_server_and_code") {
  auto s = make_server("t_count");
  net::http_client client{"127.0.0.1", s->port()};
  CHECK(client.request("GET", "/hello").status == 200);
  CHECK(client.request("GET", "/hello").status == 200);
  CHECK(client.request("GET", "/missing").status == 404);
  CHECK(client.request("GET", "/boom").status == 500);
  CHECK(requests("t_count", "200") == 2);
  CHECK(requests("t_count", "404") == 1);
  CHECK(requests("t_count", "500") == 1);
  auto text = metrics::registry::global().render_prometheus();
  CHECK(text.find("herald_http_requests_total{server=\"t_count\",code=\"200\"} 2") !=
        std::string::npos);
}

TEST_CASE("request_headers_reach_the_handler_case_insensitively") {
  auto s = make_server("t_headers");
  raw_connection conn{s->port()};
  http::request<http::string_body> req{http::verb::post, "/echo", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set("X-Test", "seen");
  req.body() = "{}";
  auto res = conn.round_trip(req);
  CHECK(res["X-Seen"] == "seen");
}

TEST_CASE("stop_closes_idle_keep_alive_connections_and_returns") {
  auto s = make_server("t_stop");
  net::http_client client{"127.0.0.1", s->port()};
  REQUIRE(client.request("GET", "/hello").status == 200);
  REQUIRE(client.connected());
  s->stop();
  auto after = client.request("GET", "/hello");
  CHECK_FALSE(after.ok());
  auto fresh = net::http_fetch("127.0.0.1", s->port(), "GET", "/hello");
  CHECK_FALSE(fresh.ok());
  s->stop();  // idempotent
}

TEST_CASE("routes_cannot_be_added_after_start") {
  auto s = make_server("t_late");
  CHECK_THROWS_AS(
      s->route("GET", "/late", [](const net::http_request&) { return net::http_response{}; }),
      std::logic_error);
}

TEST_CASE("a_closed_port_is_reported_as_connection_refused") {
  uint16_t port = 0;
  {
    auto s = make_server("t_refused");
    port = s->port();
  }
  auto r = net::http_fetch("127.0.0.1", port, "GET", "/", {}, std::chrono::seconds{5});
  REQUIRE_FALSE(r.ok());
  CHECK(net::describe(r.error) == "connection refused");
}
