// SPDX-License-Identifier: Apache-2.0
// docs/writing-actors.md shows real code: every ```cpp block preceded by
// `<!-- from PATH -->` must appear, line for line and contiguous, in PATH.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace herald::reactions_test {

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in{path};
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

struct excerpt {
  std::string source;
  std::vector<std::string> lines;
};

std::vector<excerpt> excerpts_of(const std::vector<std::string>& doc) {
  const std::string marker = "<!-- from ";
  std::vector<excerpt> out;
  for (size_t i = 0; i + 1 < doc.size(); ++i) {
    if (doc[i].rfind(marker, 0) != 0 || doc[i + 1] != "```cpp") {
      continue;
    }
    excerpt e;
    e.source = doc[i].substr(marker.size(), doc[i].size() - marker.size() - 4);
    for (size_t j = i + 2; j < doc.size() && doc[j] != "```"; ++j) {
      e.lines.push_back(doc[j]);
    }
    out.push_back(std::move(e));
  }
  return out;
}

bool contains_block(const std::vector<std::string>& file, const std::vector<std::string>& block) {
  if (block.empty() || block.size() > file.size()) {
    return false;
  }
  for (size_t start = 0; start + block.size() <= file.size(); ++start) {
    size_t k = 0;
    while (k < block.size() && file[start + k] == block[k]) {
      ++k;
    }
    if (k == block.size()) {
      return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("writing_actors_excerpts_match_the_example_sources") {
  const std::string root = HERALD_TEST_SOURCE_DIR;
  auto doc = read_lines(root + "/docs/writing-actors.md");
  REQUIRE_FALSE(doc.empty());
  auto excerpts = excerpts_of(doc);
  CHECK(excerpts.size() >= 10);
  for (const auto& e : excerpts) {
    INFO("excerpt from " << e.source << " starting: " << e.lines.front());
    auto file = read_lines(root + "/" + e.source);
    REQUIRE_FALSE(file.empty());
    CHECK(contains_block(file, e.lines));
  }
}

}  // namespace herald::reactions_test
