// SPDX-License-Identifier: Apache-2.0
// A relay link without actors (actors/relay/link_stream.hpp): link_queue sends the exporters'
// batches in arrival order with one link batch unacknowledged at a time and splits a backlog
// larger than max_link_bytes over several link batches; a link batch survives CAF's binary
// serialisation (what BASP does); split_link hands on the well-formed sections in order and
// refuses each malformed one alone; truncated input is refused by the deserializer.
#include "actors/relay/link_stream.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

using namespace herald;
using namespace herald::relay;

namespace {

/// A batch of `guild` with `n` events whose tails are `bytes` long, orders from `first`.
relay_wire::batch events_batch(uint64_t guild, uint64_t seq, uint64_t first, size_t n,
                               size_t bytes = 40) {
  relay_wire::batch b;
  b.guild_id = guild;
  b.seq = seq;
  for (size_t i = 0; i < n; ++i) {
    relay_wire::event e;
    e.guild_order = first + i;
    e.full_tail.tail = session::shared_tail{std::string(bytes, 'x')};
    e.content_begin = 0;
    e.content_end = 1;
    b.kinds.push_back(static_cast<uint8_t>(relay_wire::kind::event));
    b.events.push_back(std::move(e));
  }
  return b;
}

std::vector<char> serialise(relay_wire::link_batch lb) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE(!sink(lb));
  return buf;
}

/// (guild, first order) of each section, in order.
std::vector<std::pair<uint64_t, uint64_t>> heads(const relay_wire::link_batch& lb) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& s : lb.sections) {
    out.emplace_back(s.items.guild_id, s.items.events.empty() ? 0 : s.items.events[0].guild_order);
  }
  return out;
}

}  // namespace

TEST_CASE("a_link_queue_sends_one_link_batch_at_a_time_with_every_waiting_section_in_order") {
  link_queue q;
  q.add(11, events_batch(1, 1, 100, 2));
  auto first = q.next();
  REQUIRE(first);
  CHECK(first->seq == 1);
  CHECK(heads(*first) == std::vector<std::pair<uint64_t, uint64_t>>{{1, 100}});
  CHECK(first->sections[0].exporter_id == 11);

  // Unacknowledged: the next sections of three guilds wait, in arrival order.
  q.add(12, events_batch(2, 1, 200, 1));
  q.add(11, events_batch(1, 2, 102, 3));
  q.add(13, events_batch(3, 1, 300, 1));
  CHECK_FALSE(q.next());
  CHECK(q.waiting_sections() == 3);
  CHECK_FALSE(q.ack(2));  // not in flight
  CHECK_FALSE(q.ack(0));
  REQUIRE(q.ack(1));
  CHECK_FALSE(q.ack(1));  // once

  auto second = q.next();
  REQUIRE(second);
  CHECK(second->seq == 2);
  CHECK(heads(*second) == std::vector<std::pair<uint64_t, uint64_t>>{{2, 200}, {1, 102}, {3, 300}});
  CHECK(link_event_count(*second) == 5);
  CHECK(q.waiting_sections() == 0);
  CHECK_FALSE(q.next());
  REQUIRE(q.ack(2));
  CHECK_FALSE(q.next());  // nothing waits
}

TEST_CASE("a_backlog_larger_than_a_link_batch_leaves_in_order_over_several") {
  link_queue q;
  // Each section is about a third of max_link_bytes: three cannot share one link batch.
  auto third = max_link_bytes / 3 + 1;
  for (uint64_t g = 1; g <= 4; ++g) {
    q.add(g, events_batch(g, 1, g * 10, 1, third));
  }
  std::vector<uint64_t> guilds;
  size_t link_batches = 0;
  while (auto lb = q.next()) {
    ++link_batches;
    CHECK(link_payload_bytes(*lb) <= max_link_bytes + 64);
    for (const auto& s : lb->sections) {
      guilds.push_back(s.items.guild_id);
    }
    REQUIRE(q.ack(lb->seq));
  }
  CHECK(link_batches == 2);
  CHECK(guilds == std::vector<uint64_t>{1, 2, 3, 4});

  // One section larger than the limit still goes, alone.
  q.add(9, events_batch(9, 1, 1, 1, max_link_bytes + 1));
  q.add(10, events_batch(10, 1, 1, 1));
  auto big = q.next();
  REQUIRE(big);
  CHECK(big->sections.size() == 1);
  REQUIRE(q.ack(big->seq));
  auto rest = q.next();
  REQUIRE(rest);
  CHECK(heads(*rest) == std::vector<std::pair<uint64_t, uint64_t>>{{10, 1}});
}

TEST_CASE("a_link_batch_survives_the_wire_and_split_link_refuses_only_its_malformed_sections") {
  relay_wire::link_batch lb;
  lb.seq = 7;
  lb.sections.push_back({21, events_batch(1, 1, 100, 2)});
  auto counts_off = events_batch(2, 1, 200, 2);
  counts_off.kinds.pop_back();  // two events, one kind
  lb.sections.push_back({22, std::move(counts_off)});
  auto bad_span = events_batch(3, 4, 300, 1);
  bad_span.events[0].content_end = 1000;  // beyond its tail
  lb.sections.push_back({23, std::move(bad_span)});
  lb.sections.push_back({24, events_batch(0, 1, 400, 1)});  // no guild
  lb.sections.push_back({25, events_batch(5, 0, 500, 1)});  // no seq
  lb.sections.push_back({26, events_batch(1, 2, 102, 1)});

  auto buf = serialise(lb);
  relay_wire::link_batch got;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE(!source(got));
  CHECK(got.seq == 7);
  REQUIRE(got.sections.size() == 6);

  std::vector<std::string> seen;
  split_link(
      got,
      [&](relay_wire::link_section& s) {
        seen.push_back("ok " + std::to_string(s.exporter_id) + " " +
                       std::to_string(s.items.events.size()) + " " +
                       std::string{s.items.events[0].full_tail.view()});
      },
      [&](relay_wire::link_section& s, const std::string& why) {
        CHECK(!why.empty());
        seen.push_back("refused " + std::to_string(s.exporter_id));
      });
  std::string tail(40, 'x');
  CHECK(seen == std::vector<std::string>{"ok 21 2 " + tail, "refused 22", "refused 23",
                                         "refused 24", "refused 25", "ok 26 1 " + tail});
}

TEST_CASE("a_truncated_link_batch_is_refused_by_the_deserializer") {
  relay_wire::link_batch lb;
  lb.seq = 1;
  lb.sections.push_back({1, events_batch(1, 1, 1, 3)});
  auto buf = serialise(lb);
  for (size_t cut : {buf.size() - 1, buf.size() / 2, size_t{9}}) {
    std::vector<char> part(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(cut));
    relay_wire::link_batch got;
    caf::binary_deserializer source{nullptr, part};
    CHECK(source(got));  // an error, never a partial batch taken as whole
  }
}
