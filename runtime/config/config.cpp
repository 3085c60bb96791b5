// SPDX-License-Identifier: Apache-2.0
#include "runtime/config/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <toml++/toml.h>

#include "runtime/config/toml_guard.hpp"

namespace herald::config {

std::string to_string(value_type t) {
  switch (t) {
    case value_type::boolean:
      return "boolean";
    case value_type::integer:
      return "integer";
    case value_type::string:
      return "string";
    case value_type::string_list:
      return "list of strings";
  }
  return "unknown";
}

std::string to_string(error_kind k) {
  switch (k) {
    case error_kind::file_unreadable:
      return "file_unreadable";
    case error_kind::syntax:
      return "syntax";
    case error_kind::unknown_key:
      return "unknown_key";
    case error_kind::wrong_type:
      return "wrong_type";
    case error_kind::invalid_value:
      return "invalid_value";
  }
  return "unknown";
}

std::string error::to_string() const {
  return subject + ": " + message;
}

namespace {

/// A TOML basic string. TOML forbids raw control characters other than tab in it, so they
/// are escaped: a value given by flag or as an escape in the file must render to TOML that
/// loads back (found by fuzz/config_fuzz.cpp). The code points the TOML guard refuses
/// outside comments (toml_guard.hpp) are escaped as \uXXXX for the same reason.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    auto u = static_cast<unsigned char>(c);
    if (auto hazard = hazard_at(s, i)) {
      char escape[16];
      std::snprintf(escape, sizeof escape, "\\u%04X", static_cast<unsigned>(hazard->code_point));
      out += escape;
      i += hazard->bytes - 1;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 && c != '\t') {
      static constexpr char hex[] = "0123456789ABCDEF";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else if (u == 0x7f) {
      out += "\\u007F";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

/// A key name as an error's subject: as is when it is made of bare-key characters and dots,
/// else quoted as TOML would (an empty key `""`, spaces, control characters escaped), so
/// the subject is never empty and never spans lines (found by fuzz/config_fuzz.cpp).
std::string display_key(const std::string& name) {
  bool bare = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
  });
  return bare ? name : quote(name);
}

}  // namespace

std::string render(const value& v) {
  if (auto b = std::get_if<bool>(&v)) {
    return *b ? "true" : "false";
  }
  if (auto i = std::get_if<int64_t>(&v)) {
    return std::to_string(*i);
  }
  if (auto s = std::get_if<std::string>(&v)) {
    return quote(*s);
  }
  const auto& list = std::get<string_list>(v);
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    out += (i > 0 ? ", " : "") + quote(list[i]);
  }
  return out + "]";
}

// -- schema -------------------------------------------------------------------

schema& schema::add(key_spec spec) {
  if (index_.count(spec.name) > 0) {
    throw std::logic_error("config key registered twice: " + spec.name);
  }
  if (!spec.default_value) {
    throw std::logic_error("config key without default: " + spec.name);
  }
  index_.emplace(spec.name, keys_.size());
  keys_.push_back(std::move(spec));
  return *this;
}

const key_spec* schema::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &keys_[it->second];
}

bool schema::has_section(std::string_view prefix) const {
  std::string p = std::string{prefix} + ".";
  return std::any_of(keys_.begin(), keys_.end(),
                     [&](const key_spec& k) { return k.name.compare(0, p.size(), p) == 0; });
}

// -- config -------------------------------------------------------------------

const value& config::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    throw std::logic_error("config key not in schema: " + std::string{key});
  }
  return it->second;
}

namespace {

template <class T>
const T& typed(const value& v, std::string_view key) {
  if (auto p = std::get_if<T>(&v)) {
    return *p;
  }
  throw std::logic_error("config key read with the wrong type: " + std::string{key});
}

}  // namespace

const std::string& config::get_string(std::string_view key) const {
  return typed<std::string>(get(key), key);
}

int64_t config::get_int(std::string_view key) const {
  return typed<int64_t>(get(key), key);
}

bool config::get_bool(std::string_view key) const {
  return typed<bool>(get(key), key);
}

