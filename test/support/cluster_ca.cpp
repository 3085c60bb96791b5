// SPDX-License-Identifier: Apache-2.0
#include "test/support/cluster_ca.hpp"

#include <stdexcept>
#include <vector>

#include "test/support/process.hpp"

namespace herald::testing {

namespace {

void openssl(const std::vector<std::string>& args) {
  auto r = run_process("/usr/bin/openssl", args, std::chrono::seconds{30});
  if (!r.exit_code || *r.exit_code != 0) {
    throw std::runtime_error("openssl " + args.front() + " failed: " + r.err);
  }
}

}  // namespace

cluster_ca::cluster_ca(const std::string& name)
    : ca_file_(dir_.file("cluster-ca.pem")), ca_key_(dir_.file("cluster-ca.key")) {
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", ca_key_, "-out", ca_file_, "-days", "2", "-subj", "/CN=" + name});
}

cluster_tls_files cluster_ca::issue(const std::string& node_name) const {
  std::string base = dir_.file(node_name);
  cluster_tls_files f{ca_file_, base + ".pem", base + ".key"};
  std::string ext = dir_.write_file("node.ext",
                                    "basicConstraints=critical,CA:FALSE\n"
                                    "keyUsage=critical,digitalSignature\n"
                                    "extendedKeyUsage=serverAuth,clientAuth\n");
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
           f.key_file, "-out", base + ".csr", "-subj", "/CN=" + node_name});
  openssl({"x509", "-req", "-in", base + ".csr", "-CA", ca_file_, "-CAkey", ca_key_,
           "-CAcreateserial", "-out", f.cert_file, "-days", "2", "-extfile", ext});
  return f;
}

}  // namespace herald::testing
