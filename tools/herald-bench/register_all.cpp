// SPDX-License-Identifier: Apache-2.0
#include "tools/herald-bench/benches.hpp"

namespace herald::bench {

// Each *_bench.cpp defines one add_<name>_bench(CLI::App&).
void add_ping_bench(CLI::App& app);
void add_spawn_bench(CLI::App& app);
void add_fanout_bench(CLI::App& app);
void add_fanout_loop_bench(CLI::App& app);
void add_gateway_bench(CLI::App& app);
void add_soak_bench(CLI::App& app);

void register_all(CLI::App& app) {
  add_ping_bench(app);
  add_spawn_bench(app);
  add_fanout_bench(app);
  add_fanout_loop_bench(app);
  add_gateway_bench(app);
  add_soak_bench(app);
}

}  // namespace herald::bench
