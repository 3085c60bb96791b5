// SPDX-License-Identifier: Apache-2.0
#include "actors/rest/body_types.hpp"

#include <string>

namespace herald::rest {

namespace {

using json = nlohmann::json;

enum class kind { string, boolean, integer, array, object, string_or_integer };

struct field_rule {
  const char* name;
  kind type;
};

// Discord's form error codes and messages for a value of the wrong type.
void add_error(json& errors, const char* field, const char* code, const std::string& message) {
  errors[field]["_errors"].push_back({{"code", code}, {"message", message}});
}

void check_field(const json& body, const field_rule& rule, json& errors) {
  auto it = body.find(rule.name);
  if (it == body.end() || it->is_null()) {
    return;
  }
  const json& v = *it;
  switch (rule.type) {
    case kind::string:
      if (!v.is_string()) {
        add_error(errors, rule.name, "STRING_TYPE_CONVERT", "Could not interpret value as string.");
      }
      break;
    case kind::boolean:
      if (!v.is_boolean()) {
        add_error(errors, rule.name, "BASE_TYPE_BOOLEAN", "Must be either true or false.");
      }
      break;
    case kind::integer:
      if (!v.is_number_integer()) {
        add_error(errors, rule.name, "NUMBER_TYPE_COERCE", "Value is not int.");
      }
      break;
    case kind::array:
      if (!v.is_array()) {
        add_error(errors, rule.name, "LIST_TYPE_CONVERT",
                  "Only iterables may be used in a ListType");
      }
      break;
    case kind::object:
      if (!v.is_object()) {
        add_error(errors, rule.name, "DICT_TYPE_CONVERT",
                  "Only dictionaries may be used in a DictType");
      }
      break;
    case kind::string_or_integer:
      if (v.is_string()) {
        if (v.get_ref<const std::string&>().size() > 25) {
          add_error(errors, rule.name, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
        }
      } else if (!v.is_number_integer()) {
        add_error(errors, rule.name, "BASE_TYPE_CHOICES", "Must be a string or an integer.");
      }
      break;
  }
}

template <size_t N>
std::optional<json> errors_of(const json& body, const field_rule (&rules)[N]) {
  json errors = json::object();
  for (const auto& rule : rules) {
    check_field(body, rule, errors);
  }
  if (errors.empty()) {
    return std::nullopt;
  }
  return errors;
}

// Fields herald reads or accepts and ignores (docs/gateway.md "Endpoints").
constexpr field_rule create_rules[] = {
    {"content", kind::string},
    {"nonce", kind::string_or_integer},
    {"tts", kind::boolean},
    {"embeds", kind::array},
    {"embed", kind::object},
    {"allowed_mentions", kind::object},
    {"message_reference", kind::object},
    {"components", kind::array},
    {"sticker_ids", kind::array},
    {"attachments", kind::array},
    {"flags", kind::integer},
    {"enforce_nonce", kind::boolean},
};

constexpr field_rule edit_rules[] = {
    {"content", kind::string},          {"embeds", kind::array},     {"embed", kind::object},
    {"allowed_mentions", kind::object}, {"components", kind::array}, {"attachments", kind::array},
    {"flags", kind::integer},
};

}  // namespace

std::optional<json> message_create_errors(const json& body) {
  return errors_of(body, create_rules);
}

std::optional<json> message_edit_errors(const json& body) {
  return errors_of(body, edit_rules);
}

}  // namespace herald::rest
