// SPDX-License-Identifier: Apache-2.0
#pragma once
// A blocking Beast HTTP client for the REST tests: custom request headers (Authorization)
// and every response header visible (Retry-After, X-RateLimit-*), which net::http_client hides.
// Used from the test thread only; one connection per request.
// Invariant: every call returns within its timeout (status 0 on any failure).

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace herald::rest_test {

struct reply {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (boost::beast::iequals(k, name)) {
        return v;
      }
    }
    return {};
  }
  bool has_header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (boost::beast::iequals(k, name)) {
        return true;
      }
    }
    return false;
  }
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

inline reply send(uint16_t port, const std::string& method, const std::string& target,
                  const std::string& authorization = {}, const std::string& body = {},
                  std::chrono::seconds timeout = std::chrono::seconds{10}) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  reply out;
  try {
    boost::asio::io_context ioc;
    beast::tcp_stream stream{ioc};
    stream.expires_after(timeout);
    auto loopback = boost::asio::ip::make_address("127.0.0.1");
    stream.connect(boost::asio::ip::tcp::endpoint{loopback, port});
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!authorization.empty()) {
      req.set(http::field::authorization, authorization);
    }
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    out.status = res.result_int();
    for (const auto& field : res) {
      out.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    }
    out.body = res.body();
    beast::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  } catch (const std::exception&) {
    out.status = 0;
  }
  return out;
}

}  // namespace herald::rest_test
