// SPDX-License-Identifier: Apache-2.0
#include "actors/guild/view_classes.hpp"

#include <algorithm>
#include <iterator>
#include <set>

#include <caf/make_counted.hpp>

#include "actors/permissions/permissions.hpp"
#include "actors/relay/dispatch_event.hpp"

namespace herald::guild {

namespace {

std::size_t words_for(std::size_t slots) {
  return (slots + 63) / 64;
}

bool bit(const std::vector<std::uint64_t>& r, std::uint32_t slot) {
  const std::size_t word = slot / 64;
  return word < r.size() && ((r[word] >> (slot % 64)) & 1u) != 0;
}

// ORs (a XOR b) into `mask`; rows shorter than the mask count as zero-padded.
void accumulate_difference(std::vector<std::uint64_t>& mask, const std::vector<std::uint64_t>& a,
                           const std::vector<std::uint64_t>& b) {
  for (std::size_t w = 0; w < mask.size(); ++w) {
    const std::uint64_t x = w < a.size() ? a[w] : 0;
    const std::uint64_t y = w < b.size() ? b[w] : 0;
    mask[w] |= x ^ y;
  }
}

}  // namespace

std::uint64_t view_change::channel_of_slot(std::uint32_t slot) const {
  auto it = std::lower_bound(changed_slots.begin(), changed_slots.end(), slot);
  if (it == changed_slots.end() || *it != slot) {
    return 0;
  }
  return changed_channels[static_cast<std::size_t>(it - changed_slots.begin())];
}

std::size_t view_classes::role_set_hash::operator()(
    const std::vector<snowflake>& ids) const noexcept {
  std::size_t h = 0xcbf29ce484222325ull;
  for (snowflake id : ids) {
    h ^= id + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  }
  return h;
}

view_classes::view_classes(const domain::guild_state& state) {
  std::vector<snowflake> everyone;
  everyone.reserve(state.member_count());
  for (const auto& kv : state.members()) {
    everyone.push_back(kv.first);
  }
  members_.reserve(state.member_count());
  publish(state, std::move(everyone));
}

view_change view_classes::recompute(const domain::guild_state& state,
                                    const std::vector<snowflake>& touched_users) {
  return publish(state, touched_users);
}

view_change view_classes::recompute(const domain::guild_state& state) {
  // A user listed twice is harmless: the second visit finds it already placed.
  std::vector<snowflake> all;
  all.reserve(state.member_count() + members_.size());
  for (const auto& kv : state.members()) {
    all.push_back(kv.first);
  }
  for (const auto& kv : members_) {
    if (state.find_member(kv.first) == nullptr) {
      all.push_back(kv.first);
    }
  }
  return publish(state, std::move(all));
}

void view_classes::sync_slots(const domain::guild_state& state) {
  for (std::uint32_t slot = 0; slot < channel_by_slot_.size(); ++slot) {
    if (slot_live_[slot] && state.find_channel(channel_by_slot_[slot]) == nullptr) {
      slot_live_[slot] = false;  // never reused: relays may still hold snapshots naming it
      slot_by_channel_.erase(channel_by_slot_[slot]);
    }
  }
  for (const auto& ch : state.channels()) {
    if (slot_by_channel_.count(ch.id_) == 0) {
      slot_by_channel_.emplace(ch.id_, static_cast<std::uint32_t>(channel_by_slot_.size()));
      channel_by_slot_.push_back(ch.id_);
      slot_live_.push_back(true);
    }
  }
}

std::vector<snowflake> view_classes::personal_users(const domain::guild_state& state) const {
  std::vector<snowflake> out{state.info().owner_id_};
  for (const auto& ch : state.channels()) {
    for (const auto& ow : ch.overwrites_) {
      if (ow.type_ == domain::overwrite_type::member) {
        out.push_back(ow.id_);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::uint32_t view_classes::wanted_class(const domain::guild_state& state, snowflake user_id) {
  const auto* m = state.find_member(user_id);
  if (m == nullptr) {
    return no_view_class;
  }
  // Look up before inserting: emplace would allocate a node (and copy the
  // role set) on every call, which dominates a scan of a million members.
  const auto next = static_cast<std::uint32_t>(classes_.size());
  if (std::binary_search(personal_.begin(), personal_.end(), user_id)) {
    if (auto it = by_user_.find(user_id); it != by_user_.end()) {
      return it->second;
    }
    by_user_.emplace(user_id, next);
    class_entry entry;
    entry.personal_ = true;
    entry.user_id_ = user_id;
    classes_.push_back(std::move(entry));
    return next;
  }
  if (auto it = by_role_set_.find(m->role_ids_); it != by_role_set_.end()) {
    return it->second;
  }
  by_role_set_.emplace(m->role_ids_, next);
  class_entry entry;
  entry.role_ids_ = m->role_ids_;
  classes_.push_back(std::move(entry));
  return next;
}

void view_classes::move_member(snowflake user_id, std::uint32_t to) {
  auto it = members_.find(user_id);
  if (it != members_.end()) {
    // Swap-remove from the old class, fixing the index of the member moved into the hole.
    auto& old_members = classes_[it->second.class_].members_;
    const std::uint32_t hole = it->second.index_;
    old_members[hole] = old_members.back();
    old_members.pop_back();
    if (hole < old_members.size()) {
      members_[old_members[hole]].index_ = hole;
    }
  }
  if (to == no_view_class) {
    if (it != members_.end()) {
      members_.erase(it);
    }
    return;
  }
  auto& new_members = classes_[to].members_;
  members_[user_id] = member_place{to, static_cast<std::uint32_t>(new_members.size())};
  new_members.push_back(user_id);
}

view_classes::row view_classes::compute_row(const domain::guild_state& state,
                                            const class_entry& entry, snowflake stand_in) const {
  row out(words_for(channel_by_slot_.size()), 0);
  domain::member synthetic;
  const domain::member* who = nullptr;
  if (entry.personal_) {
    who = entry.members_.empty() ? nullptr : state.find_member(entry.user_id_);
  } else {
    // Any member of a role-set class sees the same: it has exactly these
    // roles, is not the owner and has no member overwrite. A stand-in with
    // an id that is neither also answers for a class that is empty now.
    synthetic.user_id_ = stand_in;
    synthetic.role_ids_ = entry.role_ids_;
    who = &synthetic;
  }
  if (who == nullptr) {
    return out;
  }
  for (std::uint32_t slot = 0; slot < channel_by_slot_.size(); ++slot) {
    if (!slot_live_[slot]) {
      continue;
    }
    const auto* ch = state.find_channel(channel_by_slot_[slot]);
    if (ch != nullptr && permissions::has(permissions::channel_permissions(state, *ch, *who),
                                          permissions::view_channel)) {
      out[slot / 64] |= std::uint64_t{1} << (slot % 64);
    }
  }
  return out;
}

view_change view_classes::publish(const domain::guild_state& state,
                                  std::vector<snowflake> touched) {
  const std::size_t old_classes = classes_.size();
  std::vector<row> old_rows = std::move(rows_);
  sync_slots(state);

  // Users entering or leaving the personal set (owner, member overwrites).
  std::vector<snowflake> personal = personal_users(state);
  std::set_symmetric_difference(personal_.begin(), personal_.end(), personal.begin(),
                                personal.end(), std::back_inserter(touched));
  personal_ = std::move(personal);

  // Members of a class naming a deleted role now hold a different role set.
  for (const auto& entry : classes_) {
    if (entry.personal_ || entry.members_.empty()) {
      continue;
    }
    for (snowflake role_id : entry.role_ids_) {
      if (state.find_role(role_id) == nullptr) {
        touched.insert(touched.end(), entry.members_.begin(), entry.members_.end());
        break;
      }
    }
  }

  view_change change;
  std::set<std::pair<std::uint32_t, std::uint32_t>> moves;  // (from, to), both classes
  for (snowflake user_id : touched) {
    const std::uint32_t to = wanted_class(state, user_id);
    const std::uint32_t from = class_of(user_id);
    if (to == from) {
      continue;
    }
    move_member(user_id, to);
    if (to != no_view_class) {
      change.class_changes.emplace_back(user_id, to);
      if (from != no_view_class) {
        moves.emplace(from, to);
      }
    }
  }
  std::sort(change.class_changes.begin(), change.class_changes.end());

  snowflake stand_in = UINT64_MAX;
  while (std::binary_search(personal_.begin(), personal_.end(), stand_in)) {
    --stand_in;
  }
  rows_.reserve(classes_.size());
  for (const auto& entry : classes_) {
    rows_.push_back(compute_row(state, entry, stand_in));
  }

  const auto slots = static_cast<std::uint32_t>(channel_by_slot_.size());
  std::vector<std::uint64_t> mask(words_for(slots), 0);
  for (std::size_t c = 0; c < old_classes; ++c) {
    accumulate_difference(mask, old_rows[c], rows_[c]);
  }
  for (const auto& [from, to] : moves) {
    if (from < old_classes) {
      accumulate_difference(mask, old_rows[from], rows_[to]);
    }
  }
  auto snapshot = caf::make_counted<relay::view_snapshot>(class_count(), slots);
  for (std::uint32_t c = 0; c < classes_.size(); ++c) {
    for (std::uint32_t slot = 0; slot < slots; ++slot) {
      if (bit(rows_[c], slot)) {
        snapshot->allow(c, slot);
      }
    }
  }
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    if (bit(mask, slot)) {
      change.changed_slots.push_back(slot);
      change.changed_channels.push_back(channel_by_slot_[slot]);
    }
  }
  snapshot_ = snapshot;
  change.snapshot = snapshot_;
  return change;
}

std::uint32_t view_classes::class_of(snowflake user_id) const {
  auto it = members_.find(user_id);
  return it == members_.end() ? no_view_class : it->second.class_;
}

std::uint32_t view_classes::slot_of(snowflake channel_id) const {
  auto it = slot_by_channel_.find(channel_id);
  return it == slot_by_channel_.end() ? relay::no_channel_slot : it->second;
}

bool view_classes::can_view(snowflake user_id, snowflake channel_id) const {
  const std::uint32_t cls = class_of(user_id);
  const std::uint32_t slot = slot_of(channel_id);
  return cls != no_view_class && slot != relay::no_channel_slot && bit(rows_[cls], slot);
}

std::vector<snowflake> view_classes::visible_channels(std::uint32_t view_class) const {
  std::vector<snowflake> out;
  if (view_class >= rows_.size()) {
    return out;
  }
  for (std::uint32_t slot = 0; slot < channel_by_slot_.size(); ++slot) {
    if (slot_live_[slot] && bit(rows_[view_class], slot)) {
      out.push_back(channel_by_slot_[slot]);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<const std::unordered_map<std::uint64_t, std::uint32_t>> view_classes::class_map()
    const {
  auto out = std::make_shared<std::unordered_map<std::uint64_t, std::uint32_t>>();
  out->reserve(members_.size());
  for (const auto& [user_id, place] : members_) {
    out->emplace(user_id, place.class_);
  }
  return out;
}

std::size_t view_classes::class_size(std::uint32_t view_class) const {
  return view_class < classes_.size() ? classes_[view_class].members_.size() : 0;
}

}  // namespace herald::guild
