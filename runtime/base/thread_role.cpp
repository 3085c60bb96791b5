// SPDX-License-Identifier: Apache-2.0
#include "runtime/base/thread_role.hpp"

namespace herald::base {

namespace {
thread_local thread_role role_of_this_thread = thread_role::other;
}

thread_role current_thread_role() noexcept {
  return role_of_this_thread;
}

scoped_thread_role::scoped_thread_role(thread_role role) noexcept : previous_(role_of_this_thread) {
  role_of_this_thread = role;
}

scoped_thread_role::~scoped_thread_role() {
  role_of_this_thread = previous_;
}

}  // namespace herald::base
