// SPDX-License-Identifier: Apache-2.0
#pragma once
// The admin API's control routes (what heraldctl calls): users and tokens, guilds, channels,
// roles, members, overwrites and messages. Mounted on the node's admin server by the app
// composition as async routes: the work runs on one worker thread, one request at a time in
// arrival order (each bounded by `timeout`), so the admin io thread keeps answering probes.
// Invariant: every change goes through the dispatch core (a guild start or a published event),
// so connected sessions see it live; every failure is the admin request error
// (runtime/node/request_error.hpp), mapped in request_errors.hpp.
//
// Routes (JSON bodies; ids are decimal strings or numbers, permission bits likewise):
//   POST /v1/users              {name, bot?}            → 201 {id, name, bot, token}
//   POST /v1/users/{id}/revoke  (open connections 4004) → 200 {id, token}
//   POST /v1/guilds             {name, owner}           → 201 {id, name, owner}
//   POST /v1/channels           {guild, name, private?} → 201 {id, guild, name, private}
//   POST /v1/roles              {guild, name, permissions}
//                                                       → 201 {id, guild, name, permissions}
//   POST /v1/members            {guild, user, roles?[]} → 201 {guild, user, roles}
//   PUT  /v1/overwrites         {channel, role|member, allow, deny}
//                                                       → 200 {channel, type, id, allow, deny}
//   POST /v1/messages           {channel, as, content}  → 201 {id, channel, guild, author, content}
// Errors ({"error", "code"}): 400 bad_request, 404 unknown_user/guild/channel/role, 409
// already_exists (e.g. a member added twice), 403 forbidden (the author may not post there),
// 503 unavailable (the guild; retry), 500 store_error or internal.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "actors/domain/snowflake.hpp"
#include "actors/identity/token_authority.hpp"
#include "actors/services/services.hpp"
#include "runtime/net/http_server.hpp"

namespace herald::admin {

struct ctl_context {
  dispatch::services_ptr svc;
  std::shared_ptr<identity::token_authority> tokens;
  /// Mints user, guild, channel and role ids: the node's one generator (services::ids), which
  /// message ids come from too, so the two never collide.
  std::shared_ptr<domain::snowflake_generator> ids;
  /// Called after a user's tokens were revoked (the raised epoch is in the store), with the
  /// new token epoch, to cut that user's open connections (heraldd: gateway_server::revoke_user,
  /// and in a cluster the revoke notice to the other nodes, identity/revoke_notifier.hpp).
  /// Runs on the admin routes' worker thread; must not block. Optional.
  std::function<void(uint64_t user_id, uint64_t epoch)> tokens_revoked;
  /// Per dispatch call (guild start, publish, message post).
  std::chrono::milliseconds timeout{std::chrono::seconds{5}};
};

void mount_ctl_routes(net::http_server& server, std::shared_ptr<ctl_context> ctx);

}  // namespace herald::admin
