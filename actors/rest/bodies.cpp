// SPDX-License-Identifier: Apache-2.0
#include "actors/rest/bodies.hpp"

#include <cstdint>

#include "actors/dispatch/message_text.hpp"
#include "actors/rest/body_types.hpp"

namespace herald::rest {

namespace {

using json = nlohmann::json;

body_error invalid_json() {
  return {400, 50109, "The request body contains invalid JSON.", std::nullopt};
}

body_error form_error(const std::string& field, const std::string& code,
                      const std::string& message) {
  json errors = {{field, {{"_errors", json::array({{{"code", code}, {"message", message}}})}}}};
  return {400, 50035, "Invalid Form Body", std::move(errors)};
}

/// The body as a JSON object, or the error.
std::optional<body_error> parse_object(std::string_view body, json& out) {
  out = json::parse(body.empty() ? std::string_view{"{}"} : body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    return invalid_json();
  }
  return std::nullopt;
}

/// The `content` field: a string of 1..2000 characters, or the error.
std::optional<body_error> content_of(const json& body, std::string& out) {
  auto it = body.find("content");
  if (it == body.end() || it->is_null()) {
    return body_error{400, 50006, "Cannot send an empty message", std::nullopt};
  }
  if (!it->is_string()) {
    return form_error("content", "STRING_TYPE_CONVERT", "Could not interpret value as string.");
  }
  out = it->get<std::string>();
  if (out.empty()) {
    return body_error{400, 50006, "Cannot send an empty message", std::nullopt};
  }
  if (dispatch::utf8_length(out) > dispatch::max_message_chars) {
    return form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
  }
  // JSON may carry "\u0000", which no store keeps (PostgreSQL text cannot hold it): refused
  // here, up front, rather than as a store error after the guild took the message.
  if (out.find('\0') != std::string::npos) {
    return form_error("content", "BASE_TYPE_BAD_CHARACTERS", "Must not contain NUL characters.");
  }
  return std::nullopt;
}

}  // namespace

std::variant<message_create_body, body_error> parse_message_create(std::string_view body) {
  json parsed;
  if (auto err = parse_object(body, parsed)) {
    return std::move(*err);
  }
  if (auto errors = message_create_errors(parsed)) {
    return body_error{400, 50035, "Invalid Form Body", std::move(errors)};
  }
  message_create_body out;
  if (auto err = content_of(parsed, out.content)) {
    return std::move(*err);
  }
  if (auto n = parsed.find("nonce"); n != parsed.end()) {  // string, integer or null (checked)
    if (n->is_string()) {
      out.nonce = n->get<std::string>();
    } else if (n->is_number_integer()) {
      out.nonce = std::to_string(n->get<int64_t>());
    }
  }
  if (auto tts = parsed.find("tts"); tts != parsed.end() && tts->is_boolean()) {
    out.tts = tts->get<bool>();
  }
  return out;
}

std::variant<message_edit_body, body_error> parse_message_edit(std::string_view body) {
  json parsed;
  if (auto err = parse_object(body, parsed)) {
    return std::move(*err);
  }
  if (auto errors = message_edit_errors(parsed)) {
    return body_error{400, 50035, "Invalid Form Body", std::move(errors)};
  }
  message_edit_body out;
  if (auto err = content_of(parsed, out.content)) {
    return std::move(*err);
  }
  return out;
}

}  // namespace herald::rest
