// SPDX-License-Identifier: Apache-2.0
#include "actors/identity/token_authority.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <chrono>

#include "actors/domain/snowflake.hpp"

namespace herald::identity {

namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// Longer inputs are rejected before any decoding (real tokens are ~80 characters).
constexpr size_t max_token_chars = 512;
constexpr size_t mac_bytes = 32;

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '-') {
    return 62;
  }
  if (c == '_') {
    return 63;
  }
  return -1;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    char b = prefix[i];
    if (a >= 'A' && a <= 'Z') {
      a = static_cast<char>(a - 'A' + 'a');
    }
    if (b >= 'A' && b <= 'Z') {
      b = static_cast<char>(b - 'A' + 'a');
    }
    if (a != b) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view strip_scheme(std::string_view s) {
  s = trim(s);
  for (std::string_view scheme : {"Bot ", "Bearer "}) {
    if (starts_with_ci(s, scheme)) {
      return trim(s.substr(scheme.size()));
    }
  }
  return s;
}

/// Decimal digits only, no sign, within int64.
std::optional<int64_t> parse_seconds(std::string_view text) {
  if (text.empty() || text.size() > 18) {
    return std::nullopt;
  }
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += alphabet[v >> 6 & 63];
    out += alphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = byte(i) << 16;
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
  } else if (rest == 2) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out += alphabet[v >> 18 & 63];
    out += alphabet[v >> 12 & 63];
    out += alphabet[v >> 6 & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = decode_char(c);
    if (v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6 | static_cast<uint32_t>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(acc >> bits & 0xff);
    }
  }
  // Canonical encodings leave only zero bits behind; anything else is a different string.
  if ((acc & ((1u << bits) - 1)) != 0) {
    return std::nullopt;
  }
  return out;
}

token_authority::token_authority(std::string secret, std::shared_ptr<store::store> st,
                                 std::chrono::seconds max_age,
                                 std::chrono::milliseconds epoch_cache_ttl)
    : secret_(std::move(secret)),
      store_(std::move(st)),
      max_age_(max_age),
      epoch_cache_ttl_(epoch_cache_ttl) {}

std::string token_authority::issue(uint64_t user_id) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return issue_at(user_id, now.count());
}

std::string token_authority::issue_at(uint64_t user_id, int64_t issued_at_s) {
  auto signed_part = base64url_encode(domain::format_snowflake(user_id)) + "." +
                     base64url_encode(std::to_string(issued_at_s));
  auto epoch = epoch_of(user_id).value_or(0);
  return signed_part + "." + base64url_encode(mac(signed_part, epoch));
}

std::optional<uint64_t> token_authority::authenticate(std::string_view token) const {
  auto t = strip_scheme(token);
  if (t.empty() || t.size() > max_token_chars) {
    return std::nullopt;
  }
  auto dot1 = t.find('.');
  if (dot1 == std::string_view::npos) {
    return std::nullopt;
  }
  auto dot2 = t.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || t.find('.', dot2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto id_text = base64url_decode(t.substr(0, dot1));
  auto time_text = base64url_decode(t.substr(dot1 + 1, dot2 - dot1 - 1));
  auto given_mac = base64url_decode(t.substr(dot2 + 1));
  if (!id_text || !time_text || !given_mac || given_mac->size() != mac_bytes) {
    return std::nullopt;
  }
  auto user_id = domain::parse_snowflake(*id_text);
  auto issued_at = parse_seconds(*time_text);
  if (!user_id || *user_id == 0 || !issued_at) {
    return std::nullopt;
  }
  auto epoch = epoch_of(*user_id);
  if (!epoch) {
    return std::nullopt;
  }
  auto expected = mac(t.substr(0, dot2), *epoch);
  if (expected.size() != mac_bytes ||
      CRYPTO_memcmp(expected.data(), given_mac->data(), mac_bytes) != 0) {
    return std::nullopt;
  }
  if (max_age_.count() > 0) {  // checked after the MAC: the issue time is then genuine
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    if (now - *issued_at > max_age_.count()) {
      return std::nullopt;
    }
  }
  return user_id;
}

std::optional<uint64_t> token_authority::revoke(uint64_t user_id) {
  auto bumped = store_->bump_token_epoch(user_id);  // outside the lock: a store round trip
  if (!bumped) {
    return std::nullopt;
  }
  std::lock_guard<std::mutex> guard(mutex_);
  epochs_[user_id] = cached_epoch{bumped.value(), std::chrono::steady_clock::now()};
  ++invalidations_;  // a check that read the store before the bump must not cache what it read
  return bumped.value();
}

void token_authority::forget(uint64_t user_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  epochs_.erase(user_id);
  ++invalidations_;
}

std::optional<uint64_t> token_authority::epoch_of(uint64_t user_id) const {
  uint64_t invalidations_before = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (auto it = epochs_.find(user_id); it != epochs_.end()) {
      if (now - it->second.read_at < epoch_cache_ttl_) {
        return it->second.epoch;
      }
      epochs_.erase(it);  // too old: another node may have revoked since
    }
    invalidations_before = invalidations_;
  }
  // The store read runs without the lock, so checks of other users (and cache hits) never
  // queue behind a store round trip.
  auto read_at = std::chrono::steady_clock::now();
  auto read = store_->token_epoch(user_id);
  if (!read) {
    return std::nullopt;
  }
  if (epoch_cache_ttl_.count() > 0) {
    std::lock_guard<std::mutex> guard(mutex_);
    // A revoke() or forget() that ran during the read may have raised the epoch after it: then
    // this check answers from its own read (it overlapped the revoke) but caches nothing, so
    // the next check reads the store again.
    if (invalidations_ == invalidations_before) {
      epochs_.insert_or_assign(user_id, cached_epoch{read.value(), read_at});
    }
  }
  return read.value();
}

std::string token_authority::mac(std::string_view signed_part, uint64_t epoch) const {
  std::string message{signed_part};
  message += '.';
  message += std::to_string(epoch);
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
           &len) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

}  // namespace herald::identity
