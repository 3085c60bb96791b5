// SPDX-License-Identifier: Apache-2.0
// TLS on the HTTP/WebSocket listener, against Boost.Beast over asio::ssl as an independent
// client that verifies the server with a throwaway CA made by the test (openssl CLI).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <zlib.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/tls_context.hpp"
#include "runtime/net/websocket.hpp"
#include "runtime/net/zlib_stream.hpp"
#include "test/support/eventually.hpp"
#include "test/support/raw_http.hpp"
#include "test/support/test_ca.hpp"

using namespace herald;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using herald::testing::peer_common_name;
using herald::testing::run_bounded;

namespace {

double metric(const std::string& name, const metrics::labels& l) {
  return metrics::registry::global().value_of(name, l);
}

void copy_file(const std::string& from, const std::string& to) {
  std::ifstream in{from, std::ios::binary};
  std::ofstream out{to, std::ios::binary | std::ios::trunc};
  out << in.rdbuf();
}

// Echoes text; "parts:<n>" answers n messages (one 70000 bytes long) with one send_parts,
// "now:<n>" answers n small messages with one write_parts_now, "zlib:<text>" answers the
// text zlib-stream compressed in a binary frame (the same deflater across messages).
struct echo_handler : net::ws_handler {
  std::weak_ptr<net::ws_connection> conn;
  net::zlib_stream_deflater deflater;
  std::mutex m;
  std::condition_variable cv;
  std::optional<uint16_t> closed;

  void on_text(std::string_view msg) override {
    auto c = conn.lock();
    if (!c) {
      return;
    }
    if (msg.rfind("parts:", 0) == 0 || msg.rfind("now:", 0) == 0) {
      bool now = msg[0] == 'n';
      int n = std::stoi(std::string{msg.substr(msg.find(':') + 1)});
      auto owned = std::make_shared<std::vector<std::string>>();
      std::vector<uint32_t> per_message;
      for (int i = 0; i < n; ++i) {
        owned->push_back("{\"s\":" + std::to_string(i));
        owned->push_back(!now && i == 1 ? std::string(70000, 'x') : std::string(",\"t\":1}"));
        per_message.push_back(2);
      }
      std::vector<std::string_view> pieces(owned->begin(), owned->end());
      if (now) {
        c->write_parts_now(pieces, per_message, net::ws_opcode::text, owned);
      } else {
        c->send_parts(pieces, per_message, net::ws_opcode::text, owned);
      }
    } else if (msg.rfind("flood:", 0) == 0) {
      // n messages of 2000 bytes, each its own write_parts_now: the first go out directly,
      // then the socket fills (want_write) and the rest queue behind the pending record.
      int n = std::stoi(std::string{msg.substr(6)});
      for (int i = 0; i < n; ++i) {
        auto text = std::make_shared<std::string>(std::to_string(i) + ":");
        text->resize(2000, static_cast<char>('a' + i % 26));
        c->write_parts_now({std::string_view{*text}}, {1}, net::ws_opcode::text, text);
      }
    } else if (msg.rfind("zlib:", 0) == 0) {
      auto out = std::make_shared<std::string>();
      deflater.compress(msg.substr(5), *out);
      c->send({std::string_view{*out}}, net::ws_opcode::binary, out);
    } else {
      c->send_text(std::string{msg});
    }
  }
  void on_error(net::ws_error) override {}
  void on_closed(uint16_t code, bool) override {
    std::lock_guard<std::mutex> guard{m};
    closed = code;
    cv.notify_all();
  }
};

// An HTTPS + wss server with one route, echoing WebSocket text.
struct tls_server {
  net::tls_context_ptr tls;
  std::unique_ptr<net::http_server> server;
  std::mutex m;
  std::vector<std::shared_ptr<echo_handler>> handlers;

  tls_server(const std::string& name, const testing::issued_cert& cert,
             std::chrono::seconds handshake_timeout = 10s, size_t max_connections_per_ip = 0) {
    auto loaded = net::tls_context::load({cert.cert_file, cert.key_file, "TLS1.2"}, name);
    REQUIRE(loaded.index() == 0);
    tls = std::get<0>(loaded);
    net::server_options opts;
    opts.name = name;
    opts.tls = tls;
    opts.tls_handshake_timeout = handshake_timeout;
    opts.max_connections_per_ip = max_connections_per_ip;
    server = std::make_unique<net::http_server>(opts);
    server->route("GET", "/plain", [](const net::http_request&) {
      return net::http_response{200, "text/plain", "plain over tls", {}};
    });
    server->on_websocket([this](net::ws_connection_ptr c) {
      auto h = std::make_shared<echo_handler>();
      h->conn = c;
      c->start(h);
      std::lock_guard<std::mutex> guard{m};
      handlers.push_back(h);
    });
    REQUIRE_FALSE(server->start());
  }
  uint16_t port() const { return server->port(); }
};

// A wss client that verifies the server against the test CA.
struct wss_client {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  websocket::stream<beast::ssl_stream<tcp::socket>> ws;

