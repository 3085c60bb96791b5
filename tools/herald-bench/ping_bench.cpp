// SPDX-License-Identifier: Apache-2.0
// herald-bench ping: 1→1 message throughput through the runtime API
// (registry lookup once, server::cast, server::call) and through raw CAF
// (self->send, request) on one identical workload, in the same process.
// Prints runtime_msgs_per_s=<n>, raw_caf_msgs_per_s=<n>, ratio=<runtime/raw>
// (medians over --rounds, order alternating per round). Goal: ratio >= 0.9.
//
// Workload: a sender actor streams N (data, seq) messages to a receiver with
// credit-based flow control — at most two windows in flight, the receiver
// acks each full window — so mailboxes stay bounded. The clock runs from the
// sender's go to the receiver answering the final wait request, which it
// does only after handling all N messages.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>

#include "runtime/registry/registry.hpp"
#include "runtime/server/server.hpp"
#include "tools/herald-bench/benches.hpp"

namespace herald::bench {

namespace {

using data_atom = caf::atom_constant<caf::atom("data")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using go_atom = caf::atom_constant<caf::atom("go")>;
using wait_atom = caf::atom_constant<caf::atom("wait")>;

struct ping_options {
  int64_t messages = 10'000'000;
  int64_t window = 1024;  // messages per ack; two windows may be in flight
  int rounds = 6;         // each round measures both paths; even = balanced order
  size_t threads = 0;     // scheduler threads; 0 = CAF default (hardware threads)
};

// The two paths differ only in how they send; everything else is shared.
struct runtime_path {
  template <class Self, class... Ts>
  static void send(Self* self, const caf::actor& dst, Ts&&... xs) {
    server::cast(self, dst, std::forward<Ts>(xs)...);
  }
};

struct raw_path {
  template <class Self, class... Ts>
  static void send(Self* self, const caf::actor& dst, Ts&&... xs) {
    self->send(dst, std::forward<Ts>(xs)...);
  }
};

struct receiver_state {
  int64_t handled_ = 0;
  caf::response_promise done_;  // answered once handled_ == total
  bool waiting_ = false;
};

template <class Path>
caf::behavior receiver(caf::stateful_actor<receiver_state>* self, int64_t total, int64_t window) {
  return {
      // (data, seq): counts; every full window acks to the sender.
      [self, total, window](data_atom, int64_t) {
        auto& st = self->state;
        if (++st.handled_ % window == 0) {
          Path::send(self, caf::actor_cast<caf::actor>(self->current_sender()), ack_atom::value);
        }
        if (st.handled_ == total && st.waiting_) {
          st.done_.deliver(st.handled_);
        }
      },
      // (wait): call; replies the count once all messages are handled.
      [self, total](wait_atom) -> caf::result<int64_t> {
        auto& st = self->state;
        if (st.handled_ == total) {
          return st.handled_;
        }
        st.waiting_ = true;
        st.done_ = self->make_response_promise();
        return caf::delegated<int64_t>{};
      },
  };
}

struct sender_state {
  caf::actor receiver_;
  int64_t sent_ = 0;
};

template <class Path>
void send_batch(caf::stateful_actor<sender_state>* self, int64_t total, int64_t count) {
  auto& st = self->state;
  auto end = std::min(total, st.sent_ + count);
  for (; st.sent_ < end; ++st.sent_) {
    Path::send(self, st.receiver_, data_atom::value, st.sent_);
  }
}

template <class Path>
caf::behavior sender(caf::stateful_actor<sender_state>* self, caf::actor dst, int64_t total,
                     int64_t window) {
  self->state.receiver_ = std::move(dst);
  return {
      // (go): starts streaming with two windows of credit.
      [self, total, window](go_atom) { send_batch<Path>(self, total, 2 * window); },
      // (ack): one window was handled; send one more.
      [self, total, window](ack_atom) { send_batch<Path>(self, total, window); },
  };
}

double run_runtime(caf::actor_system& sys, const ping_options& opt) {
  registry::name_registry names{"bench_ping"};
  auto rcv = sys.spawn(receiver<runtime_path>, opt.messages, opt.window);
  if (names.register_actor("ping/receiver", rcv)) {
    return 0;
  }
  auto dst = names.lookup("ping/receiver");  // looked up once
  auto snd = sys.spawn(sender<runtime_path>, dst, opt.messages, opt.window);
  caf::scoped_actor self{sys};
  auto t0 = std::chrono::steady_clock::now();
  server::cast(snd, go_atom::value);
  auto r = server::call<int64_t>(self, dst, std::chrono::minutes{10}, wait_atom::value);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  self->send_exit(snd, caf::exit_reason::user_shutdown);
  self->send_exit(rcv, caf::exit_reason::user_shutdown);
  return r && r.value() == opt.messages ? opt.messages / secs : 0;
}

double run_raw(caf::actor_system& sys, const ping_options& opt) {
  auto rcv = sys.spawn(receiver<raw_path>, opt.messages, opt.window);
  auto snd = sys.spawn(sender<raw_path>, rcv, opt.messages, opt.window);
  caf::scoped_actor self{sys};
  int64_t handled = 0;
  auto t0 = std::chrono::steady_clock::now();
  caf::anon_send(snd, go_atom::value);
  self->request(rcv, std::chrono::minutes{10}, wait_atom::value)
      .receive([&](int64_t n) { handled = n; }, [](caf::error&) {});
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  self->send_exit(snd, caf::exit_reason::user_shutdown);
  self->send_exit(rcv, caf::exit_reason::user_shutdown);
  return handled == opt.messages ? opt.messages / secs : 0;
}

std::string joined(const std::vector<double>& xs) {
  std::string out;
  for (auto x : xs) {
    out += (out.empty() ? "" : ",") + std::to_string(static_cast<int64_t>(x));
  }
  return out;
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  auto n = xs.size();
  return n == 0 ? 0 : (n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2);
}

void run_ping(const ping_options& opt) {
  caf::actor_system_config cfg;
  if (opt.threads > 0) {
    cfg.set("scheduler.max-threads", opt.threads);
  }
  caf::actor_system sys{cfg};
  std::vector<double> runtime_rates;
  std::vector<double> raw_rates;
  std::vector<double> paired;  // runtime/raw within one round (same load)
  for (int round = 0; round < opt.rounds; ++round) {
    // Alternate which path goes first so warm-up favours neither.
    if (round % 2 == 0) {
      runtime_rates.push_back(run_runtime(sys, opt));
      raw_rates.push_back(run_raw(sys, opt));
    } else {
      raw_rates.push_back(run_raw(sys, opt));
      runtime_rates.push_back(run_runtime(sys, opt));
    }
    if (raw_rates.back() > 0) {
      paired.push_back(runtime_rates.back() / raw_rates.back());
    }
  }
  auto runtime = median(runtime_rates);
  auto raw = median(raw_rates);
  std::cout << "messages=" << opt.messages << "\n"
            << "window=" << opt.window << "\n"
            << "rounds=" << opt.rounds << "\n"
            << "scheduler_threads=" << sys.scheduler().num_workers() << "\n"
            << "runtime_msgs_per_s=" << static_cast<int64_t>(runtime) << "\n"
            << "raw_caf_msgs_per_s=" << static_cast<int64_t>(raw) << "\n"
            << "ratio=" << (raw > 0 ? runtime / raw : 0) << "\n"
            << "paired_ratio_median=" << median(paired) << "\n"
            << "runtime_rounds_msgs_per_s=" << joined(runtime_rates) << "\n"
            << "raw_caf_rounds_msgs_per_s=" << joined(raw_rates) << "\n";
}

}  // namespace

void add_ping_bench(CLI::App& app) {
  auto opt = std::make_shared<ping_options>();
  auto* cmd = app.add_subcommand("ping", "1->1 message throughput: runtime API vs raw CAF");
  cmd->add_option("--messages", opt->messages, "messages per measurement")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000'000}));
  cmd->add_option("--window", opt->window, "messages per flow-control ack")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  cmd->add_option("--rounds", opt->rounds, "rounds; each measures both paths")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--threads", opt->threads, "scheduler threads (0 = CAF default)");
  cmd->callback([opt] { run_ping(*opt); });
}

}  // namespace herald::bench
