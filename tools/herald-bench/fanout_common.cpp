// SPDX-License-Identifier: Apache-2.0
#include "tools/herald-bench/fanout_common.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "actors/domain/permission_bits.hpp"
#include "actors/outbound/chunk_pool.hpp"
#include "actors/outbound/shared_tail.hpp"
#include "actors/services/dispatch_error.hpp"
#include "actors/store/postgres_store.hpp"
#include "actors/store/sqlite_store.hpp"
#include "tools/herald-bench/bench_util.hpp"

namespace herald::bench {

namespace {

using clock_type = std::chrono::steady_clock;

// Stands in for a gateway connection that has written the session's frames
// out: attached to every session's buffer, it is told when frames are ready
// and ignores it (the bench collects by itself).
struct bench_connection final : session::outbound_listener {
  void on_frames_ready() noexcept override {}
  void on_overflow() noexcept override {}
};
bench_connection connection;

// A MESSAGE_CREATE tail of this bench without its content (ids, author, member, timestamps).
constexpr std::size_t message_tail_fixed_bytes = 720;

uint64_t owner_id_of(size_t g) {
  return guild_id_of(g) | 2;
}

void add_guild(store::write_batch& batch, size_t g) {
  batch.add(store::write_op::upsert_user{{owner_id_of(g), "owner" + std::to_string(g), true}});
  batch.add(
      store::write_op::upsert_guild{{guild_id_of(g), "guild" + std::to_string(g), owner_id_of(g)}});
  domain::role everyone;
  everyone.id_ = guild_id_of(g);
  everyone.name_ = "@everyone";
  everyone.permissions_ = permissions::default_everyone;
  batch.add(store::write_op::upsert_role{guild_id_of(g), everyone});
  domain::channel general;
  general.id_ = channel_id_of(g);
  general.guild_id_ = guild_id_of(g);
  general.name_ = "general";
  batch.add(store::write_op::upsert_channel{general});
  batch.add(store::write_op::upsert_member{guild_id_of(g), {owner_id_of(g), {}, 1}});
}

}  // namespace

completion_tracker tracker;

// Guild g (0-based) has id (g + 1) << 22, so the index is recoverable from
// the id in the delivery observer without a map.
uint64_t guild_id_of(size_t g) {
  return static_cast<uint64_t>(g + 1) << 22;
}
uint64_t channel_id_of(size_t g) {
  return guild_id_of(g) | 1;
}
uint64_t user_id_of(size_t i) {
  return (uint64_t{1} << 60) | i;
}

void completion_tracker::init(size_t n_events, size_t n_guilds, std::vector<uint64_t> expected) {
  events = n_events;
  guilds = n_guilds;
  expected_per_guild = std::move(expected);
  delivered.reset(new std::atomic<uint64_t>[n_events]);
  done_ns.reset(new std::atomic<int64_t>[n_events]);
  for (size_t i = 0; i < n_events; ++i) {
    delivered[i] = 0;
    done_ns[i] = 0;
  }
  start_ns.assign(n_events, 0);
  ack_ns.assign(n_events, 0);
  completed = 0;
}

size_t completion_tracker::events_expected() const {
  size_t n = 0;
  for (size_t k = 0; k < events; ++k) {
    n += expected_per_guild[k % guilds] > 0 ? 1 : 0;
  }
  return n;
}

void on_delivered(uint64_t guild_id, uint64_t guild_order, size_t count) {
  size_t g = (guild_id >> 22) - 1;
  size_t index = (guild_order - 1) * tracker.guilds + g;
  if (g >= tracker.guilds || index >= tracker.events) {
    return;
  }
  auto total = tracker.delivered[index].fetch_add(count) + count;
  if (count > 0 && total == tracker.expected_per_guild[g]) {
    tracker.done_ns[index] = monotonic_ns();
    tracker.completed.fetch_add(1);
  }
}

std::shared_ptr<store::store> seed_store(const fanout_options& o, const std::filesystem::path& dir,
                                         const std::string& postgres_url) {
  std::shared_ptr<store::store> st;
  store::postgres_store* pg = nullptr;
  if (o.store == "postgres") {
    store::postgres_options opts;
    opts.url_ = postgres_url;
    auto opened = store::postgres_store::open(opts);
    if (!opened) {
      std::cerr << "herald-bench: cannot open store: " << opened.error().message_ << "\n";
      return nullptr;
    }
    pg = opened.value().get();
    st = std::move(opened).value();
  } else {
    store::sqlite_options opts;
    opts.data_dir_ = dir;
    opts.sync_ = o.sync == "normal" ? store::sync_mode::normal : store::sync_mode::full;
    auto opened = store::sqlite_store::open(opts);
    if (!opened) {
      std::cerr << "herald-bench: cannot open store: " << opened.error().message_ << "\n";
      return nullptr;
    }
    st = std::move(opened).value();
  }
  store::write_batch batch;
  for (size_t g = 0; g < o.guilds; ++g) {
    add_guild(batch, g);
  }
  for (size_t i = 0; i < o.sessions; ++i) {
    batch.add(store::write_op::upsert_user{{user_id_of(i), "user" + std::to_string(i), false}});
    batch.add(store::write_op::upsert_member{guild_id_of(i % o.guilds), {user_id_of(i), {}, 1}});
  }
  if (auto ok = st->apply(batch); !ok) {
    std::cerr << "herald-bench: seeding failed: " << ok.error().message_ << "\n";
    return nullptr;
  }
  // As a node finds a database that autovacuum has analyzed; right after a bulk seed the
  // planner would scan every user for each guild load (postgres_store::analyze).
  if (pg != nullptr) {
    if (auto ok = pg->analyze(); !ok) {
      std::cerr << "herald-bench: analyze failed: " << ok.error().message_ << "\n";
      return nullptr;
    }
  }
  return st;
}

std::unique_ptr<bench_postgres> start_bench_postgres(const std::string& url) {
  std::unique_ptr<bench_postgres> postgres;
  try {
    postgres = std::make_unique<bench_postgres>(url);
  } catch (const std::exception& e) {
    std::cerr << "herald-bench: cannot start a local PostgreSQL: " << e.what() << "\n";
    return nullptr;
  }
  if (postgres->local()) {
    std::cout << "postgres=local url=" << postgres->url() << "\n";
  }
  return postgres;
}

proto::event message_event(size_t g, size_t k, const std::string& content) {
  proto::event ev;
  ev.set_guild_id(guild_id_of(g));
  auto* m = ev.mutable_message_create();
  m->set_id((uint64_t{1} << 59) | k);
  m->set_guild_id(guild_id_of(g));
  m->set_channel_id(channel_id_of(g));
  m->set_author_id(owner_id_of(g));
  m->set_content(content);
  return ev;
}

bool wait_until(const std::function<bool()>& done, size_t timeout_s) {
  auto deadline = clock_type::now() + std::chrono::seconds{timeout_s};
  while (!done()) {
    if (clock_type::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

opened_sessions open_bench_sessions(const dispatch::services_ptr& svc, const fanout_options& o,
                                    size_t from_session, size_t to_session) {
  const session::intents granted =
      session::guilds_intent | session::guild_messages_intent | session::message_content_intent;
  opened_sessions s;
  s.outputs.reserve(to_session - from_session);
  session::outbound_batch initial;
  for (size_t from = from_session; from < to_session; from += o.wave) {
    size_t to = std::min(to_session, from + std::max<size_t>(1, o.wave));
    for (size_t i = from; i < to; ++i) {
      session::session_params p;
      p.user = {user_id_of(i), "user" + std::to_string(i), false};
      p.granted = granted;
      p.guild_ids = {guild_id_of(i % o.guilds)};
      s.outputs.push_back(dispatch::open_session_async(svc, std::move(p)));
    }
    // Outputs of this wave: [from, to) shifted to the vector's start.
    size_t ready_from = from - from_session;
    const size_t wave_end = to - from_session;
    bool ready = wait_until(
        [&] {
          while (ready_from < wave_end && s.outputs[ready_from]->buffer().last_seq() >= 2) {
            ++ready_from;
          }
          return ready_from == wave_end;
        },
        o.timeout_s);
    if (!ready) {
      std::cerr << "herald-bench: only " << ready_from << " of " << to_session - from_session
                << " sessions subscribed in time\n";
      return s;
    }
    if (from == from_session) {
      s.initial_bytes = s.outputs[0]->buffer().held_bytes();
    }
    if (o.connected) {
      for (size_t i = from - from_session; i < wave_end; ++i) {
        s.outputs[i]->buffer().attach(&connection);
        s.outputs[i]->buffer().collect(initial);
        initial.clear();
      }
    }
  }
  s.ok = true;
  return s;
}

void close_bench_sessions(opened_sessions& s, const fanout_options& o) {
  if (o.connected && s.ok) {
    for (auto& out : s.outputs) {
      out->buffer().detach();
    }
  }
  s.outputs.clear();
}

std::vector<caf::actor> bench_guild_actors(const dispatch::services_ptr& svc,
                                           const fanout_options& o) {
  std::vector<caf::actor> guild_actors;
  for (size_t g = 0; g < o.guilds; ++g) {
    auto ga = dispatch::guild_actor_of(svc, guild_id_of(g), std::chrono::seconds{30});
    if (!ga) {
      std::cerr << "herald-bench: guild: " << dispatch::describe(ga.error()) << "\n";
      return {};
    }
    guild_actors.push_back(*ga);
  }
  return guild_actors;
}

size_t publish_bench_events(caf::scoped_actor& self, const std::vector<caf::actor>& guilds,
                            const fanout_options& o, const std::function<bool(size_t)>& delivered) {
  const std::string content(o.payload, 'x');
  const std::chrono::seconds timeout{o.timeout_s};
  size_t failed = 0;
  auto take_reply = [&](size_t k) {
    bool acked = false;
    self->receive(
        [&](const guild::publish_ack&) {
          acked = true;
          if (o.mode == "serial") {
            tracker.ack_ns[k] = monotonic_ns();
          }
        },
        [&](caf::error&) {}, caf::after(timeout) >> [] {});
    failed += acked ? 0 : 1;
    return acked;
  };
  size_t replied = 0;  // burst mode: replies taken (in publish order) so far
  for (size_t k = 0; k < o.events; ++k) {
    if (o.mode != "serial" && o.window > 0 && k - replied >= o.window) {
      take_reply(replied++);
    }
    size_t g = k % o.guilds;
    auto ev = message_event(g, k, content);
    tracker.start_ns[k] = monotonic_ns();
    self->send(guilds[g], guild::publish_atom::value, std::move(ev));
    if (o.mode == "serial" && take_reply(k) && !delivered(k)) {
      return failed + (o.events - k - 1);  // the rest were never published
    }
  }
  if (o.mode != "serial") {
    while (replied < o.events) {
      take_reply(replied++);
    }
  }
  return failed;
}

uint64_t prefault_burst_memory(const fanout_options& o, size_t sessions_here) {
  // Buffers hold 8-byte references to the shared event tails (outbound_buffer.hpp):
  // each session needs one entry ring of a power of two >= 512 bytes.
  // A session sees the events of its own guild only (round-robin).
  uint64_t per_session = (o.events + o.guilds - 1) / o.guilds;
  uint64_t ring = 512;
  while (ring < (per_session + 4) * 8) {
    ring *= 2;
  }
  uint64_t prefault = static_cast<uint64_t>(sessions_here / o.guilds * o.guilds) * ring * 3 / 2;
  // The events' tails stay referenced by the resume buffers: one pooled block per event
  // (shared_tail.cpp) when its size suits the pool. A bench message's tail is about
  // message_tail_fixed_bytes plus its content.
  const std::size_t tail_bytes = message_tail_fixed_bytes + o.payload;
  if (session::tail_block_pooled(tail_bytes)) {
    prefault += static_cast<uint64_t>(o.events) *
                session::detail::chunk_block_size(
                    static_cast<uint32_t>(sizeof(session::tail_block) + tail_bytes));
  }
  session::detail::chunk_pool_prefault(prefault);
  return prefault;
}

}  // namespace herald::bench
