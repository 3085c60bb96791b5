// SPDX-License-Identifier: Apache-2.0
#pragma once
// Snowflake ids (Discord layout) and the timestamp formatting that goes with them.
// A generator is owned by whoever mints ids (one per node: dispatch::services::ids); any thread
// may call next().
// Invariants: ids from one generator strictly increase, even when its clock steps back; ids of
// generators with different node ids (cluster.node_id, the 10 worker+process bits) never collide.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace herald::domain {

/// A Discord-style id: ((ms since discord_epoch_ms) << 22) | worker << 17 |
/// process << 12 | increment. Serialised as a decimal string in JSON.
using snowflake = std::uint64_t;

/// 2015-01-01T00:00:00Z in milliseconds since the Unix epoch.
inline constexpr std::int64_t discord_epoch_ms = 1420070400000;

/// Highest cluster.node_id: the node id fills the 10 bits of the worker and process fields.
inline constexpr unsigned max_node_id = 1023;

/// Milliseconds since the Unix epoch; injectable so tests control time.
using ms_clock = std::function<std::int64_t()>;

/// The wall clock (std::chrono::system_clock) in ms since the Unix epoch.
std::int64_t system_clock_ms();

/// Mints strictly increasing snowflakes. Lock-free; safe from any thread.
class snowflake_generator {
public:
  /// worker and process are 5-bit fields; larger values are masked to 5 bits.
  explicit snowflake_generator(unsigned worker = 0, unsigned process = 0,
                               ms_clock clock = system_clock_ms);

  /// A new id. When the clock reads earlier than the last id's time (clock
  /// stepped back) or the 4096 increments of one ms are used up, the id
  /// borrows the next millisecond instead of repeating or going backwards.
  snowflake next();

  /// The generator of cluster node `node_id` (0..max_node_id, larger values are masked):
  /// worker = node_id >> 5, process = node_id & 31. One per node, shared by everything that
  /// mints ids there (two generators with the same node bits could mint the same id).
  static std::shared_ptr<snowflake_generator> for_node(unsigned node_id,
                                                       ms_clock clock = system_clock_ms);

  unsigned worker() const { return worker_; }
  unsigned process() const { return process_; }
  /// worker << 5 | process: the cluster node id this generator mints for.
  unsigned node_id() const { return worker_ << 5 | process_; }

private:
  unsigned worker_;
  unsigned process_;
  ms_clock clock_;
  std::atomic<std::uint64_t> last_{0};  // last id handed out, 0 before the first
};

/// Unix-epoch milliseconds encoded in an id.
constexpr std::int64_t timestamp_ms(snowflake id) {
  return static_cast<std::int64_t>(id >> 22) + discord_epoch_ms;
}

/// The cluster node id (worker << 5 | process) encoded in an id.
constexpr unsigned node_id_of(snowflake id) {
  return static_cast<unsigned>((id >> 12) & 0x3ff);
}

/// The smallest id whose timestamp is `unix_ms` (for "before/after time" queries).
constexpr snowflake snowflake_at(std::int64_t unix_ms) {
  return static_cast<snowflake>(unix_ms - discord_epoch_ms) << 22;
}

/// Decimal text of an id, as used in JSON.
std::string format_snowflake(snowflake id);

/// Parses the decimal text of an id: digits only (1..20), no sign or space,
/// fits in 64 bits. Anything else gives nullopt.
std::optional<snowflake> parse_snowflake(std::string_view text);

/// ISO 8601 rendering as Discord sends timestamps:
/// `2026-11-27T23:36:10.123000+00:00` (UTC, microsecond field, +00:00).
std::string format_iso8601(std::int64_t unix_ms);

/// Room format_iso8601_to needs (the longest rendering, years beyond 4 digits included).
inline constexpr std::size_t iso8601_buffer_size = 48;

/// The same text as format_iso8601, written into `out` without allocating (encoders call it per
/// message); returns its length. Years 0..9999 take a hand-rolled digit path (no snprintf).
std::size_t format_iso8601_to(char (&out)[iso8601_buffer_size], std::int64_t unix_ms);

/// Parses a UTC ISO 8601 timestamp as Discord and client libraries send it
/// (`2026-11-27T23:36:10.123Z`, `…10.123000+00:00`, `…10Z`, `…10`): Unix ms, fractions past
/// milliseconds dropped. Other zones, dates or forms give nullopt.
std::optional<std::int64_t> parse_iso8601(std::string_view text);

}  // namespace herald::domain
