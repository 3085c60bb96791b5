// SPDX-License-Identifier: Apache-2.0
#pragma once
// The JSON request bodies of the REST routes (POST and PATCH of a message), parsed and
// validated into plain values, or the Discord error to answer with. Pure functions, any
// thread, no I/O: the routes call them on a CAF worker and the fuzz target
// (fuzz/rest_body_fuzz.cpp) calls them directly. Never throw for any input.

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace herald::rest {

/// Why a body was refused: HTTP status, Discord's JSON error code and message, and for
/// 50035 (Invalid Form Body) the `errors` object naming the field.
struct body_error {
  unsigned status = 400;
  int code = 50109;
  std::string message;
  std::optional<nlohmann::json> errors;
};

/// POST /channels/{id}/messages: {"content", "nonce"?, "tts"?}.
struct message_create_body {
  std::string content;               ///< 1..2000 characters
  std::optional<std::string> nonce;  ///< a string, or an integer in decimal
  bool tts = false;
};

/// PATCH /channels/{id}/messages/{id}: {"content"}.
struct message_edit_body {
  std::string content;  ///< 1..2000 characters
};

/// An empty body counts as `{}`. Not JSON, or JSON that is not an object: 400 50109. Any
/// field of the wrong JSON type (body_types.hpp: tts not a boolean, nonce neither a string of
/// at most 25 characters nor an integer, embeds not an array, …): 400 50035 naming each.
/// Missing, null or empty content: 400 50006; content not a string, over 2000 characters or
/// holding a NUL character ("\u0000", which no store keeps): 400 50035 naming `content`.
std::variant<message_create_body, body_error> parse_message_create(std::string_view body);
/// As parse_message_create, for the content alone.
std::variant<message_edit_body, body_error> parse_message_edit(std::string_view body);

}  // namespace herald::rest
