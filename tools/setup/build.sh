#!/usr/bin/env bash
# Configures and builds herald into build/ (or $HERALD_BUILD_DIR).
# Usage: build.sh [extra cmake args…]. Idempotent: re-running rebuilds only
# what changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${HERALD_BUILD_DIR:-$root/build}
jobs=${HERALD_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${HERALD_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build" -j "$jobs" ${HERALD_TARGETS:+--target $HERALD_TARGETS}
