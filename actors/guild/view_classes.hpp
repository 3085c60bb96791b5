// SPDX-License-Identifier: Apache-2.0
#pragma once
// View classes of one guild: members grouped by what they see, channels in stable slots, and the
// class × slot VIEW_CHANNEL snapshot for relays. Owned by the guild actor (single-threaded).
// Invariant: ids and slots are never renumbered or reused; bits equal channel_permissions' VIEW.

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/domain/guild_state.hpp"
#include "actors/relay/view_snapshot.hpp"

namespace herald::guild {

using domain::snowflake;

/// Class id of a user who is not a member.
inline constexpr std::uint32_t no_view_class = UINT32_MAX;

/// What one recomputation changed, relative to the previous snapshot.
struct view_change {
  relay::view_snapshot_ptr snapshot;
  /// (user id, new class) of current members whose class changed, members
  /// who joined included; departed members are not listed. Sorted by user id.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> class_changes;
  /// Sorted slots where some subscriber's visibility may differ: a class
  /// that existed before sees the slot differently now, or a member moved
  /// from a class that saw it to one that does not (or the reverse). Slots of
  /// channels created or deleted since the last snapshot appear here when
  /// some class sees them (their CHANNEL_CREATE / CHANNEL_DELETE).
  std::vector<std::uint32_t> changed_slots;
  /// Channel id of each changed slot (parallel to changed_slots; deleted
  /// channels keep their id).
  std::vector<std::uint64_t> changed_channels;

  /// The channel id a changed slot stands for, 0 if `slot` is not listed.
  std::uint64_t channel_of_slot(std::uint32_t slot) const;
  bool empty() const { return changed_slots.empty() && class_changes.empty(); }
};

class view_classes {
public:
  /// Classes, slots and the first snapshot of `state`: O(members + classes × channels).
  explicit view_classes(const domain::guild_state& state);

  /// Brings everything up to date after `state` changed, checking only the
  /// members in `touched_users` plus those it can find itself: members of
  /// classes naming a deleted role, the old and new owner, and users whose
  /// member overwrites appeared or disappeared. Pass the users added,
  /// removed or whose role set changed. O(classes × channels + touched).
  view_change recompute(const domain::guild_state& state,
                        const std::vector<snowflake>& touched_users);
  /// As above, checking every member: O(members + classes × channels).
  view_change recompute(const domain::guild_state& state);

  const relay::view_snapshot_ptr& snapshot() const { return snapshot_; }

  /// The member's class, no_view_class if not a member.
  std::uint32_t class_of(snowflake user_id) const;
  std::uint32_t view_class_of(snowflake user_id) const { return class_of(user_id); }
  /// The channel's slot, relay::no_channel_slot if unknown or deleted.
  std::uint32_t slot_of(snowflake channel_id) const;
  /// The channel a slot stands for (deleted ones too); 0 for relay::no_channel_slot or a slot
  /// never handed out.
  snowflake channel_at(std::uint32_t slot) const {
    return slot < channel_by_slot_.size() ? channel_by_slot_[slot] : 0;
  }
  /// As of the last recompute: may this member view this channel?
  bool can_view(snowflake user_id, snowflake channel_id) const;
  /// Sorted ids of the live channels `view_class` may view.
  std::vector<snowflake> visible_channels(std::uint32_t view_class) const;
  /// user id → class of every member (for a relay's full reset).
  std::shared_ptr<const std::unordered_map<std::uint64_t, std::uint32_t>> class_map() const;

  std::uint32_t class_count() const { return static_cast<std::uint32_t>(classes_.size()); }
  std::uint32_t slot_count() const { return static_cast<std::uint32_t>(channel_by_slot_.size()); }
  /// Members currently in `view_class` (0 for an unknown class).
  std::size_t class_size(std::uint32_t view_class) const;

private:
  struct role_set_hash {
    std::size_t operator()(const std::vector<snowflake>& ids) const noexcept;
  };
  struct class_entry {
    bool personal_ = false;
    snowflake user_id_ = 0;            // personal class: its only user
    std::vector<snowflake> role_ids_;  // role-set class: its key, sorted
    std::vector<snowflake> members_;   // current members, unordered
  };
  struct member_place {
    std::uint32_t class_ = no_view_class;
    std::uint32_t index_ = 0;  // position in classes_[class_].members_
  };
  using row = std::vector<std::uint64_t>;  // one bit per slot

  void sync_slots(const domain::guild_state& state);
  std::vector<snowflake> personal_users(const domain::guild_state& state) const;
  std::uint32_t wanted_class(const domain::guild_state& state, snowflake user_id);
  void move_member(snowflake user_id, std::uint32_t to);
  row compute_row(const domain::guild_state& state, const class_entry& entry,
                  snowflake stand_in) const;
  view_change publish(const domain::guild_state& state, std::vector<snowflake> touched);

  std::vector<class_entry> classes_;  // append-only: the index is the class id
  std::unordered_map<std::vector<snowflake>, std::uint32_t, role_set_hash> by_role_set_;
  std::unordered_map<snowflake, std::uint32_t> by_user_;  // personal classes
  std::unordered_map<snowflake, member_place> members_;
  std::vector<snowflake> channel_by_slot_;  // append-only; deleted channels keep their id
  std::vector<bool> slot_live_;             // parallel to channel_by_slot_
  std::unordered_map<snowflake, std::uint32_t> slot_by_channel_;  // live channels only
  std::vector<snowflake> personal_;  // sorted: owner and member-overwrite users at last recompute
  std::vector<row> rows_;            // per class, as published in snapshot_
  relay::view_snapshot_ptr snapshot_;
};

}  // namespace herald::guild
