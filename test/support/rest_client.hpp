// SPDX-License-Identifier: Apache-2.0
#pragma once
// A blocking HTTP/1.1 test client on Boost.Beast (header-only) with custom headers, for the
// REST API (Authorization: Bot <token>) and the admin API of a node on loopback.
// Used from one test thread; one connection per request ("Connection: close").
// Invariant: every request completes or fails within its timeout; failures are status 0.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace herald::testing {

/// One HTTP answer. status 0: the connection failed or timed out (`error` says why).
struct http_answer {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string error;

  /// The body as JSON (discarded value when it is not JSON).
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  /// A header by lower-case name, empty when absent.
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

/// `method target` on host:port (an IPv4 address) with `headers` and `body` (sent as
/// application/json when non-empty, unless `headers` names another Content-Type).
inline http_answer http_call_at(
    const std::string& host, uint16_t port, const std::string& method, const std::string& target,
    const std::string& body = {},
    const std::vector<std::pair<std::string, std::string>>& headers = {},
    std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  http_answer answer;
  boost::asio::io_context io;
  beast::tcp_stream stream{io};
  beast::error_code ec;
  stream.expires_after(timeout);
  stream.connect({boost::asio::ip::make_address(host), port}, ec);
  if (ec) {
    answer.error = "connect: " + ec.message();
    return answer;
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host + ":" + std::to_string(port));
  req.set(http::field::connection, "close");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  // After the defaults, so a test may send another Host or Content-Type.
  for (const auto& [name, value] : headers) {
    req.set(name, value);
  }
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) {
    answer.error = "write: " + ec.message();
    return answer;
  }
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res, ec);
  if (ec) {
    answer.error = "read: " + ec.message();
    return answer;
  }
  answer.status = res.result_int();
  answer.body = res.body();
  for (const auto& field : res) {
    std::string name{field.name_string()};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    answer.headers[name] = std::string{field.value()};
  }
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return answer;
}

/// `method target` on 127.0.0.1:port (http_call_at).
inline http_answer http_call(uint16_t port, const std::string& method, const std::string& target,
                             const std::string& body = {},
                             const std::vector<std::pair<std::string, std::string>>& headers = {},
                             std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
  return http_call_at("127.0.0.1", port, method, target, body, headers, timeout);
}

/// The REST API v10 of a node as one user (`Authorization: Bot <token>`).
class rest_client {
public:
  rest_client(uint16_t port, std::string token) : port_(port), token_(std::move(token)) {}

  http_answer get(const std::string& path) const { return call("GET", path, {}); }
  http_answer post(const std::string& path, const nlohmann::json& body) const {
    return call("POST", path, body.dump());
  }
  http_answer patch(const std::string& path, const nlohmann::json& body) const {
    return call("PATCH", path, body.dump());
  }
  http_answer del(const std::string& path) const { return call("DELETE", path, {}); }
  http_answer put(const std::string& path) const { return call("PUT", path, {}); }

  /// POST /channels/{id}/messages {"content"}.
  http_answer post_message(const std::string& channel_id, const std::string& content) const {
    return post("/channels/" + channel_id + "/messages", {{"content", content}});
  }

private:
  http_answer call(const std::string& method, const std::string& path,
                   const std::string& body) const {
    return http_call(port_, method, "/api/v10" + path, body, {{"Authorization", "Bot " + token_}});
  }

  uint16_t port_;
  std::string token_;
};

}  // namespace herald::testing
