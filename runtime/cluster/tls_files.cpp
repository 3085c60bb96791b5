// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/tls_files.hpp"

#include <memory>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace herald::cluster {

namespace {

/// OpenSSL's queued errors as one line (and the queue emptied).
std::string openssl_errors() {
  std::string out;
  while (auto e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string{buf};
  }
  return out.empty() ? "unknown error" : out;
}

}  // namespace

std::optional<std::string> check_tls_files(const tls_paths& paths) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()), SSL_CTX_free};
  if (!ctx) {
    return "cluster.tls_cert_file: cannot create a TLS context: " + openssl_errors();
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), paths.ca_file.c_str(), nullptr) != 1) {
    return "cluster.tls_ca_file: cannot load CA certificates from " + paths.ca_file + ": " +
           openssl_errors();
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), paths.cert_file.c_str()) != 1) {
    return "cluster.tls_cert_file: cannot load a certificate from " + paths.cert_file + ": " +
           openssl_errors();
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), paths.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return "cluster.tls_key_file: cannot load " + paths.key_file +
           " as the unencrypted private key of " + paths.cert_file + ": " + openssl_errors();
  }
  // The certificate this node presents must verify against the CA its peers trust (the same
  // file on every node), with the chain from cluster.tls_cert_file, for both TLS roles: a node
  // accepts connections (server) and dials its peers (client).
  X509* leaf = SSL_CTX_get0_certificate(ctx.get());
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx.get(), &chain);
  for (int purpose : {X509_PURPOSE_SSL_SERVER, X509_PURPOSE_SSL_CLIENT}) {
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> verify{X509_STORE_CTX_new(),
                                                                           X509_STORE_CTX_free};
    if (!verify ||
        X509_STORE_CTX_init(verify.get(), SSL_CTX_get_cert_store(ctx.get()), leaf, chain) != 1 ||
        X509_STORE_CTX_set_purpose(verify.get(), purpose) != 1) {
      return "cluster.tls_cert_file: cannot verify " + paths.cert_file + ": " + openssl_errors();
    }
    if (X509_verify_cert(verify.get()) == 1) {
      continue;
    }
    auto err = X509_STORE_CTX_get_error(verify.get());
    if (err == X509_V_ERR_INVALID_PURPOSE) {
      return "cluster.tls_cert_file: " + paths.cert_file +
             " is not usable as both TLS server and client certificate (needs extendedKeyUsage "
             "serverAuth,clientAuth or none)";
    }
    return "cluster.tls_cert_file: " + paths.cert_file + " is not signed by the CA in " +
           paths.ca_file + " (cluster.tls_ca_file): " + X509_verify_cert_error_string(err);
  }
  ERR_clear_error();
  return std::nullopt;
}

}  // namespace herald::cluster
