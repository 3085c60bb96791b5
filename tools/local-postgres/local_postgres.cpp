// SPDX-License-Identifier: Apache-2.0
#include "tools/local-postgres/local_postgres.hpp"
#include "tools/local-service/local_service.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace herald::tools {

namespace {

struct tool_result {
  std::optional<int> exit_code;  ///< nullopt: timed out (the tool was killed)
  std::string out;               ///< stdout
  std::string err;               ///< stderr
  std::string output() const { return out + err; }
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

/// A private temp file for a tool's output, removed with the object.
struct output_file {
  std::string path = (std::filesystem::temp_directory_path() / "herald-pg-tool-XXXXXX").string();
  int fd = mkostemp(path.data(), O_CLOEXEC);  // dup2 in the child clears O_CLOEXEC
  output_file() {
    if (fd < 0) {
      throw std::runtime_error(std::string{"local_postgres: mkstemp failed: "} +
                               std::strerror(errno));
    }
  }
  ~output_file() {
    if (fd >= 0) {
      ::close(fd);
    }
    ::unlink(path.c_str());
  }
  output_file(const output_file&) = delete;
  output_file& operator=(const output_file&) = delete;
};

/// Runs `path args...` to completion, at most `timeout`, stdin from /dev/null, stdout and
/// stderr into private temp files that are read and removed afterwards.
tool_result run_tool(const std::string& path, const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout) {
  output_file out;
  output_file err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.fd, STDERR_FILENO);
  std::vector<std::string> argv{path};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = -1;
  int rc = spawn_with_default_signals(pid, argv, actions);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw std::runtime_error("local_postgres: cannot spawn " + path + ": " + std::strerror(rc));
  }
  tool_result r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (w < 0) {
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  r.out = read_file(out.path);
  r.err = read_file(err.path);
  return r;
}

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
  auto made =
      run_tool("/usr/sbin/useradd",
               {"--system", "--no-create-home", "--shell", "/usr/sbin/nologin", server_user},
               std::chrono::seconds{30});
  const passwd* pw = getpwnam(server_user);
  if (pw == nullptr) {
    throw std::runtime_error(std::string{"local_postgres: cannot create user "} + server_user +
                             ": " + made.output());
  }
  return *pw;
}

/// As root, `path` becomes the server user's (initdb and postgres write there).
void hand_to_server_user(const std::filesystem::path& path) {
  if (geteuid() != 0) {
    return;
  }
  const passwd& pw = ensure_server_user();
  if (chown(path.c_str(), pw.pw_uid, pw.pw_gid) != 0) {
    throw std::runtime_error("local_postgres: cannot chown " + path.string());
  }
}

/// Runs a server binary, as `herald-test` when this process is root.
tool_result run_server_tool(const std::string& tool, std::vector<std::string> args,
                            std::chrono::milliseconds timeout = std::chrono::seconds{60}) {
  std::string path = pg_bin(tool);
  if (geteuid() == 0) {
    ensure_server_user();
    args.insert(args.begin(), {"-u", server_user, "--", path});
    path = "/usr/sbin/runuser";
  }
  return run_tool(path, args, timeout);
}

/// The cluster every server starts from: initdb runs once per machine (and server user) and
/// each server copies the result, which is several times faster. Made under an exclusive lock
/// (tests and benches run in parallel) and renamed into place only when complete. The
/// template's postgresql.conf is initdb's; each copy appends its own settings.
std::filesystem::path cluster_template() {
  const auto root = std::filesystem::temp_directory_path();
  const std::string name = "herald-pg15-template-v1-" + std::to_string(geteuid());
  const auto done = root / name;
  const std::string lock_path = (root / (name + ".lock")).string();
  int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) {
    throw std::runtime_error("local_postgres: cannot lock " + lock_path);
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
  hand_to_server_user(building);
  const std::string data = (building / "data").string();
  auto init = run_server_tool("initdb", {"-D", data, "-U", "herald", "-A", "trust", "-E", "UTF8",
                                         "--no-sync", "--no-instructions"});
  if (init.exit_code != 0) {
    throw std::runtime_error("local_postgres: initdb failed:\n" + init.output());
  }
  std::filesystem::rename(data, done);
  std::filesystem::remove_all(building);
  return done;
}

}  // namespace

