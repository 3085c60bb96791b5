// SPDX-License-Identifier: Apache-2.0
#include "actors/outbound/outbound_buffer.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace herald::session;

namespace {

struct recording_listener : outbound_listener {
  std::atomic<int> ready{0};
  std::atomic<int> overflows{0};
  void on_frames_ready() noexcept override { ++ready; }
  void on_overflow() noexcept override { ++overflows; }
};

std::string tail_for(int i) {
  return ",\"t\":\"X\",\"d\":{\"i\":" + std::to_string(i) + "}}";
}

std::string concat(const outbound_batch& b) {
  std::string out;
  b.for_each_frame([&](std::string_view f) { out.append(f); });
  return out;
}

std::string frame(uint64_t seq, int i) {
  return "{\"op\":0,\"s\":" + std::to_string(seq) + tail_for(i);
}

}  // namespace

TEST_CASE("dispatch_frames_carry_gapless_seqs_spliced_before_the_shared_tail") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  recording_listener l;
  buf.attach(&l);
  for (int i = 1; i <= 3; ++i) {
    CHECK(buf.append_dispatch(tail_for(i)) == static_cast<uint64_t>(i));
  }
  outbound_batch batch;
  CHECK(buf.collect(batch) == 3);
  CHECK(batch.first_seq() == 1);
  CHECK(concat(batch) == frame(1, 1) + frame(2, 2) + frame(3, 3));
  CHECK(l.ready == 1);  // one edge, not one call per frame
}

TEST_CASE("frames_written_before_a_fresh_attach_are_collected_from_seq_1") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  buf.append_dispatch(tail_for(1));
  recording_listener l;
  buf.attach(&l);
  CHECK(l.ready == 1);
  outbound_batch batch;
  CHECK(buf.collect(batch) == 1);
  CHECK(concat(batch) == frame(1, 1));
}

TEST_CASE("resume_replays_exactly_the_frames_after_the_clients_seq") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  recording_listener first;
  buf.attach(&first);
  for (int i = 1; i <= 5; ++i) {
    buf.append_dispatch(tail_for(i));
  }
  outbound_batch seen;
  buf.collect(seen);
  buf.detach();
  for (int i = 6; i <= 8; ++i) {
    buf.append_dispatch(tail_for(i));  // missed while disconnected
  }
  recording_listener second;
  REQUIRE(buf.attach_resumed(&second, 3) == resume_status::ok);
  outbound_batch replay;
  CHECK(buf.collect(replay) == 5);
  CHECK(replay.first_seq() == 4);
  CHECK(concat(replay) == frame(4, 4) + frame(5, 5) + frame(6, 6) + frame(7, 7) + frame(8, 8));
}

TEST_CASE("resume_with_a_seq_never_sent_is_refused_as_such") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  buf.append_dispatch(tail_for(1));
  recording_listener l;
  CHECK(buf.attach_resumed(&l, 2) == resume_status::seq_never_sent);
  CHECK(buf.attach_resumed(&l, 1) == resume_status::ok);
}

TEST_CASE("resume_after_the_missed_frames_were_evicted_is_refused_as_too_old") {
  outbound_limits limits;
  limits.resume_max_frames = 4;
  outbound_buffer buf{&limits};
  for (int i = 1; i <= 10; ++i) {
    buf.append_dispatch(tail_for(i));
  }
  CHECK(buf.held_frames() == 4);
  CHECK(buf.first_held_seq() == 7);
  recording_listener l;
  CHECK(buf.attach_resumed(&l, 5) == resume_status::too_old);
  CHECK(buf.attach_resumed(&l, 6) == resume_status::ok);
}

TEST_CASE("a_detached_sessions_memory_stays_within_the_resume_byte_bound") {
  outbound_limits limits;
  limits.resume_max_bytes = 4096;
  outbound_buffer buf{&limits};
  std::string big_tail = ",\"d\":\"" + std::string(300, 'x') + "\"}";
  for (int i = 0; i < 10000; ++i) {
    buf.append_dispatch(big_tail);
    REQUIRE(buf.held_bytes() <= limits.resume_max_bytes);
  }
  CHECK(buf.last_seq() == 10000);
}

TEST_CASE("a_connection_that_stops_collecting_overflows_once_and_stops_receiving") {
  outbound_limits limits;
  limits.queue_max_frames = 8;
  outbound_buffer buf{&limits};
  recording_listener l;
  buf.attach(&l);
  for (int i = 1; i <= 20; ++i) {
    buf.append_dispatch(tail_for(i));
  }
  CHECK(l.overflows == 1);
  CHECK(buf.overflowed());
  outbound_batch batch;
  CHECK(buf.collect(batch) == 0);  // the connection is doomed; frames wait for resume
  buf.detach();
  recording_listener resumed;
  REQUIRE(buf.attach_resumed(&resumed, 0) == resume_status::ok);
  CHECK(buf.collect(batch) == 20);
}