  wss_client(const testing::test_ca& ca, uint16_t port, const std::string& target = "/")
      : ws(ioc, (ctx.load_verify_file(ca.ca_file()), ctx.set_verify_mode(ssl::verify_peer), ctx)) {
    auto& sock = beast::get_lowest_layer(ws);
    sock.connect({asio::ip::make_address("127.0.0.1"), port});
    SSL_set_tlsext_host_name(ws.next_layer().native_handle(), "localhost");
    ws.next_layer().set_verify_callback(ssl::host_name_verification("localhost"));
    REQUIRE_FALSE(
        run([&](auto h) { ws.next_layer().async_handshake(ssl::stream_base::client, h); }));
    REQUIRE_FALSE(run([&](auto h) { ws.async_handshake("localhost", target, h); }));
  }
  template <class Start>
  beast::error_code run(Start start) {
    return run_bounded(ioc, beast::get_lowest_layer(ws), start);
  }
  std::string common_name() { return peer_common_name(ws.next_layer().native_handle()); }
  void write(const std::string& s) {
    ws.text(true);
    REQUIRE_FALSE(run([&](auto h) { ws.async_write(asio::buffer(s), h); }));
  }
  std::string read(bool* binary = nullptr) {
    beast::flat_buffer b;
    auto ec = run([&](auto h) { ws.async_read(b, h); });
    if (ec) {
      throw beast::system_error{ec};
    }
    if (binary != nullptr) {
      *binary = ws.got_binary();
    }
    return beast::buffers_to_string(b.data());
  }
};

// A TLS client connection to 127.0.0.1:port that verifies the server against the test CA;
// the handshake is done when constructed.
struct verified_tls {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  beast::ssl_stream<tcp::socket> stream;

  verified_tls(const testing::test_ca& ca, uint16_t port)
      : stream(ioc,
               (ctx.load_verify_file(ca.ca_file()), ctx.set_verify_mode(ssl::verify_peer), ctx)) {
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    REQUIRE_FALSE(run([&](auto h) { stream.async_handshake(ssl::stream_base::client, h); }));
  }
  template <class Start>
  beast::error_code run(Start start) {
    return run_bounded(ioc, stream.next_layer(), start);
  }
};

// Handshakes with a client whose SSL `configure` adjusts first (cipher order, versions);
// returns the negotiated suite's OpenSSL name.
template <class Configure>
std::string negotiated_cipher(const testing::test_ca& ca, uint16_t port, Configure configure) {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  ctx.load_verify_file(ca.ca_file());
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<tcp::socket> stream{ioc, ctx};
  configure(stream.native_handle());
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  REQUIRE_FALSE(run_bounded(ioc, stream.next_layer(),
                            [&](auto h) { stream.async_handshake(ssl::stream_base::client, h); }));
  return SSL_get_cipher_name(stream.native_handle());
}

// One HTTPS GET; returns the response and the CN of the server's certificate.
std::pair<http::response<http::string_body>, std::string> https_get(const testing::test_ca& ca,
                                                                    uint16_t port,
                                                                    const std::string& target) {
  verified_tls c{ca, port};
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  REQUIRE_FALSE(c.run([&](auto h) { http::async_write(c.stream, req, h); }));
  beast::flat_buffer b;
  http::response<http::string_body> res;
  REQUIRE_FALSE(c.run([&](auto h) { http::async_read(c.stream, b, res, h); }));
  return {std::move(res), peer_common_name(c.stream.native_handle())};
}

// Inflates Discord zlib-stream output incrementally (one inflater per connection).
struct inflater {
  z_stream z{};
  inflater() { REQUIRE(inflateInit(&z) == Z_OK); }
  ~inflater() { inflateEnd(&z); }
  std::string feed(const std::string& in) {
    std::string out;
    char buf[4096];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      int rc = inflate(&z, Z_SYNC_FLUSH);
      REQUIRE((rc == Z_OK || rc == Z_BUF_ERROR));
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
    return out;
  }
};

// Connects with plain TCP, sends `bytes`, returns everything read until the server closes.
std::string plain_exchange(uint16_t port, const std::string& bytes) {
  asio::io_context ioc;
  tcp::socket sock{ioc};
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  if (!bytes.empty()) {
    asio::write(sock, asio::buffer(bytes));
  }
  beast::error_code ended;
  auto got = testing::read_until_error(ioc, sock, sock, ended);
  REQUIRE(ended != asio::error::timed_out);  // the server must drop us
  return got;
}

// Sends `bytes` over TLS (verifying the server) and returns everything read until the server
// closes: for requests no HTTP client library would send.
std::string tls_exchange(const testing::test_ca& ca, uint16_t port, const std::string& bytes) {
  verified_tls c{ca, port};
  REQUIRE_FALSE(c.run([&](auto h) { asio::async_write(c.stream, asio::buffer(bytes), h); }));
  beast::error_code ended;
  auto got = testing::read_until_error(c.ioc, c.stream, c.stream.next_layer(), ended);
  REQUIRE(ended != asio::error::timed_out);  // the server must close
  return got;
}

}  // namespace

