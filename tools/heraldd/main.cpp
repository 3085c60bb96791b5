// SPDX-License-Identifier: Apache-2.0
// heraldd: the herald node daemon. Parses flags, loads the config (exit 2 on any
// config error, one line naming the key), then runs the dispatch node (actors/app) until
// SIGTERM/SIGINT.
#include <cstdio>
#include <iostream>
#include <utility>

#include <CLI/CLI.hpp>

#include "actors/app/app.hpp"
#include "actors/app/app_config.hpp"
#include "actors/feature/feature_module.hpp"
#include "features/builtin_features.hpp"
#include "runtime/config/cli.hpp"

namespace {

constexpr int exit_config_error = 2;

int config_error(const std::string& line) {
  std::cerr << "heraldd: config error: " << line << std::endl;
  return exit_config_error;
}

}  // namespace

int main(int argc, char** argv) {
  auto features = herald::features::builtin_features();
  auto schema = herald::app::full_schema(herald::feature::names_of(features));
  CLI::App app{"heraldd: herald node daemon. Every config key is also a flag: --<key> VALUE.",
               "heraldd"};
  app.set_version_flag("--version", HERALD_VERSION);
  bool check_only = false;
  app.add_flag("--check-config", check_only,
               "Validate the config, print the effective config as TOML and exit");
  auto binding = herald::config::bind_cli(app, schema);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "heraldd: " << e.what() << std::endl;
    return exit_config_error;
  }
  if (auto err = binding->leftover_error(app.remaining())) {
    return config_error(err->to_string());
  }
  auto loaded = herald::config::load(schema, binding->options());
  if (!loaded) {
    return config_error(loaded.err().to_string());
  }
  if (auto err = herald::app::check_config(loaded.value())) {
    return config_error(*err);
  }
  if (check_only) {
    std::cout << loaded.value().render_toml();
    return 0;
  }
  return herald::app::run(loaded.value(), std::move(features));
}
