// SPDX-License-Identifier: Apache-2.0
#pragma once
// The load and the checks every chaos test (chaos_test.cpp, chaos_network_test.cpp) shares: the
// guilds and users of a three-node cluster (chaos_scene), the observing gateway sessions and
// the producers posting through REST on every node, one post at a time, each answer recorded in
// the chaos_ledger (chaos_traffic), the end markers that tell the sessions the run is over, the
// check that every acknowledged post is stored exactly once, and the one `chaos fault=… …`
// report line. Used from the test's main thread; the traffic's own threads (one per session,
// one per producer) record into the ledger, which locks.
// Invariant: every loop here is bounded in count and in time (max_posts_per_producer, the
// readers' deadline, the reconnect attempts).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/integration/cluster/chaos_ledger.hpp"
#include "test/integration/cluster/cluster_nodes.hpp"
#include "test/support/eventually.hpp"
#include "test/support/gateway_client.hpp"
#include "test/support/rest_client.hpp"

namespace herald::cluster_test {

// The scene every chaos test shares: heartbeats and failure detection of the static membership,
// how many guilds, and how long the traffic runs before the fault.
constexpr std::chrono::milliseconds chaos_heartbeat{200};
constexpr std::chrono::milliseconds chaos_failure_timeout{2000};
constexpr size_t chaos_guild_count = 6;
constexpr std::chrono::seconds chaos_warm_up{3};

/// Between two posts of one producer: pacing, so that three producers stay inside one user's
/// REST rate limit and the run stays small.
inline constexpr std::chrono::milliseconds chaos_post_pacing{40};
inline constexpr uint64_t chaos_max_posts_per_producer = 5000;

/// HERALD_CHAOS_SECONDS (1..3600), else `fallback`: how long producers keep posting after the
/// fault. Short in CI; long runs are the documented soak.
inline std::chrono::seconds chaos_seconds(std::chrono::seconds fallback = std::chrono::seconds{4}) {
  const char* s = std::getenv("HERALD_CHAOS_SECONDS");
  long v = s != nullptr ? std::strtol(s, nullptr, 10) : 0;
  return v > 0 && v <= 3600 ? std::chrono::seconds{v} : fallback;
}

struct chaos_guild {
  std::string id;
  std::string channel;
  size_t owner = 0;  // index into the cluster's nodes, when the scene was set up
};

/// The users and guilds of a chaos run and who owned what before the fault.
struct chaos_scene {
  json alice;                   ///< every guild's owner; posts the end markers
  json watcher;                 ///< the observing sessions' user
  std::vector<json> producers;  ///< one per node, posting through that node
  std::vector<chaos_guild> guilds;
  size_t victim = 0;            ///< the node owning the most guilds
  std::vector<size_t> faulted;  ///< the guilds the victim owns
  std::vector<size_t> others;   ///< every node but the victim
};

/// Creates `guild_count` guilds (each with a channel, the watcher and every producer as
/// members) and finds their owners; the victim is the node owning the most.
inline chaos_scene set_up_chaos_scene(const std::vector<node_spec>& nodes, size_t guild_count) {
  chaos_scene sc;
  sc.alice = create_user(nodes[0], "alice");
  sc.watcher = create_user(nodes[0], "watcher");
  for (size_t i = 0; i < nodes.size(); ++i) {
    sc.producers.push_back(create_user(nodes[0], "producer" + std::to_string(i)));
  }
  std::map<size_t, size_t> owned;  // node index → guilds it owns
  for (size_t g = 0; g < guild_count; ++g) {
    chaos_guild cg;
    cg.id = created_id(nodes[0], {"guild", "create", "--name", "g" + std::to_string(g), "--owner",
                                  id_of(sc.alice)});
    cg.channel = created_id(nodes[0], {"channel", "create", "--guild", cg.id, "--name", "general"});
    std::vector<const json*> members{&sc.watcher};
    for (const auto& p : sc.producers) {
      members.push_back(&p);
    }
    for (const auto* u : members) {
      REQUIRE(
          ctl_json(nodes[0], {"member", "add", "--guild", cg.id, "--user", id_of(*u)}).is_object());
    }
    cg.owner = place_guild(nodes, cg.id).owner;
    ++owned[cg.owner];
    sc.guilds.push_back(cg);
  }
  for (const auto& [node, count] : owned) {
    if (count > owned[sc.victim]) {
      sc.victim = node;
    }
  }
  for (size_t g = 0; g < guild_count; ++g) {
    if (sc.guilds[g].owner == sc.victim) {
      sc.faulted.push_back(g);
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (i != sc.victim) {
      sc.others.push_back(i);
    }
  }
  return sc;
}

/// One observing gateway session. It records every chaos post it receives and ends once it saw
/// "end-<g>" for every guild. With `reconnect`, a session told to reconnect (op 7) or closed
/// resumes (op 6, its session id and last seq) on the next node of `nodes` that accepts the
/// connection, as a client behind a load balancer would (docs/cluster.md, "Session
/// migration"); a resume refused with op 9 identifies again (counted in reidentifies: a new
/// session, whose missed events count as lost). Without `reconnect` it stops there (and the
/// test checks it was never closed).
class chaos_session {
public:
  chaos_session(const std::vector<node_spec>& nodes, size_t node, std::string token, size_t guilds,
                bool reconnect)
      : nodes_(nodes),
        node_(node),
        token_(std::move(token)),
        guilds_(guilds),
        reconnect_(reconnect) {
    client_ = std::make_unique<testing::gateway_client>(nodes_[node_].host, nodes_[node_].gateway);
    client_->login(token_, guilds_);
    session_id_ = client_->session_id();
  }

  /// Reads until every end marker or `deadline`, recording into `ledger` as session `index`:
  /// chaos posts, and resyncs (GUILD_DELETE unavailable, then GUILD_CREATE) of the guilds of
  /// `guilds` (by index).
  void read(size_t index, chaos_ledger& ledger, chaos_clock::time_point deadline,
            const std::vector<chaos_guild>& guilds) {
    std::map<std::string, bool> unavailable;  // guild id → a GUILD_DELETE awaits its GUILD_CREATE
    size_t ends = 0;
    for (int frames = 0; frames < 1000000 && ends < guilds_; ++frames) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - chaos_clock::now());
      if (left.count() <= 0) {
        return;
      }
      auto f = client_->next(left);
      if (!f || (*f)["op"] == 7) {
        if (!reconnect_ || !resume_elsewhere(deadline)) {
          return;  // closed, or the deadline passed
        }
        continue;
      }
      if ((*f)["op"] == 9) {  // the resume was refused: a new session
        if (!identify_elsewhere(deadline)) {
          return;
        }
        continue;
      }
      if ((*f)["op"] != 0 || !(*f)["t"].is_string()) {
        continue;
      }
      const auto t = (*f)["t"].get<std::string>();
      if (t == "MESSAGE_CREATE") {
        auto content = (*f)["d"].value("content", "");
        if (content.rfind("end-", 0) == 0) {
          ++ends;
        } else {
          ledger.received(index, content, chaos_clock::now());
        }
      } else if (t == "GUILD_DELETE" && (*f)["d"].value("unavailable", false)) {
        resyncs_.fetch_add(1);
        unavailable[(*f)["d"].value("id", "")] = true;
      } else if (t == "GUILD_CREATE") {
        const auto id = (*f)["d"].value("id", "");
        auto g = std::find_if(guilds.begin(), guilds.end(),
                              [&](const chaos_guild& cg) { return cg.id == id; });
        if (unavailable[id] && g != guilds.end()) {
          unavailable[id] = false;
          ledger.resynced(index, static_cast<size_t>(g - guilds.begin()), chaos_clock::now());
        }
      }
    }
  }

