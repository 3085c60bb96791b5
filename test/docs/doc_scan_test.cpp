// SPDX-License-Identifier: Apache-2.0
// The scanner behind doc_references_test finds what it must (so that test can fail): the
// citations, headings and anchors it reads, the comments it keeps, what it resolves.
#include <catch2/catch.hpp>

#include "test/docs/doc_scan.hpp"

namespace herald::doc_test {
namespace {

// Fixtures spell ".md" as "@md" so that this file cites nothing itself.
std::string fixture(std::string text) {
  for (auto at = text.find("@md"); at != std::string::npos; at = text.find("@md", at)) {
    text[at] = '.';
  }
  return text;
}

}  // namespace

TEST_CASE("anchors_are_githubs_lowercase_hyphenated_and_numbered_when_repeated") {
  auto h = headings_of(
      "# Life of a message\n## Errors: one shape (REST)\n```\n# not a heading\n```\n"
      "## Errors: one shape (REST)\n### Session outbound buffer — seq\n");
  CHECK(h.texts.count("Life of a message") == 1);
  CHECK(h.texts.count("not a heading") == 0);
  CHECK(h.anchors.count("life-of-a-message") == 1);
  CHECK(h.anchors.count("errors-one-shape-rest") == 1);
  CHECK(h.anchors.count("errors-one-shape-rest-1") == 1);
  CHECK(h.anchors.count("session-outbound-buffer--seq") == 1);
}

TEST_CASE("citations_with_anchors_sections_and_links_are_found_and_urls_are_not") {
  auto refs = references_in(
      fixture("see [x](networking@md#metrics) and docs/gateway@md, \"Close codes\"\n"
              "// docs/dispatch@md section \"Relay partitions\"; https://example.com/README@md\n"
              "[up](#top) (docs/benchmarks@md, \"Session 3 (fan)\") notes@mdx\n"));
  REQUIRE(refs.size() == 5);
  CHECK(refs[0].target == fixture("networking@md"));
  CHECK(refs[0].anchor == "metrics");
  CHECK(refs[0].link);
  CHECK(refs[1].target == fixture("docs/gateway@md"));
  CHECK(refs[1].section == "Close codes");
  CHECK_FALSE(refs[1].link);
  CHECK(refs[2].line == 2);
  CHECK(refs[2].section == "Relay partitions");
  CHECK(refs[3].target == fixture("docs/benchmarks@md"));
  CHECK(refs[4].target.empty());
  CHECK(refs[4].anchor == "top");
  CHECK(refs[3].section == "Session 3 (fan)");
}

TEST_CASE("shell_and_cmake_files_are_checked_in_their_comments_only") {
  auto kept = hash_comments("peers=../x/run  # run the peer\n# whole line\nx=\"a#b\"\n");
  CHECK(kept == "# run the peer\n# whole line\n\n");
  CHECK(kind_of("tools/herald-bench/goals.sh") == file_kind::hash_comment);
  CHECK(kind_of("CMakeLists.txt") == file_kind::hash_comment);
  CHECK(kind_of("actors/guild/encode.hpp") == file_kind::c_family);
  CHECK(kind_of(fixture("docs/architecture@md")) == file_kind::markdown);
  CHECK(kind_of("examples/discordjs-bot/package-lock.json") == file_kind::skipped);
}

TEST_CASE("a_citation_resolves_from_its_folder_the_root_or_docs_and_never_outside") {
  const fs::path root{HERALD_TEST_SOURCE_DIR};
  md_reference r;
  r.target = fixture("networking@md");
  CHECK(resolve(root, fixture("docs/gateway@md"), r) ==
        std::optional<std::string>{fixture("docs/networking@md")});
  CHECK(resolve(root, "actors/gateway/close_codes.hpp", r) ==
        std::optional<std::string>{fixture("docs/networking@md")});
  r.target = fixture("../docs/networking@md");
  r.link = true;
  CHECK(resolve(root, fixture("examples/README@md"), r) ==
        std::optional<std::string>{fixture("docs/networking@md")});
  r.target = fixture("../../elsewhere/networking@md");
  CHECK_FALSE(resolve(root, fixture("docs/gateway@md"), r));
  r.target = fixture("nothing-here@md");
  r.link = false;
  CHECK_FALSE(resolve(root, fixture("docs/gateway@md"), r));
}

TEST_CASE("outside_references_and_code_names_are_recognised") {
  CHECK(outside_reference(std::string{"see ../"} + "shared/peers/run"));
  CHECK(outside_reference(std::string{"the GATEWAY"} + fixture("@md table")));
  CHECK_FALSE(outside_reference(fixture("see docs/gateway@md")));
  auto paths = repo_paths_in("| `actors/rest/routes.cpp` | `post_message()` | `docs/x` |");
  REQUIRE(paths.size() == 1);
  CHECK(paths[0].second == "actors/rest/routes.cpp");
  auto fns = functions_in("`dispatch::post_message()` then `outbound_buffer::collect()`, `x`");
  CHECK(fns == std::vector<std::string>{"post_message", "collect"});
  CHECK(contains_word("void collect(batch&)", "collect"));
  CHECK_FALSE(contains_word("void collect_all()", "collect"));
}

}  // namespace herald::doc_test
