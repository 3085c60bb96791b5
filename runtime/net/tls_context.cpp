// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/tls_context.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "runtime/metrics/metrics.hpp"

namespace herald::net {

namespace {

// The oldest queued OpenSSL error as text (the queue is cleared), or `fallback`.
std::string openssl_error(const char* fallback) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) {
    return fallback;
  }
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::optional<std::string> readable(const std::string& key, const std::string& path) {
  if (path.empty()) {
    return key + ": not set";
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return key + ": cannot read \"" + path + "\": " + std::strerror(errno);
  }
  std::fclose(f);
  return std::nullopt;
}

std::string sha256_hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &n) != 1) {
    return {};
  }
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += digits[md[i] >> 4];
    out += digits[md[i] & 15];
  }
  return out;
}

// The server's cipher order (docs/networking.md, "TLS (https and wss on one port)"): TLS 1.3
// suites, then TLS 1.2 ones (ECDHE with AES-GCM or ChaCha20-Poly1305, ECDSA or RSA certificates).
constexpr const char* tls13_ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// A fresh server context from the files; the error names the option at fault.
std::variant<SSL_CTX*, std::string> build(const tls_options& o) {
  if (auto err = readable(o.cert_key_name, o.cert_file)) {
    return *err;
  }
  if (auto err = readable(o.key_key_name, o.key_file)) {
    return *err;
  }
  int min_version = o.min_version == "TLS1.2"   ? TLS1_2_VERSION
                    : o.min_version == "TLS1.3" ? TLS1_3_VERSION
                                                : 0;
  if (min_version == 0) {
    return "tls_min_version: expected TLS1.2 or TLS1.3, got \"" + o.min_version + "\"";
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    return o.cert_key_name + ": cannot create a TLS context: " + openssl_error("out of memory");
  }
  auto fail = [ctx](std::string line) -> std::variant<SSL_CTX*, std::string> {
    SSL_CTX_free(ctx);
    return line;
  };
  SSL_CTX_set_min_proto_version(ctx, min_version);
  // No renegotiation (a client-driven CPU sink, and it would make writes wait for reads),
  // the server's cipher order, no TLS-level compression (CRIME). PRIORITIZE_CHACHA: a client
  // that lists ChaCha20-Poly1305 first (no AES hardware) gets it despite our order.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION | SSL_OP_PRIORITIZE_CHACHA);
  // AES-128-GCM first: every record of the WebSocket write path is encrypted by the io
  // thread, and with AES-NI it is the cheapest AEAD (OpenSSL's own default order puts
  // AES-256-GCM first). Both lists are forward-secret AEAD suites only.
  if (SSL_CTX_set_ciphersuites(ctx, tls13_ciphersuites) != 1 ||
      SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1) {
    return fail(o.cert_key_name + ": cannot set the TLS cipher suites: " +
                openssl_error("no cipher suite available"));
  }
  // RELEASE_BUFFERS: an idle connection keeps no 16 KiB record buffers. PARTIAL_WRITE and
  // ACCEPT_MOVING_WRITE_BUFFER: the WebSocket writer re-gathers a retried record from its
  // queue into a per-thread buffer, so the retry has the same bytes at another address.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
    return fail(o.cert_key_name + ": cannot load a PEM certificate chain from \"" + o.cert_file +
                "\": " + openssl_error("bad certificate"));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    std::string why = openssl_error("bad key");
    if (why.find("key values mismatch") != std::string::npos) {
      return fail(o.key_key_name + ": the key in \"" + o.key_file +
                  "\" does not match the certificate in \"" + o.cert_file + "\"");
    }
    return fail(o.key_key_name + ": cannot load a PEM private key from \"" + o.key_file +
                "\": " + why);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return fail(o.key_key_name + ": the key in \"" + o.key_file +
                "\" does not match the certificate in \"" + o.cert_file + "\"");
  }
  return ctx;
}

}  // namespace

std::string_view tls_write_mode() {
  // Kernel TLS (SSL_OP_ENABLE_KTLS) would keep the gathered sendmsg path; it is not used:
  // see docs/networking.md, "TLS write path".
  return "userspace";
}

tls_context::tls_context(tls_options opts, const std::string& server)
    : opts_(std::move(opts)),
      reloads_ok_(metrics::registry::global().get_counter(
          "herald_tls_reloads_total", "TLS certificate reloads (SIGHUP), by result.",
          {{"server", server}, {"result", "ok"}})),
      reloads_failed_(metrics::registry::global().get_counter(
          "herald_tls_reloads_total", "TLS certificate reloads (SIGHUP), by result.",
          {{"server", server}, {"result", "error"}})) {}

tls_context::~tls_context() {
  SSL_CTX_free(ctx_);
}

std::variant<std::shared_ptr<tls_context>, std::string> tls_context::load(
    tls_options opts, const std::string& server) {
  auto built = build(opts);
  if (built.index() == 1) {
    return std::get<1>(built);
  }
  std::shared_ptr<tls_context> c{new tls_context(std::move(opts), server)};
  c->ctx_ = std::get<0>(built);
  c->fingerprint_ = sha256_hex(SSL_CTX_get0_certificate(c->ctx_));
  return c;
}

std::optional<std::string> tls_context::check(const tls_options& opts) {
  auto built = build(opts);
  if (built.index() == 1) {
    return std::get<1>(built);
  }
  SSL_CTX_free(std::get<0>(built));
  return std::nullopt;
}

std::optional<std::string> tls_context::reload() {
  auto built = build(opts_);
  if (built.index() == 1) {
    reloads_failed_.inc();
    return std::get<1>(built);
  }
  SSL_CTX* fresh = std::get<0>(built);
  std::string fp = sha256_hex(SSL_CTX_get0_certificate(fresh));
  SSL_CTX* old;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    old = ctx_;
    ctx_ = fresh;
    fingerprint_ = std::move(fp);
  }
  SSL_CTX_free(old);  // connections that use it hold their own references
  reloads_ok_.inc();
  return std::nullopt;
}

ssl_ctx_st* tls_context::acquire() const {
  std::lock_guard<std::mutex> guard{mutex_};
  SSL_CTX_up_ref(ctx_);
  return ctx_;
}

std::string tls_context::fingerprint() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return fingerprint_;
}

}  // namespace herald::net
