// SPDX-License-Identifier: Apache-2.0
#include "actors/gateway/gateway_protocol.hpp"

#include <nlohmann/json.hpp>

#include "actors/encoding/encode.hpp"
#include "actors/outbound/intents.hpp"

namespace herald::gateway {

using json = nlohmann::json;

std::string_view to_string(inbound_error e) noexcept {
  switch (e) {
    case inbound_error::invalid_json:
      return "invalid_json";
    case inbound_error::wrong_shape:
      return "wrong_shape";
    case inbound_error::too_big:
      return "too_big";
    case inbound_error::binary:
      return "binary";
    case inbound_error::bad_frame:
      return "bad_frame";
    case inbound_error::unknown_opcode:
      return "unknown_opcode";
    case inbound_error::not_authenticated:
      return "not_authenticated";
    case inbound_error::already_authenticated:
      return "already_authenticated";
    case inbound_error::rate_limited:
      return "rate_limited";
    case inbound_error::heartbeat_timeout:
      return "heartbeat_timeout";
    case inbound_error::bad_token:
      return "bad_token";
    case inbound_error::invalid_shard:
      return "invalid_shard";
    case inbound_error::invalid_intents:
      return "invalid_intents";
    case inbound_error::invalid_version:
      return "invalid_version";
    case inbound_error::invalid_encoding:
      return "invalid_encoding";
    case inbound_error::invalid_seq:
      return "invalid_seq";
    case inbound_error::invalid_compress:
      return "invalid_compress";
  }
  return "unknown";
}

connection_query parse_query(std::string_view query) {
  connection_query out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    auto key = pair.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == "v") {
      out.version = std::string{value};
    } else if (key == "encoding") {
      out.encoding = std::string{value};
    } else if (key == "compress") {
      out.compress = std::string{value};
    }
  }
  return out;
}

std::vector<uint64_t> filter_shard(const std::vector<uint64_t>& guild_ids,
                                   const std::optional<std::array<uint32_t, 2>>& shard) {
  if (!shard) {
    return guild_ids;
  }
  std::vector<uint64_t> out;
  for (auto id : guild_ids) {
    if ((id >> 22) % (*shard)[1] == (*shard)[0]) {
      out.push_back(id);
    }
  }
  return out;
}

std::string_view strip_bot_prefix(std::string_view token) noexcept {
  constexpr std::string_view prefix = "Bot ";
  if (token.substr(0, prefix.size()) == prefix) {
    token.remove_prefix(prefix.size());
  }
  return token;
}

gateway_protocol::gateway_protocol(const gateway_options& opts) : opts_(opts) {}

actions gateway_protocol::close(close_code code, std::optional<inbound_error> error) {
  state_ = protocol_state::closed;
  return {close_connection{static_cast<uint16_t>(code), !resumable(code), error}};
}

actions gateway_protocol::on_open(std::string_view query, time_point now) {
  if (state_ != protocol_state::connecting) {
    return {};
  }
  auto q = parse_query(query);
  if (q.version && *q.version != "10") {
    return close(close_code::invalid_api_version, inbound_error::invalid_version);
  }
  if (q.encoding && *q.encoding != "json") {
    return close(close_code::decode_error, inbound_error::invalid_encoding);
  }
  // zlib-stream is the only transport compression served; any other value (zstd-stream, a
  // typo) is refused like an unknown encoding rather than silently sent uncompressed.
  if (q.compress && *q.compress != "zlib-stream") {
    return close(close_code::decode_error, inbound_error::invalid_compress);
  }
  zlib_stream_ = q.compress.has_value();
  state_ = protocol_state::hello_sent;
  last_heartbeat_ = now;
  return {send_frame{encoding::hello_frame(opts_.heartbeat_interval_ms)}};
}

bool gateway_protocol::over_rate_limit(time_point now) {
  if (window_frames_ == 0 || now - window_start_ >= opts_.rate_limit_window) {
    window_start_ = now;
    window_frames_ = 0;
  }
  ++window_frames_;
  return window_frames_ > opts_.rate_limit_frames;
}

actions gateway_protocol::on_text(std::string_view message, time_point now) {
  if (state_ == protocol_state::connecting || state_ == protocol_state::closed) {
    return {};
  }
  if (over_rate_limit(now)) {
    return close(close_code::rate_limited, inbound_error::rate_limited);
  }
  if (message.size() > opts_.max_inbound_bytes) {
    return close(close_code::decode_error, inbound_error::too_big);
  }
  auto parsed = json::parse(message, nullptr, false);
  if (parsed.is_discarded()) {
    return close(close_code::decode_error, inbound_error::invalid_json);
  }
  if (!parsed.is_object()) {
    return close(close_code::decode_error, inbound_error::wrong_shape);
  }
  auto op = parsed.find("op");
  if (op == parsed.end() || !op->is_number_integer()) {
    return close(close_code::decode_error, inbound_error::wrong_shape);
  }
  auto d = parsed.find("d");
  static const json null_payload;
  return handle(op->get<int64_t>(), d == parsed.end() ? null_payload : *d, now);
}