  size_t node() const { return node_; }
  size_t resyncs() const { return resyncs_.load(); }
  size_t reidentifies() const { return reidentifies_; }
  size_t resumes() const { return resumes_; }
  /// The close code of the current connection, if it was closed.
  std::optional<uint16_t> close_code() const { return client_->close_code(); }
  /// Seq errors of every connection this session had (each connection's `s` is its own).
  std::vector<std::string> seq_errors() const {
    auto out = old_seq_errors_;
    out.insert(out.end(), client_->seq_errors().begin(), client_->seq_errors().end());
    return out;
  }

private:
  /// Resumes the session on the next node that accepts the connection (the frames it replays
  /// and RESUMED are read by read()); false when none did before `deadline`.
  bool resume_elsewhere(chaos_clock::time_point deadline) {
    const auto seq = client_->last_seq();
    for (int attempt = 0; attempt < 600 && chaos_clock::now() < deadline; ++attempt) {
      node_ = (node_ + 1) % nodes_.size();
      try {
        auto next =
            std::make_unique<testing::gateway_client>(nodes_[node_].host, nodes_[node_].gateway);
        if (next->next_op(10)) {
          next->set_last_seq(seq);
          next->resume(token_, session_id_, seq);
          old_seq_errors_.insert(old_seq_errors_.end(), client_->seq_errors().begin(),
                                 client_->seq_errors().end());
          client_ = std::move(next);
          ++resumes_;
          return true;
        }
      } catch (const std::exception&) {
        // refused (the node is draining or restarting): the next node, after a pause
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{200});
    }
    return false;
  }

