// SPDX-License-Identifier: Apache-2.0
#pragma once
// Reusable validators and value parsers for config keys (listen addresses,
// enumerations, integer ranges). Pure functions; safe from any thread.
// Invariant: a validator accepts exactly the values its message describes.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/config/config.hpp"

namespace herald::config {

/// A parsed `HOST:PORT`; IPv6 hosts are written `[::1]:9100` and stored bare.
struct endpoint {
  std::string host;
  uint16_t port = 0;
};

/// Parses `HOST:PORT` (port 0..65535; 0 means "any free port").
std::optional<endpoint> parse_endpoint(const std::string& text);

/// Renders an endpoint back to `HOST:PORT` (brackets around IPv6 hosts).
std::string to_string(const endpoint& e);

/// Rejects strings that are not `HOST:PORT`.
validator listen_address();
/// Rejects strings not in `allowed`.
validator one_of(std::vector<std::string> allowed);
/// Rejects lists holding a string not in `allowed`, and empty lists if `non_empty`.
validator each_one_of(std::vector<std::string> allowed, bool non_empty);
/// Rejects integers outside [lo, hi].
validator int_range(int64_t lo, int64_t hi);
/// Rejects empty strings and characters outside [A-Za-z0-9._-].
validator node_name();
/// Rejects empty strings.
validator non_empty();

/// Parses a duration `0` or `<digits><unit>`, unit one of s, m, h, d (`90s`, `12h`, `30d`);
/// nullopt for anything else or more than 100 years.
std::optional<std::chrono::seconds> parse_duration(const std::string& text);
/// Rejects strings parse_duration() does not accept.
validator duration();

/// A default that is always `v`.
default_fn fixed(value v);

}  // namespace herald::config
