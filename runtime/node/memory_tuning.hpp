// SPDX-License-Identifier: Apache-2.0
#pragma once
// How a herald node sets up glibc's allocator, in one place so that the daemon and herald-bench
// run with the same heap behaviour (runtime.malloc_retain_mb). Called once, before the actor
// system starts its threads; process-wide (mallopt).
// Why: a burst fills guild mailboxes, staged batches and link batches with short-lived blocks;
// with glibc's defaults the heap's top is given back to the OS as soon as more than 128 KiB is
// free and large blocks get their own mmap, so the next burst grows the heap again, one page
// fault per 4 KiB. Keeping freed memory for reuse removes those faults (about a tenth of the
// guild owner's CPU in the many-small-guilds benchmark, docs/benchmarks.md) at the price of
// the process keeping up to that much freed memory resident.

#include <cstdint>

namespace herald::node {

/// runtime.malloc_retain_mb: freed heap memory kept for reuse instead of returned to the OS
/// (glibc's trim threshold), in MiB (at most 2047); 0 leaves glibc's own (adaptive) defaults alone.
/// Also sets the heap's growth step (64 MiB, at most the retained size) and serves blocks of up
/// to 32 MiB (at most the retained size) from the heap instead of a mapping of their own.
/// Returns false if glibc refused a setting (the defaults then stay in place for it).
bool tune_malloc(int64_t retain_mb);

}  // namespace herald::node