TEST_CASE("tls_context_refuses_missing_files_and_a_key_that_does_not_match") {
  testing::test_ca ca;
  auto one = ca.issue("one");
  auto two = ca.issue("two");
  auto missing = net::tls_context::load({ca.dir() + "/nope.pem", one.key_file, "TLS1.2",
                                         "gateway.tls_cert_file", "gateway.tls_key_file"},
                                        "t_tls_load");
  REQUIRE(missing.index() == 1);
  CHECK(std::get<1>(missing).rfind("gateway.tls_cert_file: cannot read", 0) == 0);
  auto mismatch = net::tls_context::load(
      {one.cert_file, two.key_file, "TLS1.2", "gateway.tls_cert_file", "gateway.tls_key_file"},
      "t_tls_load");
  REQUIRE(mismatch.index() == 1);
  CHECK(std::get<1>(mismatch).rfind("gateway.tls_key_file: ", 0) == 0);
  CHECK(std::get<1>(mismatch).find("does not match") != std::string::npos);
  auto not_pem = net::tls_context::load(
      {one.key_file, one.key_file, "TLS1.2", "gateway.tls_cert_file", "gateway.tls_key_file"},
      "t_tls_load");
  REQUIRE(not_pem.index() == 1);
  CHECK(std::get<1>(not_pem).rfind("gateway.tls_cert_file: ", 0) == 0);
  CHECK(net::tls_context::load({one.cert_file, one.key_file, "TLS1.3"}, "t_tls_load").index() == 0);
}

TEST_CASE("https_requests_are_served_on_a_tls_listener") {
  testing::test_ca ca;
  tls_server s{"t_tls_https", ca.issue("one")};
  auto [res, cn] = https_get(ca, s.port(), "/plain");
  CHECK(res.result_int() == 200);
  CHECK(res.body() == "plain over tls");
  CHECK(cn == "one");
  CHECK(https_get(ca, s.port(), "/missing").first.result_int() == 404);
  CHECK(metric("herald_tls_handshakes_total", {{"server", "t_tls_https"}}) == 2);
}

TEST_CASE("the_server_prefers_aes_128_gcm_and_gives_chacha20_to_clients_that_list_it_first") {
  testing::test_ca ca;
  tls_server s{"t_tls_ciphers", ca.issue("one")};
  // OpenSSL's default order (the client's here) starts with AES-256-GCM; the server's wins.
  CHECK(negotiated_cipher(ca, s.port(), [](SSL*) {}) == std::string{"TLS_AES_128_GCM_SHA256"});
  CHECK(negotiated_cipher(ca, s.port(), [](SSL* c) {
          SSL_set_max_proto_version(c, TLS1_2_VERSION);
        }) == std::string{"ECDHE-ECDSA-AES128-GCM-SHA256"});
  // A client without AES hardware lists ChaCha20-Poly1305 first: it gets it.
  CHECK(negotiated_cipher(ca, s.port(), [](SSL* c) {
          SSL_set_ciphersuites(
              c, "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256");
        }) == std::string{"TLS_CHACHA20_POLY1305_SHA256"});
  // TLS 1.2 offers only forward-secret AEAD suites: a CBC-only client is refused.
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  beast::ssl_stream<tcp::socket> cbc{ioc, ctx};
  SSL_set_max_proto_version(cbc.native_handle(), TLS1_2_VERSION);
  SSL_set_cipher_list(cbc.native_handle(), "ECDHE-ECDSA-AES128-SHA");
  cbc.next_layer().connect({asio::ip::make_address("127.0.0.1"), s.port()});
  CHECK(run_bounded(ioc, cbc.next_layer(),
                    [&](auto h) { cbc.async_handshake(ssl::stream_base::client, h); }));
}

