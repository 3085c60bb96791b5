// SPDX-License-Identifier: Apache-2.0
#pragma once
// JSON type checks of REST request bodies (message create and edit), Discord style: every
// field of the wrong type is named in one 400 / 50035 "Invalid Form Body" whose `errors`
// object maps the field to `{"_errors": [{"code", "message"}]}`. Pure functions, any thread.
// Invariant: a body that passes has, for every field it holds, the type the handler reads;
// null counts as absent. Limits on values (content length, emptiness) are the handler's.

#include <optional>

#include <nlohmann/json.hpp>

namespace herald::rest {

/// The field errors of a message create body (`content`, `nonce`, `tts`, `embeds`, …); an
/// empty optional when every present field has its type. `nonce` is a string of at most 25
/// characters or an integer, as on Discord.
std::optional<nlohmann::json> message_create_errors(const nlohmann::json& body);

/// The same for a message edit body (`content`, `embeds`, `flags`, …).
std::optional<nlohmann::json> message_edit_errors(const nlohmann::json& body);

}  // namespace herald::rest
