// SPDX-License-Identifier: Apache-2.0
#pragma once
// A real PostgreSQL 15 server for tests: tools/local-postgres's throwaway server (its own
// cluster in a temp dir on 127.0.0.1 at a free port, trust authentication for the superuser
// `herald`, stopped and removed with the object) with the test settings. Used from the test's
// main thread.
// Invariant: a constructed server is running and accepts connections; failures throw
// std::runtime_error with the server's output, so a test that needs PostgreSQL fails loudly
// and never skips.
//
// For speed the test cluster runs with fsync=off and full_page_writes=off: its data does not
// survive a power loss, which no test needs. herald-bench's server keeps PostgreSQL's defaults.

#include "tools/local-postgres/local_postgres.hpp"

namespace herald::testing {

class postgres_server : public tools::local_postgres_server {
public:
  postgres_server() : local_postgres_server(test_options()) {}

private:
  static tools::local_postgres_options test_options() {
    tools::local_postgres_options o;
    o.durable_ = false;
    return o;
  }
};

/// One server per test process, started on first use and stopped at exit: the PostgreSQL
/// variants of the store tests share it, each on its own database (create_database()).
postgres_server& shared_postgres_server();

}  // namespace herald::testing