TEST_CASE("wss_carries_frames_both_ways_including_gathered_and_large_messages") {
  testing::test_ca ca;
  tls_server s{"t_tls_wss", ca.issue("one")};
  wss_client c{ca, s.port(), "/?v=10&encoding=json"};
  c.write("hello");
  CHECK(c.read() == "hello");
  // A message over the 16 KiB record size, and pieces gathered into one frame each.
  c.write("parts:3");
  CHECK(c.read() == "{\"s\":0,\"t\":1}");
  CHECK(c.read() == "{\"s\":1" + std::string(70000, 'x'));
  CHECK(c.read() == "{\"s\":2,\"t\":1}");
  // write_parts_now's direct path (one SSL_write for all of them).
  c.write("now:50");
  for (int i = 0; i < 50; ++i) {
    REQUIRE(c.read() == "{\"s\":" + std::to_string(i) + ",\"t\":1}");
  }
  // A large inbound message split over several records.
  std::string big(3000, 'y');
  c.write(big);
  CHECK(c.read() == big);
  CHECK(metric("herald_ws_connections", {{"server", "t_tls_wss"}}) == 1);
  REQUIRE_FALSE(c.run([&](auto h) { c.ws.async_close(websocket::close_code::normal, h); }));
  auto h = s.handlers.at(0);
  std::unique_lock<std::mutex> lock{h->m};
  REQUIRE(h->cv.wait_for(lock, 10s, [&] { return h->closed.has_value(); }));
  CHECK(*h->closed == 1000);
}

TEST_CASE("a_reader_that_falls_behind_gets_every_byte_in_order_over_tls") {
  testing::test_ca ca;
  tls_server s{"t_tls_flood", ca.issue("one")};
  wss_client c{ca, s.port()};
  constexpr int n = 3000;  // 6 MB: more than the socket buffers, less than max_queued_bytes
  c.write("flood:" + std::to_string(n));
  std::this_thread::sleep_for(300ms);  // let the server's writes hit want_write
  for (int i = 0; i < n; ++i) {
    std::string expected = std::to_string(i) + ":";
    expected.resize(2000, static_cast<char>('a' + i % 26));
    auto got = c.read();
    REQUIRE(got == expected);
  }
  c.write("after");
  CHECK(c.read() == "after");
}

TEST_CASE("zlib_stream_output_travels_over_tls") {
  testing::test_ca ca;
  tls_server s{"t_tls_zlib", ca.issue("one")};
  wss_client c{ca, s.port(), "/?v=10&encoding=json&compress=zlib-stream"};
  inflater inf;
  for (int i = 0; i < 3; ++i) {
    std::string text = "{\"op\":10,\"d\":{\"n\":" + std::to_string(i) + "}}";
    c.write("zlib:" + text);
    bool binary = false;
    std::string frame = c.read(&binary);
    CHECK(binary);
    REQUIRE(frame.size() >= 4);
    CHECK(frame.substr(frame.size() - 4) == std::string("\0\0\xff\xff", 4));
    CHECK(inf.feed(frame) == text);
  }
}

