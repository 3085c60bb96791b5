// SPDX-License-Identifier: Apache-2.0
#pragma once
// A blocking HTTP/1.1 client on Boost.Beast for tools and tests (heraldctl, integration tests).
// Owned by its caller and used from one thread; each call runs a private io_context.
// Invariant: every call returns within its timeout, with either a response or an error.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

#include "runtime/net/http_server.hpp"

namespace herald::net {

struct client_response {
  std::error_code error;  ///< set if no response was received (connect, I/O or timeout)
  unsigned status = 0;
  std::string content_type;
  std::string body;
  bool keep_alive = false;  ///< whether the server left the connection open

  bool ok() const noexcept { return !error; }
};

/// Keeps one connection and sends requests on it in turn (keep-alive).
class http_client {
public:
  http_client(std::string host, uint16_t port,
              std::chrono::milliseconds timeout = std::chrono::seconds{5});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends one request, connecting first if needed; the connection is kept
  /// if the server allows it. On error the connection is dropped.
  /// `headers` are set after the defaults, so they may replace Host or User-Agent (e.g.
  /// `Authorization: Bearer …` for the admin API).
  client_response request(const std::string& method, const std::string& target,
                          const std::string& body = {},
                          const std::string& content_type = "application/json",
                          const header_list& headers = {});

  /// True while a connection is open.
  bool connected() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// One request on a fresh connection.
client_response http_fetch(const std::string& host, uint16_t port, const std::string& method,
                           const std::string& target, const std::string& body = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds{5},
                           const header_list& headers = {});

/// Human-readable reason for a client error, lower case (e.g. "connection refused", "timed out").
std::string describe(const std::error_code& ec);

}  // namespace herald::net
