// SPDX-License-Identifier: Apache-2.0
#pragma once
// Process logging on spdlog: one stderr sink shared by every named logger,
// with level and format (text | json) from the config keys log.level and log.format.
// Invariant: after setup() every logger from log::get() writes through the same sink and format.

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "runtime/config/config.hpp"

namespace herald::log {

enum class format {
  text,  ///< `2026-01-01T00:00:00.000Z info  [node] message`, controls escaped (escape.hpp)
  json,  ///< one JSON object per line: ts, level, logger, msg
};

/// Registers log.level (default info) and log.format (default text).
void register_config_keys(config::schema& s);

/// Configures the default logger and the shared sink. Call once at start-up,
/// before other threads log; later calls replace level and format.
void setup(const config::config& cfg);
void setup(std::string_view level, format f);

/// The line formatter of `f` (what setup() installs in the shared sink).
std::unique_ptr<spdlog::formatter> make_formatter(format f);

/// A named logger (e.g. "node", "http") writing through the shared sink.
/// Safe from any thread.
std::shared_ptr<spdlog::logger> get(const std::string& name);

}  // namespace herald::log
