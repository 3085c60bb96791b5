// SPDX-License-Identifier: Apache-2.0
// token_authority: issue, authenticate (prefixes, tampering, other secrets, malformed input),
// revocation through the store's token epoch (seen by another authority on the same store
// after forget() or once its cached epoch is older than the TTL), and base64url.
#include <sys/stat.h>
#include <chrono>

#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <variant>

#include <catch2/catch.hpp>

#include "actors/identity/secret.hpp"
#include "actors/identity/token_authority.hpp"
#include "test/actors/identity/gated_store.hpp"
#include "test/actors/identity/users_store.hpp"
#include "test/support/eventually.hpp"
#include "test/support/process.hpp"

namespace herald::identity {

namespace {

constexpr const char* secret_a = "0123456789abcdef-secret-a";
constexpr const char* secret_b = "0123456789abcdef-secret-b";

using fixture = users_store;

/// Flips one character of the token at `pos` to another base64url character.
std::string flip(std::string token, size_t pos) {
  token[pos] = token[pos] == 'A' ? 'B' : 'A';
  return token;
}

}  // namespace

TEST_CASE("a_freshly_issued_token_authenticates_as_its_user_bare_or_with_a_bot_or_bearer_prefix") {
  fixture f;
  token_authority auth{secret_a, f.st};
  auto token = auth.issue(1001);
  CHECK(auth.authenticate(token) == 1001u);
  CHECK(auth.authenticate("Bot " + token) == 1001u);
  CHECK(auth.authenticate("Bearer " + token) == 1001u);
  CHECK(auth.authenticate("bot " + token) == 1001u);
  CHECK(auth.authenticate("  Bot " + token + "\r\n") == 1001u);
  CHECK(auth.authenticate(auth.issue(1002)) == 1002u);
}

TEST_CASE("a_token_has_three_base64url_parts_the_user_id_the_issue_time_and_a_32_byte_mac") {
  fixture f;
  token_authority auth{secret_a, f.st};
  auto token = auth.issue_at(1001, 1795822570);
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  REQUIRE(dot2 != std::string::npos);
  CHECK(base64url_decode(token.substr(0, dot1)) == std::string{"1001"});
  CHECK(base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1)) == std::string{"1795822570"});
  auto mac = base64url_decode(token.substr(dot2 + 1));
  REQUIRE(mac);
  CHECK(mac->size() == 32);
  CHECK(token.find_first_of("+/=") == std::string::npos);
}

TEST_CASE("tokens_with_any_character_changed_are_refused") {
  fixture f;
  token_authority auth{secret_a, f.st};
  auto token = auth.issue(1001);
  for (size_t pos = 0; pos < token.size(); ++pos) {
    if (token[pos] == '.') {
      continue;
    }
    INFO("position " << pos);
    CHECK_FALSE(auth.authenticate(flip(token, pos)));
  }
}

TEST_CASE("a_token_claiming_another_user_with_a_valid_mac_of_its_own_user_is_refused") {
  fixture f;
  token_authority auth{secret_a, f.st};
  auto alice = auth.issue(1001);
  auto rest = alice.substr(alice.find('.'));
  CHECK_FALSE(auth.authenticate(base64url_encode("1002") + rest));
}

TEST_CASE("tokens_signed_with_another_secret_are_refused") {
  fixture f;
  token_authority a{secret_a, f.st};
  token_authority b{secret_b, f.st};
  CHECK_FALSE(a.authenticate(b.issue(1001)));
  CHECK_FALSE(b.authenticate(a.issue(1001)));
}

TEST_CASE("revoking_a_user_invalidates_every_earlier_token_tokens_issued_after_it_work") {
  fixture f;
  token_authority auth{secret_a, f.st};
  auto first = auth.issue(1001);
  auto second = auth.issue(1001);
  auto bob = auth.issue(1002);
  REQUIRE(auth.revoke(1001));
  CHECK_FALSE(auth.authenticate(first));
  CHECK_FALSE(auth.authenticate(second));
  CHECK(auth.authenticate(bob) == 1002u);
  auto fresh = auth.issue(1001);
  CHECK(auth.authenticate(fresh) == 1001u);
  SECTION("and the revocation survives a new authority on the same store") {
    token_authority restarted{secret_a, f.st};
    CHECK_FALSE(restarted.authenticate(first));
    CHECK(restarted.authenticate(fresh) == 1001u);
  }
}

TEST_CASE("revoke_returns_the_raised_epoch_each_time") {
  fixture f;
  token_authority auth{secret_a, f.st};
  CHECK(auth.revoke(1001) == std::optional<uint64_t>{1});
  CHECK(auth.revoke(1001) == std::optional<uint64_t>{2});
  CHECK(auth.revoke(4242) == std::nullopt);
}

