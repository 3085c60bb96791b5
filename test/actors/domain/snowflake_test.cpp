// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "actors/domain/snowflake.hpp"

using namespace herald::domain;

namespace {

// 2026-11-27T23:36:10.123Z
constexpr std::int64_t sample_ms = 1795822570123;

struct manual_clock {
  std::shared_ptr<std::int64_t> now = std::make_shared<std::int64_t>(sample_ms);
  ms_clock fn() const {
    auto p = now;
    return [p] { return *p; };
  }
};

}  // namespace

TEST_CASE("ids_carry_worker_process_increment_and_time") {
  manual_clock clock;
  snowflake_generator gen(3, 7, clock.fn());
  const snowflake id = gen.next();
  CHECK(timestamp_ms(id) == sample_ms);
  CHECK(((id >> 17) & 0x1f) == 3);
  CHECK(((id >> 12) & 0x1f) == 7);
  CHECK((id & 0xfff) == 0);
  CHECK((gen.next() & 0xfff) == 1);
}

TEST_CASE("discords_documented_example_id_decodes_to_its_documented_time") {
  // From Discord's reference: 175928847299117063 -> 2016-04-30 11:18:25.796 UTC.
  CHECK(timestamp_ms(175928847299117063ULL) == 1462015105796);
  CHECK(format_iso8601(timestamp_ms(175928847299117063ULL)) == "2016-04-30T11:18:25.796000+00:00");
}

TEST_CASE("ids_keep_increasing_when_the_clock_steps_back") {
  manual_clock clock;
  snowflake_generator gen(1, 1, clock.fn());
  const snowflake a = gen.next();
  *clock.now -= 60000;
  const snowflake b = gen.next();
  const snowflake c = gen.next();
  CHECK(a < b);
  CHECK(b < c);
  *clock.now += 120000;
  const snowflake d = gen.next();
  CHECK(c < d);
  CHECK(timestamp_ms(d) == sample_ms + 60000);
}

TEST_CASE("an_exhausted_millisecond_borrows_the_next_one_without_touching_node_bits") {
  manual_clock clock;
  snowflake_generator gen(31, 31, clock.fn());
  snowflake prev = 0;
  for (int i = 0; i < 5000; ++i) {
    const snowflake id = gen.next();
    REQUIRE(id > prev);
    REQUIRE(((id >> 12) & 0x3ff) == 0x3ff);
    prev = id;
  }
  CHECK(timestamp_ms(prev) == sample_ms + 1);
  CHECK((prev & 0xfff) == 5000 - 4096 - 1);
}

TEST_CASE("concurrent_callers_never_receive_the_same_id") {
  snowflake_generator gen(2, 3);
  constexpr int threads = 4;
  constexpr int per_thread = 20000;
  std::vector<std::vector<snowflake>> got(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      got[t].reserve(per_thread);
      for (int i = 0; i < per_thread; ++i) {
        got[t].push_back(gen.next());
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  std::vector<snowflake> all;
  for (auto& v : got) {
    CHECK(std::is_sorted(v.begin(), v.end()));
    all.insert(all.end(), v.begin(), v.end());
  }
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(all.size() == threads * per_thread);
}

TEST_CASE("ids_format_and_parse_as_decimal_strings") {
  CHECK(format_snowflake(175928847299117063ULL) == "175928847299117063");
  CHECK(parse_snowflake("175928847299117063") == 175928847299117063ULL);
  CHECK(parse_snowflake("0") == 0ULL);
  CHECK(parse_snowflake("18446744073709551615") == UINT64_MAX);
}

TEST_CASE("malformed_id_text_is_rejected") {
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "12a", "0x10", "1.5", "18446744073709551616",
                          "99999999999999999999", "100000000000000000000"}) {
    INFO(bad);
    CHECK_FALSE(parse_snowflake(bad).has_value());
  }
}

TEST_CASE("timestamps_render_like_discords_iso_8601") {
  CHECK(format_iso8601(sample_ms) == "2026-11-27T23:36:10.123000+00:00");
  CHECK(format_iso8601(0) == "1970-01-01T00:00:00.000000+00:00");
  CHECK(format_iso8601(discord_epoch_ms) == "2015-01-01T00:00:00.000000+00:00");
  CHECK(format_iso8601(951782400000) == "2000-02-29T00:00:00.000000+00:00");
  CHECK(format_iso8601(-1) == "1969-12-31T23:59:59.999000+00:00");
}

