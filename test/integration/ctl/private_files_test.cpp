// SPDX-License-Identifier: Apache-2.0
// Private messages stay private on disk: a real heraldd creates its data dir 0700 and the
// store (with its -wal and -shm), the token secret and the admin token 0600; an existing
// data dir from an older release is tightened with a warning; a loose identity.secret_file is
// warned about.
#include <sys/stat.h>

#include <string>

#include "ctl_fixture.hpp"
#include "test/support/rest_client.hpp"

using namespace herald;
using namespace herald::ctl_test;

namespace {

unsigned mode_of(const std::string& path) {
  struct stat st {};
  INFO(path);
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<unsigned>(st.st_mode) & 07777;
}

}  // namespace

TEST_CASE("heraldd_creates_its_data_dir_0700_and_every_file_in_it_0600") {
  node_fixture node;
  // Writes so that the WAL and its index exist while the node runs.
  auto alice = id_of(node.ctl_json({"user", "create", "--name", "alice"}));
  node.ctl_json({"guild", "create", "--name", "g", "--owner", alice});
  auto data = node.data_dir();
  CHECK(mode_of(data) == 0700);
  for (const char* file :
       {"herald.db", "herald.db-wal", "herald.db-shm", "identity.secret", "admin.token"}) {
    CHECK(mode_of(data + "/" + file) == 0600);
  }
  CHECK(node.stop() == 0);
}

TEST_CASE("an_existing_group_world_readable_data_dir_and_store_are_tightened_with_a_warning") {
  std::string data;
  {
    node_fixture node;
    node.ctl_json({"user", "create", "--name", "alice"});
    REQUIRE(node.stop() == 0);
    data = node.data_dir();
    // What an older release left behind.
    ::chmod(data.c_str(), 0755);
    ::chmod((data + "/herald.db").c_str(), 0644);
    node.start();
    auto err = node.process().err();
    CHECK(err.find("node.data_dir: data directory \"" + data + "\" had mode 0755") !=
          std::string::npos);
    CHECK(err.find("herald.db\" had mode 0644") != std::string::npos);
    CHECK(mode_of(data) == 0700);
    CHECK(mode_of(data + "/herald.db") == 0600);
    node.ctl_json({"user", "create", "--name", "bob"});
    CHECK(mode_of(data + "/herald.db-wal") == 0600);
  }
}

TEST_CASE("a_group_world_readable_identity_secret_file_is_warned_about") {
  testing::temp_dir secrets;
  auto secret = secrets.write_file("secret", "a-secret-of-at-least-16-bytes\n");
  ::chmod(secret.c_str(), 0644);
  testing::temp_dir dir;
  auto admin = testing::free_port();
  testing::child_process heraldd{
      testing::bin_path("heraldd"),
      {"--node.data_dir", dir.path().string() + "/data", "--admin.listen",
       "127.0.0.1:" + std::to_string(admin), "--gateway.listen",
       "127.0.0.1:" + std::to_string(testing::free_port()), "--identity.secret_file", secret}};
  REQUIRE(testing::eventually(
      [&] {
        auto r = testing::http_call(admin, "GET", "/readyz", {}, {}, 2s);
        return r.status == 200 || !heraldd.running();
      },
      30s));
  INFO(heraldd.err());
  CHECK(heraldd.err().find("identity.secret_file: \"" + secret + "\" has mode 0644") !=
        std::string::npos);
  heraldd.send_signal(SIGTERM);
  CHECK(heraldd.wait_for(20s) == 0);
}
