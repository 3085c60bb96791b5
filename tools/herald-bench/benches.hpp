// SPDX-License-Identifier: Apache-2.0
#pragma once
// Registry of herald-bench subcommands. Each bench registers itself in
// register_all(); results are printed as key=value lines on stdout.
// Invariant: printed keys are a public contract — add keys, never rename.

#include <CLI/CLI.hpp>

namespace herald::bench {

/// Adds every benchmark subcommand to `app`; each sets its own callback.
void register_all(CLI::App& app);

}  // namespace herald::bench
