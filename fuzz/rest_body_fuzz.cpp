// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the REST JSON bodies (actors/rest/bodies) and the JSON string encoder every
// stored message's content goes back out through (actors/guild/detail/json_writer).
// Input: byte 0 picks the parser (even: message create, odd: message edit; bit 1 also
// encodes the raw rest with append_json_string); the rest is the request body.
// Checks, besides the sanitizers: refusals are 400 with Discord's code 50109, 50006 or 50035
// (50035 and only it with an `errors` object); accepted content is 1..2000 code points; the
// content, encoded for a reply or a dispatch, parses back to exactly the same string; any
// byte string encodes to valid JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/dispatch/message_text.hpp"
#include "actors/guild/detail/json_writer.hpp"
#include "actors/rest/bodies.hpp"

namespace {

using namespace herald::rest;
using json = nlohmann::json;

void check_error(const body_error& e) {
  bool known = e.code == 50109 || e.code == 50006 || e.code == 50035;
  if (e.status != 400 || !known || e.errors.has_value() != (e.code == 50035) || e.message.empty()) {
    std::abort();
  }
  if (e.errors) {
    (void)e.errors->dump();  // throws (and so fails) if it held invalid UTF-8
  }
}

void check_content(const std::string& content) {
  if (content.empty() ||
      herald::dispatch::utf8_length(content) > herald::dispatch::max_message_chars) {
    std::abort();
  }
  std::string encoded;
  herald::guild::detail::append_json_string(encoded, content);
  auto back = json::parse(encoded, nullptr, false);
  if (!back.is_string() || back.get_ref<const std::string&>() != content) {
    std::abort();  // the reply or dispatch would carry other text than was stored
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  std::string_view body{reinterpret_cast<const char*>(data + 1), size - 1};
  if ((data[0] & 1) == 0) {
    auto r = parse_message_create(body);
    if (const auto* e = std::get_if<body_error>(&r)) {
      check_error(*e);
    } else {
      const auto& b = std::get<message_create_body>(r);
      check_content(b.content);
      if (b.nonce && b.nonce->size() > body.size()) {
        std::abort();
      }
    }
  } else {
    auto r = parse_message_edit(body);
    if (const auto* e = std::get_if<body_error>(&r)) {
      check_error(*e);
    } else {
      check_content(std::get<message_edit_body>(r).content);
    }
  }
  if ((data[0] & 2) != 0) {
    // Content from the store or another node is not validated again: any bytes must still
    // encode to one valid JSON string.
    std::string encoded;
    herald::guild::detail::append_json_string(encoded, body);
    auto back = json::parse(encoded, nullptr, false);
    if (!back.is_string()) {
      std::abort();
    }
  }
  return 0;
}
