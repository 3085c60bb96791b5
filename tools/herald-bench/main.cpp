// SPDX-License-Identifier: Apache-2.0
// herald-bench: benchmarks that print key=value lines (parsed by other tools;
// keep the keys stable). Each subcommand lives in its own *_bench.cpp file.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "tools/herald-bench/benches.hpp"

int main(int argc, char** argv) {
  CLI::App app{"herald-bench: runtime and dispatch benchmarks"};
  app.require_subcommand(1);
  herald::bench::register_all(app);
  // A failed bench (a node that does not start, a refused request) ends with one clear line
  // and exit 1, after unwinding: the benches' child guards stop the heraldd they started.
  try {
    CLI11_PARSE(app, argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "herald-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
