// SPDX-License-Identifier: Apache-2.0
#pragma once
// The bookkeeping of the chaos tests (chaos_test.cpp): what producers posted and whether it was
// acknowledged, what each observing session received, and the comparison of the two.
// Producers and readers record from their own threads (the ledger locks); compare() runs on the
// test thread after they stopped.
//
// What is compared, per observing session, for every acknowledged post: received at most once
// (duplicated otherwise), received at all (lost otherwise), and in the order its producer posted
// it to its guild (each producer posts to a guild one message at a time, waiting for the answer,
// so its posts to one guild have a guild order that must match their post order; reordered
// otherwise). Posts that were not acknowledged (refused, timed out) may or may not have been
// committed: receiving them is neither required nor an error. A resync (GUILD_DELETE with
// "unavailable": true, then GUILD_CREATE: the new owner's event tail no longer held what the
// session missed) covers the session's gap in that guild, and only that: an acknowledged post of
// the guild the session did not receive counts as resynced, not lost, when it was sent before
// the GUILD_CREATE that ended a resync of that session and guild. Every other one is lost.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace herald::cluster_test {

using chaos_clock = std::chrono::steady_clock;

/// One post, with a content unique in the run: "c<producer>-<guild>-<k>".
struct chaos_post {
  int producer = 0;
  size_t guild = 0;
  uint64_t k = 0;  ///< the producer's post count to this guild, from 0
  bool acked = false;
  chaos_clock::time_point sent;
};

inline std::string chaos_content(int producer, size_t guild, uint64_t k) {
  return "c" + std::to_string(producer) + "-" + std::to_string(guild) + "-" + std::to_string(k);
}

/// Parses a chaos content; nullopt for anything else.
inline std::optional<chaos_post> parse_chaos_content(const std::string& content) {
  unsigned long producer = 0;
  unsigned long guild = 0;
  unsigned long long k = 0;
  char tail = 0;
  if (std::sscanf(content.c_str(), "c%lu-%lu-%llu%c", &producer, &guild, &k, &tail) != 3) {
    return std::nullopt;
  }
  chaos_post p;
  p.producer = static_cast<int>(producer);
  p.guild = guild;
  p.k = k;
  return p;
}

struct chaos_report {
  size_t acked = 0;
  size_t refused = 0;   ///< posts not acknowledged (503, timeout, connection failed)
  size_t lost = 0;      ///< acknowledged posts a session never received (summed over sessions)
  size_t resynced = 0;  ///< acknowledged posts a session missed but a resync covered
  std::vector<std::string> lost_posts;  ///< "session <s>: <content>" of the first lost ones
  size_t duplicated = 0;                ///< extra receptions of one post by one session
  size_t reordered = 0;  ///< receptions before a later post of the same producer and guild
  /// The reordered receptions whose late post was acknowledged. A post whose answer the producer
  /// did not get (a 503, a client timeout) may be applied after the producer's next post: only
  /// an acknowledged one is known to precede the next in its guild's order.
  size_t reordered_acked = 0;
  std::vector<double> recovery_ms;  ///< per faulted guild: fault → first delivery of a later post
  /// The first few reorderings, "session <s>: <content> (acked|not acked) after k=<k>", for the
  /// failure message.
  std::vector<std::string> reordered_examples;
};

class chaos_ledger {
public:
  void posted(const chaos_post& p) {
    std::lock_guard<std::mutex> lock{mutex_};
    posts_.push_back(p);
  }
  /// Session `session` received `content` at `at`.
  void received(size_t session, const std::string& content, chaos_clock::time_point at) {
    std::lock_guard<std::mutex> lock{mutex_};
    if (received_.size() <= session) {
      received_.resize(session + 1);
    }
    received_[session].push_back({content, at});
  }
  /// Session `session` got GUILD_CREATE of guild `guild` at `at`, after GUILD_DELETE
  /// (unavailable) of it: a resync.
  void resynced(size_t session, size_t guild, chaos_clock::time_point at) {
    std::lock_guard<std::mutex> lock{mutex_};
    resyncs_.push_back({session, guild, at});
  }

