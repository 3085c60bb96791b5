// SPDX-License-Identifier: Apache-2.0
#pragma once
// Conversions between the domain value types and their proto/domain.proto messages.
// Pure functions, callable from any thread; used by guild actors, relays and the store.
// Invariant: from_proto(to_proto(x)) == x for every value type.

#include "actors/domain/types.hpp"
#include "proto/domain.pb.h"

namespace herald::domain {

proto::user to_proto(const user& value);
proto::role to_proto(const role& value);
proto::permission_overwrite to_proto(const permission_overwrite& value);
proto::channel to_proto(const channel& value);
proto::member to_proto(const member& value);
proto::guild to_proto(const guild& value);
proto::message to_proto(const message& value);

user from_proto(const proto::user& value);
role from_proto(const proto::role& value);
/// An unknown overwrite type number is kept as overwrite_type::member only if
/// it is 1; every other value becomes role. Validate with valid_overwrite_type
/// first when the input is untrusted.
permission_overwrite from_proto(const proto::permission_overwrite& value);
channel from_proto(const proto::channel& value);
/// Role ids come back sorted and unique.
member from_proto(const proto::member& value);
guild from_proto(const proto::guild& value);
message from_proto(const proto::message& value);

/// True when the overwrite's type is one of the two Discord defines.
bool valid_overwrite_type(const proto::permission_overwrite& value);

}  // namespace herald::domain
