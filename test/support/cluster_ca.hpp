// SPDX-License-Identifier: Apache-2.0
#pragma once
// A throwaway cluster CA for the cluster's mutual-TLS tests, made with the openssl CLI exactly as
// docs/cluster.md ("Mutual TLS") tells operators to: a CA certificate and node certificates it
// signs for both TLS roles (extendedKeyUsage serverAuth, clientAuth), P-256 keys, valid two
// days, in a private temp dir removed with the object. Used from the test's main thread.

#include <string>

#include "test/support/temp_dir.hpp"

namespace herald::testing {

/// A node's three cluster.tls_* files.
struct cluster_tls_files {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

class cluster_ca {
public:
  /// Creates the CA (CN=`name`); throws std::runtime_error if the openssl CLI fails.
  explicit cluster_ca(const std::string& name = "herald test cluster CA");
  const std::string& ca_file() const noexcept { return ca_file_; }
  /// A node certificate with subject CN=`node_name`, signed by this CA, and its key.
  cluster_tls_files issue(const std::string& node_name) const;

private:
  temp_dir dir_;
  std::string ca_file_;
  std::string ca_key_;
};

}  // namespace herald::testing
