// SPDX-License-Identifier: Apache-2.0
#pragma once
// How many client connections a listener may hold given the process's descriptor limit:
// RLIMIT_NOFILE minus a headroom kept for everything else the process opens (the store and
// its WAL, the cluster's links, the admin API and its clients, log files, the event loops'
// own descriptors, refused connections being answered). Pure functions; any thread.

#include <cstddef>
#include <cstdint>

namespace herald::net {

/// Descriptors kept below RLIMIT_NOFILE for everything but client connections.
constexpr size_t fd_headroom = 128;
/// The smallest default connection limit, however low the descriptor limit is.
constexpr size_t min_default_connections = 16;

/// The soft RLIMIT_NOFILE of this process (RLIM_INFINITY reads as UINT64_MAX).
uint64_t open_files_limit();

/// max(min_default_connections, open_files_limit() - fd_headroom).
size_t default_max_connections();

}  // namespace herald::net
