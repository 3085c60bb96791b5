// SPDX-License-Identifier: Apache-2.0
#pragma once
// A small blocking client of etcd's v3 JSON gateway (grpc-gateway: POST /v3/..., keys and values
// base64, 64-bit integers as JSON strings): the lease and key calls etcd membership needs.
// Each call is one HTTP round trip on a kept-alive connection (net::http_client, Boost.Beast).
// Owner thread: the etcd membership thread only (never a CAF scheduler thread: every call blocks
// up to the request timeout). The request/failure counters are atomics any thread may read.
// Invariant: a call either returns etcd's answer or throws etcd_error; on a failed request the
// client moves on to the next endpoint for the following call.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace herald::net {
class http_client;
}

namespace herald::cluster {

/// Transport failure, an HTTP error or an answer that is not etcd's JSON.
struct etcd_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct etcd_kv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t lease = 0;
};

class etcd_client {
public:
  /// `endpoints`: "http://HOST:PORT" each (validated by the config).
  explicit etcd_client(std::vector<std::string> endpoints,
                       std::chrono::milliseconds timeout = std::chrono::seconds{2});
  ~etcd_client();
  etcd_client(const etcd_client&) = delete;
  etcd_client& operator=(const etcd_client&) = delete;

  /// A new lease of `ttl`; returns its id.
  int64_t grant(std::chrono::seconds ttl);
  /// Renews the lease once: false when etcd no longer knows it (expired or revoked).
  bool keep_alive(int64_t lease);
  void revoke(int64_t lease);

  struct create_result {
    bool created = false;
    int64_t revision = 0;             ///< created: the key's create_revision
    std::optional<etcd_kv> existing;  ///< not created: the key as it is
  };
  /// Puts key=value under `lease` only if the key does not exist (one transaction).
  create_result create(const std::string& key, const std::string& value, int64_t lease);
  /// Writes `value` to `key` under `lease` (POST /v3/kv/put): the key keeps its
  /// create_revision. Throws etcd_error.
  void put(const std::string& key, const std::string& value, int64_t lease);

  struct range_result {
    int64_t revision = 0;  ///< the store's revision the read saw
    std::vector<etcd_kv> kvs;
  };
  /// Every key starting with `prefix`, in key order.
  range_result range_prefix(const std::string& prefix);

  /// The endpoint the next call goes to.
  const std::string& endpoint() const;

  uint64_t requests() const noexcept { return requests_.load(std::memory_order_relaxed); }
  uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }

private:
  std::string post(const std::string& path, const std::string& body);

  std::vector<std::string> endpoints_;
  std::chrono::milliseconds timeout_;
  size_t current_ = 0;
  std::unique_ptr<net::http_client> http_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> failures_{0};
};

/// Base64 (standard alphabet, padded), what the gateway carries for bytes fields.
std::string base64_encode(const std::string& bytes);
/// Throws etcd_error on a character outside the alphabet.
std::string base64_decode(const std::string& text);
/// The first key after every key starting with `prefix` (etcd's range_end for a prefix).
std::string prefix_end(std::string prefix);

}  // namespace herald::cluster