TEST_CASE("plain_tcp_clients_on_a_tls_port_are_dropped_and_counted") {
  testing::test_ca ca;
  tls_server s{"t_tls_plain", ca.issue("one"), 1s};
  metrics::labels server{{"server", "t_tls_plain"}};
  auto answer = plain_exchange(s.port(), "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(answer.find("use https or wss") != std::string::npos);
  CHECK(metric("herald_tls_handshake_failures_total",
               {{"server", "t_tls_plain"}, {"reason", "plaintext_http"}}) == 1);
  // Garbage that is not a TLS record either.
  CHECK(plain_exchange(s.port(), std::string(64, '\x01')).empty());
  CHECK(metric("herald_tls_handshake_failures_total",
               {{"server", "t_tls_plain"}, {"reason", "error"}}) == 1);
  // A client that never sends is dropped after the handshake timeout.
  CHECK(plain_exchange(s.port(), "").empty());
  CHECK(metric("herald_tls_handshake_failures_total",
               {{"server", "t_tls_plain"}, {"reason", "timeout"}}) == 1);
  CHECK(metric("herald_tls_handshakes_total", server) == 0);
  // The listener still serves TLS clients.
  CHECK(https_get(ca, s.port(), "/plain").first.result_int() == 200);
}

TEST_CASE("a_reload_serves_the_new_certificate_to_new_connections_only") {
  testing::test_ca ca;
  auto one = ca.issue("one");
  auto two = ca.issue("two");
  testing::temp_dir live;
  testing::issued_cert files{live.file("cert.pem"), live.file("key.pem")};
  copy_file(one.cert_file, files.cert_file);
  copy_file(one.key_file, files.key_file);
  tls_server s{"t_tls_reload", files};
  metrics::labels ok{{"server", "t_tls_reload"}, {"result", "ok"}};
  metrics::labels failed{{"server", "t_tls_reload"}, {"result", "error"}};

  wss_client old_conn{ca, s.port()};
  CHECK(old_conn.common_name() == "one");
  copy_file(two.cert_file, files.cert_file);
  copy_file(two.key_file, files.key_file);
  REQUIRE_FALSE(s.tls->reload());
  CHECK(metric("herald_tls_reloads_total", ok) == 1);

  wss_client new_conn{ca, s.port()};
  CHECK(new_conn.common_name() == "two");
  CHECK(https_get(ca, s.port(), "/plain").second == "two");
  // The connection from before the reload keeps working on its session.
  old_conn.write("still here");
  CHECK(old_conn.read() == "still here");
  new_conn.write("new");
  CHECK(new_conn.read() == "new");

  SECTION("a_bad_reload_keeps_the_current_certificate") {
    copy_file(one.key_file, files.key_file);  // does not match cert two
    auto err = s.tls->reload();
    REQUIRE(err);
    CHECK(err->find("does not match") != std::string::npos);
    CHECK(metric("herald_tls_reloads_total", failed) == 1);
    CHECK(https_get(ca, s.port(), "/plain").second == "two");
    std::ofstream{files.cert_file, std::ios::trunc} << "not a certificate\n";
    REQUIRE(s.tls->reload());
    CHECK(metric("herald_tls_reloads_total", failed) == 2);
    wss_client after{ca, s.port()};
    CHECK(after.common_name() == "two");
    old_conn.write("old");
    CHECK(old_conn.read() == "old");
  }
}

TEST_CASE("tls_connections_count_against_the_per_ip_limit_and_are_refused_over_tls") {
  testing::test_ca ca;
  tls_server s{"t_tls_limit", ca.issue("one"), 10s, 1};
  metrics::labels refused{{"server", "t_tls_limit"}, {"reason", "max_connections_per_ip"}};
  std::optional<wss_client> held;
  held.emplace(ca, s.port());  // holds the one slot through the upgrade
  auto [res, cn] = https_get(ca, s.port(), "/plain");
  CHECK(res.result_int() == 503);
  CHECK(res[http::field::retry_after] == "5");
  CHECK(res.body().find("at max_connections_per_ip") != std::string::npos);
  CHECK(metric("herald_net_connections_refused_total", refused) == 1);
  CHECK(s.server->health().open_connections == 1);
  held.reset();  // the WebSocket closes and gives its slot back
  REQUIRE(testing::eventually([&] { return s.server->health().open_connections == 0; }));
  CHECK(https_get(ca, s.port(), "/plain").first.result_int() == 200);
}

TEST_CASE("https_requests_with_ambiguous_framing_are_refused_before_their_body") {
  testing::test_ca ca;
  tls_server s{"t_tls_framing", ca.issue("one")};
  auto both = tls_exchange(ca, s.port(),
                           "POST /plain HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  CHECK(both.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(both.find("HTTP/1.1 200") == std::string::npos);
  auto folded =
      tls_exchange(ca, s.port(), "GET /plain HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n");
  CHECK(folded.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(folded.find("bad request framing: obs_fold") != std::string::npos);
  CHECK(metric("herald_http_framing_errors_total",
               {{"server", "t_tls_framing"}, {"reason", "obs_fold"}}) == 1);
}
