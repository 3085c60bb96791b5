// SPDX-License-Identifier: Apache-2.0
// The outbound buffer's slotted chunk storage, snapshot frames, closing and
// batched writes, checked against a simple model.
#include "actors/outbound/outbound_buffer.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "test/actors/outbound/outbound_test_support.hpp"

using namespace herald::session;
using herald::session::test::frame;
using herald::session::test::null_listener;

namespace {

std::vector<std::string> frames_of(const outbound_batch& batch) {
  std::vector<std::string> out;
  batch.for_each_frame([&](std::string_view f) { out.emplace_back(f); });
  return out;
}

const std::string ready_tail = R"(,"t":"READY","d":{"v":10}})";
const std::string guild_create_tail = R"(,"t":"GUILD_CREATE","d":{"id":"1"}})";

}  // namespace

TEST_CASE("collected_ready_and_guild_create_frames_are_released_and_an_idle_buffer_holds_nothing") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  REQUIRE(buf.append_dispatch(ready_tail) == 1);
  REQUIRE(buf.append_snapshot(guild_create_tail) == 2);
  REQUIRE(buf.append_snapshot(guild_create_tail) == 3);
  null_listener l;
  buf.attach(&l);
  outbound_batch batch;
  REQUIRE(buf.collect(batch) == 3);
  CHECK(frames_of(batch) == std::vector<std::string>{frame(1, ready_tail),
                                                     frame(2, guild_create_tail),
                                                     frame(3, guild_create_tail)});
  CHECK(buf.held_frames() == 0);
  CHECK(buf.held_bytes() == 0);
  CHECK(buf.first_held_seq() == 4);
  CHECK(buf.last_seq() == 3);
  buf.detach();
  // A client that lost them cannot resume from before them; at the last seq it can.
  CHECK(buf.attach_resumed(&l, 0) == resume_status::too_old);
  CHECK(buf.attach_resumed(&l, 2) == resume_status::too_old);
  REQUIRE(buf.attach_resumed(&l, 3) == resume_status::ok);
  REQUIRE(buf.append_dispatch(",\"t\":\"X\",\"d\":{}}") == 4);
  outbound_batch later;
  REQUIRE(buf.collect(later) == 1);
  CHECK(frames_of(later) == std::vector<std::string>{frame(4, ",\"t\":\"X\",\"d\":{}}")});
  CHECK(buf.held_frames() == 1);  // ordinary frames stay for resume
  // The released frames' bytes stay valid in the batch that holds them.
  CHECK(frames_of(batch).front() == frame(1, ready_tail));
}

TEST_CASE(
    "snapshot_frames_are_kept_until_collected_and_a_guild_create_after_an_event_is_replayable") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  buf.append_dispatch(ready_tail);
  buf.append_dispatch(",\"t\":\"X\",\"d\":{}}");
  buf.append_snapshot(guild_create_tail);
  CHECK(buf.held_frames() == 3);  // nothing collected: all kept
  null_listener l;
  buf.attach(&l);
  outbound_batch batch;
  REQUIRE(buf.collect(batch) == 3);
  CHECK(buf.held_frames() == 2);  // only the leading READY was a snapshot
  CHECK(buf.first_held_seq() == 2);
}

TEST_CASE("a_ready_that_is_not_the_first_frame_or_a_first_frame_that_is_not_ready_is_kept") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  buf.append_dispatch(",\"t\":\"X\",\"d\":{}}");
  buf.append_dispatch(ready_tail);
  null_listener l;
  buf.attach(&l);
  outbound_batch batch;
  REQUIRE(buf.collect(batch) == 2);
  CHECK(buf.held_frames() == 2);
}

TEST_CASE("a_closed_buffer_refuses_appends_and_keeps_what_it_held_collectable") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  buf.append_dispatch(",\"t\":\"X\",\"d\":{}}");
  CHECK_FALSE(buf.closed());
  buf.close();
  CHECK(buf.closed());
  CHECK(buf.append_dispatch(",\"t\":\"Y\",\"d\":{}}") == 0);
  {
    outbound_buffer::writer w{buf};
    CHECK(w.append(",\"t\":\"Y\",\"d\":{}}") == 0);
  }
  CHECK(buf.last_seq() == 1);
  null_listener l;
  buf.attach(&l);
  outbound_batch batch;
  CHECK(buf.collect(batch) == 1);
}

