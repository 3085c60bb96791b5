// SPDX-License-Identifier: Apache-2.0
#pragma once
// A private network for the partition chaos test (chaos_network_test.cpp), built with `ip`: one
// Linux bridge in the test's own namespace holding 10.213.<k>.1/24 (the test process, and
// PostgreSQL listening there), and per node a fresh network namespace joined to the bridge by a
// veth pair, its end `eth0` holding 10.213.<k>.<10+i>/24. heraldd runs inside with
// `ip netns exec <ns>` (exec_prefix()); the test reaches it at node_address(i).
//   isolate(i) cuts node i from the other nodes only (blackhole routes on both sides: it still
//   reaches PostgreSQL and the test's clients), heal(i) undoes it; slow_links() adds delay and
//   loss (netem) to every node's link, or, on a kernel without netem, a rate limit (tbf) that
//   queues and drops; fast_links() removes it.
// Every name carries this process's pid (hchaos<pid>n<i>, hchb<pid>, hchv<pid>n<i>): the lab
// touches no interface it did not create. The destructor deletes the namespaces (their veth
// ends go with them) and the bridge; a lab left behind by a test process that was killed is
// deleted by the next lab (its pid no longer runs). Needs root (CAP_NET_ADMIN):
// unavailable_reason() says why not, and the test skips. Used from the test's main thread.
// Invariant: between construction and destruction every namespace and link named here exists.

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "test/support/process.hpp"

namespace herald::cluster_test {

class netns_lab {
public:
  /// Why this process cannot build a lab (`ip` missing, `ip netns add` refused), or nullopt.
  static std::optional<std::string> unavailable_reason() {
    if (ip_path().empty()) {
      return "no `ip` (iproute2) found";
    }
    const auto probe = "hchaos" + std::to_string(::getpid()) + "probe";
    auto added = run({"netns", "add", probe});
    if (added.exit_code != 0) {
      return "`ip netns add` is not permitted here (needs root / CAP_NET_ADMIN): " + added.err;
    }
    run({"netns", "del", probe});
    return std::nullopt;
  }

  explicit netns_lab(size_t nodes) : pid_(std::to_string(::getpid())) {
    sweep_leftovers();
    subnet_ = free_subnet();
    try {
      must({"link", "add", bridge(), "type", "bridge"});
      must({"addr", "add", root_address() + "/24", "dev", bridge()});
      must({"link", "set", bridge(), "up"});
      for (size_t i = 0; i < nodes; ++i) {
        must({"netns", "add", ns(i)});
        namespaces_.push_back(ns(i));
        must({"link", "add", veth(i), "type", "veth", "peer", "name", "eth0", "netns", ns(i)});
        must({"link", "set", veth(i), "master", bridge()});
        must({"link", "set", veth(i), "up"});
        must({"-n", ns(i), "addr", "add", node_address(i) + "/24", "dev", "eth0"});
        must({"-n", ns(i), "link", "set", "eth0", "up"});
        must({"-n", ns(i), "link", "set", "lo", "up"});
      }
    } catch (...) {
      tear_down();
      throw;
    }
  }
  ~netns_lab() { tear_down(); }
  netns_lab(const netns_lab&) = delete;
  netns_lab& operator=(const netns_lab&) = delete;

  /// The bridge's address, in the test's namespace.
  std::string root_address() const { return "10.213." + std::to_string(subnet_) + ".1"; }
  std::string subnet() const { return "10.213." + std::to_string(subnet_) + ".0/24"; }
  std::string node_address(size_t i) const {
    return "10.213." + std::to_string(subnet_) + "." + std::to_string(10 + i);
  }
  std::string ns(size_t i) const { return "hchaos" + pid_ + "n" + std::to_string(i); }
  /// `ip netns exec <ns>`: prepended to heraldd's command line (node_spec::exec_prefix).
  std::vector<std::string> exec_prefix(size_t i) const {
    return {ip_path(), "netns", "exec", ns(i)};
  }

  /// Node i and every other node stop reaching each other (both directions); i still reaches
  /// the bridge's address (PostgreSQL, the test).
  void isolate(size_t i) { route_to_others(i, "add"); }
  void heal(size_t i) { route_to_others(i, "del"); }

  /// Every node's link delays and drops: netem `delay`±`jitter` and `loss_percent` when the
  /// kernel has it (returns "netem"), else a tbf rate limit of 512 kbit/s that queues up to
  /// 200 ms and drops beyond (returns "tbf"). Applied on both ends of each veth.
  std::string slow_links(int delay_ms, int jitter_ms, int loss_percent) {
    const std::vector<std::string> netem{"netem",
                                         "delay",
                                         std::to_string(delay_ms) + "ms",
                                         std::to_string(jitter_ms) + "ms",
                                         "loss",
                                         std::to_string(loss_percent) + "%"};
    const std::vector<std::string> tbf{"tbf",    "rate",    "512kbit", "burst",
                                       "16kbit", "latency", "200ms"};
    const auto& kind = qdisc_on(0, netem) ? netem : tbf;
    for (size_t i = 0; i < namespaces_.size(); ++i) {
      if (&kind == &tbf || i > 0) {
        qdisc_must(i, kind);
      }
      auto root_side = std::vector<std::string>{"qdisc", "replace", "dev", veth(i), "root"};
      root_side.insert(root_side.end(), kind.begin(), kind.end());
      must(root_side);
    }
    slowed_ = true;
    return kind.front();
  }
  void fast_links() {
    for (size_t i = 0; i < namespaces_.size() && slowed_; ++i) {
      run({"-n", ns(i), "qdisc", "del", "dev", "eth0", "root"});
      run({"qdisc", "del", "dev", veth(i), "root"});
    }
    slowed_ = false;
  }

