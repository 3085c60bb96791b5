// SPDX-License-Identifier: Apache-2.0
// The dispatch node's config keys (actors/app): defaults, validation, and the reference docs.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "actors/app/app_config.hpp"

using namespace herald;

TEST_CASE("Every key heraldd accepts is documented in docs/configuration.md", "[app][config]") {
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

TEST_CASE("The gateway's public URL follows gateway.listen unless set", "[app][config]") {
  auto schema = app::full_schema();
  auto loaded = config::load_from_string(schema, "[gateway]\nlisten = \"0.0.0.0:9999\"\n", "t");
  REQUIRE(loaded);
  CHECK(loaded.value().get_string("gateway.public_url") == "ws://0.0.0.0:9999");
  CHECK(loaded.value().get_int("gateway.threads") == 1);
  CHECK(loaded.value().get_int("gateway.heartbeat_interval_ms") == 41250);
  CHECK(loaded.value().get_string("identity.secret").empty());
  CHECK(loaded.value().get_string("store.sync") == "full");
  auto set =
      config::load_from_string(schema, "[gateway]\npublic_url = \"wss://chat.example.com\"\n", "t");
  REQUIRE(set);
  CHECK(set.value().get_string("gateway.public_url") == "wss://chat.example.com");
}

TEST_CASE("With TLS files the default public URL is wss and a lone file is refused",
          "[app][config]") {
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

TEST_CASE("Bad values of the app keys are config errors naming the key", "[app][config]") {
  auto schema = app::full_schema();
  for (const char* text : {"[identity]\nsecret = \"short\"\n", "[store]\nsync = \"sometimes\"\n",
                           "[gateway]\npublic_url = \"http://x\"\n", "[gateway]\nthreads = 0\n",
                           "[gateway]\nheartbeat_interval_ms = 10\n"}) {
    INFO(text);
    auto loaded = config::load_from_string(schema, text, "t");
    REQUIRE_FALSE(loaded);
    auto line = loaded.err().to_string();
    CHECK((line.find("identity.") == 0 || line.find("store.") == 0 || line.find("gateway.") == 0));
  }
}