const string_list& config::get_list(std::string_view key) const {
  return typed<string_list>(get(key), key);
}

bool config::is_explicit(std::string_view key) const {
  auto it = explicit_.find(key);
  return it != explicit_.end() && it->second;
}

std::string config::render_toml() const {
  std::string out;
  std::string section;
  for (const auto& [key, v] : values_) {
    auto dot = key.rfind('.');
    std::string sec = dot == std::string::npos ? "" : key.substr(0, dot);
    std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
    if (sec != section) {
      out += (out.empty() ? "[" : "\n[") + sec + "]\n";
      section = sec;
    }
    out += leaf + " = " + render(v) + "\n";
  }
  return out;
}

// -- loading ------------------------------------------------------------------

class loader {
public:
  explicit loader(const schema& s) : schema_(s) {}

  std::optional<error> apply_toml(const toml::table& root) { return walk(root, ""); }

  std::optional<error> apply_flag(const flag_override& f) {
    const key_spec* spec = schema_.find(f.key);
    if (spec == nullptr) {
      return error{error_kind::unknown_key, display_key(f.key), "unknown key"};
    }
    auto parsed = from_text(*spec, f.text);
    if (!parsed) {
      return error{error_kind::wrong_type, f.key,
                   "expected " + to_string(spec->type) + ", got " + quote(f.text)};
    }
    return set_explicit(*spec, std::move(*parsed));
  }

  // Fills defaults in registration order, so a default may read earlier keys.
  std::optional<error> finish() {
    for (const auto& spec : schema_.keys()) {
      if (result_.values_.count(spec.name) > 0) {
        continue;
      }
      value v = spec.default_value(result_);
      if (auto e = check(spec, v)) {
        return e;
      }
      result_.values_[spec.name] = std::move(v);
      result_.explicit_[spec.name] = false;
    }
    return std::nullopt;
  }

  config take() { return std::move(result_); }

private:
  std::optional<error> walk(const toml::table& table, const std::string& prefix) {
    for (const auto& [k, node] : table) {
      std::string name =
          prefix.empty() ? std::string{k.str()} : prefix + "." + std::string{k.str()};
      const key_spec* spec = schema_.find(name);
      if (spec == nullptr) {
        if (const auto* sub = node.as_table(); sub != nullptr && schema_.has_section(name)) {
          if (auto e = walk(*sub, name)) {
            return e;
          }
          continue;
        }
        return error{error_kind::unknown_key, display_key(name), "unknown key"};
      }
      auto parsed = from_toml(*spec, node);
      if (!parsed) {
        return error{error_kind::wrong_type, name,
                     "expected " + to_string(spec->type) + ", got " + describe(node)};
      }
      if (auto e = set_explicit(*spec, std::move(*parsed))) {
        return e;
      }
    }
    return std::nullopt;
  }

  std::optional<error> set_explicit(const key_spec& spec, value v) {
    if (auto e = check(spec, v)) {
      return e;
    }
    result_.values_[spec.name] = std::move(v);
    result_.explicit_[spec.name] = true;
    return std::nullopt;
  }

  static std::optional<error> check(const key_spec& spec, const value& v) {
    if (spec.validate) {
      if (auto msg = spec.validate(v)) {
        return error{error_kind::invalid_value, spec.name, *msg};
      }
    }
    return std::nullopt;
  }

  static std::string describe(const toml::node& n) {
    std::ostringstream os;
    switch (n.type()) {
      case toml::node_type::table:
        return "a table";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::string:
        return "string " + quote(std::string{*n.value<std::string_view>()});
      default:
        break;
    }
    n.visit([&](const auto& x) { os << x; });
    return toml_type_name(n) + " " + os.str();
  }

