// SPDX-License-Identifier: Apache-2.0
#pragma once
// Typed errors of the local registry (herald::registry), returned by value.
// Used by any thread that calls a registry; no actor owns them.
// Invariant: every value has one line of doc here and a distinct to_string.

#include <string>

namespace herald::registry {

enum class registry_error {
  /// register_actor: the key is held by a live actor (possibly the same one).
  key_taken,
  /// register_actor or join: the handle is invalid or its actor already died.
  dead_actor,
  /// lookup_or_start: `start` returned an error, an invalid or a dead handle.
  start_failed,
};

/// Stable snake_case name of `e`, e.g. "key_taken".
std::string to_string(registry_error e);

}  // namespace herald::registry