  /// Identifies again on the next node that accepts; false when none did before `deadline`.
  bool identify_elsewhere(chaos_clock::time_point deadline) {
    for (int attempt = 0; attempt < 600 && chaos_clock::now() < deadline; ++attempt) {
      node_ = (node_ + 1) % nodes_.size();
      try {
        auto next =
            std::make_unique<testing::gateway_client>(nodes_[node_].host, nodes_[node_].gateway);
        next->login(token_, guilds_);
        old_seq_errors_.insert(old_seq_errors_.end(), client_->seq_errors().begin(),
                               client_->seq_errors().end());
        client_ = std::move(next);
        session_id_ = client_->session_id();
        ++reidentifies_;
        return true;
      } catch (const std::exception&) {
        // refused (the node is draining or restarting): the next node, after a pause
        std::this_thread::sleep_for(std::chrono::milliseconds{200});
      }
    }
    return false;
  }

  const std::vector<node_spec>& nodes_;
  size_t node_;
  std::string token_;
  size_t guilds_;
  bool reconnect_;
  std::unique_ptr<testing::gateway_client> client_;
  std::atomic<size_t> resyncs_{0};
  size_t reidentifies_ = 0;
  size_t resumes_ = 0;
  std::string session_id_;  // the session's id (kept across resumes on other nodes)
  std::vector<std::string> old_seq_errors_;
};

/// The sessions and producers of one run. start() starts the readers and the producers (one per
/// node, posting to the guilds in turn through that node's REST API); stop_producers() stops
/// them; end_markers() posts "end-<g>" through `via` and join() waits for the readers.
class chaos_traffic {
public:
  chaos_traffic(const std::vector<node_spec>& nodes, const chaos_scene& scene)
      : nodes_(nodes), scene_(scene) {}
  ~chaos_traffic() {
    stop_producers();
    join();
  }
  chaos_traffic(const chaos_traffic&) = delete;
  chaos_traffic& operator=(const chaos_traffic&) = delete;

  /// One session of the watcher on each of `session_nodes` (logged in before this returns).
  void add_sessions(const std::vector<size_t>& session_nodes, bool reconnect) {
    for (auto n : session_nodes) {
      sessions_.push_back(std::make_unique<chaos_session>(
          nodes_, n, scene_.watcher.value("token", ""), scene_.guilds.size(), reconnect));
    }
  }