TEST_CASE("the_queue_byte_bound_also_overflows_a_slow_connection") {
  outbound_limits limits;
  limits.queue_max_bytes = 1000;
  outbound_buffer buf{&limits};
  recording_listener l;
  buf.attach(&l);
  std::string tail = ",\"d\":\"" + std::string(200, 'y') + "\"}";
  for (int i = 0; i < 10; ++i) {
    buf.append_dispatch(tail);
  }
  CHECK(l.overflows == 1);
}

TEST_CASE("a_collected_batch_stays_readable_after_its_frames_are_evicted") {
  outbound_limits limits;
  limits.resume_max_frames = 2;
  limits.queue_max_frames = 2;
  outbound_buffer buf{&limits};
  recording_listener l;
  buf.attach(&l);
  buf.append_dispatch(tail_for(1));
  buf.append_dispatch(tail_for(2));
  outbound_batch batch;
  buf.collect(batch);
  for (int i = 3; i <= 50; ++i) {
    buf.append_dispatch(tail_for(i));
    outbound_batch later;
    buf.collect(later);  // keep the connection up to date so it never overflows
  }
  CHECK(l.overflows == 0);
  CHECK(concat(batch) == frame(1, 1) + frame(2, 2));  // ASan guards the chunk lifetime
}

TEST_CASE("concurrent_writers_and_a_collector_see_every_seq_exactly_once_in_order") {
  outbound_limits limits;
  limits.queue_max_frames = 1u << 20;
  limits.queue_max_bytes = 1u << 30;
  limits.resume_max_frames = 1u << 20;
  limits.resume_max_bytes = 1u << 30;
  outbound_buffer buf{&limits};
  recording_listener l;
  buf.attach(&l);
  constexpr int per_writer = 20000;
  std::atomic<int> writers_done{0};
  auto writer = [&] {
    for (int i = 0; i < per_writer; ++i) {
      buf.append_dispatch(tail_for(i));
    }
    ++writers_done;
  };
  std::thread a{writer};
  std::thread b{writer};
  uint64_t expected = 1;
  bool in_order = true;
  auto drain = [&] {
    outbound_batch batch;
    buf.collect(batch);
    if (!batch.empty()) {
      in_order = in_order && batch.first_seq() == expected;
      std::string bytes = concat(batch);
      size_t from = 0;
      for (uint32_t k = 0; k < batch.frames() && in_order; ++k) {
        auto needle = "{\"op\":0,\"s\":" + std::to_string(expected + k) + ",";
        in_order = bytes.compare(from, needle.size(), needle) == 0;
        from = bytes.find("}}", from) + 2;
      }
      expected += batch.frames();
    }
  };
  while (writers_done < 2) {
    drain();
  }
  a.join();
  b.join();
  drain();
  CHECK(in_order);
  CHECK(expected == 2 * per_writer + 1);
}

TEST_CASE("a_batch_exposes_each_frames_boundaries_across_ring_growths") {
  outbound_limits limits;
  limits.first_chunk_bytes = 64;  // the smallest ring (64 entries) ...
  outbound_buffer buf{&limits};
  recording_listener listener;
  buf.attach(&listener);
  for (int i = 0; i < 200; ++i) {  // ... grows twice
    buf.append_dispatch(tail_for(i));
  }
  outbound_batch batch;
  REQUIRE(buf.collect(batch) == 200);
  std::vector<std::string> frames;
  batch.for_each_frame([&](std::string_view f) { frames.emplace_back(f); });
  REQUIRE(frames.size() == 200);
  REQUIRE(batch.frame_sizes().size() == 200);
  for (int i = 0; i < 200; ++i) {
    CHECK(frames[static_cast<size_t>(i)] == frame(static_cast<uint64_t>(i) + 1, i));
  }
}

TEST_CASE("a_migrated_buffer_continues_the_seq_and_hands_out_its_frames_after_the_clients_seq") {
  outbound_limits limits;
  limits.resume_max_frames = 4;
  outbound_buffer old_buf{&limits};
  for (int i = 1; i <= 8; ++i) {
    old_buf.append_dispatch(tail_for(i));
  }
  std::vector<shared_tail> tails;
  CHECK(old_buf.frames_after(3, tails) == resume_status::too_old);  // 4 was evicted
  CHECK(old_buf.frames_after(9, tails) == resume_status::seq_never_sent);
  CHECK(tails.empty());
  REQUIRE(old_buf.frames_after(6, tails) == resume_status::ok);
  REQUIRE(tails.size() == 2);
  CHECK(old_buf.held_frames() == 4);  // unchanged

  // The taker's buffer: its first frame gets the seq after the client's.
  outbound_buffer taken{&limits};
  taken.start_at(7);
  for (const auto& t : tails) {
    taken.append_shared(t);
  }
  taken.append_dispatch(tail_for(9));
  CHECK(taken.last_seq() == 9);
  recording_listener l;
  CHECK(taken.attach_resumed(&l, 5) == resume_status::too_old);
  REQUIRE(taken.attach_resumed(&l, 6) == resume_status::ok);
  outbound_batch replay;
  CHECK(taken.collect(replay) == 3);
  CHECK(concat(replay) == frame(7, 7) + frame(8, 8) + frame(9, 9));
}