local_postgres_server::local_postgres_server(const local_postgres_options& options)
    : dir_(make_private_dir("herald-pg", "local_postgres")) {
  try {
    hand_to_server_user(dir_);
    const std::string data = file("data");
    const std::string sock = file("sock");
    // `cp -a` keeps the template's owner and modes (0700, the server user's).
    auto copied =
        run_tool("/bin/cp", {"-a", cluster_template().string(), data}, std::chrono::seconds{60});
    if (copied.exit_code != 0) {
      throw std::runtime_error("local_postgres: cannot copy the cluster template: " +
                               copied.output());
    }
    std::filesystem::create_directories(sock);
    hand_to_server_user(sock);
    {
      std::ofstream conf{data + "/postgresql.conf", std::ios::app};
      conf << "\n# herald local server (tools/local-postgres)\n"
           << "listen_addresses = '127.0.0.1'\n"
           << "unix_socket_directories = '" << sock << "'\n"
           << "max_connections = 40\n"
           << "logging_collector = off\n";
      if (options.durable_) {
        // PostgreSQL's defaults for durability (fsync, full_page_writes, synchronous_commit
        // on); buffers sized for a bench rather than initdb's minimum.
        conf << "shared_buffers = 128MB\n";
      } else {
        // Tests only: fast startup and commits, no power-loss durability (no test needs it).
        conf << "fsync = off\n"
             << "full_page_writes = off\n"
             << "shared_buffers = 16MB\n";
      }
      conf << options.extra_conf_ << "\n";
    }
    start_with_port_retries([this] {
      port_ = free_loopback_port("local_postgres");
      start();
    });
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

local_postgres_server::~local_postgres_server() {
  if (running_) {
    (void)run_server_tool("pg_ctl", {"-D", file("data"), "-m", "immediate", "-w", "stop"});
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string local_postgres_server::url(const std::string& database) const {
  return "postgresql://herald@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

void local_postgres_server::start() {
  auto started = run_server_tool("pg_ctl",
                                 {"-D", file("data"), "-l", file("server.log"), "-o",
                                  "-p " + std::to_string(port_), "-w", "-t", "60", "start"},
                                 std::chrono::seconds{90});
  if (started.exit_code != 0) {
    // A failed start may leave a postmaster behind that is still shutting down.
    (void)run_server_tool("pg_ctl", {"-D", file("data"), "-m", "immediate", "-w", "stop"});
    throw std::runtime_error("local_postgres: pg_ctl start failed on port " +
                             std::to_string(port_) + ":\n" + started.output() + log());
  }
  running_ = true;
}

void local_postgres_server::stop() {
  auto stopped = run_server_tool("pg_ctl", {"-D", file("data"), "-m", "fast", "-w", "stop"});
  if (stopped.exit_code != 0) {
    throw std::runtime_error("local_postgres: pg_ctl stop failed:\n" + stopped.output());
  }
  running_ = false;
}

int local_postgres_server::postmaster_pid() const {
  if (!running_) {
    return 0;
  }
  // postmaster.pid's first line is the postmaster's pid.
  std::ifstream in{file("data") + "/postmaster.pid"};
  int pid = 0;
  in >> pid;
  return pid;
}

std::string local_postgres_server::log() const {
  return read_file(dir_ / "server.log");
}

std::string local_postgres_server::psql(const std::string& database, const std::string& sql) const {
  auto r = run_tool(pg_bin("psql"),
                    {"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                     std::to_string(port_), "-U", "herald", "-d", database, "-c", sql},
                    std::chrono::seconds{60});
  if (r.exit_code != 0) {
    throw std::runtime_error("psql failed: " + sql + ":\n" + r.output());
  }
  return r.out;
}

std::string local_postgres_server::create_database() {
  std::string name =
      "herald_" + std::to_string(::getpid()) + "_" + std::to_string(++next_database_);
  psql("postgres", "CREATE DATABASE " + name);
  return name;
}

}  // namespace herald::tools