  /// Starts the readers (reading until `reader_deadline`) and the producers.
  void start(chaos_clock::time_point reader_deadline) {
    for (size_t s = 0; s < sessions_.size(); ++s) {
      readers_.emplace_back([this, s, reader_deadline] {
        sessions_[s]->read(s, ledger_, reader_deadline, scene_.guilds);
      });
    }
    for (size_t p = 0; p < nodes_.size(); ++p) {
      producers_.emplace_back([this, p] { produce(p); });
    }
  }

  void stop_producers() {
    stop_ = true;
    for (auto& t : producers_) {
      t.join();
    }
    producers_.clear();
  }

  /// Posts "end-<g>" to every guild as alice through `via` (CHECKed, retried for 60 s while a
  /// guild is still moving or the store is back).
  void end_markers(const node_spec& via) {
    const auto token = scene_.alice.value("token", "");
    for (size_t g = 0; g < scene_.guilds.size(); ++g) {
      INFO("end marker of guild " << g);
      CHECK(testing::eventually(
          [&] {
            return testing::http_call_at(
                       via.host, via.gateway, "POST",
                       "/api/v10/channels/" + scene_.guilds[g].channel + "/messages",
                       json{{"content", "end-" + std::to_string(g)}}.dump(),
                       {{"Authorization", "Bot " + token}}, std::chrono::seconds{10})
                       .status == 200;
          },
          std::chrono::seconds{60}, testing::slow_poll_step));
    }
  }

  void join() {
    for (auto& t : readers_) {
      t.join();
    }
    readers_.clear();
  }

  const chaos_ledger& ledger() const { return ledger_; }
  const std::vector<std::unique_ptr<chaos_session>>& sessions() const { return sessions_; }
  /// Producer answers 503 (the retryable unavailable) so far.
  size_t unavailable() const { return unavailable_.load(); }
  size_t resyncs() const {
    size_t n = 0;
    for (const auto& s : sessions_) {
      n += s->resyncs();
    }
    return n;
  }
  size_t reidentifies() const {
    size_t n = 0;
    for (const auto& s : sessions_) {
      n += s->reidentifies();
    }
    return n;
  }
  size_t resumes() const {
    size_t n = 0;
    for (const auto& s : sessions_) {
      n += s->resumes();
    }
    return n;
  }

private:
  void produce(size_t p) {
    const auto& node = nodes_[p];
    std::vector<uint64_t> next_k(scene_.guilds.size(), 0);
    const auto token = scene_.producers[p].value("token", "");
    for (uint64_t n = 0; n < chaos_max_posts_per_producer && !stop_.load(); ++n) {
      size_t g = (n + p) % scene_.guilds.size();
      chaos_post post;
      post.producer = static_cast<int>(p);
      post.guild = g;
      post.k = next_k[g]++;
      post.sent = chaos_clock::now();
      auto r =
          testing::http_call_at(node.host, node.gateway, "POST",
                                "/api/v10/channels/" + scene_.guilds[g].channel + "/messages",
                                json{{"content", chaos_content(post.producer, g, post.k)}}.dump(),
                                {{"Authorization", "Bot " + token}}, std::chrono::seconds{5});
      post.acked = r.status == 200;
      unavailable_ += r.status == 503 ? 1 : 0;
      ledger_.posted(post);
      std::this_thread::sleep_for(chaos_post_pacing);  // pacing, not a wait for a condition
    }
  }

  const std::vector<node_spec>& nodes_;
  const chaos_scene& scene_;
  chaos_ledger ledger_;
  std::vector<std::unique_ptr<chaos_session>> sessions_;
  std::vector<std::thread> readers_;
  std::vector<std::thread> producers_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> unavailable_{0};
};

