// SPDX-License-Identifier: Apache-2.0
// herald-bench: benchmarks that print key=value lines (parsed by other tools;
// keep the keys stable). Each subcommand lives in its own *_bench.cpp file.
#include <CLI/CLI.hpp>

#include "tools/herald-bench/benches.hpp"

int main(int argc, char** argv) {
  CLI::App app{"herald-bench: runtime and dispatch benchmarks"};
  app.require_subcommand(1);
  herald::bench::register_all(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
