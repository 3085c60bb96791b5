// SPDX-License-Identifier: Apache-2.0
#pragma once
// This node's ownership epoch for the feature platform: its ring's generation and its own
// incarnation in its cluster view. When it changes, other nodes may have ordered some of this
// node's guilds meanwhile (the ring moved, or this node was declared down and came back), so a
// keyed actor kept up could hold an old copy of its state: check() then stops every keyed actor
// of the running features (keyed_service::stop_actors), which load the committed state from the
// store at their next use. Shared by the front door (its timer) and the owner-routing wrappers
// (before a request runs here); any thread, under its own mutex.
// Invariant: after check() returned, no keyed actor started under an earlier epoch is found by
// key any more.

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "actors/feature/keyed_service.hpp"
#include "runtime/cluster/cluster_view.hpp"

namespace herald::feature {

class ownership_epoch {
public:
  ownership_epoch(std::shared_ptr<const cluster::cluster_view> view,
                  std::vector<keyed_service_ptr> services);

  /// Compares the view's epoch with the last one seen; on a change stops the services' actors.
  /// Returns how many were stopped.
  size_t check();

private:
  std::shared_ptr<const cluster::cluster_view> view_;
  std::vector<keyed_service_ptr> services_;
  std::mutex mutex_;
  std::pair<uint64_t, uint64_t> last_;  ///< (ring generation, own incarnation)
};

}  // namespace herald::feature