actions gateway_protocol::handle(int64_t op, const json& d, time_point now) {
  switch (op) {
    case 1:  // Heartbeat, any d (the client's last seq or null)
      last_heartbeat_ = now;
      heartbeat_requested_ = false;
      return {send_frame{encoding::heartbeat_ack_frame()}};
    case 2:  // Identify
      if (state_ != protocol_state::hello_sent) {
        return close(close_code::already_authenticated, inbound_error::already_authenticated);
      }
      if (draining_) {
        return close(close_code::unknown_error, std::nullopt);  // op 7 went out already
      }
      return identify(d);
    case 6:  // Resume
      if (state_ != protocol_state::hello_sent) {
        return close(close_code::already_authenticated, inbound_error::already_authenticated);
      }
      return resume(d);  // still accepted: the drained node may serve until it stops
    case 3:              // Presence Update
    case 4:              // Voice State Update
    case 8:              // Request Guild Members
    case 31:             // Request Soundboard Sounds
      // Accepted and ignored once identified: herald does not serve them.
      if (state_ == protocol_state::hello_sent) {
        return close(close_code::not_authenticated, inbound_error::not_authenticated);
      }
      return {};
    default:
      return close(close_code::unknown_opcode, inbound_error::unknown_opcode);
  }
}

namespace {

/// A JSON integer as uint64; nullopt for negatives, floats and non-numbers.
std::optional<uint64_t> as_unsigned(const json& v) {
  if (v.is_number_unsigned()) {
    return v.get<uint64_t>();
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(v.get<int64_t>());
  }
  return std::nullopt;
}

/// shard must be [id, n] with n >= 1, id < n, both fitting 32 bits.
std::optional<std::array<uint32_t, 2>> parse_shard(const json& v) {
  if (!v.is_array() || v.size() != 2) {
    return std::nullopt;
  }
  auto id = as_unsigned(v[0]);
  auto n = as_unsigned(v[1]);
  if (!id || !n || *n == 0 || *id >= *n || *n > UINT32_MAX) {
    return std::nullopt;
  }
  return std::array<uint32_t, 2>{static_cast<uint32_t>(*id), static_cast<uint32_t>(*n)};
}

}  // namespace

actions gateway_protocol::identify(const json& d) {
  if (!d.is_object()) {
    return close(close_code::decode_error, inbound_error::wrong_shape);
  }
  auto token = d.find("token");
  auto intents = d.find("intents");
  if (token == d.end() || !token->is_string() || intents == d.end() ||
      !intents->is_number_integer()) {
    return close(close_code::decode_error, inbound_error::wrong_shape);
  }
  // Optional fields: absent or null, else of their documented type (Discord closes 4002 too).
  auto optional_is = [&d](const char* key, bool (json::*is_type)() const noexcept) {
    auto it = d.find(key);
    return it == d.end() || it->is_null() || ((*it).*is_type)();
  };
  if (!optional_is("properties", &json::is_object) || !optional_is("presence", &json::is_object) ||
      !optional_is("compress", &json::is_boolean) ||
      !optional_is("large_threshold", &json::is_number_unsigned)) {
    return close(close_code::decode_error, inbound_error::wrong_shape);
  }
  auto bits = as_unsigned(*intents);
  if (!bits || !session::valid_intents(*bits)) {
    return close(close_code::invalid_intents, inbound_error::invalid_intents);
  }
  identify_request req;
  req.token = std::string{strip_bot_prefix(token->get_ref<const std::string&>())};
  req.intents = static_cast<uint32_t>(*bits);
  if (auto shard = d.find("shard"); shard != d.end() && !shard->is_null()) {
    req.shard = parse_shard(*shard);
    if (!req.shard) {
      return close(close_code::invalid_shard, inbound_error::invalid_shard);
    }
  }
  if (auto lt = d.find("large_threshold"); lt != d.end() && !lt->is_null()) {
    if (auto v = as_unsigned(*lt)) {
      req.large_threshold =
          static_cast<uint32_t>(std::min<uint64_t>(250, std::max<uint64_t>(50, *v)));
    }
  }
  // properties, presence and compress (per-payload compression) are accepted and ignored.
  state_ = protocol_state::identifying;
  return {open_session{std::move(req)}};
}

