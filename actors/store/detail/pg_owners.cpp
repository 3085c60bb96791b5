// SPDX-License-Identifier: Apache-2.0
#include "actors/store/detail/pg_owners.hpp"

#include <set>
#include <string>
#include <utility>

#include <pqxx/nontransaction>
#include <pqxx/result>

#include "actors/store/detail/pg_connection.hpp"
#include "actors/store/detail/pg_statements.hpp"

namespace herald::store::detail {

namespace {

std::int64_t as_param(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}

std::uint64_t id_at(const pqxx::row& row, int column) {
  return static_cast<std::uint64_t>(row[column].as<std::int64_t>());
}

guild_owner owner_of(const pqxx::row& row) {
  return guild_owner{id_at(row, 0), id_at(row, 1), id_at(row, 2)};
}

store_error fenced_error(const batch_fence& fence) {
  return store_error{store_errc::fenced, "guild " + std::to_string(fence.guild_id_) +
                                             ": batch made under owner epoch " +
                                             std::to_string(fence.epoch_) +
                                             ", which a newer claim replaced"};
}

// "{1,2,3}": a bigint array literal (uint64 bit-for-bit as int64).
void append_element(std::string& array, std::uint64_t value) {
  array.push_back(array.empty() ? '{' : ',');
  array += std::to_string(as_param(value));
}

void close_array(std::string& array) {
  if (array.empty()) {
    array.push_back('{');
  }
  array.push_back('}');
}

// The tail events of `batches` whose fenced[i] is empty, as one upsert (arrays of columns; the
// events as hex text, which needs no quoting inside an array literal).
void write_tails(pqxx::transaction_base& tx, const std::vector<const write_batch*>& batches,
                 const std::vector<std::optional<store_error>>& fenced) {
  std::string guilds, slots, epochs, orders, prev_epochs, prev_orders, events;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const auto& fence = batches[i]->fence();
    if (!fence || fenced[i]) {
      continue;
    }
    for (const auto& e : batches[i]->tail()) {
      append_element(guilds, fence->guild_id_);
      append_element(slots, e.slot_);
      append_element(epochs, e.epoch_);
      append_element(orders, e.order_);
      append_element(prev_epochs, e.prev_epoch_);
      append_element(prev_orders, e.prev_order_);
      events.push_back(events.empty() ? '{' : ',');
      events += hex_of(e.event_);
    }
  }
  if (guilds.empty()) {
    return;
  }
  for (auto* array : {&guilds, &slots, &epochs, &orders, &prev_epochs, &prev_orders, &events}) {
    close_array(*array);
  }
  tx.exec_prepared(pg::upsert_tail, guilds, slots, epochs, orders, prev_epochs, prev_orders,
                   events);
}

tail_event tail_row(const pqxx::row& row, bool with_event) {
  tail_event e;
  e.epoch_ = id_at(row, 0);
  e.order_ = id_at(row, 1);
  e.prev_epoch_ = id_at(row, 2);
  e.prev_order_ = id_at(row, 3);
  e.slot_ = static_cast<std::uint32_t>(row[4].as<std::int64_t>());
  if (with_event) {
    e.event_ = bytes_of_hex(row[5].as<std::string>());
  }
  return e;
}

}  // namespace

std::vector<result<guild_owner>> pg_claim_guilds(pqxx::connection& conn,
                                                 const std::vector<snowflake>& guild_ids,
                                                 std::uint64_t node_id) {
  pqxx::nontransaction tx(conn);
  tx.exec("BEGIN");
  std::vector<result<guild_owner>> results;
  results.reserve(guild_ids.size());
  for (snowflake guild_id : guild_ids) {
    // One statement per claim (the epoch bump returns the row): a guild without a row matches
    // nothing, writes nothing, and fails alone.
    auto rows = tx.exec_prepared(pg::claim_guild, as_param(guild_id), as_param(node_id));
    if (rows.empty()) {
      results.emplace_back(
          store_error{store_errc::not_found, "no guild " + std::to_string(guild_id)});
    } else {
      results.emplace_back(owner_of(rows[0]));
    }
  }
  commit_or_in_doubt(tx);
  return results;
}

std::optional<guild_owner> pg_read_owner(pqxx::transaction_base& tx, snowflake guild_id) {
  auto rows = tx.exec_prepared(pg::select_owner, as_param(guild_id));
  if (rows.empty()) {
    return std::nullopt;
  }
  return owner_of(rows[0]);
}

void pg_record_fences(pqxx::transaction_base& tx, const std::vector<const write_batch*>& batches,
                      std::vector<std::optional<store_error>>& fenced) {
  fenced.assign(batches.size(), std::nullopt);
  std::string guilds, epochs, orders;
  for (const write_batch* batch : batches) {
    if (const auto& fence = batch->fence()) {
      append_element(guilds, fence->guild_id_);
      append_element(epochs, fence->epoch_);
      append_element(orders, fence->last_order_);
    }
  }
  if (guilds.empty()) {
    return;
  }
  guilds.push_back('}');
  epochs.push_back('}');
  orders.push_back('}');
  std::set<std::pair<std::uint64_t, std::uint64_t>> owning;
  for (const auto& row : tx.exec_prepared(pg::record_orders, guilds, epochs, orders)) {
    owning.emplace(id_at(row, 0), id_at(row, 1));
  }
  for (std::size_t i = 0; i < batches.size(); ++i) {
    const auto& fence = batches[i]->fence();
    if (fence && owning.count({fence->guild_id_, fence->epoch_}) == 0) {
      fenced[i] = fenced_error(*fence);
    }
  }
  write_tails(tx, batches, fenced);
}

result<void> pg_record_fence(pqxx::transaction_base& tx, const write_batch& batch) {
  const auto& fence = batch.fence();
  if (!fence) {
    return {};
  }
  auto changed = tx.exec_prepared(pg::record_order, as_param(fence->guild_id_),
                                  as_param(fence->epoch_), as_param(fence->last_order_));
  if (changed.affected_rows() == 0) {
    return fenced_error(*fence);
  }
  write_tails(tx, {&batch}, {std::nullopt});
  return {};
}

std::vector<tail_event> pg_read_tail(pqxx::transaction_base& tx, snowflake guild_id,
                                     std::uint64_t after_epoch, std::uint64_t after_order) {
  std::vector<tail_event> out;
  for (const auto& row : tx.exec_prepared(pg::select_tail, as_param(guild_id),
                                          as_param(after_epoch), as_param(after_order))) {
    out.push_back(tail_row(row, true));
  }
  return out;
}

std::optional<tail_event> pg_tail_head(pqxx::transaction_base& tx, snowflake guild_id) {
  auto rows = tx.exec_prepared(pg::select_tail_head, as_param(guild_id));
  if (rows.empty()) {
    return std::nullopt;
  }
  return tail_row(rows[0], false);
}

}  // namespace herald::store::detail