/// CHECKs that every acknowledged post of every guild is in its channel's history (read through
/// `via`) exactly once: acknowledged means durable, whoever owned the guild.
inline void check_acked_stored_once(const node_spec& via, const chaos_scene& scene,
                                    const chaos_ledger& ledger) {
  const auto token = scene.alice.value("token", "");
  for (size_t g = 0; g < scene.guilds.size(); ++g) {
    std::map<std::string, size_t> stored;
    for (const auto& content : channel_history(via, token, scene.guilds[g].channel)) {
      ++stored[content];
    }
    size_t missing = 0;
    size_t twice = 0;
    for (const auto& content : ledger.acked_contents(g)) {
      auto it = stored.find(content);
      missing += it == stored.end() ? 1 : 0;
      twice += it != stored.end() && it->second > 1 ? 1 : 0;
    }
    INFO("guild " << g);
    CHECK(missing == 0);
    CHECK(twice == 0);
  }
}

/// The checks of a node fault (chaos_test.cpp, chaos_network_test.cpp): posts were
/// acknowledged; no session received one twice, nor one out of its producer's order (with
/// `acked_order_only`, acknowledged ones: see chaos_report::reordered_acked); every faulted
/// guild delivered again; every session is still connected with gapless `s`. On a failure the
/// message carries every node's stderr.
inline void check_node_fault(const running_cluster& cluster, const chaos_traffic& traffic,
                             const chaos_scene& scene, const chaos_report& report,
                             bool acked_order_only) {
  const auto reordered = acked_order_only ? report.reordered_acked : report.reordered;
  const auto& sessions = traffic.sessions();
  bool closed = false;
  for (const auto& s : sessions) {
    closed = closed || s->close_code().has_value();
  }
  if (report.duplicated > 0 || reordered > 0 || closed ||
      report.recovery_ms.size() != scene.faulted.size()) {
    UNSCOPED_INFO(node_logs(cluster.nodes, cluster.procs));
  }
  CHECK(report.acked > 0);
  CHECK(report.duplicated == 0);
  CHECK(reordered == 0);
  CHECK(report.recovery_ms.size() == scene.faulted.size());
  for (const auto& s : sessions) {
    INFO("session on " << cluster.nodes[s->node()].name << ", close code "
                       << s->close_code().value_or(0));
    CHECK_FALSE(s->close_code());
    CHECK(s->seq_errors().empty());
  }
}

/// Prints the run's `chaos fault=<fault> …` line (docs/cluster.md, "Chaos tests") and returns
/// the report. `extra` is appended as is (e.g. " unavailable=12").
inline chaos_report report_chaos(const std::string& fault, const chaos_traffic& traffic,
                                 const chaos_scene& scene, chaos_clock::time_point fault_at,
                                 std::chrono::seconds run_for, const std::string& extra = "") {
  auto report = traffic.ledger().compare(traffic.sessions().size(), scene.faulted, fault_at);
  std::cout << "chaos fault=" << fault << " nodes=3 guilds=" << scene.guilds.size()
            << " faulted_guilds=" << scene.faulted.size() << " seconds=" << run_for.count()
            << " acked=" << report.acked << " refused=" << report.refused << " lost=" << report.lost
            << " resynced=" << report.resynced << " duplicated=" << report.duplicated
            << " reordered=" << report.reordered << " resyncs=" << traffic.resyncs()
            << " reidentifies=" << traffic.reidentifies() << " resumes=" << traffic.resumes()
            << " recovered_guilds=" << report.recovery_ms.size()
            << " recovery_ms_p50=" << chaos_quantile(report.recovery_ms, 0.5)
            << " recovery_ms_p99=" << chaos_quantile(report.recovery_ms, 0.99) << extra
            << std::endl;
  for (const auto& example : report.reordered_examples) {
    std::cout << "chaos reordered: " << example << std::endl;
  }
  for (const auto& post : report.lost_posts) {
    std::cout << "chaos lost: " << post << std::endl;
  }
  return report;
}

}  // namespace herald::cluster_test
