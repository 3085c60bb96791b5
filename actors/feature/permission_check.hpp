// SPDX-License-Identifier: Apache-2.0
#pragma once
// Who a feature event acts for and which permissions it needs in its channel: copied into
// custom_dispatch, checked by the guild in the step that orders the event (proto/domain.proto,
// custom_dispatch). Plain value, any thread. Invariant: actor_id 0 means the system, unchecked.

#include <cstdint>

#include <caf/allowed_unsafe_message_type.hpp>

#include "proto/domain.pb.h"

namespace herald::feature {

struct permission_check {
  uint64_t actor_id = 0;  ///< 0: the system (admin, tests), unchecked
  uint64_t required = 0;  ///< permission bits (actors/domain/permission_bits.hpp) in the channel

  /// Copies the check into `custom` (actor_id, required_permissions).
  void apply_to(proto::custom_dispatch& custom) const {
    custom.set_actor_id(actor_id);
    custom.set_required_permissions(required);
  }
};

}  // namespace herald::feature

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::feature::permission_check)
