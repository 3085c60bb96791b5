// SPDX-License-Identifier: Apache-2.0
// Clients that misuse the gateway's transport over real loopback sockets (issue #10 item 6):
// a client behind its queue bound (the slow-consumer close must reach it), and a ping flood
// (counted by the frame rate limit).

#include <atomic>
#include <thread>

#include "runtime/metrics/metrics.hpp"
#include "test/actors/gateway/gateway_fixture.hpp"
#include "test/support/raw_ws_client.hpp"

namespace {

using namespace herald;
using namespace herald::gateway_test;

double closes_with(const std::string& code) {
  return metrics::registry::global().value_of("herald_gateway_closes_total", {{"code", code}});
}

}  // namespace

// Regression: the 4000 close frame was queued behind the backlog the connection's writer
// held (up to the queue bound; a Resume replay, here 2 MB): a client reading slower than that
// backlog within the close timeout never saw the close code (1006), and lost those frames
// with the TCP connection.
TEST_CASE("a_client_behind_its_queue_bound_gets_the_4000_close_next_and_resumes_exactly") {
  auto dc = gateway_dispatch_config();
  dc.session_limits.queue_max_bytes = 256u << 10;
  dc.session_limits.resume_max_bytes = 8u << 20;
  // Close timeout 1 s; the server's socket buffers 64 KiB (loopback's autotuned 4 MiB would
  // hold the whole backlog in the kernel, where no close frame can overtake it).
  gateway_env g{gateway::gateway_options{}, dc, std::chrono::seconds{1}, 32 << 10};
  auto a = g.client();
  a->login(bob_token, 1);
  auto sid = a->session_id();
  a->drop();
  REQUIRE(eventually([&] { return g.gateway->connections() == 0; }));
  const std::string content(50000, 'x');
  std::vector<uint64_t> ids;
  for (int i = 0; i < 40; ++i) {  // 2 MB held for Resume while nobody is connected
    ids.push_back(g.post(content));
  }
  // The client resumes and reads nothing: the replay (one batch) fills the kernel's buffers
  // and waits in the writer; 6 more frames pass the queue bound.
  auto b = g.client("/?v=10&encoding=json", 4096);
  REQUIRE(b->next_op(10));
  b->set_last_seq(a->last_seq());
  b->resume(bob_token, sid, a->last_seq());
  double before = closes_with("4000");
  for (int i = 0; i < 20 && closes_with("4000") == before; ++i) {
    ids.push_back(g.post(content));
  }
  REQUIRE(closes_with("4000") == before + 1);
  // Now it reads, about 500 KB/s: the 2 MB backlog would take it 4 s, twice the close
  // timeout; the close frame comes right after the kernel's 64 KiB and one frame.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!b->close_code() && std::chrono::steady_clock::now() < deadline && b->next(10s)) {
    std::this_thread::sleep_for(100ms);
  }
  INFO("read " << b->frames().size() << " frames after resuming");
  REQUIRE(b->close_code() == 4000);
  REQUIRE(b->seq_errors().empty());
  // The frames it was not sent are still held: a Resume replays them exactly.
  auto c = g.client();
  REQUIRE(c->next_op(10));
  c->set_last_seq(b->last_seq());
  c->resume(bob_token, sid, b->last_seq());
  REQUIRE(c->next_op(0, "RESUMED", 30s));  // b's, replayed: a dispatch with its own seq
  REQUIRE(c->next_op(0, "RESUMED", 30s));  // c's
  REQUIRE(c->seq_errors().empty());
  std::vector<uint64_t> got;
  for (const auto* cl : {a.get(), b.get(), c.get()}) {
    for (const auto& f : cl->frames()) {
      if (f["t"] == "MESSAGE_CREATE") {
        got.push_back(std::stoull(f["d"]["id"].get<std::string>()));
      }
    }
  }
  INFO("got " << got.size() << " of " << ids.size() << " messages");
  CHECK(got == ids);
}

// Regression: WebSocket pings were not counted, so 100,000 pings from a client that never
// read its pongs kept the connection open (and, before pongs were coalesced, grew memory).
TEST_CASE("a_ping_flood_is_counted_by_the_frame_rate_limit_and_closed_4008") {
  gateway_env g;
  double before = closes_with("4008");
  testing::raw_ws c{g.port()};
  // The server's answers, read by another thread: what matters is what it sent, not when.
  std::string got;
  std::thread reader([&] { got = c.read_to_end(); });
  const std::string ping = testing::client_frame(0x9, std::string(125, 'p'));
  std::string burst;
  for (int i = 0; i < 1000; ++i) {
    burst += ping;
  }
  int sent = 0;
  while (sent < 100000 && c.try_write(burst)) {
    sent += 1000;  // the server drops the connection once its close timeout ends
  }
  reader.join();
  std::vector<testing::server_frame> frames;
  REQUIRE(testing::parse_server_frames(got, frames));
  REQUIRE(frames.size() >= 2);
  CHECK(frames.front().opcode == 1);  // Hello
  size_t pongs = 0;
  for (const auto& f : frames) {
    pongs += f.opcode == 0xA ? 1 : 0;
  }
  // 120 frames a window: at most 120 pings answered (fewer when pongs coalesced).
  CHECK(pongs <= 120);
  CHECK(frames.back().opcode == 8);
  CHECK(frames.back().payload == testing::close_payload(4008));
  CHECK(closes_with("4008") == before + 1);
}
