// SPDX-License-Identifier: Apache-2.0
#pragma once
// Node configuration: a key table (schema) that modules register keys into, and
// the loaded values (defaults < TOML file < command-line flags), validated per key.
// Owned by whoever loads it (heraldd's main, tests); immutable after load, so any thread may read
// it. Invariant: a loaded config holds exactly one valid value of the declared type for every
// schema key.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace herald::config {

/// Declared type of a key; decides how file values and flag text are read.
enum class value_type {
  boolean,      ///< TOML bool; flag text true|false|yes|no|1|0
  integer,      ///< TOML integer; flag text in decimal
  string,       ///< TOML string; flag text taken verbatim
  string_list,  ///< TOML array of strings; flag text comma-separated
};

std::string to_string(value_type t);

using string_list = std::vector<std::string>;
using value = std::variant<bool, int64_t, std::string, string_list>;

/// Renders a value the way a user would write it in TOML (`"abc"`, `42`, `["a"]`).
std::string render(const value& v);

/// What went wrong with input from outside (file or flags).
enum class error_kind {
  file_unreadable,  ///< the config file could not be opened or read
  syntax,           ///< the file is not valid TOML; subject is FILE:LINE:COLUMN
  unknown_key,      ///< a file key or flag names no registered key
  wrong_type,       ///< the value has another type than the key declares
  invalid_value,    ///< the key's validator rejected the value
};

std::string to_string(error_kind k);

/// A config error. `subject` is the key name, or the file location for
/// file-level errors; to_string() is one line: `<subject>: <message>`.
struct error {
  error_kind kind = error_kind::invalid_value;
  std::string subject;
  std::string message;

  std::string to_string() const;
};

class config;

/// Checks a value of the declared type; returns an error message or nullopt.
using validator = std::function<std::optional<std::string>(const value&)>;
/// Computes a default once explicit values are known (e.g. data_dir from name).
using default_fn = std::function<value(const config&)>;

/// One row of the key table.
struct key_spec {
  std::string name;  ///< dotted, `section.key`; also the flag `--section.key`
  value_type type = value_type::string;
  std::string doc;           ///< one sentence for --help and docs/configuration.md
  std::string default_doc;   ///< the default as documented (e.g. "the hostname")
  default_fn default_value;  ///< evaluated in registration order after file and flags
  validator validate;        ///< optional; runs on explicit values and defaults
};

/// The key table. Modules add their keys at start-up (see node::full_schema());
/// lookups are by exact dotted name.
class schema {
public:
  /// Adds a key; throws std::logic_error on a duplicate name (a programming bug).
  schema& add(key_spec spec);
  const key_spec* find(std::string_view name) const;
  /// Keys in registration order.
  const std::vector<key_spec>& keys() const noexcept { return keys_; }
  /// True if some key lives under `prefix.` (used to report unknown sections).
  bool has_section(std::string_view prefix) const;

private:
  std::vector<key_spec> keys_;
  std::map<std::string, size_t, std::less<>> index_;
};

/// A loaded, validated configuration.
class config {
public:
  /// Typed access; throws std::logic_error if the key is unknown or has
  /// another type (a programming bug, never a user error).
  const value& get(std::string_view key) const;
  const std::string& get_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const string_list& get_list(std::string_view key) const;

  /// True if the key came from the file or a flag rather than its default.
  bool is_explicit(std::string_view key) const;
  /// All values, sorted by key.
  const std::map<std::string, value, std::less<>>& values() const noexcept { return values_; }
  /// The effective config as a TOML document (sections in key order).
  std::string render_toml() const;

private:
  friend class loader;
  std::map<std::string, value, std::less<>> values_;
  std::map<std::string, bool, std::less<>> explicit_;
};

/// A `--key value` flag from the command line, not yet parsed to its type.
struct flag_override {
  std::string key;
  std::string text;
};

struct load_options {
  std::optional<std::string> file;       ///< TOML file; none means defaults + flags
  std::vector<flag_override> overrides;  ///< applied after the file, in order
};

/// Either a config or the first error found.
class load_result {
public:
  load_result(config c) : v_(std::move(c)) {}
  load_result(error e) : v_(std::move(e)) {}
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  const config& value() const { return std::get<config>(v_); }
  config& value() { return std::get<config>(v_); }
  const error& err() const { return std::get<error>(v_); }

private:
  std::variant<config, error> v_;
};

/// Loads defaults < file < overrides and validates every key. Never throws
/// for bad input; the first problem is returned as an error.
load_result load(const schema& s, const load_options& opts);

/// Same, with the TOML text given directly; `source_name` names it in errors.
load_result load_from_string(const schema& s, std::string_view toml_text,
                             const std::string& source_name,
                             const std::vector<flag_override>& overrides = {});

/// Markdown table of all keys (key, type, default, doc) for the reference docs.
std::string render_reference(const schema& s);

}  // namespace herald::config
