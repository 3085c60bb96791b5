// SPDX-License-Identifier: Apache-2.0
#include "actors/store/detail/pg_message_rows.hpp"

#include <charconv>

#include <pqxx/result>

#include "actors/store/detail/pg_statements.hpp"

namespace herald::store::detail {

namespace {

/// Starts an element of an array literal: "{" before the first, "," before the others.
void open_element(std::string& array) {
  array.push_back(array.empty() ? '{' : ',');
}

/// A bigint element; ids are uint64 stored bit-for-bit in int64, as everywhere in the store.
void append_int(std::string& array, std::int64_t value) {
  open_element(array);
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  array.append(digits, end);
}

/// A text element: double-quoted, with `"` and `\` backslash-escaped (the array literal
/// syntax); every other byte, braces and commas included, goes in unchanged.
void append_text(std::string& array, const std::string& text) {
  open_element(array);
  array.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') {
      array.push_back('\\');
    }
    array.push_back(c);
  }
  array.push_back('"');
}

/// A text element of space-separated decimal ids (the mentions columns); only digits and
/// spaces, but quoted so that an empty list is an empty string and never NULL.
void append_ids(std::string& array, const std::vector<snowflake>& ids) {
  open_element(array);
  array.push_back('"');
  bool first = true;
  for (snowflake value : ids) {
    if (!first) {
      array.push_back(' ');
    }
    first = false;
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    array.append(digits, end);
  }
  array.push_back('"');
}

std::int64_t id(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}

/// The finished literal of a column: its elements and the closing brace.
const std::string& closed(std::string& array) {
  array.push_back('}');
  return array;
}

}  // namespace

const char* pg_message_rows::sql() {
  return "INSERT INTO messages(id, channel_id, guild_id, author_id, content, created_at, "
         "edited_at, deleted, mentions, mention_roles, mention_everyone) "
         "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], "
         "$5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], "
         "$11::bigint[])";
}

result<void> pg_message_rows::add(const domain::message& m) {
  if (m.content_.find('\0') != std::string::npos) {
    return store_error{store_errc::invalid_argument,
                       "message content holds a NUL byte, which PostgreSQL text cannot store"};
  }
  append_int(ids_, id(m.id_));
  append_int(channel_ids_, id(m.channel_id_));
  append_int(guild_ids_, id(m.guild_id_));
  append_int(author_ids_, id(m.author_id_));
  append_text(contents_, m.content_);
  append_int(created_at_, m.created_at_);
  append_int(edited_at_, m.edited_at_);
  append_int(deleted_, m.deleted_ ? 1 : 0);
  append_ids(mentions_, m.mentions_);
  append_ids(mention_roles_, m.mention_roles_);
  append_int(mention_everyone_, m.mention_everyone_ ? 1 : 0);
  ++rows_;
  return {};
}

void pg_message_rows::flush(pqxx::transaction_base& tx) {
  if (rows_ == 0) {
    return;
  }
  struct clear_at_exit {
    pg_message_rows& rows;
    ~clear_at_exit() { rows.clear(); }  // thrown or not: the rows are gone with the statement
  } clear_rows{*this};
  tx.exec_prepared(pg::insert_messages, closed(ids_), closed(channel_ids_), closed(guild_ids_),
                   closed(author_ids_), closed(contents_), closed(created_at_), closed(edited_at_),
                   closed(deleted_), closed(mentions_), closed(mention_roles_),
                   closed(mention_everyone_));
}

void pg_message_rows::clear() {
  rows_ = 0;
  for (std::string* column :
       {&ids_, &channel_ids_, &guild_ids_, &author_ids_, &contents_, &created_at_, &edited_at_,
        &deleted_, &mentions_, &mention_roles_, &mention_everyone_}) {
    column->clear();
  }
}

}  // namespace herald::store::detail
