// SPDX-License-Identifier: Apache-2.0
#pragma once
// The HTTP/1.1 request parser exactly as http_server's connections read requests with it, in
// one place so that the fuzz target (fuzz/http_request_fuzz.cpp) tests the server's real
// configuration. Header-only: Beast is header-only here and the fuzzer builds without the
// server. Any thread; one parser per request.

#include <cstddef>
#include <cstdint>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace herald::net::detail {

using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

/// Largest request line plus header fields; more gets 431. Beast's default, stated here so
/// that a Beast upgrade cannot change it silently.
inline constexpr std::uint32_t request_header_limit = 8192;

/// Limits a fresh parser: bodies over `body_limit` (server_options::body_limit) get 413.
/// Reads go through http::read/async_read, which parse eagerly (header and body in one call).
inline void configure_request_parser(request_parser& parser, std::size_t body_limit) {
  parser.header_limit(request_header_limit);
  parser.body_limit(body_limit);
}

}  // namespace herald::net::detail
