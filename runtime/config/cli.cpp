// SPDX-License-Identifier: Apache-2.0
#include "runtime/config/cli.hpp"

#include <algorithm>

namespace herald::config {

namespace {

std::string type_name(value_type t) {
  switch (t) {
    case value_type::boolean:
      return "BOOL";
    case value_type::integer:
      return "INT";
    case value_type::string:
      return "TEXT";
    case value_type::string_list:
      return "A,B,...";
  }
  return "VALUE";
}

}  // namespace

std::shared_ptr<cli_binding> bind_cli(CLI::App& app, const schema& s) {
  auto b = std::make_shared<cli_binding>();
  b->file_option_ = app.add_option("--config,-c", b->file_, "TOML config file")->type_name("FILE");
  for (const auto& k : s.keys()) {
    auto e = std::make_unique<cli_binding::entry>();
    e->key = k.name;
    e->option = app.add_option("--" + k.name, e->text, k.doc + " Default: " + k.default_doc + ".")
                    ->type_name(type_name(k.type))
                    ->group("Config keys (override the file)");
    b->entries_.push_back(std::move(e));
  }
  app.allow_extras();
  return b;
}

load_options cli_binding::options() const {
  load_options out;
  if (file_option_ != nullptr && file_option_->count() > 0) {
    out.file = file_;
  }
  // CLI11 keeps the last value of a repeated flag; order between different keys
  // does not matter because each key is set once.
  for (const auto& e : entries_) {
    if (e->option->count() > 0) {
      out.overrides.push_back({e->key, e->text});
    }
  }
  return out;
}

std::optional<error> cli_binding::leftover_error(const std::vector<std::string>& remaining) const {
  if (remaining.empty()) {
    return std::nullopt;
  }
  const auto& arg = remaining.front();
  if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
    std::string key =
        arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
    return error{error_kind::unknown_key, key, "unknown key"};
  }
  return error{error_kind::unknown_key, arg, "unexpected argument"};
}

}  // namespace herald::config
