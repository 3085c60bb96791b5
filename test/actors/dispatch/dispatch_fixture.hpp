// SPDX-License-Identifier: Apache-2.0
#pragma once
// Shared fixture of the dispatch-core invariant tests: a real actor system,
// SQLite store and dispatch services per test, seeded guilds, event builders,
// and session probes that drain a session's outbound buffer as a connection
// would. Owned by one test case; probes are drained from the test thread only.
// Invariant: every wait is bounded (eventually() gives up after its timeout).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/dispatch/api.hpp"
#include "actors/domain/convert.hpp"
#include "actors/domain/guild_state.hpp"
#include "actors/domain/permission_bits.hpp"
#include "actors/outbound/intents.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/store/sqlite_store.hpp"
#include "test/support/eventually.hpp"
#include "test/support/temp_dir.hpp"

namespace herald::dispatch_test {

using json = nlohmann::json;
using namespace std::chrono_literals;
namespace hs = ::herald::store;

using herald::testing::eventually;
using herald::testing::temp_dir;

/// Test double for fault injection: the real SQLite store underneath, with a
/// switch that makes apply() fail as a full disk would, a countdown that fails
/// the Nth group commit (store writer round), and a gate that holds group
/// commits until opened. Reads always pass.
class faulty_store final : public hs::store {
public:
  explicit faulty_store(std::shared_ptr<hs::store> inner) : inner_(std::move(inner)) {}

  void fail_apply(bool on) { fail_.store(on); }
  int failed_applies() const { return failed_.load(); }
  /// The `n`th group commit from now (1 = the next) fails as a whole; 0 disarms.
  void fail_group_commit(int n) { fail_group_at_.store(n == 0 ? 0 : group_calls_.load() + n); }
  /// While closed, group commits wait (on the writer thread) until open_commits().
  void close_commits() {
    std::lock_guard<std::mutex> guard(gate_mutex_);
    gate_closed_ = true;
  }
  void open_commits() {
    {
      std::lock_guard<std::mutex> guard(gate_mutex_);
      gate_closed_ = false;
    }
    gate_cv_.notify_all();
  }
  /// Group commits waiting at the closed gate.
  int commits_waiting() const { return waiting_.load(); }
  int group_commits() const { return group_calls_.load(); }

  std::vector<hs::result<void>> apply_group(
      const std::vector<const hs::write_batch*>& batches) override {
    {
      std::unique_lock<std::mutex> lock(gate_mutex_);
      ++waiting_;
      gate_cv_.wait(lock, [&] { return !gate_closed_; });
      --waiting_;
    }
    const int call = group_calls_.fetch_add(1) + 1;
    if (fail_.load() || call == fail_group_at_.load()) {
      failed_.fetch_add(1);
      return std::vector<hs::result<void>>(
          batches.size(),
          hs::result<void>{hs::store_error{hs::store_errc::io_error, "injected commit failure"}});
    }
    return inner_->apply_group(batches);
  }