  /// Compares every session in [0, sessions) with the acknowledged posts. `faulted` are the
  /// guilds whose owner the fault hit at `fault`: their recovery time is from the fault to the
  /// first reception, by any session, of a post sent after the fault.
  chaos_report compare(size_t sessions, const std::vector<size_t>& faulted,
                       chaos_clock::time_point fault) const {
    std::lock_guard<std::mutex> lock{mutex_};
    chaos_report r;
    std::map<std::string, const chaos_post*> by_content;
    for (const auto& p : posts_) {
      by_content[chaos_content(p.producer, p.guild, p.k)] = &p;
      (p.acked ? r.acked : r.refused) += 1;
    }
    std::map<size_t, chaos_clock::time_point> first_after_fault;
    for (size_t s = 0; s < sessions; ++s) {
      static const std::vector<reception> none;
      const auto& got = s < received_.size() ? received_[s] : none;
      std::map<std::string, size_t> times;
      std::map<std::pair<int, size_t>, uint64_t> last_k;  // (producer, guild) → last k seen
      for (const auto& rec : got) {
        auto parsed = parse_chaos_content(rec.content);
        if (!parsed) {
          continue;
        }
        if (++times[rec.content] > 1) {
          ++r.duplicated;
          continue;
        }
        auto key = std::make_pair(parsed->producer, parsed->guild);
        auto it = last_k.find(key);
        if (it != last_k.end() && parsed->k < it->second) {
          ++r.reordered;
          auto post = by_content.find(rec.content);
          bool acked = post != by_content.end() && post->second->acked;
          r.reordered_acked += acked ? 1 : 0;
          if (r.reordered_examples.size() < 5) {
            r.reordered_examples.push_back("session " + std::to_string(s) + ": " + rec.content +
                                           (acked ? " (acked)" : " (not acked)") +
                                           " after k=" + std::to_string(it->second));
          }
        }
        last_k[key] = std::max(parsed->k, it != last_k.end() ? it->second : 0);
        auto post = by_content.find(rec.content);
        if (post != by_content.end() && post->second->sent > fault &&
            std::find(faulted.begin(), faulted.end(), parsed->guild) != faulted.end()) {
          auto& first = first_after_fault[parsed->guild];
          if (first == chaos_clock::time_point{} || rec.at < first) {
            first = rec.at;
          }
        }
      }
      for (const auto& p : posts_) {
        if (p.acked && times.count(chaos_content(p.producer, p.guild, p.k)) == 0) {
          const bool covered = covered_by_resync(s, p);
          ++(covered ? r.resynced : r.lost);
          if (!covered && r.lost_posts.size() < 10) {
            r.lost_posts.push_back("session " + std::to_string(s) + ": " +
                                   chaos_content(p.producer, p.guild, p.k));
          }
        }
      }
    }
    for (auto g : faulted) {
      auto it = first_after_fault.find(g);
      if (it != first_after_fault.end()) {
        r.recovery_ms.push_back(
            std::chrono::duration<double, std::milli>(it->second - fault).count());
      }
    }
    std::sort(r.recovery_ms.begin(), r.recovery_ms.end());
    return r;
  }

  /// The acknowledged contents posted to guild `guild`, for the store check.
  std::vector<std::string> acked_contents(size_t guild) const {
    std::lock_guard<std::mutex> lock{mutex_};
    std::vector<std::string> out;
    for (const auto& p : posts_) {
      if (p.acked && p.guild == guild) {
        out.push_back(chaos_content(p.producer, p.guild, p.k));
      }
    }
    return out;
  }

private:
  struct reception {
    std::string content;
    chaos_clock::time_point at;
  };
  struct resync {
    size_t session = 0;
    size_t guild = 0;
    chaos_clock::time_point created;  // the GUILD_CREATE that ended it
  };

  bool covered_by_resync(size_t session, const chaos_post& p) const {
    return std::any_of(resyncs_.begin(), resyncs_.end(), [&](const resync& r) {
      return r.session == session && r.guild == p.guild && p.sent < r.created;
    });
  }

  mutable std::mutex mutex_;
  std::vector<chaos_post> posts_;
  std::vector<std::vector<reception>> received_;  // by session
  std::vector<resync> resyncs_;
};

/// The `q` quantile (0..1) of sorted `xs` (nearest rank), 0 for none.
inline double chaos_quantile(const std::vector<double>& xs, double q) {
  if (xs.empty()) {
    return 0;
  }
  auto i = static_cast<size_t>(q * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

}  // namespace herald::cluster_test
