// SPDX-License-Identifier: Apache-2.0
// Compiles and runs the example at the top of docs/supervision.md, and checks
// that the doc still shows exactly this code.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include <caf/all.hpp>

#include "test/runtime/supervision/docs_example.inc"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string repo_root() {
  return HERALD_TEST_SOURCE_DIR;
}

// The first ```cpp block of a markdown text.
std::string first_cpp_block(const std::string& md) {
  auto open = md.find("```cpp\n");
  if (open == std::string::npos) {
    return {};
  }
  open += 7;
  auto close = md.find("```", open);
  return md.substr(open, close == std::string::npos ? std::string::npos : close - open);
}

}  // namespace

TEST_CASE("docs_example_starts_a_supervised_worker_that_answers") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto tree = start_adders(sys);
  REQUIRE(tree);
  auto kids = sup::which_children(sys, *tree);
  REQUIRE(kids);
  REQUIRE(kids->size() == 1);
  caf::scoped_actor self{sys};
  int sum = 0;
  self->request(kids->front().handle, std::chrono::seconds{10}, caf::add_atom::value, 2, 3)
      .receive([&](int x) { sum = x; }, [](caf::error&) {});
  CHECK(sum == 5);
  CHECK_FALSE(sup::stop_supervisor(sys, *tree));
}

TEST_CASE("docs_supervision_md_shows_the_compiled_example") {
  auto root = repo_root();
  auto md = read_file(root + "/docs/supervision.md");
  auto code = read_file(root + "/test/runtime/supervision/docs_example.inc");
  REQUIRE_FALSE(code.empty());
  CHECK(first_cpp_block(md) == code);
}
