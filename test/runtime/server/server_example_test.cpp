// SPDX-License-Identifier: Apache-2.0
// Compiles and runs the example of docs/server.md; a second test fails if the
// doc's code block and the code between the markers below drift apart.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

// The excerpt is docs/server.md's code block, byte for byte: not reformatted.
// clang-format off
// BEGIN docs/server.md example
#include "runtime/registry/registry.hpp"
#include "runtime/server/server.hpp"

#include <caf/all.hpp>

namespace counter {

using add_atom = caf::atom_constant<caf::atom("add")>;
using get_atom = caf::atom_constant<caf::atom("get")>;

struct counter_state {
  int64_t value_ = 0;  // invariant: never negative
  static inline const char* name = "counter";
};

caf::behavior counter_server(caf::stateful_actor<counter_state>* self,
                             int64_t initial) {
  self->state.value_ = initial;
  return {
    // (add, n): cast or call; adds n. Replies nothing; n < 0 is rejected
    // with sec::invalid_argument and leaves the value unchanged.
    [self](add_atom, int64_t n) -> caf::result<void> {
      if (n < 0) {
        return caf::sec::invalid_argument;
      }
      self->state.value_ += n;
      return caf::unit;
    },
    // (get): call; replies the current value. No state change.
    [self](get_atom) { return self->state.value_; },
  };
}

/// Usage from a non-actor thread: find-or-start by name, cast, then call.
int64_t add_and_read(caf::actor_system& sys, herald::registry::name_registry& names) {
  auto started = names.lookup_or_start("counter/main", [&] {
    return sys.spawn(counter_server, int64_t{10});
  });
  if (!started) {
    return -1;
  }
  herald::server::cast(started.actor(), add_atom::value, int64_t{5});
  auto reply = herald::server::call<int64_t>(sys, started.actor(), get_atom::value);
  return reply ? reply.value() : -1;
}

}  // namespace counter
// END docs/server.md example
// clang-format on

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string between(const std::string& text, const std::string& from, const std::string& to) {
  auto begin = text.find(from);
  if (begin == std::string::npos) {
    return {};
  }
  begin = text.find('\n', begin) + 1;
  auto end = text.find(to, begin);
  return end == std::string::npos ? std::string{} : text.substr(begin, end - begin);
}

}  // namespace

TEST_CASE("server_example_from_docs_runs") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  herald::registry::name_registry names{"docs_example"};
  CHECK(counter::add_and_read(sys, names) == 15);
  CHECK(counter::add_and_read(sys, names) == 20);  // same actor found again
  auto rejected = herald::server::call<void>(sys, names.lookup("counter/main"),
                                             counter::add_atom::value, int64_t{-1});
  CHECK(rejected.error() == herald::server::call_error::actor_error);
  caf::anon_send_exit(names.lookup("counter/main"), caf::exit_reason::kill);
}

TEST_CASE("server_example_in_docs_matches_the_tested_code") {
  // __FILE__ is absolute under CMake: <repo>/test/runtime/server/<this file>.
  std::string self_path = __FILE__;
  auto repo = self_path.substr(0, self_path.rfind("/test/runtime/server/"));
  auto doc = slurp(repo + "/docs/server.md");
  REQUIRE_FALSE(doc.empty());
  auto doc_code = between(doc, "```cpp", "```");
  auto test_code =
      between(slurp(self_path), "// BEGIN docs/server.md example", "// END docs/server.md example");
  REQUIRE_FALSE(test_code.empty());
  CHECK(doc_code == test_code);
}
