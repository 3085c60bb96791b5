// SPDX-License-Identifier: Apache-2.0
#include "tools/herald-bench/bench_client.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

namespace herald::bench {

namespace asio = boost::asio;

bool find_uint(std::string_view text, std::string_view key, uint64_t& out) {
  auto at = text.find(key);
  if (at == std::string_view::npos) {
    return false;
  }
  const char* begin = text.data() + at + key.size();
  auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), out);
  return ec == std::errc{} && ptr != begin;
}

std::string identify_frame(const std::string& token, const std::string& client) {
  nlohmann::json identify = {
      {"op", 2},
      {"d",
       {{"token", token},
        {"intents", bot_intents},
        {"properties", {{"os", "linux"}, {"browser", client}, {"device", client}}}}}};
  return identify.dump();
}

std::string resume_frame(const std::string& token, const std::string& session_id, uint64_t seq) {
  nlohmann::json resume = {{"op", 6},
                           {"d", {{"token", token}, {"session_id", session_id}, {"seq", seq}}}};
  return resume.dump();
}

std::string heartbeat_frame(uint64_t seq) {
  return "{\"op\":1,\"d\":" + std::to_string(seq) + "}";
}

uint64_t heartbeat_interval_of(std::string_view hello, uint64_t fallback) {
  auto parsed = nlohmann::json::parse(hello, nullptr, false);
  if (parsed.is_discarded() || !parsed["d"].contains("heartbeat_interval")) {
    return fallback;
  }
  return parsed["d"]["heartbeat_interval"].get<uint64_t>();
}

void follow_seq(std::string_view dispatch, uint64_t& last_s, size_t& gaps) {
  uint64_t s = 0;
  if (find_uint(dispatch, "\"s\":", s)) {
    if (s != last_s + 1) {
      ++gaps;
    }
    last_s = s;
  }
}

bool is_dispatch(std::string_view dispatch, std::string_view type) {
  std::string key = "\"t\":\"";
  key.append(type).push_back('"');
  return dispatch.find(key) != std::string_view::npos;
}

namespace {

void raise_file_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

void run_worker_loop(asio::io_context& io, const worker_loop& loop) {
  signal(SIGPIPE, SIG_IGN);  // a closed orchestrator pipe or socket is an error, not a death
  raise_file_limit();
  std::thread stdin_reader{[&] {
    std::string line;
    while (std::getline(std::cin, line) && loop.on_line(line)) {
    }
    asio::post(io, [&] { loop.on_stdin_end(); });
  }};
  stdin_reader.detach();
  asio::steady_timer deadline{io, std::chrono::seconds{loop.timeout_s}};
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) {
      std::fprintf(stderr, "%s: timed out after %zu s\n", loop.name.c_str(), loop.timeout_s);
      loop.on_timeout();
    }
  });
  asio::post(io, [&] { loop.begin(); });
  io.run();
  std::fflush(stdout);
  std::_Exit(0);  // the stdin reader may still block in getline
}

}  // namespace herald::bench
