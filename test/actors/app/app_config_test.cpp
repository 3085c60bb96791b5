// SPDX-License-Identifier: Apache-2.0
// The dispatch node's config keys (actors/app): defaults, validation, and the reference docs.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "actors/app/app_config.hpp"
#include "runtime/config/validators.hpp"

using namespace herald;

TEST_CASE("every_key_heraldd_accepts_is_documented_in_docs_configuration_md") {
  std::ifstream in{std::string{HERALD_TEST_SOURCE_DIR} + "/docs/configuration.md"};
  REQUIRE(in);
  std::stringstream doc;
  doc << in.rdbuf();
  auto schema = app::full_schema();  // keys() refers into it: keep it alive
  for (const auto& k : schema.keys()) {
    auto row = "| `" + k.name + "` | " + config::to_string(k.type) + " | " + k.default_doc + " |";
    INFO("row: " << row);
    CHECK(doc.str().find(row) != std::string::npos);
  }
}

TEST_CASE("the_gateways_public_url_follows_gateway_listen_unless_set") {
  auto schema = app::full_schema();
  auto loaded = config::load_from_string(schema, "[gateway]\nlisten = \"127.0.0.2:9999\"\n", "t");
  REQUIRE(loaded);
  CHECK(loaded.value().get_string("gateway.public_url") == "ws://127.0.0.2:9999");
  CHECK(loaded.value().get_int("gateway.threads") == 1);
  CHECK(loaded.value().get_int("gateway.heartbeat_interval_ms") == 41250);
  CHECK(loaded.value().get_string("identity.secret").empty());
  CHECK(loaded.value().get_string("store.sync") == "full");
  CHECK(loaded.value().get_string("identity.token_max_age") == "0");
  auto set =
      config::load_from_string(schema, "[gateway]\npublic_url = \"wss://chat.example.com\"\n", "t");
  REQUIRE(set);
  CHECK(set.value().get_string("gateway.public_url") == "wss://chat.example.com");
}

TEST_CASE("with_tls_files_the_default_public_url_is_wss_and_a_lone_file_is_refused") {
  auto schema = app::full_schema();
  auto loaded = config::load_from_string(
      schema,
      "[gateway]\nlisten = \"127.0.0.1:8443\"\ntls_cert_file = \"/c.pem\"\n"
      "tls_key_file = \"/k.pem\"\n",
      "t");
  REQUIRE(loaded);
  CHECK(loaded.value().get_string("gateway.public_url") == "wss://127.0.0.1:8443");
  CHECK(loaded.value().get_string("gateway.tls_min_version") == "TLS1.2");
  auto lone = config::load_from_string(schema, "[gateway]\ntls_cert_file = \"/c.pem\"\n", "t");
  REQUIRE(lone);
  CHECK(app::check_config(lone.value()) ==
        "gateway.tls_key_file: must be set together with gateway.tls_cert_file");
  auto none = config::load_from_string(schema, "", "t");
  REQUIRE(none);
  CHECK_FALSE(app::check_config(none.value()));
  CHECK_FALSE(config::load_from_string(schema, "[gateway]\ntls_min_version = \"TLS1.1\"\n", "t"));
}

TEST_CASE("a_wildcard_gateway_listen_with_tls_still_needs_an_explicit_gateway_public_url") {
  auto schema = app::full_schema();
  auto wildcard =
      config::load_from_string(schema,
                               "[gateway]\nlisten = \"0.0.0.0:8443\"\ntls_cert_file = \"/c.pem\"\n"
                               "tls_key_file = \"/k.pem\"\n",
                               "t");
  REQUIRE_FALSE(wildcard);
  CHECK(wildcard.err().to_string().find("gateway.public_url: \"wss://0.0.0.0:8443\"") == 0);
}

TEST_CASE("bad_values_of_the_app_keys_are_config_errors_naming_the_key") {
  auto schema = app::full_schema();
  for (const char* text :
       {"[identity]\nsecret = \"short\"\n", "[store]\nsync = \"sometimes\"\n",
        "[gateway]\npublic_url = \"http://x\"\n", "[gateway]\nthreads = 0\n",
        "[gateway]\nheartbeat_interval_ms = 10\n", "[identity]\ntoken_max_age = \"30 days\"\n",
        "[identity]\ntoken_max_age = \"-1d\"\n", "[identity]\ntoken_max_age = \"d\"\n"}) {
    INFO(text);
    auto loaded = config::load_from_string(schema, text, "t");
    REQUIRE_FALSE(loaded);
    auto line = loaded.err().to_string();
    CHECK((line.find("identity.") == 0 || line.find("store.") == 0 || line.find("gateway.") == 0));
  }
}

TEST_CASE("a_wildcard_gateway_listen_needs_an_explicit_gateway_public_url") {
  auto schema = app::full_schema();
  for (const char* text :
       {"[gateway]\nlisten = \"0.0.0.0:9999\"\n", "[gateway]\nlisten = \"[::]:9999\"\n",
        "[gateway]\npublic_url = \"ws://0.0.0.0:80\"\n", "[gateway]\npublic_url = \"wss://\"\n"}) {
    INFO(text);
    auto loaded = config::load_from_string(schema, text, "t");
    REQUIRE_FALSE(loaded);
    auto line = loaded.err().to_string();
    CHECK(line.find("gateway.public_url: ") == 0);
    CHECK(line.find('\n') == std::string::npos);
  }
  auto explicit_url = config::load_from_string(
      schema, "[gateway]\nlisten = \"0.0.0.0:9999\"\npublic_url = \"ws://chat.example.com:9999\"\n",
      "t");
  REQUIRE(explicit_url);
  CHECK(explicit_url.value().get_string("gateway.public_url") == "ws://chat.example.com:9999");
  auto v6 = config::load_from_string(schema, "[gateway]\npublic_url = \"ws://[::1]:8080/\"\n", "t");
  CHECK(v6);
}

TEST_CASE("identity_token_max_age_takes_0_or_a_duration_with_a_unit") {
  CHECK(config::parse_duration("0") == std::chrono::seconds{0});
  CHECK(config::parse_duration("90s") == std::chrono::seconds{90});
  CHECK(config::parse_duration("30m") == std::chrono::seconds{1800});
  CHECK(config::parse_duration("12h") == std::chrono::seconds{43200});
  CHECK(config::parse_duration("30d") == std::chrono::seconds{30 * 86400});
  for (const char* bad : {"", "30", "1w", "s", "+5s", "5.5h", "99999999999d"}) {
    INFO(bad);
    CHECK_FALSE(config::parse_duration(bad));
  }
  auto schema = app::full_schema();
  auto loaded = config::load_from_string(schema, "[identity]\ntoken_max_age = \"30d\"\n", "t");
  REQUIRE(loaded);
  CHECK(loaded.value().get_string("identity.token_max_age") == "30d");
}

TEST_CASE("features_enabled_accepts_only_features_the_build_links") {
  auto schema = app::full_schema({"reactions"});
  auto none = config::load_from_string(schema, "", "t");
  REQUIRE(none);
  CHECK(none.value().get_list("features.enabled").empty());
  auto on = config::load_from_string(schema, "[features]\nenabled = [\"reactions\"]\n", "t");
  REQUIRE(on);
  CHECK(on.value().get_list("features.enabled") == config::string_list{"reactions"});
  CHECK_FALSE(config::load_from_string(schema, "[features]\nenabled = [\"pins\"]\n", "t"));
  // A schema built without features refuses every name.
  CHECK_FALSE(
      config::load_from_string(app::full_schema(), "[features]\nenabled = [\"reactions\"]\n", "t"));
}