  hs::result<void> apply(const hs::write_batch& batch) override {
    if (fail_.load()) {
      failed_.fetch_add(1);
      return hs::store_error{hs::store_errc::io_error, "injected write failure (test)"};
    }
    return inner_->apply(batch);
  }
  hs::result<domain::guild_state> load_guild(domain::snowflake id) override {
    return inner_->load_guild(id);
  }
  hs::result<std::vector<domain::snowflake>> list_guild_ids() override {
    return inner_->list_guild_ids();
  }
  hs::result<std::vector<domain::snowflake>> guilds_of_user(domain::snowflake id) override {
    return inner_->guilds_of_user(id);
  }
  hs::result<domain::user> get_user(domain::snowflake id) override { return inner_->get_user(id); }
  hs::result<domain::message> get_message(domain::snowflake id) override {
    return inner_->get_message(id);
  }
  hs::result<std::vector<domain::message>> recent_messages(domain::snowflake channel_id,
                                                           std::size_t limit,
                                                           domain::snowflake before) override {
    return inner_->recent_messages(channel_id, limit, before);
  }
  hs::result<domain::snowflake> guild_of_channel(domain::snowflake channel_id) override {
    return inner_->guild_of_channel(channel_id);
  }
  hs::result<hs::guild_owner> claim_guild(domain::snowflake guild_id,
                                          std::uint64_t node_id) override {
    return inner_->claim_guild(guild_id, node_id);
  }
  hs::result<hs::guild_owner> guild_owner_of(domain::snowflake guild_id) override {
    return inner_->guild_owner_of(guild_id);
  }
  hs::result<std::vector<hs::tail_event>> read_tail(domain::snowflake guild_id,
                                                    std::uint64_t after_epoch,
                                                    std::uint64_t after_order) override {
    return inner_->read_tail(guild_id, after_epoch, after_order);
  }
  hs::result<std::optional<hs::tail_event>> tail_head(domain::snowflake guild_id) override {
    return inner_->tail_head(guild_id);
  }
  hs::result<std::uint64_t> token_epoch(domain::snowflake user_id) override {
    return inner_->token_epoch(user_id);
  }
  hs::result<std::uint64_t> bump_token_epoch(domain::snowflake user_id) override {
    return inner_->bump_token_epoch(user_id);
  }
  hs::result<std::vector<hs::feature_state_entry>> load_feature_state(
      const std::string& feature, const std::string& prefix) override {
    return inner_->load_feature_state(feature, prefix);
  }

private:
  std::shared_ptr<hs::store> inner_;
  std::atomic<bool> fail_{false};
  std::atomic<int> failed_{0};
  std::atomic<int> group_calls_{0};
  std::atomic<int> fail_group_at_{0};
  std::mutex gate_mutex_;
  std::condition_variable gate_cv_;
  bool gate_closed_ = false;
  std::atomic<int> waiting_{0};
};

inline store::sqlite_options store_options(const temp_dir& dir) {
  store::sqlite_options o;
  o.data_dir_ = dir.path() / "data";
  o.sync_ = store::sync_mode::normal;  // durable against process crash; fast
  return o;
}

/// One node's dispatch core on a fresh store: actor system, services, store.
struct dispatch_env {
  explicit dispatch_env(dispatch::dispatch_config dc = {}, size_t threads = 4) {
    cfg.set("scheduler.max-threads", threads);
    system = std::make_unique<caf::actor_system>(cfg);
    auto opened = store::sqlite_store::open(store_options(dir));
    if (!opened) {
      FAIL("store open failed: " << opened.error().message_);
    }
    db_path = opened.value()->path();
    std::shared_ptr<store::store> real{std::move(opened).value()};
    storage = std::make_shared<faulty_store>(real);
    auto started = dispatch::start_services(*system, std::move(dc), storage);
    if (!started) {
      FAIL("start_services: " << dispatch::describe(started.error()));
    }
    svc = *started;
  }
  ~dispatch_env() {
    storage->open_commits();  // a test that failed with the gate closed must not hang here
    if (svc) {
      dispatch::stop_services(svc);
    }
    svc.reset();
  }
  dispatch_env(const dispatch_env&) = delete;
  dispatch_env& operator=(const dispatch_env&) = delete;

  temp_dir dir;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  std::filesystem::path db_path;
  std::shared_ptr<faulty_store> storage;
  dispatch::services_ptr svc;
};

// -- seeding ---------------------------------------------------------------------------

/// A guild's starting state, written to the store with save_guild.
struct guild_seed {
  domain::guild_state state;

  guild_seed(uint64_t guild_id, uint64_t owner_id)
      : state(domain::guild{guild_id, "guild" + std::to_string(guild_id), owner_id}) {
    add_member(owner_id);
  }
  guild_seed& add_member(uint64_t user_id, std::vector<uint64_t> roles = {}) {
    domain::member m;
    m.user_id_ = user_id;
    m.role_ids_ = std::move(roles);
    m.joined_at_ = 1;
    state.restore_member(m, domain::user{user_id, "user" + std::to_string(user_id), false});
    return *this;
  }
  guild_seed& add_channel(uint64_t channel_id,
                          std::vector<domain::permission_overwrite> overwrites = {}) {
    domain::channel ch;
    ch.id_ = channel_id;
    ch.guild_id_ = state.id();
    ch.name_ = "channel" + std::to_string(channel_id);
    ch.overwrites_ = std::move(overwrites);
    state.restore_channel(ch);
    return *this;
  }
  guild_seed& add_role(uint64_t role_id, uint64_t perms) {
    domain::role r;
    r.id_ = role_id;
    r.name_ = "role" + std::to_string(role_id);
    r.permissions_ = perms;
    state.restore_role(r);
    return *this;
  }
  void save(store::store& st) const {
    auto ok = st.save_guild(state);
    if (!ok) {
      FAIL("seeding failed: " << ok.error().message_);
    }
  }
};

// -- events ----------------------------------------------------------------------------

inline uint64_t next_message_id() {
  static std::atomic<uint64_t> counter{0};
  return (uint64_t{1} << 58) + counter.fetch_add(1) + 1;
}

inline proto::event message_create(uint64_t guild_id, uint64_t channel_id, uint64_t author_id,
                                   uint64_t message_id, const std::string& content,
                                   const std::vector<uint64_t>& mentions = {}) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* m = ev.mutable_message_create();
  m->set_id(message_id);
  m->set_guild_id(guild_id);
  m->set_channel_id(channel_id);
  m->set_author_id(author_id);
  m->set_content(content);
  for (auto u : mentions) {
    m->add_mentions(u);
  }
  return ev;
}

