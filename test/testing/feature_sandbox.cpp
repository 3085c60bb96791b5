// SPDX-License-Identifier: Apache-2.0
#include "test/testing/feature_sandbox.hpp"

#include <chrono>
#include <random>
#include <stdexcept>
#include <variant>

#include "actors/domain/snowflake.hpp"
#include "actors/rest/rest_api.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/store/sqlite_store.hpp"

namespace herald::testing {

namespace {

using namespace std::chrono_literals;

constexpr const char* token_prefix = "sandbox-";

std::filesystem::path fresh_dir() {
  std::random_device rd;
  return std::filesystem::temp_directory_path() /
         ("herald-feature-sandbox-" + std::to_string(rd()) + "-" + std::to_string(rd()));
}

}  // namespace

feature_sandbox::feature_sandbox(std::vector<feature::feature_module> features, size_t threads)
    : modules_(std::move(features)), dir_(fresh_dir()) {
  cfg_.set("scheduler.max-threads", threads);
  system_ = std::make_unique<caf::actor_system>(cfg_);
  // Message ids a little after the Discord epoch, increasing: valid snowflakes.
  next_message_ = domain::snowflake_at(domain::system_clock_ms());
}

feature_sandbox::~feature_sandbox() {
  stop();
  system_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void feature_sandbox::open_store() {
  if (store_) {
    return;
  }
  store::sqlite_options opts;
  opts.data_dir_ = dir_;
  opts.sync_ = store::sync_mode::normal;
  auto opened = store::sqlite_store::open(opts);
  if (!opened) {
    throw std::runtime_error("store open failed: " + opened.error().message_);
  }
  store_ = std::shared_ptr<store::store>{std::move(opened).value()};
}

void feature_sandbox::seed(const guild_plan& plan) {
  open_store();
  if (auto saved = store_->save_guild(plan.build()); !saved) {
    throw std::runtime_error("seeding failed: " + saved.error().message_);
  }
}

void feature_sandbox::start() {
  open_store();
  auto started = dispatch::start_services(*system_, dispatch::dispatch_config{}, store_);
  if (!started) {
    throw std::runtime_error("start_services: " + dispatch::describe(started.error()));
  }
  services_ = *started;
  feature::feature_context ctx;  // no node config; feature supervisors run as roots
  ctx.svc = services_;
  auto set = feature::feature_set::start(modules_, feature::names_of(modules_), ctx, 10s);
  if (set.index() == 1) {
    throw std::runtime_error(std::get<1>(set));
  }
  features_ = std::move(std::get<0>(set));
  net::server_options so;
  so.name = "sandbox-rest";
  so.threads = 1;
  rest_ = std::make_unique<net::http_server>(so);
  auto rest_ctx = std::make_shared<rest::rest_context>();
  rest_ctx->svc = services_;
  rest_ctx->authenticate = [](std::string_view token) -> std::optional<uint64_t> {
    auto at = token.find(token_prefix);
    if (at == std::string_view::npos) {
      return std::nullopt;
    }
    return domain::parse_snowflake(token.substr(at + std::string_view{token_prefix}.size()));
  };
  rest_ctx->gateway_url = "ws://127.0.0.1:0";
  // No per-user budget: feature tests drive many requests as one user back to back (pinning
  // 50 messages), and a refill-rate limit would make them depend on the machine's speed. The
  // limiter has its own tests (test/actors/rest).
  rest_ctx->rate_limit.burst = 0;
  rest::mount_routes(*rest_, rest_ctx);
  features_->mount(*rest_, rest_ctx);
  if (auto err = rest_->start()) {
    throw std::runtime_error("sandbox REST server: " + err.message());
  }
}

void feature_sandbox::stop() {
  if (rest_) {
    rest_->stop();
    rest_.reset();
  }
  if (features_) {
    features_->stop(10s);
    features_.reset();
  }
  if (services_) {
    dispatch::stop_services(services_);
    services_.reset();
  }
  store_.reset();
}

void feature_sandbox::restart() {
  stop();
  start();
}

uint16_t feature_sandbox::rest_port() const {
  return rest_->port();
}

http_answer feature_sandbox::rest(uint64_t user_id, const std::string& method,
                                  const std::string& path, const std::string& body) {
  return http_call(rest_port(), method, "/api/v10" + path, body,
                   {{"Authorization", "Bot " + std::string{token_prefix} + id(user_id)}}, 10s);
}

std::unique_ptr<session_probe> feature_sandbox::open_session(uint64_t user_id,
                                                             std::vector<uint64_t> guild_ids,
                                                             session::intents granted) {
  session::session_params p;
  p.user = domain::user{user_id, "user" + id(user_id), false};
  p.granted = granted;
  size_t guilds = guild_ids.size();
  p.guild_ids = std::move(guild_ids);
  auto opened = dispatch::open_session(services_, std::move(p), 10s);
  if (!opened) {
    throw std::runtime_error("open_session: " + dispatch::describe(opened.error()));
  }
  auto probe = std::make_unique<session_probe>(std::move(*opened));
  if (!probe->drain_until([guilds](const auto& f) { return f.size() >= 1 + guilds; })) {
    throw std::runtime_error("session did not get READY and its GUILD_CREATEs");
  }
  return probe;
}

uint64_t feature_sandbox::post_message(uint64_t guild_id, uint64_t channel_id, uint64_t author_id,
                                       const std::string& content) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* m = ev.mutable_message_create();
  m->set_id(++next_message_);
  m->set_guild_id(guild_id);
  m->set_channel_id(channel_id);
  m->set_author_id(author_id);
  m->set_content(content);
  publish(ev);
  return m->id();
}

guild::publish_ack feature_sandbox::publish(const proto::event& event) {
  auto ack = dispatch::publish(services_, event, 10s);
  if (!ack) {
    throw std::runtime_error("publish: " + dispatch::describe(ack.error()));
  }
  return *ack;
}

}  // namespace herald::testing
