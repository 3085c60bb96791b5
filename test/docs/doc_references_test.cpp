// SPDX-License-Identifier: Apache-2.0
// The repository explains itself: every markdown file and every source comment that cites a
// document names one that is in the repository (and, when it names a heading or an anchor,
// one that the document has); nothing points out of the repository; and the files and
// functions docs/architecture.md walks through exist.
// Citation syntax: docs/conventions.md, "Citing documents".
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "test/docs/doc_scan.hpp"

namespace herald::doc_test {
namespace {

fs::path repo_root() {
  return fs::path{HERALD_TEST_SOURCE_DIR};
}

const std::vector<scanned_file>& repository() {
  static const auto files = scan_repository(repo_root());
  return files;
}

const heading_index& headings(const std::string& rel) {
  static std::map<std::string, heading_index> cache;
  auto it = cache.find(rel);
  if (it == cache.end()) {
    it = cache.emplace(rel, headings_of(read_text(repo_root() / rel))).first;
  }
  return it->second;
}

std::string where(const scanned_file& f, size_t line) {
  return f.rel + ":" + std::to_string(line) + ": ";
}

}  // namespace

TEST_CASE("the_scan_covers_docs_sources_and_scripts") {
  std::set<std::string> seen;
  for (const auto& f : repository()) {
    seen.insert(f.rel);
  }
  CHECK(seen.count("README.md") == 1);
  CHECK(seen.count("docs/architecture.md") == 1);
  CHECK(seen.count("docs/conventions.md") == 1);
  CHECK(seen.count("docs/gateway.md") == 1);
  CHECK(seen.count("actors/gateway/close_codes.hpp") == 1);
  CHECK(seen.count("tools/herald-bench/goals.sh") == 1);
  CHECK(seen.count(".clang-format") == 1);
  CHECK(seen.count("test/docs/doc_references_test.cpp") == 1);
}

TEST_CASE("every_cited_markdown_file_heading_and_anchor_exists") {
  static const std::regex journal{"^\\W{0,4}(?:section\\s+)?\"?Session [0-9]"};
  // A page's name followed by `([table] section)`: the page must show that TOML table.
  static const std::regex config_table{"^[`)]?,?\\s*\\(?\\[([A-Za-z_.]+)\\] section"};
  size_t citations = 0;
  for (const auto& f : repository()) {
    for (const auto& r : references_in(f.text)) {
      ++citations;
      if (r.target.empty()) {
        if (f.markdown && headings(f.rel).anchors.count(r.anchor) == 0) {
          FAIL_CHECK(where(f, r.line) << "no heading with anchor #" << r.anchor);
        }
        continue;
      }
      auto target = resolve(repo_root(), f.rel, r);
      if (!target) {
        FAIL_CHECK(where(f, r.line) << "names " << r.target << ", which is not in the repository");
        continue;
      }
      if (!r.anchor.empty() && headings(*target).anchors.count(r.anchor) == 0) {
        FAIL_CHECK(where(f, r.line) << *target << " has no heading with anchor #" << r.anchor);
      }
      if (!r.section.empty() && headings(*target).texts.count(r.section) == 0) {
        FAIL_CHECK(where(f, r.line) << *target << " has no heading \"" << r.section << "\"");
      }
      std::smatch table;
      if (std::regex_search(r.after, table, config_table) &&
          read_text(repo_root() / *target).find("\n[" + table.str(1) + "]\n") ==
              std::string::npos) {
        FAIL_CHECK(where(f, r.line) << *target << " has no [" << table.str(1) << "] section");
      }
      if (std::regex_search(r.after, journal)) {
        FAIL_CHECK(where(f, r.line) << "cites a dated journal heading of " << *target
                                    << "; cite a stable heading or nothing");
      }
    }
  }
  CHECK(citations > 100);
}

TEST_CASE("no_file_points_outside_the_repository") {
  for (const auto& f : repository()) {
    std::istringstream in{f.text};
    size_t line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (auto name = outside_reference(line)) {
        FAIL_CHECK(where(f, line_no) << "points outside the repository (" << *name << ")");
      }
    }
  }
}

TEST_CASE("docs_name_only_files_that_exist") {
  for (const auto& f : repository()) {
    if (!f.markdown) {
      continue;
    }
    const auto folder = fs::path{f.rel}.parent_path();
    for (const auto& [line, path] : repo_paths_in(f.text)) {
      // From the root, or (an example's README naming its own files) from the file's folder.
      if (!fs::is_regular_file(repo_root() / path) &&
          !fs::is_regular_file(repo_root() / folder / path)) {
        FAIL_CHECK(where(f, line) << "names " << path << ", which does not exist");
      }
    }
  }
}

TEST_CASE("architecture_md_names_functions_that_are_in_the_files_it_cites") {
  const std::string rel = "docs/architecture.md";
  const auto md = read_text(repo_root() / rel);
  REQUIRE_FALSE(md.empty());
  std::istringstream in{md};
  size_t line_no = 0;
  size_t checked = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    auto paths = repo_paths_in(line);
    auto functions = functions_in(line);
    if (paths.empty() || functions.empty()) {
      continue;
    }
    for (const auto& fn : functions) {
      bool found = false;
      for (const auto& [unused, path] : paths) {
        found = found || contains_word(read_text(repo_root() / path), fn);
      }
      ++checked;
      if (!found) {
        FAIL_CHECK(rel << ":" << line_no << ": " << fn << "() is in none of the files cited on "
                       << "the line");
      }
    }
  }
  CHECK(checked >= 20);  // the life-of-a-message walk-throughs
}

}  // namespace herald::doc_test
