// SPDX-License-Identifier: Apache-2.0
#pragma once
// Discord's role hierarchy: who may act on whom (kick today). Pure functions over a guild_state.
//
// A member's rank is its highest role, roles ordered as Discord orders them: the higher
// `position` is higher, and of two roles with the same position the one with the lower id is
// higher. A member without roles ranks as @everyone, below every role. Invariant:
// outranks(a, b) is a strict order — never true both ways, never true for a member's own rank —
// and the owner outranks every other member whatever its roles.

#include "actors/domain/guild_state.hpp"

namespace herald::permissions {

/// True when `actor` may act on `target` in the hierarchy: `actor` is the guild's owner and
/// `target` is not, or `actor`'s highest role is strictly higher than `target`'s.
bool outranks(const domain::guild_state& guild, const domain::member& actor,
              const domain::member& target);

}  // namespace herald::permissions