// Two authorities on one store are two nodes of a cluster: a revoke on one is seen by the
// other after forget() (the revoke notice), or at once when it does not cache epochs.
TEST_CASE("another_authority_on_the_store_keeps_its_cached_epoch_until_forget_drops_it") {
  fixture f;
  token_authority a{secret_a, f.st};
  token_authority b{secret_a, f.st, std::chrono::seconds{0}, std::chrono::hours{1}};
  auto token = a.issue(1001);
  REQUIRE(b.authenticate(token) == 1001u);  // b caches epoch 0
  REQUIRE(a.revoke(1001));
  CHECK_FALSE(a.authenticate(token));
  CHECK(b.authenticate(token) == 1001u);  // what a missed notice leaves, within the TTL
  b.forget(2002);                         // another user's notice changes nothing
  CHECK(b.authenticate(token) == 1001u);
  b.forget(1001);
  CHECK_FALSE(b.authenticate(token));
  CHECK(b.authenticate(a.issue(1001)) == 1001u);
}

TEST_CASE("an_authority_without_an_epoch_cache_sees_another_ones_revoke_at_once") {
  fixture f;
  token_authority a{secret_a, f.st};
  token_authority b{secret_a, f.st, std::chrono::seconds{0}, std::chrono::milliseconds{0}};
  auto token = a.issue(1001);
  REQUIRE(b.authenticate(token) == 1001u);
  REQUIRE(a.revoke(1001));
  CHECK_FALSE(b.authenticate(token));
}

TEST_CASE("a_cached_epoch_older_than_the_ttl_is_read_again_from_the_store") {
  fixture f;
  token_authority a{secret_a, f.st};
  token_authority b{secret_a, f.st, std::chrono::seconds{0}, std::chrono::milliseconds{200}};
  auto token = a.issue(1001);
  REQUIRE(b.authenticate(token) == 1001u);
  REQUIRE(a.revoke(1001));
  // The entry expires 200 ms after b read it; bounded wait, no assertion on the time taken.
  CHECK(testing::eventually([&] { return !b.authenticate(token); }, std::chrono::seconds{10}));
}

TEST_CASE("a_check_that_read_the_epoch_before_a_forget_does_not_cache_what_it_read") {
  fixture f;
  auto gate = std::make_shared<gated_store>(f.st);
  token_authority a{secret_a, f.st};
  token_authority b{secret_a, gate, std::chrono::seconds{0}, std::chrono::hours{1}};
  auto token = a.issue(1001);
  gate->arm();
  // b reads epoch 0 and holds it; meanwhile a revokes and b is told (the revoke notice).
  auto check = std::async(std::launch::async, [&] { return b.authenticate(token); });
  REQUIRE(gate->wait_until_held());
  REQUIRE(a.revoke(1001));
  b.forget(1001);
  gate->open();
  // The overlapping check may answer from its own read; it must not leave epoch 0 cached.
  CHECK(check.get() == 1001u);
  CHECK_FALSE(b.authenticate(token));
  CHECK(b.authenticate(a.issue(1001)) == 1001u);
}

TEST_CASE("a_check_that_read_the_epoch_before_a_revoke_on_the_same_authority_does_not_cache_it") {
  fixture f;
  auto gate = std::make_shared<gated_store>(f.st);
  token_authority a{secret_a, f.st};  // issues, so that b has nothing cached yet
  token_authority b{secret_a, gate, std::chrono::seconds{0}, std::chrono::hours{1}};
  auto token = a.issue(1001);
  gate->arm();
  auto check = std::async(std::launch::async, [&] { return b.authenticate(token); });
  REQUIRE(gate->wait_until_held());
  REQUIRE(b.revoke(1001) == 1u);
  gate->open();
  CHECK(check.get() == 1001u);
  CHECK_FALSE(b.authenticate(token));
}

TEST_CASE("checks_of_other_users_and_revokes_do_not_wait_for_a_store_read_in_progress") {
  fixture f;
  auto gate = std::make_shared<gated_store>(f.st);
  token_authority a{secret_a, f.st};  // issues, so that b has nothing cached yet
  token_authority b{secret_a, gate, std::chrono::seconds{0}, std::chrono::hours{1}};
  auto alice = a.issue(1001);
  auto bob = a.issue(1002);
  REQUIRE(b.authenticate(bob) == 1002u);  // bob's epoch is cached
  gate->arm();
  auto slow = std::async(std::launch::async, [&] { return b.authenticate(alice); });
  REQUIRE(gate->wait_until_held());
  // alice's read is held in the store: bob's check and a revoke of bob must still complete.
  // (Bounded so a regression fails instead of hanging: the gate opens either way.)
  auto others = std::async(std::launch::async, [&] {
    bool checked = b.authenticate(bob) == 1002u;
    return checked && b.revoke(1002).has_value();
  });
  bool finished = others.wait_for(std::chrono::seconds{30}) == std::future_status::ready;
  gate->open();
  CHECK(finished);
  CHECK(others.get());
  CHECK(slow.get() == 1001u);
  CHECK_FALSE(b.authenticate(bob));
}

