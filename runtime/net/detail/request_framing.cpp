// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/detail/request_framing.hpp"

#include <algorithm>
#include <cctype>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

namespace herald::net::detail {

namespace http = boost::beast::http;

std::string_view to_string(framing_error e) {
  switch (e) {
    case framing_error::none:
      return "none";
    case framing_error::transfer_encoding:
      return "transfer_encoding";
    case framing_error::te_and_length:
      return "te_and_content_length";
    case framing_error::content_length:
      return "content_length";
    case framing_error::obs_fold:
      return "obs_fold";
  }
  return "unknown";
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_chunked(std::string_view v) {
  static constexpr std::string_view chunked = "chunked";
  return v.size() == chunked.size() &&
         std::equal(v.begin(), v.end(), chunked.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace

framing_error check_framing(const http::fields& header) {
  auto te = header.equal_range(http::field::transfer_encoding);
  if (te.first == te.second) {
    return framing_error::none;
  }
  // One field, one coding, `chunked`: anything else (gzip, identity, "chunked, identity",
  // "gzip, chunked", a second field) names a coding we do not implement.
  if (std::next(te.first) != te.second || !is_chunked(trim(te.first->value()))) {
    return framing_error::transfer_encoding;
  }
  if (header.count(http::field::content_length) > 0) {
    return framing_error::te_and_length;
  }
  return framing_error::none;
}

framing_error check_raw_header(std::string_view block) {
  for (size_t i = block.find('\n'); i != std::string_view::npos; i = block.find('\n', i + 1)) {
    if (i + 1 < block.size() && (block[i + 1] == ' ' || block[i + 1] == '\t')) {
      return framing_error::obs_fold;
    }
  }
  return framing_error::none;
}

framing_error framing_error_of(const boost::system::error_code& ec) {
  if (ec == http::error::bad_transfer_encoding) {
    return framing_error::transfer_encoding;  // Beast: a second chunked, or after Content-Length
  }
  if (ec == http::error::bad_content_length) {
    return framing_error::content_length;
  }
  if (ec == http::error::bad_obs_fold) {
    return framing_error::obs_fold;
  }
  return framing_error::none;
}

}  // namespace herald::net::detail
