// SPDX-License-Identifier: Apache-2.0
#include "test/support/postgres_server.hpp"

#include <memory>

namespace herald::testing {

postgres_server& shared_postgres_server() {
  // Destroyed at exit, which stops the server.
  static auto server = std::make_unique<postgres_server>();
  return *server;
}

}  // namespace herald::testing
