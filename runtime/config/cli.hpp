// SPDX-License-Identifier: Apache-2.0
#pragma once
// Command-line binding of the key table: every key `a.b` becomes the flag `--a.b VALUE`
// (also `--a.b=VALUE`), plus `--config FILE`. Used by heraldd's main on the main thread.
// Invariant: flags are applied after the file, in command-line order, and an unknown
// `--x.y` flag is reported as an unknown key, exactly like an unknown key in the file.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "runtime/config/config.hpp"

namespace herald::config {

/// Holds what CLI11 parsed for the key flags; read it after app.parse().
class cli_binding {
public:
  /// The load options: --config file (if given) and one override per key flag given.
  load_options options() const;
  /// After parsing with allow_extras: the first leftover argument as an error
  /// (an unknown `--key` is error_kind::unknown_key), or nullopt if there is none.
  std::optional<error> leftover_error(const std::vector<std::string>& remaining) const;

private:
  friend std::shared_ptr<cli_binding> bind_cli(CLI::App& app, const schema& s);
  struct entry {
    std::string key;
    CLI::Option* option = nullptr;
    std::string text;
  };
  std::string file_;
  CLI::Option* file_option_ = nullptr;
  std::vector<std::unique_ptr<entry>> entries_;
};

/// Adds `--config FILE` and one `--<key>` option per schema key (help text: doc and
/// default) to `app`, and sets allow_extras so unknown keys reach leftover_error().
std::shared_ptr<cli_binding> bind_cli(CLI::App& app, const schema& s);

}  // namespace herald::config
