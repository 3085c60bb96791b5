// SPDX-License-Identifier: Apache-2.0
#include "test/support/test_ca.hpp"

#include <stdexcept>
#include <vector>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "test/support/process.hpp"

namespace herald::testing {

std::string peer_common_name(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) {
    return {};
  }
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

namespace {

void openssl(const std::vector<std::string>& args) {
  auto r = run_process("/usr/bin/openssl", args, std::chrono::seconds{30});
  if (!r.exit_code || *r.exit_code != 0) {
    throw std::runtime_error("openssl " + args.front() + " failed: " + r.err);
  }
}

}  // namespace

test_ca::test_ca() : ca_file_(dir_.file("ca.pem")), ca_key_(dir_.file("ca.key")) {
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", ca_key_, "-out", ca_file_, "-days", "2", "-subj", "/CN=herald test CA"});
}

issued_cert test_ca::issue(const std::string& common_name) const {
  std::string base = dir_.file(common_name);
  issued_cert c{base + ".pem", base + ".key"};
  std::string ext = dir_.write_file(common_name + ".ext",
                                    "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                    "extendedKeyUsage=serverAuth\n");
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
           c.key_file, "-out", base + ".csr", "-subj", "/CN=" + common_name});
  openssl({"x509", "-req", "-in", base + ".csr", "-CA", ca_file_, "-CAkey", ca_key_,
           "-CAcreateserial", "-out", c.cert_file, "-days", "2", "-extfile", ext});
  return c;
}

}  // namespace herald::testing
