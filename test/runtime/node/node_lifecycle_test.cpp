// SPDX-License-Identifier: Apache-2.0
// A node started in-process (node::node, no signals): readiness during drain, reverse-order
// shutdown of the root tree, and the shutdown deadline.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>

#include <caf/all.hpp>

#include "runtime/config/config.hpp"
#include "runtime/net/http_client.hpp"
#include "runtime/node/node.hpp"
#include "runtime/node/node_config.hpp"
#include "runtime/supervision/worker.hpp"
#include "test/support/eventually.hpp"
#include "test/support/process.hpp"

using namespace herald;
using namespace std::chrono_literals;

namespace {

using poll_atom = caf::atom_constant<caf::atom("t_poll")>;
using crash_atom = caf::atom_constant<caf::atom("t_crash")>;

// Once `armed`, crashes within 10 ms of starting, every time it is restarted.
caf::behavior crashing_worker(caf::event_based_actor* self,
                              std::shared_ptr<std::atomic<bool>> armed) {
  self->send(self, crash_atom::value);
  return {[=](crash_atom) {
    if (*armed) {
      throw std::runtime_error("crash on start");
    }
    self->delayed_send(self, 10ms, crash_atom::value);
  }};
}

/// Events from workers (their threads) read by the test thread.
struct trace {
  std::mutex mutex;
  std::vector<std::string> events;
  void add(std::string e) {
    std::lock_guard<std::mutex> guard{mutex};
    events.push_back(std::move(e));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard<std::mutex> guard{mutex};
    return events;
  }
  bool has(const std::string& e) {
    auto xs = snapshot();
    return std::find(xs.begin(), xs.end(), e) != xs.end();
  }
};

// A worker that, asked to shut down, records "exit:<id>" and stops only once its gate opens
// (polling every 10 ms), then records "stop:<id>".
caf::behavior gated_worker(caf::event_based_actor* self, std::string id, std::shared_ptr<trace> tr,
                           std::shared_ptr<std::atomic<bool>> gate) {
  auto reason = std::make_shared<caf::error>();
  self->set_exit_handler([=](caf::exit_msg& em) {
    tr->add("exit:" + id);
    *reason = em.reason;
    self->send(self, poll_atom::value);
  });
  return {[=](poll_atom) {
    if (*gate) {
      tr->add("stop:" + id);
      self->quit(*reason);
      return;
    }
    self->delayed_send(self, 10ms, poll_atom::value);
  }};
}

supervision::child_spec gated_child(std::string id, std::shared_ptr<trace> tr,
                                    std::shared_ptr<std::atomic<bool>> gate) {
  supervision::child_spec spec;
  spec.id = id;
  spec.kind = "gated";
  spec.shutdown = supervision::shutdown_policy::infinity();
  spec.start = [=](const supervision::start_context& ctx) -> caf::expected<caf::actor> {
    return supervision::spawn_worker(ctx.system, gated_worker, id, tr, gate);
  };
  return spec;
}

config::config node_cfg(const std::string& data_dir, int64_t shutdown_ms) {
  auto r = config::load_from_string(
      node::full_schema(),
      "[node]\nname = \"inproc\"\ndata_dir = \"" + data_dir +
          "\"\n[admin]\nlisten = \"127.0.0.1:0\"\n[runtime]\nscheduler_threads = 2\n"
          "shutdown_timeout_ms = " +
          std::to_string(shutdown_ms) + "\n",
      "inproc.toml");
  REQUIRE(r.ok());
  return r.value();
}

unsigned admin_status(uint16_t port, const std::string& target) {
  auto r = net::http_fetch("127.0.0.1", port, "GET", target, {}, 5s);
  return r.ok() ? r.status : 0;
}

}  // namespace

TEST_CASE("draining_turns_readyz_503_and_stops_services_before_system_children") {
  testing::temp_dir dir;
  auto tr = std::make_shared<trace>();
  auto sys_gate = std::make_shared<std::atomic<bool>>(false);
  auto svc_gate = std::make_shared<std::atomic<bool>>(false);
  node::node_options opts;
  opts.system_children.push_back(gated_child("sys", tr, sys_gate));
  opts.service_children.push_back(gated_child("svc", tr, svc_gate));
  node::node n{node_cfg(dir.file("data"), 120000), std::move(opts)};
  REQUIRE_FALSE(n.start());
  auto port = n.admin_port();
  REQUIRE(port != 0);
  CHECK(admin_status(port, "/readyz") == 200);
  CHECK(n.status().actors_by_kind["gated"] == 2);

  auto done = std::async(std::launch::async, [&] { return n.shutdown(); });
  REQUIRE(testing::eventually([&] { return tr->has("exit:svc"); }));
  CHECK(admin_status(port, "/readyz") == 503);
  CHECK(admin_status(port, "/healthz") == 200);
  CHECK_FALSE(tr->has("exit:sys"));  // services first: system children wait their turn

  *svc_gate = true;
  REQUIRE(testing::eventually([&] { return tr->has("exit:sys"); }));
  *sys_gate = true;
  REQUIRE(done.wait_for(60s) == std::future_status::ready);
  CHECK(done.get());
  CHECK(tr->snapshot() == std::vector<std::string>{"exit:svc", "stop:svc", "exit:sys", "stop:sys"});
  CHECK(admin_status(port, "/healthz") == 0);
}

TEST_CASE("a_shutdown_past_the_deadline_reports_failure") {
  testing::temp_dir dir;
  auto tr = std::make_shared<trace>();
  auto never = std::make_shared<std::atomic<bool>>(false);
  node::node_options opts;
  opts.service_children.push_back(gated_child("stuck", tr, never));
  // The deadline leaves the stuck child time to take its exit request even on a slow
  // sanitizer build (200 ms was not enough there); it still never stops, so the node kills it.
  node::node n{node_cfg(dir.file("data"), 2000), std::move(opts)};
  REQUIRE_FALSE(n.start());
  CHECK_FALSE(n.shutdown());
  CHECK(tr->has("exit:stuck"));
  CHECK_FALSE(tr->has("stop:stuck"));
  CHECK(n.shutdown());  // idempotent: nothing left to stop
}

TEST_CASE("a_root_supervisor_that_gives_up_turns_the_node_unready") {
  testing::temp_dir dir;
  node::node_options opts;
  supervision::child_spec spec;
  spec.id = "crasher";
  spec.kind = "crasher";
  auto armed = std::make_shared<std::atomic<bool>>(false);
  spec.start = [armed](const supervision::start_context& ctx) -> caf::expected<caf::actor> {
    return supervision::spawn_worker(ctx.system, crashing_worker, armed);
  };
  opts.service_children.push_back(spec);
  node::node n{node_cfg(dir.file("data"), 10000), std::move(opts)};
  REQUIRE_FALSE(n.start());
  CHECK(n.ready());
  *armed = true;  // every restart crashes again: service_sup, then root, give up
  REQUIRE(testing::eventually([&] { return n.root_failed(); }));
  CHECK_FALSE(n.ready());
  CHECK(admin_status(n.admin_port(), "/readyz") == 503);
  CHECK(admin_status(n.admin_port(), "/healthz") == 200);
  CHECK(n.shutdown());
}