inline proto::event role_update(uint64_t guild_id, const domain::role& r) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  *ev.mutable_guild_role_update() = domain::to_proto(r);
  return ev;
}

inline proto::event member_update(uint64_t guild_id, const domain::member& m) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  *ev.mutable_guild_member_update()->mutable_member() = domain::to_proto(m);
  return ev;
}

inline proto::event channel_create(uint64_t guild_id, const domain::channel& ch) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  *ev.mutable_channel_create() = domain::to_proto(ch);
  return ev;
}

inline proto::event channel_update(uint64_t guild_id, const domain::channel& ch) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  *ev.mutable_channel_update() = domain::to_proto(ch);
  return ev;
}

inline proto::event channel_delete(uint64_t guild_id, uint64_t channel_id) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  ev.mutable_channel_delete()->set_id(channel_id);
  return ev;
}

inline proto::event typing_start(uint64_t guild_id, uint64_t channel_id, uint64_t user_id) {
  proto::event ev;
  ev.set_guild_id(guild_id);
  auto* t = ev.mutable_typing_start();
  t->set_channel_id(channel_id);
  t->set_user_id(user_id);
  return ev;
}

/// Publishes and requires success; returns the ack.
inline guild::publish_ack publish_ok(const dispatch::services_ptr& svc, const proto::event& ev) {
  auto ack = dispatch::publish(svc, ev, 10s);
  if (!ack) {
    FAIL("publish failed: " << dispatch::describe(ack.error()));
  }
  return std::move(*ack);
}

/// A publish running on its own thread (dispatch::publish blocks until the ack).
struct async_publish {
  caf::expected<guild::publish_ack> result{caf::error{}};
  std::thread thread;

  async_publish(const dispatch::services_ptr& svc, proto::event ev)
      : thread([this, svc, ev = std::move(ev)] { result = dispatch::publish(svc, ev, 20s); }) {}
  ~async_publish() {
    if (thread.joinable()) {
      thread.join();
    }
  }
  caf::expected<guild::publish_ack>& get() {
    thread.join();
    return result;
  }
};

/// Publishes as a producer that retries retryable errors would (a guild
/// that just failed a commit may still be stopping: request_receiver_down).
inline caf::expected<guild::publish_ack> publish_retrying(const dispatch::services_ptr& svc,
                                                          const proto::event& ev,
                                                          int attempts = 50) {
  caf::expected<guild::publish_ack> out = dispatch::publish(svc, ev, 10s);
  for (int i = 1; i < attempts && !out && dispatch::is_retryable(out.error()); ++i) {
    std::this_thread::sleep_for(10ms);
    out = dispatch::publish(svc, ev, 10s);
  }
  return out;
}

// -- sessions --------------------------------------------------------------------------

/// A connection's view of the buffer: counts the listener edges.
class frame_sink final : public session::outbound_listener {
public:
  void on_frames_ready() noexcept override { ready_.fetch_add(1); }
  void on_overflow() noexcept override { overflows_.fetch_add(1); }
  int overflows() const { return overflows_.load(); }

private:
  std::atomic<int> ready_{0};
  std::atomic<int> overflows_{0};
};

/// An opened session plus the frames its "connection" has collected.
class session_probe {
public:
  session_probe(dispatch::opened_session opened, bool attach_now = true)
      : opened_(std::move(opened)) {
    if (attach_now) {
      attach();
    }
  }
  ~session_probe() { detach(); }
  session_probe(const session_probe&) = delete;
  session_probe& operator=(const session_probe&) = delete;

  const caf::actor& actor() const { return opened_.actor; }
  session::outbound_buffer& buffer() { return opened_.output->buffer(); }
  const session::session_output_ptr& output() const { return opened_.output; }
  frame_sink& sink() { return *sink_; }

