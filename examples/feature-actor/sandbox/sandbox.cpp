// SPDX-License-Identifier: Apache-2.0
#include "examples/feature-actor/sandbox/sandbox.hpp"

#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <caf/send.hpp>

#include "actors/domain/permission_bits.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/store/sqlite_store.hpp"
#include "features/reactions/reactions_error.hpp"

namespace herald::reactions::sandbox {

namespace {

using namespace std::chrono_literals;

std::filesystem::path fresh_dir() {
  std::random_device rd;
  return std::filesystem::temp_directory_path() /
         ("herald-feature-actor-" + std::to_string(rd()) + "-" + std::to_string(rd()));
}

}  // namespace

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return done();
    }
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

domain::guild_state build_guild(const guild_plan& plan) {
  domain::guild_state g{domain::guild{plan.id, "guild" + std::to_string(plan.id), plan.owner}};
  auto add_member = [&g](uint64_t user_id) {
    domain::member m;
    m.user_id_ = user_id;
    m.joined_at_ = 1;
    g.restore_member(m, domain::user{user_id, "user" + std::to_string(user_id), false});
  };
  add_member(plan.owner);
  for (auto m : plan.members) {
    add_member(m);
  }
  for (const auto& c : plan.channels) {
    domain::channel ch;
    ch.id_ = c.id;
    ch.guild_id_ = plan.id;
    ch.name_ = "channel" + std::to_string(c.id);
    if (!c.viewers.empty()) {
      // @everyone's overwrite id is the guild id (Discord's convention).
      ch.overwrites_.push_back(
          {plan.id, domain::overwrite_type::role, 0, permissions::view_channel});
      for (auto v : c.viewers) {
        ch.overwrites_.push_back({v, domain::overwrite_type::member, permissions::view_channel, 0});
      }
    }
    g.restore_channel(ch);
  }
  return g;
}

// -- session_probe ------------------------------------------------------------

// The connection side of the buffer; the probe polls instead of waking up.
class session_probe::listener final : public session::outbound_listener {
public:
  void on_frames_ready() noexcept override {}
  void on_overflow() noexcept override {}
};

session_probe::session_probe(dispatch::opened_session opened)
    : opened_(std::move(opened)), listener_(std::make_unique<listener>()) {
  opened_.output->buffer().attach(listener_.get());
}

session_probe::~session_probe() {
  opened_.output->buffer().detach();
  if (opened_.actor) {
    caf::anon_send(opened_.actor, session::close_atom::value);
  }
}

size_t session_probe::drain() {
  session::outbound_batch batch;
  opened_.output->buffer().collect(batch);
  size_t added = 0;
  batch.for_each_frame([&](std::string_view frame) {
    frames_.push_back(json::parse(frame));
    ++added;
  });
  return added;
}

bool session_probe::drain_until(const std::function<bool(const std::vector<json>&)>& done,
                                std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        drain();
        return done(frames_);
      },
      timeout);
}

std::vector<json> session_probe::of_type(const std::string& type) const {
  std::vector<json> out;
  for (const auto& f : frames_) {
    if (f.value("t", json{}) == type) {
      out.push_back(f);
    }
  }
  return out;
}

// -- sandbox ------------------------------------------------------------------

sandbox::sandbox(size_t threads) : dir_(fresh_dir()) {
  cfg_.set("scheduler.max-threads", threads);
  system_ = std::make_unique<caf::actor_system>(cfg_);
  store::sqlite_options opts;
  opts.data_dir_ = dir_;
  opts.sync_ = store::sync_mode::normal;  // durable against a process crash; fast
  auto opened = store::sqlite_store::open(opts);
  if (!opened) {
    throw std::runtime_error("store open failed: " + opened.error().message_);
  }
  store_ = std::shared_ptr<store::store>{std::move(opened).value()};
}

sandbox::~sandbox() {
  // Feature first: its counters publish through the dispatch services.
  stop_reactions(reactions_);
  reactions_.reset();
  if (services_) {
    dispatch::stop_services(services_);
  }
  services_.reset();
  system_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void sandbox::seed(const guild_plan& plan) {
  auto saved = store_->save_guild(build_guild(plan));
  if (!saved) {
    throw std::runtime_error("seeding failed: " + saved.error().message_);
  }
}

void sandbox::start() {
  auto started = dispatch::start_services(*system_, dispatch::dispatch_config{}, store_);
  if (!started) {
    throw std::runtime_error("start_services: " + dispatch::describe(started.error()));
  }
  services_ = *started;
  auto rx = start_reactions(services_);
  if (!rx) {
    throw std::runtime_error("start_reactions: " + describe(rx.error()));
  }
  reactions_ = *rx;
}

std::unique_ptr<session_probe> sandbox::open_session(uint64_t user_id,
                                                     std::vector<uint64_t> guild_ids,
                                                     session::intents granted) {
  session::session_params p;
  p.user = domain::user{user_id, "user" + std::to_string(user_id), false};
  p.granted = granted;
  size_t guilds = guild_ids.size();
  p.guild_ids = std::move(guild_ids);
  auto opened = dispatch::open_session(services_, std::move(p), 10s);
  if (!opened) {
    throw std::runtime_error("open_session: " + dispatch::describe(opened.error()));
  }
  auto probe = std::make_unique<session_probe>(std::move(*opened));
  bool ready =
      probe->drain_until([guilds](const std::vector<json>& f) { return f.size() >= 1 + guilds; });
  if (!ready) {
    throw std::runtime_error("session did not get READY and its GUILD_CREATEs");
  }
  return probe;
}

uint64_t sandbox::post_message(uint64_t guild_id, uint64_t channel_id, uint64_t author_id,
                               uint64_t message_id, const std::string& content) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* m = ev.mutable_message_create();
  m->set_id(message_id);
  m->set_guild_id(guild_id);
  m->set_channel_id(channel_id);
  m->set_author_id(author_id);
  m->set_content(content);
  auto ack = dispatch::publish(services_, ev, 10s);
  if (!ack) {
    throw std::runtime_error("publish MESSAGE_CREATE: " + dispatch::describe(ack.error()));
  }
  return ack->guild_order;
}

session::intents all_intents() {
  return session::guilds_intent | session::guild_members_intent | session::guild_messages_intent |
         session::message_content_intent | guild_message_reactions_intent;
}

}  // namespace herald::reactions::sandbox
