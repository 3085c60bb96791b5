// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the TOML config (runtime/config) loaded against heraldd's real key table
// (app::full_schema(): node, log, gateway, identity, store keys) and validated.
// Input: the text of a config file.
// Checks, besides the sanitizers: loading never throws; a refusal names a subject and a
// message; an accepted config renders (render_toml) to TOML that loads again to exactly the
// same values (what `heraldctl config` / --print-config shows is what the node runs with).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "actors/app/app_config.hpp"
#include "runtime/config/config.hpp"

namespace cfg = herald::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const cfg::schema schema = herald::app::full_schema();
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto loaded = cfg::load_from_string(schema, text, "fuzz.toml");
  if (!loaded) {
    if (loaded.err().subject.empty() || loaded.err().message.empty()) {
      std::abort();
    }
    return 0;
  }
  std::string rendered = loaded.value().render_toml();
  auto again = cfg::load_from_string(schema, rendered, "rendered.toml");
  if (!again || again.value().values() != loaded.value().values()) {
    std::abort();  // the rendered config is not the config that was loaded
  }
  return 0;
}
