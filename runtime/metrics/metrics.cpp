// SPDX-License-Identifier: Apache-2.0
#include "runtime/metrics/metrics.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace herald::metrics {

size_t detail::thread_shard() noexcept {
  static std::atomic<size_t> next{0};
  thread_local size_t shard = next.fetch_add(1, std::memory_order_relaxed);
  return shard;
}

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    buckets_[i].store(0, std::memory_order_relaxed);
  }
}

void histogram::observe(double v) noexcept {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) {
    ++i;
  }
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (v > 0) {
    sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(v * 1e6)), std::memory_order_relaxed);
  }
}

uint64_t histogram::bucket_count(size_t i) const noexcept {
  return i <= bounds_.size() ? buckets_[i].load(std::memory_order_relaxed) : 0;
}

double histogram::sum() const noexcept {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> default_latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

registry& registry::global() {
  static registry instance;
  return instance;
}

namespace {

void escape_into(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string format_number(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

// Label string with one extra pair appended (histogram `le`).
std::string with_label(const std::string& rendered, const std::string& key,
                       const std::string& value) {
  std::string extra = key + "=\"" + value + "\"";
  if (rendered.empty()) {
    return "{" + extra + "}";
  }
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

std::string render_labels(const labels& l) {
  if (l.empty()) {
    return {};
  }
  std::string out = "{";
  for (size_t i = 0; i < l.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += l[i].first;
    out += "=\"";
    escape_into(out, l[i].second);
    out += '"';
  }
  out += '}';
  return out;
}

registry::family& registry::family_of(const std::string& name, const std::string& help, kind k) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.type = k;
    it->second.help = help;
  } else if (it->second.type != k) {
    throw std::logic_error("metric family '" + name + "' registered with two types");
  }
  return it->second;
}

counter& registry::get_counter(const std::string& name, const std::string& help, const labels& l) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& slot = family_of(name, help, kind::counter).counters[render_labels(l)];
  if (!slot) {
    slot = std::make_unique<counter>();
  }
  return *slot;
}

gauge& registry::get_gauge(const std::string& name, const std::string& help, const labels& l) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& slot = family_of(name, help, kind::gauge).gauges[render_labels(l)];
  if (!slot) {
    slot = std::make_unique<gauge>();
  }
  return *slot;
}

histogram& registry::get_histogram(const std::string& name, const std::string& help,
                                   const labels& l, std::vector<double> upper_bounds) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& slot = family_of(name, help, kind::histogram).histograms[render_labels(l)];
  if (!slot) {
    slot = std::make_unique<histogram>(std::move(upper_bounds));
  }
  return *slot;
}

size_t registry::add_collector(const std::string& name, const std::string& help,
                               std::function<std::vector<sample>()> collect, collected_type type) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto id = next_collector_id_++;
  collectors_.emplace(id, collector{name, help, std::move(collect), type});
  return id;
}

void registry::remove_collector(size_t id) {
  std::lock_guard<std::mutex> guard{mutex_};
  collectors_.erase(id);
}

std::string registry::render_prometheus() const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::string out;
  auto header = [&out](const std::string& name, const std::string& help, const char* type) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  for (const auto& [name, fam] : families_) {
    switch (fam.type) {
      case kind::counter:
        header(name, fam.help, "counter");
        for (const auto& [lbl, c] : fam.counters) {
          out += name + lbl + " " + std::to_string(c->value()) + "\n";
        }
        break;
      case kind::gauge:
        header(name, fam.help, "gauge");
        for (const auto& [lbl, g] : fam.gauges) {
          out += name + lbl + " " + std::to_string(g->value()) + "\n";
        }
        break;
      case kind::histogram:
        header(name, fam.help, "histogram");
        for (const auto& [lbl, h] : fam.histograms) {
          uint64_t cumulative = 0;
          const auto& bounds = h->upper_bounds();
          for (size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += h->bucket_count(i);
            auto le = i < bounds.size() ? format_number(bounds[i]) : "+Inf";
            out += name + "_bucket" + with_label(lbl, "le", le) + " " + std::to_string(cumulative) +
                   "\n";
          }
          out += name + "_sum" + lbl + " " + format_number(h->sum()) + "\n";
          out += name + "_count" + lbl + " " + std::to_string(h->count()) + "\n";
        }
        break;
    }
  }
  // Collectors with the same family name are merged under one header.
  struct collected_family {
    const collector* first = nullptr;  // help and type come from the first
    std::vector<sample> samples;
  };
  std::map<std::string, collected_family> collected;
  for (const auto& [id, col] : collectors_) {
    auto& entry = collected[col.name];
    if (entry.first == nullptr) {
      entry.first = &col;
    }
    auto samples = col.collect();
    entry.samples.insert(entry.samples.end(), samples.begin(), samples.end());
  }
  for (const auto& [name, entry] : collected) {
    header(name, entry.first->help,
           entry.first->type == collected_type::counter ? "counter" : "gauge");
    for (const auto& s : entry.samples) {
      out += s.name + render_labels(s.label_set) + " " + format_number(s.value) + "\n";
    }
  }
  return out;
}

double registry::value_of(const std::string& name, const labels& l) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = families_.find(name);
  if (it == families_.end()) {
    return 0;
  }
  auto key = render_labels(l);
  if (auto c = it->second.counters.find(key); c != it->second.counters.end()) {
    return static_cast<double>(c->second->value());
  }
  if (auto g = it->second.gauges.find(key); g != it->second.gauges.end()) {
    return static_cast<double>(g->second->value());
  }
  return 0;
}

}  // namespace herald::metrics
