// SPDX-License-Identifier: Apache-2.0
#pragma once
// Process-wide metrics: counters, gauges and histograms with Prometheus text
// exposition. Instruments are owned by a registry (usually registry::global())
// and live as long as it; any thread may update them without locks.
// Invariant: one family name has one type and one help text; a (name, labels)
// pair always returns the same instrument, so references can be cached.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace herald::metrics {

/// Label pairs of one series, e.g. {{"kind", "guild"}}. Order is kept as given.
using labels = std::vector<std::pair<std::string, std::string>>;

namespace detail {
/// Small per-thread index used to spread counter updates over cache lines.
size_t thread_shard() noexcept;
}  // namespace detail

/// Monotonic counter, sharded over cache lines so that threads counting the
/// same series in a hot path do not contend. Relaxed atomics: totals, not
/// ordering, are the contract; value() sums the shards.
class counter {
public:
  static constexpr size_t shards = 8;

  void inc(uint64_t n = 1) noexcept {
    slots_[detail::thread_shard() % shards].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const noexcept {
    uint64_t sum = 0;
    for (const auto& s : slots_) {
      sum += s.value.load(std::memory_order_relaxed);
    }
    return sum;
  }

private:
  struct alignas(64) slot {
    std::atomic<uint64_t> value{0};
  };
  slot slots_[shards];
};

/// Gauge that can go up and down (actors alive, queue depth).
class gauge {
public:
  void set(int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(int64_t n = 1) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<int64_t> value_{0};
};

/// Cumulative histogram with fixed upper bounds (plus the implicit +Inf).
class histogram {
public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double v) noexcept;
  const std::vector<double>& upper_bounds() const noexcept { return bounds_; }
  /// Non-cumulative count of bucket i (i == bounds().size() is +Inf).
  uint64_t bucket_count(size_t i) const noexcept;
  uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  double sum() const noexcept;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};  // sum scaled by 1e6 to stay lock-free
};

/// Default latency buckets in seconds: 100 µs … 10 s.
std::vector<double> default_latency_buckets();

/// A sample produced at scrape time by a collector (e.g. mailbox depths).
struct sample {
  std::string name;
  labels label_set;
  double value = 0;
};

/// Owns metric families. Registration takes a lock; updates never do.
class registry {
public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// The process-wide registry that /metrics exposes.
  static registry& global();

  counter& get_counter(const std::string& name, const std::string& help, const labels& l = {});
  gauge& get_gauge(const std::string& name, const std::string& help, const labels& l = {});
  histogram& get_histogram(const std::string& name, const std::string& help, const labels& l = {},
                           std::vector<double> upper_bounds = default_latency_buckets());

  /// Exposition type of a collected family.
  enum class collected_type { gauge, counter };

  /// A collector runs on the scraping thread for every render and returns
  /// samples of family `name` (a gauge unless `type` says counter); it must
  /// be thread-safe and must not call back into this registry. Returns an id
  /// for remove_collector.
  size_t add_collector(const std::string& name, const std::string& help,
                       std::function<std::vector<sample>()> collect,
                       collected_type type = collected_type::gauge);
  void remove_collector(size_t id);

  /// Prometheus text exposition format 0.0.4.
  std::string render_prometheus() const;

  /// Value of a counter or gauge series, for tests and status; 0 if absent.
  double value_of(const std::string& name, const labels& l = {}) const;

private:
  enum class kind { counter, gauge, histogram };
  struct family {
    kind type;
    std::string help;
    // Series keyed by rendered label string; unique_ptr keeps addresses stable.
    std::map<std::string, std::unique_ptr<counter>> counters;
    std::map<std::string, std::unique_ptr<gauge>> gauges;
    std::map<std::string, std::unique_ptr<histogram>> histograms;
  };
  struct collector {
    std::string name;
    std::string help;
    std::function<std::vector<sample>()> collect;
    collected_type type;
  };
  family& family_of(const std::string& name, const std::string& help, kind k);

  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
  std::map<size_t, collector> collectors_;
  size_t next_collector_id_ = 1;
};

/// Renders labels as `{a="x",b="y"}` with Prometheus escaping; "" if empty.
std::string render_labels(const labels& l);

}  // namespace herald::metrics