actions gateway_protocol::resume(const json& d) {
  if (!d.is_object()) {
    return close(close_code::decode_error, inbound_error::wrong_shape);
  }
  auto token = d.find("token");
  auto session_id = d.find("session_id");
  auto seq = d.find("seq");
  if (token == d.end() || !token->is_string() || session_id == d.end() ||
      !session_id->is_string()) {
    return close(close_code::decode_error, inbound_error::wrong_shape);
  }
  resume_request req;
  if (seq != d.end() && !seq->is_null()) {
    auto s = as_unsigned(*seq);
    if (!s) {
      return close(close_code::decode_error, inbound_error::wrong_shape);
    }
    req.seq = *s;
  }
  req.token = std::string{strip_bot_prefix(token->get_ref<const std::string&>())};
  req.session_id = session_id->get<std::string>();
  state_ = protocol_state::resuming;
  return {resume_session{std::move(req)}};
}

actions gateway_protocol::on_transport_error(inbound_error e) {
  if (state_ == protocol_state::closed) {
    return {};
  }
  return close(close_code::decode_error, e);
}

actions gateway_protocol::on_control_frame(time_point now) {
  if (state_ == protocol_state::connecting || state_ == protocol_state::closed) {
    return {};
  }
  if (over_rate_limit(now)) {
    return close(close_code::rate_limited, inbound_error::rate_limited);
  }
  return {};
}

actions gateway_protocol::on_tick(time_point now) {
  if (state_ == protocol_state::connecting || state_ == protocol_state::closed) {
    return {};
  }
  auto interval = std::chrono::milliseconds{opts_.heartbeat_interval_ms};
  auto grace = std::chrono::milliseconds{opts_.heartbeat_grace_ms};
  if (now >= last_heartbeat_ + interval + grace) {
    return close(close_code::session_timed_out, inbound_error::heartbeat_timeout);
  }
  if (!heartbeat_requested_ && now >= last_heartbeat_ + interval + grace / 2) {
    heartbeat_requested_ = true;
    return {send_frame{encoding::heartbeat_request_frame()}};
  }
  return {};
}

time_point gateway_protocol::next_deadline() const noexcept {
  auto interval = std::chrono::milliseconds{opts_.heartbeat_interval_ms};
  auto grace = std::chrono::milliseconds{opts_.heartbeat_grace_ms};
  return heartbeat_requested_ ? last_heartbeat_ + interval + grace
                              : last_heartbeat_ + interval + grace / 2;
}

actions gateway_protocol::on_session_opened() {
  if (state_ != protocol_state::identifying) {
    return {};
  }
  state_ = protocol_state::ready;
  return {};
}

actions gateway_protocol::on_identify_failed(identify_failure f) {
  if (state_ != protocol_state::identifying) {
    return {};
  }
  if (f == identify_failure::bad_token) {
    return close(close_code::authentication_failed, inbound_error::bad_token);
  }
  if (f == identify_failure::rate_limited) {
    // Discord's answer to an Identify over max_concurrency: op 9 false; the client waits and
    // identifies again, on this socket or another.
    state_ = protocol_state::hello_sent;
    return {send_frame{encoding::invalid_session_frame(false)}};
  }
  return close(close_code::unknown_error, std::nullopt);
}

actions gateway_protocol::on_resumed() {
  if (state_ != protocol_state::resuming) {
    return {};
  }
  state_ = protocol_state::ready;
  return {};
}

actions gateway_protocol::on_resume_failed(resume_failure f) {
  if (state_ != protocol_state::resuming) {
    return {};
  }
  switch (f) {
    case resume_failure::seq_never_sent:
      return close(close_code::invalid_seq, inbound_error::invalid_seq);
    case resume_failure::bad_token:
      return close(close_code::authentication_failed, inbound_error::bad_token);
    case resume_failure::invalid_session:
      break;
  }
  // op 9 false: the client must Identify again (it may do so on this socket).
  state_ = protocol_state::hello_sent;
  return {send_frame{encoding::invalid_session_frame(false)}};
}

actions gateway_protocol::on_overflow() {
  if (state_ == protocol_state::closed) {
    return {};
  }
  auto acts = close(close_code::unknown_error, std::nullopt);
  std::get<close_connection>(acts.front()).drop_unsent = true;
  return acts;
}

actions gateway_protocol::on_drain() {
  if (state_ == protocol_state::closed || state_ == protocol_state::connecting) {
    return {};
  }
  draining_ = true;
  return {send_frame{encoding::reconnect_frame()}};
}

actions gateway_protocol::close_resumable() {
  if (state_ == protocol_state::closed) {
    return {};
  }
  return close(close_code::unknown_error, std::nullopt);
}

actions gateway_protocol::on_credentials_revoked() {
  if (state_ == protocol_state::closed || state_ == protocol_state::connecting) {
    return {};
  }
  return close(close_code::authentication_failed, std::nullopt);
}

void gateway_protocol::on_peer_closed() noexcept {
  state_ = protocol_state::closed;
}

}  // namespace herald::gateway
