// SPDX-License-Identifier: Apache-2.0
#include "runtime/net/websocket.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <utility>

namespace herald::net {

std::string_view to_string(ws_error e) {
  switch (e) {
    case ws_error::message_too_big:
      return "message_too_big";
    case ws_error::binary_message:
      return "binary_message";
    case ws_error::bad_frame:
      return "bad_frame";
  }
  return "unknown";
}

std::string websocket_accept_key(std::string_view key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input;
  input.reserve(key.size() + guid.size());
  input.append(key).append(guid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded), digest, SHA_DIGEST_LENGTH);
  return std::string(encoded, static_cast<size_t>(n));
}

const http_request& ws_connection::empty_request() noexcept {
  static const http_request empty{};
  return empty;
}

void ws_connection::send_parts(const std::vector<std::string_view>& pieces,
                               const std::vector<uint32_t>& pieces_per_message, ws_opcode op,
                               std::shared_ptr<const void> keepalive,
                               std::function<void()> on_written) {
  auto joined = std::make_shared<std::vector<std::string>>();
  joined->reserve(pieces_per_message.size());
  size_t next = 0;
  for (uint32_t count : pieces_per_message) {
    auto& m = joined->emplace_back();
    for (uint32_t i = 0; i < count && next < pieces.size(); ++i, ++next) {
      m.append(pieces[next]);
    }
  }
  std::vector<std::string_view> views(joined->begin(), joined->end());
  auto both = std::make_shared<std::pair<std::shared_ptr<const void>, decltype(joined)>>(
      std::move(keepalive), joined);
  send(views, op, std::move(both), std::move(on_written));
}

bool ws_connection::write_parts_now(const std::vector<std::string_view>& pieces,
                                    const std::vector<uint32_t>& pieces_per_message, ws_opcode op,
                                    std::shared_ptr<const void> keepalive,
                                    std::function<void()> on_written) {
  send_parts(pieces, pieces_per_message, op, std::move(keepalive), std::move(on_written));
  return false;
}

void ws_connection::send_text(std::string message) {
  auto owned = std::make_shared<const std::string>(std::move(message));
  std::vector<std::string_view> views{std::string_view{*owned}};
  send(views, ws_opcode::text, owned);
}

}  // namespace herald::net
