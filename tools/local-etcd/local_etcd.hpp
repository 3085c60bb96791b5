// SPDX-License-Identifier: Apache-2.0
#pragma once
// A throwaway local etcd server: one member with its data in a private temp dir, client and
// peer URLs on 127.0.0.1 at free ports, killed and removed with the object. For the tests of
// etcd membership (test/support/etcd_server.hpp); it includes no herald component.
// The binary is /usr/bin/etcd (Debian 12's etcd-server, tools/setup/install-deps.sh); the
// environment variable HERALD_ETCD_BIN overrides it. One thread uses an object.
// Invariant: a constructed (or start()ed) server is running and answers its client URL;
// failures throw std::runtime_error with the server's log, so a test that needs etcd fails
// loudly and never skips.

#include <cstdint>
#include <filesystem>
#include <string>

#include <sys/types.h>

namespace herald::tools {

class local_etcd_server {
public:
  /// Starts etcd; throws std::runtime_error (with its log) when it does not answer in 30 s.
  local_etcd_server();
  ~local_etcd_server();  ///< SIGKILL, then the data dir goes
  local_etcd_server(const local_etcd_server&) = delete;
  local_etcd_server& operator=(const local_etcd_server&) = delete;

  /// `http://127.0.0.1:<client port>`.
  std::string endpoint() const;
  std::uint16_t client_port() const noexcept { return client_port_; }

  /// SIGTERM and wait (etcd unreachable until start()); the data stays.
  void stop();
  /// Starts again on the same ports and data (keys and leases survive, leases keep their TTL).
  void start();
  bool running() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }

  /// The server log so far (for failure messages).
  std::string log() const;

private:
  bool answers() const;

  std::filesystem::path dir_;
  std::uint16_t client_port_ = 0;
  std::uint16_t peer_port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace herald::tools