TEST_CASE("tokens_of_users_that_do_not_exist_are_refused_and_revoking_them_fails") {
  fixture f;
  token_authority auth{secret_a, f.st};
  auto ghost = auth.issue(4242);
  CHECK_FALSE(auth.authenticate(ghost));
  CHECK_FALSE(auth.revoke(4242));
  CHECK_FALSE(auth.authenticate(auth.issue(0)));
}

TEST_CASE("malformed_tokens_are_refused_without_throwing") {
  fixture f;
  token_authority auth{secret_a, f.st};
  auto good = auth.issue(1001);
  const std::string inputs[] = {
      "",
      "Bot ",
      "Bearer",
      ".",
      "..",
      "...",
      "a.b.c",
      "a.b.c.d",
      good + ".",
      "." + good,
      good + "=",
      good.substr(0, good.size() - 1),
      good.substr(0, good.rfind('.')),
      std::string(100000, 'A'),
      std::string("\0\0\0", 3),
      "Bot Bot " + good,
      base64url_encode("-1") + good.substr(good.find('.')),
      base64url_encode("99999999999999999999999") + good.substr(good.find('.')),
      good.substr(0, good.find('.') + 1) + base64url_encode("x1") + good.substr(good.rfind('.')),
      "\xff\xfe.\x80.\x01",
  };
  for (const auto& input : inputs) {
    INFO(input.substr(0, 80));
    std::optional<uint64_t> r;
    REQUIRE_NOTHROW(r = auth.authenticate(input));
    CHECK_FALSE(r);
  }
}

TEST_CASE("base64url_round_trips_every_length_and_rejects_non_canonical_text") {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    CHECK(base64url_decode(base64url_encode(bytes)) == bytes);
    bytes += static_cast<char>(i * 37);
  }
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK_FALSE(base64url_decode("A"));
  CHECK_FALSE(base64url_decode("AB=="));
  CHECK_FALSE(base64url_decode("AB+/"));
  CHECK_FALSE(base64url_decode("AF"));  // trailing bits set: not the encoding of any string
}

TEST_CASE(
    "the_secret_comes_from_identity_secret_else_the_secret_file_else_a_generated_0600_file_that_is_"
    "reused") {
  testing::temp_dir dir;
  std::filesystem::path data = dir.path() / "data";
  auto inline_secret = load_secret({"an-inline-secret-of-24b", "", data});
  REQUIRE(inline_secret.ok());
  CHECK(inline_secret.secret == "an-inline-secret-of-24b");
  auto too_short = load_secret({"short", "", data});
  CHECK_FALSE(too_short.ok());
  CHECK(too_short.secret.empty());
  CHECK(too_short.error.find("identity.secret") != std::string::npos);

  auto file = dir.write_file("secret", "from-a-file-0123456789\n");
  auto from_file = load_secret({"", file, data});
  REQUIRE(from_file.ok());
  CHECK(from_file.secret == "from-a-file-0123456789");
  auto missing = load_secret({"", dir.file("nope"), data});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error.find("identity.secret_file") != std::string::npos);

  auto generated = load_secret({"", "", data});
  REQUIRE(generated.ok());
  CHECK(generated.secret.size() == 64);
  struct stat st {};
  REQUIRE(::stat(generated_secret_path(data).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = load_secret({"", "", data});
  REQUIRE(again.ok());
  CHECK(again.secret == generated.secret);
}

TEST_CASE("with_a_max_age_tokens_issued_longer_ago_are_refused_without_one_they_never_expire") {
  fixture f;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  const int64_t day = 86400;
  token_authority forever{secret_a, f.st};
  token_authority month{secret_a, f.st, std::chrono::seconds{30 * day}};
  auto old_token = forever.issue_at(1001, now - 31 * day);
  auto recent_token = forever.issue_at(1001, now - 29 * day);
  CHECK(forever.authenticate(old_token) == 1001u);
  CHECK(forever.authenticate(forever.issue_at(1001, 1)) == 1001u);  // 1970: still valid
  CHECK_FALSE(month.authenticate(old_token));
  CHECK(month.authenticate(recent_token) == 1001u);
  CHECK(month.authenticate(month.issue(1001)) == 1001u);
}

}  // namespace herald::identity