// The hand-rolled digits of format_iso8601_to against the C library's rendering, across leap
// years, century rules, every month end and every field's digit widths.
TEST_CASE("timestamps_match_the_c_librarys_calendar_from_1970_to_2400") {
  for (std::int64_t day = 0; day < 157000; day += 7) {
    for (std::int64_t ms :
         {std::int64_t{0}, std::int64_t{1}, std::int64_t{45296789}, std::int64_t{86399999}}) {
      const std::int64_t unix_ms = day * 86400000 + ms + (day % 1000);
      const time_t secs = static_cast<time_t>(unix_ms / 1000);
      std::tm tm{};
      REQUIRE(gmtime_r(&secs, &tm) != nullptr);
      char expected[64];
      std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    static_cast<int>(unix_ms % 1000));
      char buf[iso8601_buffer_size];
      const std::size_t n = format_iso8601_to(buf, unix_ms);
      INFO(unix_ms);
      REQUIRE(std::string(buf, n) == expected);
      REQUIRE(buf[n] == '\0');
    }
  }
}

TEST_CASE("timestamps_outside_four_digit_years_keep_their_rendering") {
  CHECK(format_iso8601(253402300800000) == "10000-01-01T00:00:00.000000+00:00");
  CHECK(format_iso8601(-62167219200001) == "-001-12-31T23:59:59.999000+00:00");
  CHECK(format_iso8601(253402300799999) == "9999-12-31T23:59:59.999000+00:00");
  CHECK(format_iso8601(-62167219200000) == "0000-01-01T00:00:00.000000+00:00");
}

TEST_CASE("iso_8601_timestamps_parse_back_to_their_milliseconds") {
  for (std::int64_t ms :
       {sample_ms, std::int64_t{0}, discord_epoch_ms, std::int64_t{951782400000}}) {
    CHECK(parse_iso8601(format_iso8601(ms)) == ms);
  }
  CHECK(parse_iso8601("2026-11-27T23:36:10.123Z") == sample_ms);
  CHECK(parse_iso8601("2026-11-27T23:36:10.1Z") == sample_ms - 23);
  CHECK(parse_iso8601("2026-11-27T23:36:10Z") == sample_ms - 123);
  CHECK(parse_iso8601("2026-11-27T23:36:10") == sample_ms - 123);
  CHECK(parse_iso8601("2026-11-27T23:36:10.123456789+00:00") == sample_ms);
  for (const char* bad : {"", "2026-11-27", "2026-11-27T23:36:10+01:00", "2026-13-27T23:36:10Z",
                          "2026-11-27T23:36:10.Z", "2026-11-27 23:36:10Z", "yesterday"}) {
    INFO(bad);
    CHECK_FALSE(parse_iso8601(bad));
  }
}

TEST_CASE("snowflake_at_gives_the_smallest_id_of_a_millisecond") {
  CHECK(timestamp_ms(snowflake_at(sample_ms)) == sample_ms);
  manual_clock clock;
  snowflake_generator gen(0, 0, clock.fn());
  CHECK(gen.next() == snowflake_at(sample_ms));
}

TEST_CASE("ids_minted_with_different_node_ids_never_collide") {
  // Every node mints in the same milliseconds (one shared clock) and exhausts increments, the
  // worst case for a collision; the node bits keep them apart.
  manual_clock clock;
  std::vector<snowflake> all;
  for (unsigned node : {0u, 1u, 31u, 32u, 33u, 512u, max_node_id}) {
    auto gen = snowflake_generator::for_node(node, clock.fn());
    CHECK(gen->node_id() == node);
    for (int i = 0; i < 5000; ++i) {
      auto id = gen->next();
      REQUIRE(node_id_of(id) == node);
      all.push_back(id);
    }
  }
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
}

TEST_CASE("a_node_id_fills_the_worker_and_process_fields") {
  manual_clock clock;
  auto gen = snowflake_generator::for_node(0x2a5, clock.fn());  // 1010100101
  auto id = gen->next();
  CHECK(((id >> 17) & 0x1f) == (0x2a5 >> 5));
  CHECK(((id >> 12) & 0x1f) == (0x2a5 & 0x1f));
  CHECK(snowflake_generator::for_node(max_node_id + 1, clock.fn())->node_id() == 0);
}
