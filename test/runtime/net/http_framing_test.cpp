// SPDX-License-Identifier: Apache-2.0
// Request smuggling (RFC 7230 section 3.3.3) on a raw socket: a request whose body length is
// ambiguous gets 400 and the connection is closed, so no byte of its body is ever read as a
// second request.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>

#include "runtime/metrics/metrics.hpp"
#include "runtime/net/detail/request_framing.hpp"
#include "runtime/net/http_server.hpp"
#include "test/support/raw_http.hpp"

using namespace herald;

namespace {

// A server whose POST /store records every call; the smuggled request targets it.
struct framing_server {
  std::unique_ptr<net::http_server> server;
  std::atomic<int> stored{0};

  explicit framing_server(const std::string& name) {
    net::server_options opts;
    opts.name = name;
    server = std::make_unique<net::http_server>(opts);
    server->route("POST", "/store", [this](const net::http_request&) {
      ++stored;
      return net::http_response{201, "text/plain", "stored\n", {}};
    });
    server->route("POST", "/public", [](const net::http_request& r) {
      return net::http_response{200, "text/plain", "public:" + r.body, {}};
    });
    REQUIRE_FALSE(server->start());
  }
};

const std::string smuggled =
    "POST /store HTTP/1.1\r\nHost: x\r\nAuthorization: Bot victim\r\nContent-Length: 2\r\n\r\n{}";

std::string outer(const std::string& framing_headers, const std::string& body) {
  return "POST /public HTTP/1.1\r\nHost: x\r\n" + framing_headers + "\r\n" + body;
}

double framing_errors(const std::string& server, const std::string& reason) {
  return metrics::registry::global().value_of("herald_http_framing_errors_total",
                                              {{"server", server}, {"reason", reason}});
}

}  // namespace

// Regression: "Transfer-Encoding: gzip" (or identity, or chunked not last) left the body
// unread, and the next parse read the smuggled request from it.
TEST_CASE("a_transfer_encoding_other_than_chunked_is_400_and_closes") {
  framing_server s{"t_framing_te"};
  std::string te =
      GENERATE(std::string{"gzip"}, std::string{"identity"}, std::string{"chunked, identity"},
               std::string{"gzip, chunked"}, std::string{"x"});
  CAPTURE(te);
  double before = framing_errors("t_framing_te", "transfer_encoding");
  auto got =
      testing::raw_exchange(s.server->port(), outer("Transfer-Encoding: " + te + "\r\n", smuggled));
  CHECK(got.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(got.find("Connection: close") != std::string::npos);
  CHECK(got.find("HTTP/1.1 201") == std::string::npos);
  CHECK(s.stored == 0);
  CHECK(framing_errors("t_framing_te", "transfer_encoding") == before + 1);
}

TEST_CASE("two_transfer_encoding_fields_are_400") {
  framing_server s{"t_framing_te2"};
  auto got = testing::raw_exchange(
      s.server->port(),
      outer("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n" + smuggled));
  CHECK(got.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(s.stored == 0);
}

TEST_CASE("transfer_encoding_with_content_length_is_400_in_either_order") {
  framing_server s{"t_framing_te_cl"};
  std::string headers = GENERATE(std::string{"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"},
                                 std::string{"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"},
                                 std::string{"Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"});
  CAPTURE(headers);
  auto got = testing::raw_exchange(s.server->port(), outer(headers, "0\r\n\r\n" + smuggled));
  CHECK(got.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(got.find("HTTP/1.1 201") == std::string::npos);
  CHECK(s.stored == 0);
}

TEST_CASE("differing_content_lengths_are_400_and_equal_ones_are_served") {
  framing_server s{"t_framing_cl"};
  auto bad = testing::raw_exchange(
      s.server->port(),
      outer("Content-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n", "abc"));
  CHECK(bad.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(framing_errors("t_framing_cl", "content_length") == 1);
  auto good = testing::raw_exchange(
      s.server->port(),
      outer("Content-Length: 3\r\nContent-Length: 3\r\nConnection: close\r\n", "abc"));
  CHECK(good.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(good.find("public:abc") != std::string::npos);
}

TEST_CASE("a_folded_header_line_is_400") {
  framing_server s{"t_framing_fold"};
  auto got = testing::raw_exchange(s.server->port(),
                                   "POST /public HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n"
                                   "Content-Length: 2\r\nConnection: close\r\n\r\nok");
  CHECK(got.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(framing_errors("t_framing_fold", "obs_fold") == 1);
}

TEST_CASE("chunked_alone_is_served_and_keeps_the_connection") {
  framing_server s{"t_framing_chunked"};
  auto got = testing::raw_exchange(
      s.server->port(), outer("Transfer-Encoding: Chunked\r\n", "3\r\nabc\r\n0\r\n\r\n") +
                            "POST /public HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                            "Connection: close\r\n\r\nz");
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(got.find("public:abc") != std::string::npos);
  CHECK(got.find("public:z") != std::string::npos);
}

TEST_CASE("check_raw_header_finds_obs_fold_only_at_line_starts") {
  using net::detail::check_raw_header;
  using net::detail::framing_error;
  CHECK(check_raw_header("GET / HTTP/1.1\r\nA: b c\r\nD:\te") == framing_error::none);
  CHECK(check_raw_header("GET / HTTP/1.1\r\nA: b\r\n\tc") == framing_error::obs_fold);
  CHECK(check_raw_header("GET / HTTP/1.1\r\n A: b") == framing_error::obs_fold);
}
