// SPDX-License-Identifier: Apache-2.0
#include "runtime/cluster/etcd_client.hpp"

#include <nlohmann/json.hpp>

#include "runtime/config/validators.hpp"
#include "runtime/net/http_client.hpp"

namespace herald::cluster {

namespace {

using json = nlohmann::json;

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// grpc-gateway writes int64 as a string; absent means 0 (proto3 default).
int64_t int_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) {
    return 0;
  }
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (const std::exception&) {
      throw etcd_error(std::string{"etcd: field "} + name + " is not an integer");
    }
  }
  if (it->is_number_integer()) {
    return it->get<int64_t>();
  }
  throw etcd_error(std::string{"etcd: field "} + name + " is not an integer");
}

std::string bytes_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) {
    return {};
  }
  return base64_decode(it->get<std::string>());
}

etcd_kv kv_from(const json& j) {
  etcd_kv kv;
  kv.key = bytes_field(j, "key");
  kv.value = bytes_field(j, "value");
  kv.create_revision = int_field(j, "create_revision");
  kv.lease = int_field(j, "lease");
  return kv;
}

int64_t header_revision(const json& j) {
  auto it = j.find("header");
  return it != j.end() && it->is_object() ? int_field(*it, "revision") : 0;
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                 uint8_t(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64_decode(const std::string& text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') {
      break;
    }
    const char* p = std::char_traits<char>::find(alphabet, 64, c);
    if (p == nullptr) {
      throw etcd_error("etcd: invalid base64 in an answer");
    }
    acc = (acc << 6) | uint32_t(p - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    if (uint8_t(prefix.back()) < 0xff) {
      prefix.back() = char(uint8_t(prefix.back()) + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

etcd_client::etcd_client(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {
  if (endpoints_.empty()) {
    throw etcd_error("etcd: no endpoint");
  }
}

etcd_client::~etcd_client() = default;

const std::string& etcd_client::endpoint() const {
  return endpoints_[current_];
}

std::string etcd_client::post(const std::string& path, const std::string& body) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  const std::string& url = endpoints_[current_];
  auto fail = [&](const std::string& why) -> etcd_error {
    failures_.fetch_add(1, std::memory_order_relaxed);
    http_.reset();
    current_ = (current_ + 1) % endpoints_.size();
    return etcd_error("etcd " + url + path + ": " + why);
  };
  if (!http_) {
    auto ep = config::parse_endpoint(url.substr(url.find("//") + 2));
    if (!ep) {
      throw fail("not an http://HOST:PORT endpoint");
    }
    http_ = std::make_unique<net::http_client>(ep->host, ep->port, timeout_);
  }
  const bool reused = http_->connected();
  auto r = http_->request("POST", path, body, "application/json");
  if (!r.ok() && reused) {
    // The server may have closed the idle kept-alive connection: once more on a fresh one
    // (http_client dropped the old one). Every call is safe to repeat: the create transaction
    // compares first, and the caller recognises its own key.
    r = http_->request("POST", path, body, "application/json");
  }
  if (!r.ok()) {
    throw fail(net::describe(r.error));
  }
  if (r.status != 200) {
    throw fail("HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 200));
  }
  return std::move(r.body);
}

int64_t etcd_client::grant(std::chrono::seconds ttl) {
  auto j = json::parse(post("/v3/lease/grant", json{{"TTL", ttl.count()}}.dump()), nullptr, false);
  int64_t id = j.is_object() ? int_field(j, "ID") : 0;
  if (id == 0) {
    throw etcd_error("etcd: lease grant answered without a lease id");
  }
  return id;
}

bool etcd_client::keep_alive(int64_t lease) {
  // A streaming call through the gateway: one request, one {"result": …} line.
  auto j = json::parse(post("/v3/lease/keepalive", json{{"ID", std::to_string(lease)}}.dump()),
                       nullptr, false);
  if (!j.is_object() || !j.contains("result") || !j["result"].is_object()) {
    throw etcd_error("etcd: lease keepalive answered without a result");
  }
  return int_field(j["result"], "TTL") > 0;  // no TTL: the lease is gone
}

void etcd_client::revoke(int64_t lease) {
  post("/v3/lease/revoke", json{{"ID", std::to_string(lease)}}.dump());
}

void etcd_client::put(const std::string& key, const std::string& value, int64_t lease) {
  post("/v3/kv/put", json{{"key", base64_encode(key)},
                          {"value", base64_encode(value)},
                          {"lease", std::to_string(lease)}}
                         .dump());
}

etcd_client::create_result etcd_client::create(const std::string& key, const std::string& value,
                                               int64_t lease) {
  const auto k = base64_encode(key);
  json txn{
      {"compare",
       json::array(
           {{{"key", k}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}}})},
      {"success",
       json::array(
           {{{"request_put",
              {{"key", k}, {"value", base64_encode(value)}, {"lease", std::to_string(lease)}}}}})},
      {"failure", json::array({{{"request_range", {{"key", k}}}}})}};
  auto j = json::parse(post("/v3/kv/txn", txn.dump()), nullptr, false);
  if (!j.is_object()) {
    throw etcd_error("etcd: txn answered no JSON object");
  }
  create_result r;
  r.created = j.value("succeeded", false);
  if (r.created) {
    r.revision = header_revision(j);  // the put's revision is the key's create_revision
    return r;
  }
  auto responses = j.find("responses");
  if (responses != j.end() && responses->is_array() && !responses->empty()) {
    const auto& range = (*responses)[0].value("response_range", json::object());
    auto kvs = range.find("kvs");
    if (kvs != range.end() && kvs->is_array() && !kvs->empty()) {
      r.existing = kv_from((*kvs)[0]);
    }
  }
  return r;  // not created and no key: it expired in between; the caller tries again
}

etcd_client::range_result etcd_client::range_prefix(const std::string& prefix) {
  auto j = json::parse(post("/v3/kv/range", json{{"key", base64_encode(prefix)},
                                                 {"range_end", base64_encode(prefix_end(prefix))}}
                                                .dump()),
                       nullptr, false);
  if (!j.is_object()) {
    throw etcd_error("etcd: range answered no JSON object");
  }
  range_result r;
  r.revision = header_revision(j);
  auto kvs = j.find("kvs");
  if (kvs != j.end() && kvs->is_array()) {
    for (const auto& kv : *kvs) {
      r.kvs.push_back(kv_from(kv));
    }
  }
  return r;
}

}  // namespace herald::cluster