  void attach() {
    detach();
    sink_ = std::make_unique<frame_sink>();
    buffer().attach(sink_.get());
    attached_ = true;
  }
  session::resume_status attach_resumed(uint64_t last_seq) {
    detach();
    sink_ = std::make_unique<frame_sink>();
    auto status = buffer().attach_resumed(sink_.get(), last_seq);
    attached_ = status == session::resume_status::ok;
    return status;
  }
  void detach() {
    if (attached_) {
      buffer().detach();
      attached_ = false;
    }
  }

  /// Collects every ready frame, parses it and appends it to frames().
  size_t drain() {
    session::outbound_batch batch;
    buffer().collect(batch);
    size_t added = 0;
    batch.for_each_frame([&](std::string_view frame) {
      frames_.push_back(json::parse(frame));
      ++added;
    });
    REQUIRE(added == batch.frames());
    return added;
  }
  /// Drains until `done(frames())` holds; false after `timeout`.
  bool drain_until(const std::function<bool(const std::vector<json>&)>& done,
                   std::chrono::milliseconds timeout = 20s) {
    return eventually(
        [&] {
          drain();
          return done(frames_);
        },
        timeout);
  }
  bool drain_until_count(size_t n, std::chrono::milliseconds timeout = 20s) {
    return drain_until([n](const std::vector<json>& f) { return f.size() >= n; }, timeout);
  }

  const std::vector<json>& frames() const { return frames_; }
  std::vector<json>& frames() { return frames_; }

private:
  dispatch::opened_session opened_;
  std::unique_ptr<frame_sink> sink_;
  bool attached_ = false;
  std::vector<json> frames_;
};

inline constexpr session::intents all_intents =
    session::guilds_intent | session::guild_members_intent | session::guild_messages_intent |
    session::guild_message_typing_intent | session::message_content_intent;

inline session::session_params session_for(uint64_t user_id, std::vector<uint64_t> guild_ids,
                                           session::intents granted = all_intents) {
  session::session_params p;
  p.user = domain::user{user_id, "user" + std::to_string(user_id), false};
  p.granted = granted;
  p.guild_ids = std::move(guild_ids);
  return p;
}

/// Opens a session and attaches a probe; requires success.
inline std::unique_ptr<session_probe> open_probe(const dispatch::services_ptr& svc,
                                                 session::session_params params,
                                                 bool attach_now = true) {
  auto opened = dispatch::open_session(svc, std::move(params), 10s);
  if (!opened) {
    FAIL("open_session: " << dispatch::describe(opened.error()));
  }
  return std::make_unique<session_probe>(std::move(*opened), attach_now);
}

/// Opens a session and waits until READY and one GUILD_CREATE per guild landed.
inline std::unique_ptr<session_probe> open_subscribed(const dispatch::services_ptr& svc,
                                                      session::session_params params) {
  size_t guilds = params.guild_ids.size();
  auto probe = open_probe(svc, std::move(params));
  bool ready = probe->drain_until_count(1 + guilds);
  if (!ready) {
    FAIL("session did not get READY and " << guilds << " GUILD_CREATE");
  }
  return probe;
}

// -- frame fields ----------------------------------------------------------------------

inline std::string type_of(const json& frame) {
  return frame.at("t").is_string() ? frame.at("t").get<std::string>() : std::string{};
}

inline uint64_t seq_of(const json& frame) {
  return frame.at("s").get<uint64_t>();
}

/// Snowflake id field of `d` (JSON strings), 0 if absent.
inline uint64_t id_in(const json& frame, const char* field = "id") {
  const auto& d = frame.at("d");
  if (!d.contains(field) || !d.at(field).is_string()) {
    return 0;
  }
  return std::stoull(d.at(field).get<std::string>());
}

/// Ids of the MESSAGE_CREATE frames, in order.
inline std::vector<uint64_t> message_ids(const std::vector<json>& frames) {
  std::vector<uint64_t> out;
  for (const auto& f : frames) {
    if (type_of(f) == "MESSAGE_CREATE") {
      out.push_back(id_in(f));
    }
  }
  return out;
}

inline size_t count_type(const std::vector<json>& frames, const std::string& t) {
  size_t n = 0;
  for (const auto& f : frames) {
    n += type_of(f) == t ? 1 : 0;
  }
  return n;
}

/// Requires s = first, first+1, … over `frames`.
inline void require_contiguous(const std::vector<json>& frames, uint64_t first = 1) {
  for (size_t i = 0; i < frames.size(); ++i) {
    INFO("frame " << i << ": " << frames[i].dump().substr(0, 200));
    REQUIRE(frames[i].at("op").get<int>() == 0);
    REQUIRE(seq_of(frames[i]) == first + i);
  }
}

}  // namespace herald::dispatch_test