  static std::string toml_type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::integer:
        return "integer";
      case toml::node_type::floating_point:
        return "float";
      case toml::node_type::boolean:
        return "boolean";
      default:
        return "date/time";
    }
  }

  static std::optional<value> from_toml(const key_spec& spec, const toml::node& n) {
    switch (spec.type) {
      case value_type::boolean:
        if (auto b = n.value_exact<bool>()) {
          return value{*b};
        }
        return std::nullopt;
      case value_type::integer:
        if (auto i = n.value_exact<int64_t>()) {
          return value{*i};
        }
        return std::nullopt;
      case value_type::string:
        if (auto s = n.value_exact<std::string>()) {
          return value{*s};
        }
        return std::nullopt;
      case value_type::string_list:
        return list_from_toml(n);
    }
    return std::nullopt;
  }

  static std::optional<value> list_from_toml(const toml::node& n) {
    const auto* arr = n.as_array();
    if (arr == nullptr) {
      return std::nullopt;
    }
    string_list out;
    for (const auto& item : *arr) {
      auto s = item.value_exact<std::string>();
      if (!s) {
        return std::nullopt;
      }
      out.push_back(*s);
    }
    return value{std::move(out)};
  }

  static std::optional<value> from_text(const key_spec& spec, const std::string& text) {
    switch (spec.type) {
      case value_type::boolean:
        if (text == "true" || text == "yes" || text == "1") {
          return value{true};
        }
        if (text == "false" || text == "no" || text == "0") {
          return value{false};
        }
        return std::nullopt;
      case value_type::integer: {
        int64_t i = 0;
        const char* end = text.data() + text.size();
        auto [p, ec] = std::from_chars(text.data(), end, i);
        if (text.empty() || ec != std::errc{} || p != end) {
          return std::nullopt;
        }
        return value{i};
      }
      case value_type::string:
        return value{text};
      case value_type::string_list:
        return value{split_list(text)};
    }
    return std::nullopt;
  }

  static string_list split_list(const std::string& text) {
    string_list out;
    std::string item;
    std::istringstream is{text};
    while (std::getline(is, item, ',')) {
      auto b = item.find_first_not_of(" \t");
      auto e = item.find_last_not_of(" \t");
      if (b != std::string::npos) {
        out.push_back(item.substr(b, e - b + 1));
      }
    }
    return out;
  }

  const schema& schema_;
  config result_;
};

namespace {

load_result finish_with_flags(loader& l, const std::vector<flag_override>& overrides) {
  for (const auto& f : overrides) {
    if (auto e = l.apply_flag(f)) {
      return *e;
    }
  }
  if (auto e = l.finish()) {
    return *e;
  }
  return l.take();
}

}  // namespace

load_result load_from_string(const schema& s, std::string_view toml_text,
                             const std::string& source_name,
                             const std::vector<flag_override>& overrides) {
  loader l{s};
  if (auto hazard = find_toml_hazard(toml_text)) {
    return error{
        error_kind::syntax,
        source_name + ":" + std::to_string(hazard->line) + ":" + std::to_string(hazard->column),
        std::move(hazard->message)};
  }
  try {
    toml::table root = toml::parse(toml_text, source_name);
    if (auto e = l.apply_toml(root)) {
      return *e;
    }
  } catch (const toml::parse_error& pe) {
    const auto& begin = pe.source().begin;
    return error{
        error_kind::syntax,
        source_name + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column),
        std::string{pe.description()}};
  }
  return finish_with_flags(l, overrides);
}

load_result load(const schema& s, const load_options& opts) {
  if (!opts.file) {
    loader l{s};
    return finish_with_flags(l, opts.overrides);
  }
  std::error_code ec;
  if (std::filesystem::is_directory(*opts.file, ec)) {
    return error{error_kind::file_unreadable, *opts.file, "is a directory, not a config file"};
  }
  std::ifstream in{*opts.file, std::ios::binary};
  if (!in) {
    return error{error_kind::file_unreadable, *opts.file, "cannot open config file"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return error{error_kind::file_unreadable, *opts.file, "cannot read config file"};
  }
  return load_from_string(s, text.str(), *opts.file, opts.overrides);
}

std::string render_reference(const schema& s) {
  std::string out = "| key | type | default | description |\n|---|---|---|---|\n";
  for (const auto& k : s.keys()) {
    out += "| `" + k.name + "` | " + to_string(k.type) + " | " + k.default_doc + " | " + k.doc +
           " |\n";
  }
  return out;
}

}  // namespace herald::config
