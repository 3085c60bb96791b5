// SPDX-License-Identifier: Apache-2.0
// The outbound buffer holds references to shared tails: the seq is spliced in
// front only at collect, tails are released on eviction, replay is exact.
#include "actors/outbound/outbound_buffer.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "test/actors/outbound/outbound_test_support.hpp"

using namespace herald::session;
using herald::session::test::frame;
using herald::session::test::null_listener;

TEST_CASE("two_sessions_reference_one_tail_and_get_their_own_seq_spliced_at_collect") {
  outbound_limits limits;
  shared_tail tail{R"(,"t":"MESSAGE_CREATE","d":{"content":"hi"}})"};
  outbound_buffer a{&limits};
  outbound_buffer b{&limits};
  b.append_dispatch(R"(,"t":"X","d":{}})");  // b is one seq ahead
  CHECK(a.append_shared(tail) == 1);
  CHECK(b.append_shared(tail) == 2);
  CHECK(tail.use_count() == 3);
  null_listener la;
  null_listener lb;
  a.attach(&la);
  b.attach(&lb);
  outbound_batch ba;
  outbound_batch bb;
  REQUIRE(a.collect(ba) == 1);
  REQUIRE(b.collect(bb) == 2);
  CHECK(ba.prefix(0) == R"({"op":0,"s":1)");
  CHECK(bb.prefix(1) == R"({"op":0,"s":2)");
  // No copy: both batches point at the shared bytes themselves.
  CHECK(ba.tail(0).data() == tail.view().data());
  CHECK(bb.tail(1).data() == tail.view().data());
  std::vector<std::string> pieces;
  bb.for_each_frame([&](std::string_view prefix, std::string_view t) {
    pieces.emplace_back(prefix);
    pieces.emplace_back(t);
  });
  REQUIRE(pieces.size() == 4);
  CHECK(pieces[2] + pieces[3] == frame(2, tail.view()));
  CHECK(ba.bytes() == frame(1, tail.view()).size());
  CHECK(tail.use_count() == 5);  // 2 buffers + 2 batches + the handle
  ba.clear();
  bb.clear();
  CHECK(tail.use_count() == 3);
  a.detach();
  b.detach();
}

TEST_CASE("evicted_frames_release_their_tail_and_the_memory_bounds_count_prefix_plus_tail") {
  outbound_limits limits;
  limits.resume_max_frames = 3;
  shared_tail tail{R"(,"t":"X","d":{"n":1}})"};
  {
    outbound_buffer buf{&limits};
    for (int i = 0; i < 10; ++i) {
      buf.append_shared(tail);
    }
    CHECK(buf.held_frames() == 3);
    CHECK(tail.use_count() == 4);  // the 3 held frames + the handle
    CHECK(buf.held_bytes() == frame(8, tail.view()).size() + frame(9, tail.view()).size() +
                                  frame(10, tail.view()).size());
    CHECK(buf.first_held_seq() == 8);
  }
  CHECK(tail.use_count() == 1);  // destroying the buffer released the rest
}

TEST_CASE("a_tail_outlives_its_event_while_a_buffer_still_references_it") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  {
    shared_tail tail{R"(,"t":"X","d":{"gone":true}})"};
    buf.append_shared(tail);
  }
  null_listener l;
  buf.attach(&l);
  outbound_batch batch;
  REQUIRE(buf.collect(batch) == 1);
  std::string got;
  batch.for_each_frame([&](std::string_view f) { got = std::string(f); });
  CHECK(got == frame(1, R"(,"t":"X","d":{"gone":true}})"));
  buf.detach();
}

TEST_CASE("a_resumed_connection_replays_exactly_the_frames_after_its_seq_re_spliced") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  std::vector<shared_tail> tails;
  for (int i = 1; i <= 12; ++i) {
    tails.emplace_back(",\"t\":\"X\",\"d\":{\"i\":" + std::to_string(i) + "}}");
    buf.append_shared(tails.back());
  }
  null_listener first;
  buf.attach(&first);
  outbound_batch seen;
  REQUIRE(buf.collect(seen) == 12);
  buf.detach();
  null_listener second;
  REQUIRE(buf.attach_resumed(&second, 7) == resume_status::ok);
  outbound_batch replay;
  REQUIRE(buf.collect(replay) == 5);
  CHECK(replay.first_seq() == 8);
  std::vector<std::string> frames;
  replay.for_each_frame([&](std::string_view f) { frames.emplace_back(f); });
  REQUIRE(frames.size() == 5);
  for (size_t k = 0; k < 5; ++k) {
    CHECK(frames[k] == frame(8 + k, tails[7 + k].view()));
  }
  buf.detach();
}

TEST_CASE("a_writer_adopting_counted_references_consumes_them_even_when_the_buffer_is_closed") {
  outbound_limits limits;
  shared_tail tail{R"(,"t":"X","d":{}})"};
  outbound_buffer open_buf{&limits};
  outbound_buffer closed_buf{&limits};
  closed_buf.close();
  retain_tail(tail.block(), 2);
  {
    outbound_buffer::writer w{open_buf};
    CHECK(w.append_counted(tail.block()) == 1);
  }
  {
    outbound_buffer::writer w{closed_buf};
    CHECK(w.append_counted(tail.block()) == 0);
  }
  CHECK(tail.use_count() == 2);  // the handle + open_buf's frame
}

TEST_CASE("tails_that_fit_a_pool_class_come_from_the_chunk_pool_and_keep_their_bytes") {
  // 1024-byte blocks: 768..1024 bytes with the header waste at most a quarter of the block.
  CHECK(tail_block_pooled(1024 - sizeof(tail_block)));
  CHECK(tail_block_pooled(768 - sizeof(tail_block)));
  CHECK_FALSE(tail_block_pooled(767 - sizeof(tail_block)));
  CHECK_FALSE(tail_block_pooled(100));
  CHECK_FALSE(tail_block_pooled(size_t{1} << 20));
  for (size_t size : {size_t{100}, size_t{900}, size_t{1500}, size_t{5000}, size_t{70000}}) {
    INFO(size);
    std::string text(size, 'x');
    text.front() = ',';
    text.back() = '}';
    shared_tail a{text};
    shared_tail copy = a;
    CHECK(a.use_count() == 2);
    CHECK(copy.view() == text);
    a = shared_tail{};
    CHECK(copy.use_count() == 1);
    CHECK(copy.view() == text);
  }
}
