// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the token parser and verifier (actors/identity/token_authority) with a real
// SQLite store behind it, and its base64url codec.
// Setup (once): a store in a fresh temporary directory (removed at exit) with users 1001
// (alice) and 1002 (bob); bob's tokens were revoked once. The secret is the fixed string
// below, so the seed corpus holds real tokens (tools/fuzz/make_corpus.py computes them).
// Input: a string as a client sends it in Authorization or Identify (`Bot <t>`, `Bearer <t>`,
// bare). Checks, besides the sanitizers: authenticate() never throws; it accepts only a
// token the authority issued for a live epoch (the input contains that exact token, so no
// second spelling of a token verifies); base64url_decode accepts only canonical text
// (encode(decode(x)) == x) and decode(encode(x)) == x.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/identity/token_authority.hpp"
#include "actors/store/sqlite_store.hpp"

namespace {

using namespace herald;

constexpr const char* fuzz_secret = "herald-fuzz-secret-0123456789";
/// Issue times of the seed tokens (tools/fuzz/make_corpus.py uses the same).
constexpr int64_t issued_at[] = {1700000000, 0, 1};

struct world {
  std::filesystem::path dir;
  std::shared_ptr<store::store> st;
  std::unique_ptr<identity::token_authority> authority;
  std::vector<std::pair<uint64_t, std::string>> valid;  // every token that must verify

  world() {
    char tmpl[] = "/tmp/herald-token-fuzz-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::abort();
    }
    dir = tmpl;
    store::sqlite_options o;
    o.data_dir_ = dir / "data";
    o.sync_ = store::sync_mode::normal;
    auto opened = store::sqlite_store::open(o);
    if (!opened) {
      std::abort();
    }
    st = std::shared_ptr<store::store>(std::move(opened).value());
    if (!st->upsert_user({1001, "alice", false}) || !st->upsert_user({1002, "bob", false})) {
      std::abort();
    }
    authority = std::make_unique<identity::token_authority>(fuzz_secret, st);
    if (!authority->revoke(1002)) {
      std::abort();
    }
    for (uint64_t user : {1001, 1002}) {
      for (int64_t at : issued_at) {
        valid.emplace_back(user, authority->issue_at(user, at));
      }
    }
  }
  ~world() {
    authority.reset();
    st.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static world w;
  std::string_view input{reinterpret_cast<const char*>(data), size};

  if (auto user = w.authority->authenticate(input)) {
    bool issued = false;
    for (const auto& [id, token] : w.valid) {
      issued = issued || (id == *user && input.find(token) != std::string_view::npos);
    }
    if (!issued) {
      std::abort();  // accepted a token the authority never issued for this user and epoch
    }
  }

  if (auto decoded = identity::base64url_decode(input)) {
    if (identity::base64url_encode(*decoded) != input) {
      std::abort();  // two spellings decode to the same bytes
    }
  }
  if (identity::base64url_decode(identity::base64url_encode(input)) != std::string{input}) {
    std::abort();
  }
  return 0;
}