TEST_CASE("a_writer_appends_several_frames_under_one_lock_with_consecutive_seqs") {
  outbound_limits limits;
  outbound_buffer buf{&limits};
  {
    outbound_buffer::writer w{buf};
    CHECK(w.append(",\"t\":\"A\",\"d\":{}}") == 1);
    CHECK(w.append(",\"t\":\"B\",\"d\":{}}") == 2);
  }
  CHECK(buf.append_dispatch(",\"t\":\"C\",\"d\":{}}") == 3);
  null_listener l;
  buf.attach(&l);
  outbound_batch batch;
  REQUIRE(buf.collect(batch) == 3);
  CHECK(frames_of(batch)[1] == frame(2, ",\"t\":\"B\",\"d\":{}}"));
}

// Random appends of random sizes (across many small chunks), collects,
// detaches and resumes at random points, under tight bounds, against a model
// of which frames must be held. ASan checks every chunk's lifetime.
TEST_CASE("random_appends_collects_evictions_and_resumes_match_a_model_of_the_held_frames") {
  outbound_limits limits;
  limits.first_chunk_bytes = 48;
  limits.resume_max_frames = 12;
  limits.resume_max_bytes = 900;
  limits.queue_max_frames = 10;
  limits.queue_max_bytes = 700;
  std::mt19937 rng{12345};
  for (int round = 0; round < 20; ++round) {
    outbound_buffer buf{&limits};
    std::deque<std::pair<uint64_t, std::string>> model;  // held frames
    uint64_t next = 1;
    uint64_t collected_to = 1;  // next seq the attached connection collects
    bool attached = false;
    bool doomed = false;  // overflowed
    null_listener l;
    std::vector<std::unique_ptr<outbound_batch>> kept;  // batches held across evictions
    for (int step = 0; step < 400; ++step) {
      int op = static_cast<int>(rng() % 10);
      if (op < 6) {
        std::string tail =
            ",\"d\":\"" + std::string(rng() % 300, static_cast<char>('a' + step % 26)) + "\"}";
        REQUIRE(buf.append_dispatch(tail) == next);
        model.emplace_back(next, frame(next, tail));
        ++next;
        uint64_t bytes = 0;
        for (const auto& f : model) {
          bytes += f.second.size();
        }
        while (model.size() > limits.resume_max_frames ||
               (bytes > limits.resume_max_bytes && model.size() > 1)) {
          bytes -= model.front().second.size();
          model.pop_front();
        }
        if (attached && !model.empty() && model.front().first > collected_to) {
          doomed = true;  // a frame was evicted before it was collected
        }
        if (attached && (next - collected_to > limits.queue_max_frames)) {
          doomed = true;
        }
      } else if (op < 8 && attached) {
        auto batch = std::make_unique<outbound_batch>();
        uint32_t n = buf.collect(*batch);
        if (doomed || buf.overflowed()) {
          doomed = true;
          CHECK(n == 0);
          continue;
        }
        REQUIRE(n == next - collected_to);
        auto got = frames_of(*batch);
        for (size_t i = 0; i < got.size(); ++i) {
          uint64_t seq = collected_to + i;
          REQUIRE(seq >= model.front().first);
          CHECK(got[i] == model[seq - model.front().first].second);
        }
        collected_to = next;
        if (rng() % 3 == 0) {
          kept.push_back(std::move(batch));
        }
      } else if (op == 8 && attached) {
        buf.detach();
        attached = false;
      } else if (!attached) {
        uint64_t first = model.empty() ? next : model.front().first;
        uint64_t lo = first > 2 ? first - 2 : 0;  // may be too old or one past the end
        uint64_t last = lo + rng() % (next - lo + 1);
        auto status = buf.attach_resumed(&l, last);
        if (last >= next) {
          CHECK(status == resume_status::seq_never_sent);
        } else if (last + 1 < first) {
          CHECK(status == resume_status::too_old);
        } else {
          REQUIRE(status == resume_status::ok);
          attached = true;
          doomed = false;
          collected_to = last + 1;
        }
      }
      REQUIRE(buf.held_frames() == model.size());
      REQUIRE(buf.first_held_seq() == (model.empty() ? next : model.front().first));
    }
    for (const auto& b : kept) {
      auto got = frames_of(*b);
      REQUIRE(got.size() == b->frames());
      for (size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].rfind("{\"op\":0,\"s\":" + std::to_string(b->first_seq() + i) + ",", 0) == 0);
      }
    }
  }
}
