// SPDX-License-Identifier: Apache-2.0
// heraldd with gateway.tls_cert_file/tls_key_file: REST over https, the gateway over wss on the
// same port, SIGHUP reloading the certificate without dropping connections, a bad reload
// keeping the old one, and a bad pair refused at start with exit code 2.
#include <signal.h>

#include <fstream>
#include <sstream>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "test/integration/e2e/e2e_fixture.hpp"
#include "test/support/raw_http.hpp"
#include "test/support/test_ca.hpp"

using namespace herald;
using namespace herald::e2e;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using herald::testing::peer_common_name;
using tcp = asio::ip::tcp;

namespace {

void copy_file(const std::string& from, const std::string& to) {
  std::ifstream in{from, std::ios::binary};
  std::ofstream out{to, std::ios::binary | std::ios::trunc};
  out << in.rdbuf();
}

// A gateway client over wss that trusts only the test CA; every operation bounded by 10 s.
struct wss_gateway {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<websocket::stream<beast::ssl_stream<tcp::socket>>> ws;

  wss_gateway(const testing::test_ca& ca, uint16_t port) {
    ctx.load_verify_file(ca.ca_file());
    ctx.set_verify_mode(ssl::verify_peer);
    ws = std::make_unique<websocket::stream<beast::ssl_stream<tcp::socket>>>(ioc, ctx);
    beast::get_lowest_layer(*ws).connect({asio::ip::make_address("127.0.0.1"), port});
    ws->next_layer().set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    REQUIRE_FALSE(
        run([&](auto h) { ws->next_layer().async_handshake(ssl::stream_base::client, h); }));
    REQUIRE_FALSE(
        run([&](auto h) { ws->async_handshake("127.0.0.1", "/?v=10&encoding=json", h); }));
  }
  template <class Start>
  beast::error_code run(Start start) {
    return testing::run_bounded(ioc, beast::get_lowest_layer(*ws), start);
  }
  json read() {
    beast::flat_buffer b;
    REQUIRE_FALSE(run([&](auto h) { ws->async_read(b, h); }));
    return json::parse(beast::buffers_to_string(b.data()));
  }
  void write(const json& j) {
    std::string s = j.dump();
    REQUIRE_FALSE(run([&](auto h) { ws->async_write(asio::buffer(s), h); }));
  }
  std::string common_name() { return peer_common_name(ws->next_layer().native_handle()); }
};

// GET over https; returns {status, body, certificate CN}.
std::tuple<unsigned, std::string, std::string> https_get(const testing::test_ca& ca, uint16_t port,
                                                         const std::string& target) {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  ctx.load_verify_file(ca.ca_file());
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};
  beast::get_lowest_layer(stream).expires_after(10s);
  beast::get_lowest_layer(stream).connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port});
  stream.handshake(ssl::stream_base::client);
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer b;
  http::response<http::string_body> res;
  http::read(stream, b, res);
  return {res.result_int(), res.body(), peer_common_name(stream.native_handle())};
}

}  // namespace

TEST_CASE("heraldd_serves_rest_over_https_and_the_gateway_over_wss_and_reloads_on_sighup") {
  testing::test_ca ca;
  auto one = ca.issue("one");
  auto two = ca.issue("two");
  testing::temp_dir live;
  std::string cert = live.file("cert.pem");
  std::string key = live.file("key.pem");
  copy_file(one.cert_file, cert);
  copy_file(one.key_file, key);
  e2e::node n{"tls_cert_file = \"" + cert + "\"\ntls_key_file = \"" + key + "\"\n"};

  auto [status, body, cn] = https_get(ca, n.gateway_port(), "/api/v10/gateway");
  CHECK(status == 200);
  CHECK(json::parse(body).at("url") ==
        "wss://127.0.0.1:" + std::to_string(n.gateway_port()));  // the default public_url
  CHECK(cn == "one");

  wss_gateway old_conn{ca, n.gateway_port()};
  CHECK(old_conn.common_name() == "one");
  CHECK(old_conn.read().at("op") == 10);  // Hello

  copy_file(two.cert_file, cert);
  copy_file(two.key_file, key);
  n.process().send_signal(SIGHUP);
  CHECK(testing::eventually(
      [&] { return std::get<2>(https_get(ca, n.gateway_port(), "/api/v10/gateway")) == "two"; },
      10s));
  wss_gateway new_conn{ca, n.gateway_port()};
  CHECK(new_conn.common_name() == "two");
  CHECK(new_conn.read().at("op") == 10);
  // The connection from before the reload is still served: heartbeat -> ACK.
  old_conn.write({{"op", 1}, {"d", nullptr}});
  CHECK(old_conn.read().at("op") == 11);

  // A bad new key: the error is logged and counted, the current certificate stays.
  copy_file(one.key_file, key);
  n.process().send_signal(SIGHUP);
  CHECK(testing::eventually(
      [&] {
        auto m = testing::http_call(n.admin_port(), "GET", "/metrics");
        std::istringstream lines{m.body};
        for (std::string line; std::getline(lines, line);) {
          if (line.rfind("herald_tls_reloads_total{", 0) == 0 &&
              line.find("result=\"error\"") != std::string::npos && line.size() > 2 &&
              line.substr(line.size() - 2) == " 1") {
            return true;
          }
        }
        return false;
      },
      10s));
  CHECK(std::get<2>(https_get(ca, n.gateway_port(), "/api/v10/gateway")) == "two");
  CHECK(n.process().err().find("TLS reload failed, keeping the current certificate") !=
        std::string::npos);
  CHECK(n.process().running());
}

TEST_CASE("heraldd_refuses_a_missing_or_mismatched_tls_file_with_exit_2") {
  testing::test_ca ca;
  auto one = ca.issue("one");
  auto two = ca.issue("two");
  auto bin = testing::bin_path("heraldd");
  auto mismatch = testing::run_process(
      bin, {"--gateway.tls_cert_file", one.cert_file, "--gateway.tls_key_file", two.key_file});
  CHECK(mismatch.exit_code == 2);
  CHECK(mismatch.err == "heraldd: config error: gateway.tls_key_file: the key in \"" +
                            two.key_file + "\" does not match the certificate in \"" +
                            one.cert_file + "\"\n");
  auto missing = testing::run_process(bin, {"--gateway.tls_cert_file", ca.dir() + "/none.pem",
                                            "--gateway.tls_key_file", one.key_file});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.rfind("heraldd: config error: gateway.tls_cert_file: cannot read", 0) == 0);
  auto half = testing::run_process(bin, {"--gateway.tls_cert_file", one.cert_file});
  CHECK(half.exit_code == 2);
  CHECK(half.err ==
        "heraldd: config error: gateway.tls_key_file: must be set together with "
        "gateway.tls_cert_file\n");
}
