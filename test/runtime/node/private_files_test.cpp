// SPDX-License-Identifier: Apache-2.0
// node.data_dir is created owner-only whatever the umask, and an existing data dir or file in
// it that grants group/other access is tightened with a warning.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "runtime/node/private_files.hpp"
#include "test/support/process.hpp"

using namespace herald;

namespace {

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<unsigned>(st.st_mode) & 07777;
}

/// Sets the umask for one scope.
struct scoped_umask {
  explicit scoped_umask(mode_t m) : old(::umask(m)) {}
  ~scoped_umask() { ::umask(old); }
  mode_t old;
};

}  // namespace

TEST_CASE("a_new_data_dir_is_0700_even_under_umask_0") {
  testing::temp_dir dir;
  scoped_umask open_umask{0};
  auto data = dir.path().string() + "/a/b/data";
  auto r = node::make_private_dir(data, "node.data_dir", {"herald.db"});
  REQUIRE_FALSE(r.error);
  CHECK(r.warnings.empty());
  CHECK(mode_of(data) == 0700);
}

TEST_CASE("an_existing_0755_data_dir_and_its_0644_files_are_tightened_with_warnings") {
  testing::temp_dir dir;
  auto data = dir.path().string() + "/data";
  REQUIRE(::mkdir(data.c_str(), 0755) == 0);
  ::chmod(data.c_str(), 0755);
  auto db = dir.write_file("data/herald.db", "x");
  ::chmod(db.c_str(), 0644);
  auto own = dir.write_file("data/private", "x");
  ::chmod(own.c_str(), 0600);
  auto foreign = dir.write_file("data/notes.txt", "x");
  ::chmod(foreign.c_str(), 0644);
  REQUIRE(::mkdir((data + "/sub").c_str(), 0755) == 0);

  auto r = node::make_private_dir(data, "node.data_dir", {"herald.db", "private", "absent"});
  REQUIRE_FALSE(r.error);
  REQUIRE(r.warnings.size() == 2);
  CHECK(r.warnings[0].find("0755") != std::string::npos);
  CHECK(r.warnings[0].find("tightened to 0700") != std::string::npos);
  CHECK(r.warnings[1].find("herald.db") != std::string::npos);
  CHECK(r.warnings[1].find("tightened to 0600") != std::string::npos);
  CHECK(mode_of(data) == 0700);
  CHECK(mode_of(db) == 0600);
  CHECK(mode_of(own) == 0600);
  CHECK(mode_of(foreign) == 0644);        // not a node file: left alone
  CHECK(mode_of(data + "/sub") == 0755);  // only files directly in the data dir

  CHECK(node::make_private_dir(data, "node.data_dir", {"herald.db"}).warnings.empty());
}

TEST_CASE("a_loose_directory_without_node_files_is_warned_about_not_changed") {
  testing::temp_dir dir;
  auto shared = dir.path().string() + "/shared";
  REQUIRE(::mkdir(shared.c_str(), 0755) == 0);
  ::chmod(shared.c_str(), 0755);
  auto other = dir.write_file("shared/README", "x");
  ::chmod(other.c_str(), 0644);
  auto r = node::make_private_dir(shared, "node.data_dir", {"herald.db"});
  REQUIRE_FALSE(r.error);
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("left as it is") != std::string::npos);
  CHECK(mode_of(shared) == 0755);
  CHECK(mode_of(other) == 0644);
}

TEST_CASE("a_shared_sticky_directory_is_reported_not_changed") {
  testing::temp_dir dir;
  auto shared = dir.path().string() + "/shared";
  REQUIRE(::mkdir(shared.c_str(), 0700) == 0);
  ::chmod(shared.c_str(), 01777);
  auto db = dir.write_file("shared/herald.db", "x");
  ::chmod(db.c_str(), 0600);
  auto r = node::make_private_dir(shared, "node.data_dir", {"herald.db"});
  REQUIRE_FALSE(r.error);
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("sticky") != std::string::npos);
  CHECK(mode_of(shared) == 01777);
}

TEST_CASE("a_data_dir_that_is_a_file_is_an_error_naming_the_key") {
  testing::temp_dir dir;
  auto f = dir.write_file("file", "x");
  auto r = node::make_private_dir(f, "node.data_dir", {});
  REQUIRE(r.error);
  CHECK(r.error->rfind("node.data_dir: ", 0) == 0);
}

TEST_CASE("loose_mode_reports_group_other_bits_only") {
  testing::temp_dir dir;
  auto f = dir.write_file("f", "x");
  ::chmod(f.c_str(), 0600);
  CHECK_FALSE(node::loose_mode(f));
  ::chmod(f.c_str(), 0640);
  CHECK(node::loose_mode(f) == 0640u);
  CHECK(node::format_mode(0640) == "0640");
  CHECK_FALSE(node::loose_mode(dir.path().string() + "/missing"));
}
