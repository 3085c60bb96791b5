// SPDX-License-Identifier: Apache-2.0
#pragma once
// The server-side TLS configuration of one listener: a certificate chain and its private key
// loaded into an OpenSSL SSL_CTX, swapped atomically by reload() (SIGHUP). Each accepted
// connection takes the context current at accept time and keeps it (OpenSSL reference counts
// it) until it closes, so a reload never touches established connections.
// Thread-safe: current() is called by io threads, reload() by the signal thread.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

struct ssl_ctx_st;  // OpenSSL's SSL_CTX; kept out of this header

namespace herald::metrics {
class counter;
}

namespace herald::net {

struct tls_options {
  std::string cert_file;  ///< PEM: the leaf certificate first, then intermediates
  std::string key_file;   ///< PEM private key matching the leaf certificate
  /// Lowest protocol version offered: "TLS1.2" or "TLS1.3".
  std::string min_version = "TLS1.2";
  /// Config key names used in error lines (the runtime does not know the config's layout).
  std::string cert_key_name = "tls_cert_file";
  std::string key_key_name = "tls_key_file";
};

/// How encrypted WebSocket output is written (see docs/networking.md, "TLS write path").
/// userspace: frames are gathered into a per-io-thread 16 KiB buffer and SSL_write'n.
std::string_view tls_write_mode();

class tls_context {
public:
  /// Loads and checks the files (readable, PEM, key matches the certificate, version known).
  /// Error: one line naming the offending option (cert_key_name / key_key_name).
  /// `server` labels the metrics (server_options::name of the listener).
  static std::variant<std::shared_ptr<tls_context>, std::string> load(tls_options opts,
                                                                      const std::string& server);

  /// The checks of load() without keeping anything (no metrics): the error line, if any.
  static std::optional<std::string> check(const tls_options& opts);

  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  /// Re-reads the same files. On success new handshakes use them (established connections
  /// keep their context); on failure the old context stays and the error line is returned.
  /// Counted in herald_tls_reloads_total{server,result}.
  std::optional<std::string> reload();

  /// The context for a new connection, with a reference the caller owns (SSL_CTX_free it, or
  /// hand it to SSL_new and free it afterwards).
  ssl_ctx_st* acquire() const;

  const tls_options& options() const noexcept { return opts_; }
  /// SHA-256 fingerprint (hex) of the certificate new handshakes present.
  std::string fingerprint() const;

private:
  tls_context(tls_options opts, const std::string& server);

  tls_options opts_;
  mutable std::mutex mutex_;
  ssl_ctx_st* ctx_ = nullptr;  // guarded; owned reference
  std::string fingerprint_;    // guarded
  metrics::counter& reloads_ok_;
  metrics::counter& reloads_failed_;
};

using tls_context_ptr = std::shared_ptr<tls_context>;

}  // namespace herald::net
