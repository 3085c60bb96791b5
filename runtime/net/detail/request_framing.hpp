// SPDX-License-Identifier: Apache-2.0
#pragma once
// Message framing checks of an HTTP/1.1 request (RFC 7230 section 3.3.3) beyond what
// Boost.Beast's parser enforces: pure functions, called by http_server's session on its strand.
// Invariant: a request passing these checks has exactly one unambiguous body length, so no
// byte of its body can be read as the start of another request (request smuggling).

#include <boost/beast/http/fields.hpp>
#include <boost/system/error_code.hpp>
#include <string_view>

namespace herald::net::detail {

/// Why a request's framing was refused; the `reason` label of
/// herald_http_framing_errors_total.
enum class framing_error {
  none,
  transfer_encoding,  ///< a Transfer-Encoding other than exactly `chunked`
  te_and_length,      ///< both Transfer-Encoding and Content-Length
  content_length,     ///< an invalid Content-Length, or several differing ones
  obs_fold,           ///< a header field value folded over lines (obs-fold)
};

std::string_view to_string(framing_error e);

/// Checks a parsed request header: we implement no transfer coding but chunked, so the only
/// Transfer-Encoding accepted is one field whose value is exactly `chunked`, and never beside
/// a Content-Length.
framing_error check_framing(const boost::beast::http::fields& header);

/// Checks the raw header block (request line through the last field line, without the final
/// empty line) for obs-fold: a line break followed by a space or tab. Beast unfolds such
/// values silently; RFC 7230 section 3.2.4 lets a server reject them with 400.
framing_error check_raw_header(std::string_view block);

/// Maps a Beast parse error caused by conflicting or invalid framing fields to its reason;
/// `none` for every other error.
framing_error framing_error_of(const boost::system::error_code& ec);

}  // namespace herald::net::detail
