#!/usr/bin/env bash
# The README's test command (and .ci/run): installs what is needed, checks the
# C++ formatting, builds, runs every unit test under ASan+UBSan, every fuzz
# target for a bounded time, then every integration test (and the unit tests
# whose code takes another path under the sanitizers) on a Release build. Ends
# with CTest's summary line. Every test runs at least once; CI's budget is the
# two cold builds on 2 cores, so no file is compiled for a run it does not need
# and both builds use the cold-build settings (cmake/herald_cold_build.cmake).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/tools/setup/install-deps.sh"

# 0. Formatting: every C++ source as clang-format-14 makes it (.clang-format),
#    except the files the docs quote verbatim (tools/setup/format-exclude.txt).
"$root/tools/setup/check-format.sh"

# 1. Sanitizer build: unit tests only (integration tests spawn daemons and are
#    covered by the regular build below), so the tools are not built. clang-14 (as the fuzz
#    build): it compiles this code with ASan+UBSan in about half the CPU time of g++ 12, and
#    the regular build below keeps g++ 12, so both compilers see every file.
CC=clang-14 CXX=clang++-14 HERALD_BUILD_DIR=$root/build-asan-clang HERALD_BUILD_TYPE=Debug \
  "$root/tools/setup/build.sh" -DHERALD_SANITIZE=ON -DHERALD_BUILD_TOOLS=OFF -DHERALD_COLD_BUILD=ON
# LeakSanitizer is on: an actor cycle or a lost buffer fails the run (third-party leaks on
# error paths are suppressed one by one in tools/setup/lsan.supp).
(cd "$root/build-asan-clang" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions=$root/tools/setup/lsan.supp \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$root/tools/setup/ubsan.supp \
  ctest -L unit --output-on-failure -j 2 --timeout 600)

# 2. Fuzzing: every libFuzzer target (fuzz/) built with clang-14 and run for 12 s on its seed
#    corpus; a crash, leak, timeout or sanitizer report fails the run. One line per target,
#    then a summary line (docs/fuzzing.md). Before the regular build so that CTest's summary
#    stays the last line.
HERALD_FUZZ_BUILD_DIR=$root/build-fuzz "$root/tools/fuzz/run.sh" --time 8

# 3. Regular build: the tools, every integration test, and the unit tests of
#    actors/outbound, whose chunk pool is plain malloc under ASan (step 1 ran the
#    rest). Release (no -g) keeps a cold build on 2 cores inside CI's budget;
#    developers get RelWithDebInfo and every unit test from build.sh by default.
HERALD_BUILD_DIR=$root/build-release HERALD_BUILD_TYPE=Release "$root/tools/setup/build.sh" \
  -DHERALD_COLD_BUILD=ON -DHERALD_UNIT_TESTS=actors/outbound
cd "$root/build-release" && ctest --output-on-failure -j 2 --timeout 600