  /// postgresql.conf lines for a local_postgres_server the nodes reach: it also listens on the
  /// bridge's address and trusts the lab's /24 (an hba file written here, removed with the lab).
  std::string postgres_conf() {
    hba_file_ = std::filesystem::temp_directory_path() / ("herald-chaos-" + pid_ + ".hba");
    {
      std::ofstream hba{hba_file_};
      hba << "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all " << subnet()
          << " trust\n";
    }
    std::filesystem::permissions(
        hba_file_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                       std::filesystem::perms::group_read | std::filesystem::perms::others_read);
    return "listen_addresses = '127.0.0.1," + root_address() + "'\nhba_file = '" +
           hba_file_.string() + "'\n";
  }

private:
  static std::string ip_path() {
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
      if (std::filesystem::exists(p)) {
        return p;
      }
    }
    return {};
  }
  static testing::run_result run(const std::vector<std::string>& args) {
    return testing::run_process(ip_path(), args, std::chrono::seconds{20});
  }
  static testing::run_result run_tc(const std::vector<std::string>& args) {
    for (const char* p : {"/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc", "/bin/tc"}) {
      if (std::filesystem::exists(p)) {
        return testing::run_process(p, args, std::chrono::seconds{20});
      }
    }
    return {1, "", "no tc"};
  }
  /// Runs `ip args`, throwing std::runtime_error with its output when it fails.
  static void must(const std::vector<std::string>& args) {
    auto r = args.front() == "qdisc" ? run_tc(args) : run(args);
    if (r.exit_code != 0) {
      std::string cmd;
      for (const auto& a : args) {
        cmd += " " + a;
      }
      throw std::runtime_error("netns_lab:" + cmd + " failed: " + r.out + r.err);
    }
  }
  bool qdisc_on(size_t i, const std::vector<std::string>& kind) {
    std::vector<std::string> args{"-n", ns(i), "qdisc", "replace", "dev", "eth0", "root"};
    args.insert(args.end(), kind.begin(), kind.end());
    return run_tc(args).exit_code == 0;
  }
  void qdisc_must(size_t i, const std::vector<std::string>& kind) {
    if (!qdisc_on(i, kind)) {
      throw std::runtime_error("netns_lab: tc qdisc " + kind.front() + " failed in " + ns(i));
    }
  }

  void route_to_others(size_t i, const char* verb) {
    for (size_t j = 0; j < namespaces_.size(); ++j) {
      if (j != i) {
        must({"-n", ns(i), "route", verb, "blackhole", node_address(j) + "/32"});
        must({"-n", ns(j), "route", verb, "blackhole", node_address(i) + "/32"});
      }
    }
  }

  std::string bridge() const { return "hchb" + pid_; }
  std::string veth(size_t i) const { return "hchv" + pid_ + "n" + std::to_string(i); }

  /// A /24 of 10.213.0.0/16 no interface of this namespace uses.
  static int free_subnet() {
    auto used = run({"-o", "-4", "addr", "show"}).out;
    for (int k = 20 + ::getpid() % 200, tries = 0; tries < 230; ++tries, k = 20 + (k - 19) % 230) {
      if (used.find("10.213." + std::to_string(k) + ".") == std::string::npos) {
        return k;
      }
    }
    throw std::runtime_error("netns_lab: no free /24 in 10.213.0.0/16");
  }

  /// Deletes the namespaces and links of labs whose process no longer runs.
  static void sweep_leftovers() {
    static const std::regex ns_name{"^hchaos([0-9]+)n[0-9]+"};
    static const std::regex link_name{"^[0-9]+: (hch[bv]([0-9]+)(n[0-9]+)?)[@:]"};
    auto dead = [](const std::string& pid) {
      return ::kill(std::stoi(pid), 0) != 0 && errno == ESRCH;
    };
    std::istringstream nss{run({"netns", "list"}).out};
    for (std::string line; std::getline(nss, line);) {
      std::smatch m;
      if (std::regex_search(line, m, ns_name) && dead(m[1].str())) {
        run({"netns", "del", line.substr(0, line.find(' '))});
      }
    }
    std::istringstream links{run({"-o", "link", "show"}).out};
    for (std::string line; std::getline(links, line);) {
      std::smatch m;
      if (std::regex_search(line, m, link_name) && dead(m[2].str())) {
        run({"link", "del", m[1].str()});
      }
    }
  }

  void tear_down() {
    for (const auto& n : namespaces_) {
      run({"netns", "del", n});  // its veth end goes, and with it the pair
    }
    namespaces_.clear();
    run({"link", "del", bridge()});
    if (!hba_file_.empty()) {
      std::error_code ignored;
      std::filesystem::remove(hba_file_, ignored);
    }
  }

  std::string pid_;
  int subnet_ = 0;
  std::vector<std::string> namespaces_;
  std::filesystem::path hba_file_;
  bool slowed_ = false;
};

}  // namespace herald::cluster_test
