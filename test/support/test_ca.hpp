// SPDX-License-Identifier: Apache-2.0
#pragma once
// A throwaway certificate authority for TLS tests, made with the openssl CLI in a private temp
// dir (removed with the object): a CA certificate and server certificates it signs for
// localhost / 127.0.0.1 (P-256 keys, valid two days), and peer_common_name to see which
// certificate a server presented. Used from the test's main thread.

#include <string>

#include "test/support/temp_dir.hpp"

struct ssl_st;  // OpenSSL's SSL

namespace herald::testing {

/// The subject CN of the certificate the peer of `ssl` presented ("" when none).
std::string peer_common_name(ssl_st* ssl);

struct issued_cert {
  std::string cert_file;  ///< PEM leaf certificate
  std::string key_file;   ///< PEM private key
};

class test_ca {
public:
  /// Creates the CA; throws std::runtime_error if the openssl CLI fails.
  test_ca();
  /// The CA certificate (PEM) clients trust.
  const std::string& ca_file() const noexcept { return ca_file_; }
  /// A server certificate with subject CN=`common_name` and subjectAltName DNS:localhost,
  /// IP:127.0.0.1, written to `<dir>/<common_name>.pem` and `.key`.
  issued_cert issue(const std::string& common_name) const;
  /// The directory holding the files.
  std::string dir() const { return dir_.path().string(); }

private:
  temp_dir dir_;
  std::string ca_file_;
  std::string ca_key_;
};

}  // namespace herald::testing
