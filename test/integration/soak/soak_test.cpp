// SPDX-License-Identifier: Apache-2.0
// The soak (herald-bench soak) at CI length: a real heraldd holding 2,000 sessions for 60 s
// with REST posts (one private channel), drop-and-resume, re-identify and bad clients.
// Asserts correctness only; the latency and memory figures are printed, never asserted.
#include <chrono>
#include <iostream>
#include <string>

#include <catch2/catch.hpp>

#include "test/support/process.hpp"

TEST_CASE("two_thousand_sessions_for_60_s_stay_exact_under_churn_and_bad_clients") {
  using namespace herald::testing;
  auto r = run_process(
      bin_path("herald-bench"),
      {"soak", "--sessions", "2000", "--duration", "60", "--post-rate", "10", "--reconnect-rate",
       "10", "--reidentify-rate", "2", "--bad-client-rate", "1", "--heraldd", bin_path("heraldd")},
      std::chrono::seconds{280});
  std::cout << r.out << r.err;  // the figures, for the log
  REQUIRE(r.exit_code.has_value());
  auto k = key_values(r.out);
  CHECK(k["identified"] == "2000");
  CHECK(k["node_alive"] == "1");
  CHECK(k["seq_gaps"] == "0");
  CHECK(k["missing_frames"] == "0");
  CHECK(k["leaked_frames"] == "0");
  CHECK(k["duplicate_frames"] == "0");
  CHECK(k["resumes_failed"] == "0");
  CHECK(std::stoul(k["resumes_ok"]) > 0);
  CHECK(std::stoul(k["reidentifies"]) > 0);
  CHECK(std::stoul(k["bad_clients"]) > 0);
  CHECK(k["bad_clients_unexpected"] == "0");
  CHECK(k["post_failures"] == "0");
  CHECK(k["sessions_closed"] == "0");
  CHECK(std::stol(k["fds_end"]) <= std::stol(k["fds_start"]) + 16);
  CHECK(std::stoul(k["deliveries"]) > 0);
  CHECK(*r.exit_code == 0);
}
