// SPDX-License-Identifier: Apache-2.0
#include "test/support/postgres_server.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "test/support/process.hpp"

namespace herald::testing {

namespace {

/// Where Debian 12's postgresql-15 puts its server binaries; HERALD_PG_BIN overrides it.
std::string pg_bin(const std::string& name) {
  const char* dir = std::getenv("HERALD_PG_BIN");
  return std::string{dir != nullptr ? dir : "/usr/lib/postgresql/15/bin"} + "/" + name;
}

/// initdb and postgres refuse to run as root: as root they run as this system user.
constexpr const char* server_user = "herald-test";

const passwd& ensure_server_user() {
  if (const passwd* pw = getpwnam(server_user)) {
    return *pw;
  }
  auto made = run_process("/usr/sbin/useradd", {"--system", "--no-create-home", "--shell",
                                                "/usr/sbin/nologin", server_user});
  const passwd* pw = getpwnam(server_user);
  if (pw == nullptr) {
    throw std::runtime_error(std::string{"postgres_server: cannot create user "} + server_user +
                             ": " + made.err);
  }
  return *pw;
}

/// Runs a server binary, as `herald-test` when this process is root; throws with its output
/// when it fails.
run_result run_server_tool(const std::string& tool, std::vector<std::string> args,
                           std::chrono::milliseconds timeout = std::chrono::seconds{60}) {
  std::string path = pg_bin(tool);
  if (geteuid() == 0) {
    args.insert(args.begin(), {"-u", server_user, "--", path});
    path = "/usr/sbin/runuser";
  }
  return run_process(path, args, timeout);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p};
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// The cluster every test server starts from: initdb runs once per machine (and server user)
/// and each server copies the result, which is several times faster. The template is made
/// under an exclusive lock (tests run in parallel) and renamed into place only when complete.
std::filesystem::path cluster_template() {
  const auto root = std::filesystem::temp_directory_path();
  const std::string name = "herald-pg15-template-v1-" + std::to_string(geteuid());
  const auto done = root / name;
  const std::string lock_path = (root / (name + ".lock")).string();
  int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) {
    throw std::runtime_error("postgres_server: cannot lock " + lock_path);
  }
  struct unlock_at_exit {
    int fd;
    ~unlock_at_exit() { ::close(fd); }  // releases the flock
  } unlock{lock};
  if (std::filesystem::exists(done / "PG_VERSION")) {
    return done;
  }
  const auto building = root / (name + ".building");
  std::filesystem::remove_all(building);
  std::filesystem::create_directories(building);
  if (geteuid() == 0) {
    const passwd& pw = ensure_server_user();
    if (chown(building.c_str(), pw.pw_uid, pw.pw_gid) != 0) {
      throw std::runtime_error("postgres_server: cannot chown " + building.string());
    }
  }
  const std::string data = (building / "data").string();
  auto init = run_server_tool("initdb", {"-D", data, "-U", "herald", "-A", "trust", "-E", "UTF8",
                                         "--no-sync", "--no-instructions"});
  if (init.exit_code != 0) {
    throw std::runtime_error("postgres_server: initdb failed:\n" + init.out + init.err);
  }
  std::filesystem::rename(data, done);
  std::filesystem::remove_all(building);
  return done;
}

/// `data` becomes a copy of the template, owner and modes kept (0700, the server user's).
void copy_cluster_template(const std::string& data) {
  auto copied = run_process("/bin/cp", {"-a", cluster_template().string(), data});
  if (copied.exit_code != 0) {
    throw std::runtime_error("postgres_server: cannot copy the cluster template: " + copied.err);
  }
}

}  // namespace

postgres_server::postgres_server() {
  if (geteuid() == 0) {
    const passwd& pw = ensure_server_user();
    if (chown(dir_.path().c_str(), pw.pw_uid, pw.pw_gid) != 0) {
      throw std::runtime_error("postgres_server: cannot chown " + dir_.path().string());
    }
  }
  const std::string data = dir_.file("data");
  const std::string sock = dir_.file("sock");
  copy_cluster_template(data);
  std::filesystem::create_directories(sock);
  if (geteuid() == 0) {
    const passwd& pw = ensure_server_user();
    if (chown(sock.c_str(), pw.pw_uid, pw.pw_gid) != 0) {
      throw std::runtime_error("postgres_server: cannot chown " + sock);
    }
  }
  {
    // Test-cluster settings only: fsync and full-page writes off make startup and commits
    // fast (no test needs power-loss durability from this server).
    std::ofstream conf{data + "/postgresql.conf", std::ios::app};
    conf << "\n# herald test cluster (test/support/postgres_server.cpp)\n"
         << "listen_addresses = '127.0.0.1'\n"
         << "unix_socket_directories = '" << sock << "'\n"
         << "fsync = off\n"
         << "full_page_writes = off\n"
         << "max_connections = 40\n"
         << "shared_buffers = 16MB\n"
         << "logging_collector = off\n";
  }
  // The port is free a moment before postgres binds it; another test may take it in between,
  // so a few ports are tried.
  std::string last_log;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    try {
      start();
      return;
    } catch (const std::runtime_error& e) {
      last_log = e.what();
    }
  }
  throw std::runtime_error(last_log);
}

postgres_server::~postgres_server() {
  if (running_) {
    (void)run_server_tool("pg_ctl", {"-D", dir_.file("data"), "-m", "immediate", "-w", "stop"});
  }
}

std::string postgres_server::url(const std::string& database) const {
  return "postgresql://herald@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

void postgres_server::start() {
  auto started =
      run_server_tool("pg_ctl", {"-D", dir_.file("data"), "-l", dir_.file("server.log"), "-o",
                                 "-p " + std::to_string(port_), "-w", "-t", "60", "start"});
  if (started.exit_code != 0) {
    // A failed start may leave a postmaster behind that is still shutting down.
    (void)run_server_tool("pg_ctl", {"-D", dir_.file("data"), "-m", "immediate", "-w", "stop"});
    throw std::runtime_error("postgres_server: pg_ctl start failed on port " +
                             std::to_string(port_) + ":\n" + started.out + started.err + log());
  }
  running_ = true;
}

void postgres_server::stop() {
  auto stopped = run_server_tool("pg_ctl", {"-D", dir_.file("data"), "-m", "fast", "-w", "stop"});
  if (stopped.exit_code != 0) {
    throw std::runtime_error("postgres_server: pg_ctl stop failed:\n" + stopped.out + stopped.err);
  }
  running_ = false;
}

std::string postgres_server::log() const {
  return read_file(dir_.path() / "server.log");
}

std::string postgres_server::psql(const std::string& database, const std::string& sql) const {
  auto r = run_process(pg_bin("psql"),
                       {"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                        std::to_string(port_), "-U", "herald", "-d", database, "-c", sql});
  if (r.exit_code != 0) {
    throw std::runtime_error("psql failed: " + sql + ":\n" + r.out + r.err);
  }
  return r.out;
}

std::string postgres_server::create_database() {
  std::string name = "herald_test_" + std::to_string(++next_database_);
  psql("postgres", "CREATE DATABASE " + name);
  return name;
}

postgres_server& shared_postgres_server() {
  // Destroyed at exit, which stops the server.
  static auto server = std::make_unique<postgres_server>();
  return *server;
}

}  // namespace herald::testing
