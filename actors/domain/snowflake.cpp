// SPDX-License-Identifier: Apache-2.0
#include "actors/domain/snowflake.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>

namespace herald::domain {

namespace {

constexpr std::uint64_t increment_mask = 0xfff;

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm); avoids
// gmtime, which is neither thread-safe nor defined for every time_t.
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) {
    ++y;
  }
}

// A civil date to days since 1970-01-01 (the inverse of civil_from_days).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

}  // namespace

std::int64_t system_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

snowflake_generator::snowflake_generator(unsigned worker, unsigned process, ms_clock clock)
    : worker_(worker & 0x1f), process_(process & 0x1f), clock_(std::move(clock)) {}

std::shared_ptr<snowflake_generator> snowflake_generator::for_node(unsigned node_id,
                                                                   ms_clock clock) {
  node_id &= max_node_id;
  return std::make_shared<snowflake_generator>(node_id >> 5, node_id & 0x1f, std::move(clock));
}

snowflake snowflake_generator::next() {
  const std::uint64_t node_bits = (std::uint64_t{worker_} << 17) | (std::uint64_t{process_} << 12);
  std::int64_t since_epoch = clock_() - discord_epoch_ms;
  if (since_epoch < 0) {
    since_epoch = 0;
  }
  const std::uint64_t from_clock = (static_cast<std::uint64_t>(since_epoch) << 22) | node_bits;
  std::uint64_t last = last_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint64_t candidate = from_clock;
    if (candidate <= last) {
      // Same or earlier ms than the last id: take the next increment, and when
      // the 12-bit increment is exhausted move to the next ms (never carry
      // into the worker/process bits).
      candidate = (last & increment_mask) == increment_mask ? (((last >> 22) + 1) << 22) | node_bits
                                                            : last + 1;
    }
    if (last_.compare_exchange_weak(last, candidate, std::memory_order_relaxed)) {
      return candidate;
    }
  }
}

std::string format_snowflake(snowflake id) {
  return std::to_string(id);
}

std::optional<snowflake> parse_snowflake(std::string_view text) {
  if (text.empty() || text.size() > 20) {
    return std::nullopt;
  }
  snowflake value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const auto digit = static_cast<snowflake>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  return value;
}

namespace {

// Writes `value` as exactly `width` decimal digits (zero-padded) at `out`.
char* put_digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

}  // namespace

std::size_t format_iso8601_to(char (&out)[iso8601_buffer_size], std::int64_t unix_ms) {
  const std::int64_t days = floor_div(unix_ms, 86400000);
  const std::int64_t ms_of_day = unix_ms - days * 86400000;
  std::int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  civil_from_days(days, year, month, day);
  const auto hour = static_cast<unsigned>(ms_of_day / 3600000);
  const auto minute = static_cast<unsigned>(ms_of_day / 60000 % 60);
  const auto second = static_cast<unsigned>(ms_of_day / 1000 % 60);
  const auto millis = static_cast<unsigned>(ms_of_day % 1000);
  if (year < 0 || year > 9999) {
    // Outside what Discord clients ever see: the general (slow) path keeps the old rendering.
    int n = std::snprintf(out, sizeof out, "%04lld-%02u-%02uT%02u:%02u:%02u.%03u000+00:00",
                          static_cast<long long>(year), month, day, hour, minute, second, millis);
    return n < 0 ? 0 : std::min<std::size_t>(static_cast<std::size_t>(n), sizeof out - 1);
  }
  char* p = put_digits(out, static_cast<unsigned>(year), 4);
  *p++ = '-';
  p = put_digits(p, month, 2);
  *p++ = '-';
  p = put_digits(p, day, 2);
  *p++ = 'T';
  p = put_digits(p, hour, 2);
  *p++ = ':';
  p = put_digits(p, minute, 2);
  *p++ = ':';
  p = put_digits(p, second, 2);
  *p++ = '.';
  p = put_digits(p, millis, 3);
  static constexpr char tail[] = "000+00:00";
  for (char c : std::string_view{tail}) {
    *p++ = c;
  }
  *p = '\0';
  return static_cast<std::size_t>(p - out);
}

std::string format_iso8601(std::int64_t unix_ms) {
  char buf[iso8601_buffer_size];
  return std::string(buf, format_iso8601_to(buf, unix_ms));
}

std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int used = 0;
  const std::string head{text.substr(0, 19)};
  if (std::sscanf(head.c_str(), "%4u-%2u-%2uT%2u:%2u:%2u%n", &year, &month, &day, &hour, &minute,
                  &second, &used) != 6 ||
      used != 19 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  std::int64_t ms = 0;
  size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    int digits = 0;
    while (++i < text.size() && text[i] >= '0' && text[i] <= '9') {
      ms = digits++ < 3 ? ms * 10 + (text[i] - '0') : ms;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (; digits < 3; ++digits) {
      ms *= 10;
    }
  }
  const auto zone = text.substr(i);
  if (!zone.empty() && zone != "Z" && zone != "+00:00") {
    return std::nullopt;
  }
  return days_from_civil(year, month, day) * 86400000 +
         ((hour * 60 + minute) * 60 + second) * std::int64_t{1000} + ms;
}

}  // namespace herald::domain
