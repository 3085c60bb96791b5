#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, docs/fuzzing.md) with clang-14 into build-fuzz/ and runs
# each for a bounded time on its seed corpus, one after the other.
# Usage: tools/fuzz/run.sh [--time SECONDS] [--no-build] [TARGET...]
#   --time     seconds per target (default 12; CI runs 8 per target to keep its budget)
#   --no-build run what build-fuzz/ holds
#   TARGET     ws_frame http_request zlib_stream gateway rest_body config token (default: all)
# Environment: HERALD_FUZZ_BUILD_DIR (default <repo>/build-fuzz), HERALD_JOBS (default nproc).
# New inputs go to <build>/fuzz-corpus/<target>/ (fuzz/corpus/ is read only), crash/leak/
# timeout reproducers to <build>/fuzz-artifacts/<target>/. Prints one line per target and a
# final summary line; exits 1 if any target crashed, leaked, timed out, ran out of memory or
# printed a sanitizer report.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${HERALD_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${HERALD_JOBS:-$(nproc)}
all_targets=(ws_frame http_request zlib_stream gateway rest_body config token)
seconds=12
do_build=1
targets=()
while (($#)); do
  case $1 in
    --time) seconds=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *)
      if [[ " ${all_targets[*]} " != *" $1 "* ]]; then
        echo "run.sh: unknown target '$1' (targets: ${all_targets[*]})" >&2
        exit 2
      fi
      targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

if ((do_build)); then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHERALD_FUZZ=ON -DHERALD_BUILD_TESTS=OFF -DHERALD_BUILD_TOOLS=OFF "${launcher[@]}" >/dev/null
  cmake --build "$build" -j "$jobs" --target "${targets[@]/%/_fuzz}" >/dev/null
fi

# A sanitizer report must fail the run: UBSan halts (same suppressions as the unit tests),
# LeakSanitizer runs after every input (libFuzzer's -detect_leaks default).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$root/tools/setup/ubsan.supp}

failed=0
total_execs=0
start=$SECONDS
for t in "${targets[@]}"; do
  bin=$build/fuzz/${t}_fuzz
  work=$build/fuzz-corpus/$t
  artifacts=$build/fuzz-artifacts/$t/
  log=$build/fuzz-logs/$t.log
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  dict=()
  [[ -f $root/fuzz/dict/$t.dict ]] && dict=(-dict="$root/fuzz/dict/$t.dict")
  t0=$SECONDS
  set +e
  "$bin" "$work" "$root/fuzz/corpus/$t" "${dict[@]}" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" \
    >"$log" 2>&1
  rc=$?
  set -e
  # libFuzzer's last status line: "#N DONE cov: C ft: F corp: U/S ..." (or the last pulse).
  status=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status")
  corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$status")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  rss=$(sed -nE 's/^stat::peak_rss_mb: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  verdict=ok
  if ((rc != 0)) || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    verdict=FAILED
    failed=$((failed + 1))
  fi
  total_execs=$((total_execs + ${execs:-0}))
  echo "fuzz: $t $verdict execs=${execs:-0} cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?}" \
    "rss_mb=${rss:-?} seconds=$((SECONDS - t0))"
  if [[ $verdict == FAILED ]]; then
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|artifact_prefix' "$log" | head -n 20 | sed 's/^/  /'
    echo "  full log: $log; reproduce: $bin <artifact> (see docs/fuzzing.md)"
  fi
done
echo "fuzz summary: ${#targets[@]} targets, $((${#targets[@]} - failed)) ok, $failed failed," \
  "$total_execs executions in $((SECONDS - start)) s"
((failed == 0))
