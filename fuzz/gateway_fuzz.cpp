// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the Gateway v10 protocol state machine (actors/gateway/gateway_protocol) fed
// through its public API, as gateway_connection drives it, every opcode included.
// Input: lines separated by '\n'. The first line is the upgrade URL's query string
// (`v=10&encoding=json`). Every further line is one inbound text message, unless it starts
// with '!', then it is an event from the rest of the node:
//   !opened !idfail !idunavailable !resumed !resinvalid !resseq !restoken
//   !tick<ms> (advance the clock, then on_tick) !drain !overflow !closeresumable !revoked
//   !toobig !binary !badframe (transport errors) !peerclosed
// The clock advances 1 ms per line. Checks, besides the sanitizers: Hello (op 10) is the
// first frame; no action ever follows a close action; every frame sent is a JSON object
// with an integer op; Identify/Resume requests carry what the client sent; a protocol in
// state closed stays closed.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/gateway/gateway_protocol.hpp"

namespace {

using namespace herald::gateway;
using json = nlohmann::json;

struct checker {
  bool hello_seen = false;
  bool closed = false;

  void check(const actions& out, const gateway_protocol& proto) {
    for (const auto& a : out) {
      if (closed) {
        std::abort();  // an action after a close action
      }
      if (const auto* f = std::get_if<send_frame>(&a)) {
        auto frame = json::parse(f->frame, nullptr, false);
        if (!frame.is_object() || !frame.contains("op") || !frame["op"].is_number_integer()) {
          std::abort();  // the server wrote a frame clients cannot read
        }
        if (!hello_seen && frame["op"] != 10) {
          std::abort();  // Hello must be the first frame
        }
        hello_seen = true;
      } else if (const auto* o = std::get_if<open_session>(&a)) {
        if (proto.state() != protocol_state::identifying ||
            (o->request.shard && (*o->request.shard)[0] >= (*o->request.shard)[1]) ||
            o->request.large_threshold < 50 || o->request.large_threshold > 250) {
          std::abort();
        }
      } else if (std::holds_alternative<resume_session>(a)) {
        if (proto.state() != protocol_state::resuming) {
          std::abort();
        }
      } else if (std::holds_alternative<close_connection>(a)) {
        closed = true;
        if (proto.state() != protocol_state::closed) {
          std::abort();
        }
      }
    }
    if (closed && proto.state() != protocol_state::closed) {
      std::abort();  // a closed protocol came back to life
    }
  }
};

actions event(gateway_protocol& proto, std::string_view name, time_point& now) {
  if (name == "opened") {
    return proto.on_session_opened();
  }
  if (name == "idfail") {
    return proto.on_identify_failed(identify_failure::bad_token);
  }
  if (name == "idunavailable") {
    return proto.on_identify_failed(identify_failure::unavailable);
  }
  if (name == "resumed") {
    return proto.on_resumed();
  }
  if (name == "resinvalid") {
    return proto.on_resume_failed(resume_failure::invalid_session);
  }
  if (name == "resseq") {
    return proto.on_resume_failed(resume_failure::seq_never_sent);
  }
  if (name == "restoken") {
    return proto.on_resume_failed(resume_failure::bad_token);
  }
  if (name.substr(0, 4) == "tick") {
    uint64_t ms = 0;
    for (char c : name.substr(4, 9)) {
      if (c < '0' || c > '9') {
        break;
      }
      ms = ms * 10 + static_cast<uint64_t>(c - '0');
    }
    now += std::chrono::milliseconds{ms};
    return proto.on_tick(now);
  }
  if (name == "drain") {
    return proto.on_drain();
  }
  if (name == "overflow") {
    return proto.on_overflow();
  }
  if (name == "closeresumable") {
    return proto.close_resumable();
  }
  if (name == "revoked") {
    return proto.on_credentials_revoked();
  }
  if (name == "toobig") {
    return proto.on_transport_error(inbound_error::too_big);
  }
  if (name == "binary") {
    return proto.on_transport_error(inbound_error::binary);
  }
  if (name == "badframe") {
    return proto.on_transport_error(inbound_error::bad_frame);
  }
  if (name == "peerclosed") {
    proto.on_peer_closed();
    return {};
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  gateway_options opts;  // the node's defaults: 4096-byte messages, 120 frames per 60 s
  gateway_protocol proto{opts};
  checker check;
  time_point now{std::chrono::hours{1}};

  auto eol = input.find('\n');
  check.check(proto.on_open(input.substr(0, eol), now), proto);
  if (eol == std::string_view::npos) {
    return 0;
  }
  input.remove_prefix(eol + 1);
  bool peer_closed = false;
  while (!input.empty()) {
    eol = input.find('\n');
    auto line = input.substr(0, eol);
    input = eol == std::string_view::npos ? std::string_view{} : input.substr(eol + 1);
    now += std::chrono::milliseconds{1};
    if (!line.empty() && line[0] == '!') {
      peer_closed = peer_closed || line == "!peerclosed";
      check.check(event(proto, line.substr(1), now), proto);
    } else {
      check.check(proto.on_text(line, now), proto);
    }
    if (peer_closed && proto.state() != protocol_state::closed) {
      std::abort();
    }
  }
  return 0;
}
