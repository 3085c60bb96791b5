// SPDX-License-Identifier: Apache-2.0
#pragma once
// The pin board: one server actor per channel holding the channel's pins (at most 50, newest
// first), started on demand by the pins feature's keyed service. Its state is the feature's
// store state (keys "<channel>/<message>", value the pin time in ms), loaded when it starts
// and written with each CHANNEL_PINS_UPDATE it publishes, so it survives restarts.
// Invariant: the board holds exactly the pin changes the guild ordered and committed, minus
// the messages whose delete it observed.

#include <cstdint>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>

#include "actors/feature/error_category.hpp"
#include "actors/services/services.hpp"

namespace herald::pins {

/// (pin_atom, message_id, permission_check) → bool: true when the message was pinned now and
/// CHANNEL_PINS_UPDATE dispatched, false when it was pinned already (nothing dispatched, the
/// guild not asked). Errors: too_many, and the guild's (50001, 10008, 50013).
using pin_atom = caf::atom_constant<caf::atom("pin")>;
/// (unpin_atom, message_id, permission_check) → bool, as pin_atom (false: was not pinned).
using unpin_atom = caf::atom_constant<caf::atom("unpin")>;
/// (list_atom) → pin_list. No state change, never an error.
using list_atom = caf::atom_constant<caf::atom("pin_list")>;

/// Discord's limit of pins per channel.
inline constexpr size_t max_pins = 50;

struct pin {
  uint64_t message_id = 0;
  int64_t pinned_at_ms = 0;
};

/// A channel's pins, newest first.
struct pin_list {
  std::vector<pin> pins;
};

enum class pins_errc : uint8_t {
  too_many = 1,  ///< the channel holds max_pins already: 400 30003
};

extern const feature::error_category<pins_errc> pins_errors;

/// Kind label of board actors (herald_actors_alive, messages_handled).
inline constexpr const char* board_kind = "pin_board";

/// Spawns the board of `channel_id` (not registered: the keyed service registers it), its
/// state loaded from the store. Errors: the channel is unknown, the store read failed.
caf::expected<caf::actor> spawn_pin_board(caf::actor_system& sys, dispatch::services_ptr svc,
                                          uint64_t channel_id);

}  // namespace herald::pins

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(herald::pins::pin_list)
