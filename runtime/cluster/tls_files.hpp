// SPDX-License-Identifier: Apache-2.0
#pragma once
// Start-up check of the cluster's mutual-TLS files (cluster.tls_ca_file, cluster.tls_cert_file,
// cluster.tls_key_file): each one loads, the key belongs to the certificate and the certificate
// is signed by the cluster CA, so that a node with broken files refuses to start with one line
// naming the key instead of failing every handshake later. Called on the main thread while the
// config is checked; touches no global state.

#include <optional>
#include <string>

namespace herald::cluster {

struct tls_paths {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

/// The one-line error naming the key at fault, or nothing when the three files make a node
/// certificate its peers will accept.
std::optional<std::string> check_tls_files(const tls_paths& paths);

}  // namespace herald::cluster
