// SPDX-License-Identifier: Apache-2.0
#pragma once
// Minimal streaming JSON writer appending to a caller-owned std::string.
// Used by the guild encoders on the guild actor's thread; one writer per payload, no sharing.
// Invariant: strings are always valid JSON text (escaped, invalid UTF-8 replaced by U+FFFD).

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::encoding::detail {

/// Appends `text` as a JSON string literal (with quotes): `"` `\` and control
/// characters escaped, valid UTF-8 copied as is, each byte that does not
/// start a well-formed UTF-8 sequence (overlong, surrogate, > U+10FFFF,
/// truncated) replaced by U+FFFD.
void append_json_string(std::string& out, std::string_view text);

/// Writes values, keys and containers; inserts the commas itself. The only
/// state is whether the next element needs a comma, so a writer can also
/// continue a document another writer (or a cached string) began.
class json_writer {
public:
  /// `continues` : the output already ends inside a container after an element.
  explicit json_writer(std::string& out, bool continues = false)
      : out_(out), need_comma_(continues) {}

  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }

  /// `name` is a plain ASCII field name (never escaped).
  json_writer& key(std::string_view name);

  json_writer& string(std::string_view text);
  /// A snowflake: decimal digits inside a JSON string.
  json_writer& id(std::uint64_t value);
  json_writer& number(std::int64_t value);
  json_writer& unsigned_number(std::uint64_t value);
  /// An unsigned bitfield as a decimal JSON string (permissions).
  json_writer& bits_string(std::uint64_t value);
  json_writer& boolean(bool value);
  json_writer& null();
  /// An already-encoded, complete JSON value (or comma-separated values when
  /// inside an array, e.g. a cached list body); empty text writes nothing.
  json_writer& raw(std::string_view json);

  // Shorthands for `key(name).<value>`.
  json_writer& field(std::string_view name, std::string_view text) {
    return key(name).string(text);
  }
  json_writer& field(std::string_view name, const char* text) { return key(name).string(text); }
  json_writer& field(std::string_view name, bool value) { return key(name).boolean(value); }
  json_writer& field(std::string_view name, std::int64_t value) { return key(name).number(value); }
  json_writer& field(std::string_view name, int value) { return key(name).number(value); }
  json_writer& id_field(std::string_view name, std::uint64_t value) { return key(name).id(value); }
  json_writer& null_field(std::string_view name) { return key(name).null(); }
  json_writer& empty_array(std::string_view name) { return key(name).begin_array().end_array(); }
  json_writer& empty_object(std::string_view name) { return key(name).begin_object().end_object(); }

  std::string& out() { return out_; }

private:
  void separate() {
    if (need_comma_) {
      out_.push_back(',');
    }
  }
  json_writer& open(char c) {
    separate();
    out_.push_back(c);
    need_comma_ = false;
    return *this;
  }
  json_writer& close(char c) {
    out_.push_back(c);
    need_comma_ = true;
    return *this;
  }

  std::string& out_;
  bool need_comma_;  // an element was written at this level: the next one needs ','
};

}  // namespace herald::encoding::detail
