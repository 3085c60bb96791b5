// SPDX-License-Identifier: Apache-2.0
// cluster_view's watchers (runtime/cluster/cluster_view.hpp): every publish sends each watcher
// one (view_changed_atom), after the new members are readable; a watcher that quit is skipped.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/cluster/cluster_view.hpp"

using namespace herald;
using namespace herald::cluster;

namespace {

node_row row(uint16_t id, bool up) {
  node_row r;
  r.id = id;
  r.name = "n" + std::to_string(id);
  r.up = up;
  return r;
}

}  // namespace

TEST_CASE("a_view_watcher_is_told_of_every_publish_after_the_new_members_are_readable") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  cluster_view view{row(1, true)};
  // A watcher that quit before the publish: skipped, and the live one still told.
  auto gone = sys.spawn([](caf::event_based_actor*) -> caf::behavior { return {}; });
  view.watch(gone);
  gone = caf::actor{};
  view.watch(caf::actor_cast<caf::actor>(self));

  view.publish({row(1, true), row(2, false)}, std::make_shared<const ring>());
  int told = 0;
  size_t up_when_told = 0;
  self->receive([&](view_changed_atom) {
    ++told;
    up_when_told = view.up_count();
  });
  CHECK(told == 1);
  CHECK(up_when_told == 1);  // node 2 is published down before the watcher hears of it
  self->receive([&](view_changed_atom) { ++told; },
                caf::after(std::chrono::milliseconds{50}) >> [] {});
  CHECK(told == 1);  // one message per publish
}
