#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS; fails on any crash, leak,
# sanitizer report or oversized allocation, and prints executions and corpus size per target.
#
#   tests/fuzz/run_fuzzers.sh SECONDS [BUILD_DIR]     (default BUILD_DIR: build/fuzz)
#
# Crashing inputs are copied to tests/fuzz/regressions/<target>/, where `fuzz_corpus replay` (an ordinary
# CTest test) replays them; fix the bug, keep the file. The corpus grows in BUILD_DIR/corpus/.
set -euo pipefail
seconds=${1:?usage: run_fuzzers.sh SECONDS [BUILD_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${2:-$src/build/fuzz}
targets=(idx idx_gzip safetensors checkpoint)
# libFuzzer dictionaries (JSON tokens, field and metadata names) for the targets that read JSON.
declare -A dicts=([safetensors]=safetensors.dict [checkpoint]=safetensors.dict)

cmake -S "$src" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
  -DLOGREG_BUILD_FUZZERS=ON -DLOGREG_BUILD_EXAMPLES=OFF -DLOGREG_BUILD_BENCH=OFF >/dev/null
# The image targets exist when logreg found libspng (tests/fuzz/CMakeLists.txt says so otherwise).
if grep -q '^LOGREG_SPNG_LIBRARY:FILEPATH=/' "$build/CMakeCache.txt"; then
  targets+=(png pgm)
fi
cmake --build "$build" -j "$(nproc)" --target fuzz_corpus "${targets[@]/#/fuzz_}"

seeds=$build/seeds
"$build/tests/fuzz/fuzz_corpus" seeds "$seeds" >/dev/null
status=0
summary=""
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  artifacts=$build/artifacts/$t/
  mkdir -p "$corpus" "$artifacts"
  log=$build/fuzz_$t.log
  echo "=== fuzz_$t for ${seconds}s"
  # -malloc_limit_mb: libFuzzer's own cap on one allocation; the harness enforces a much tighter
  # bound relative to each input (fuzz_entries.hpp). Inputs up to 16 KiB.
  dict=()
  [[ -n ${dicts[$t]:-} ]] && dict=(-dict="$here/${dicts[$t]}")
  rc=0
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=64 \
      -max_len=16384 -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" \
      "$corpus" "$seeds/$t" "$here/regressions/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(du -sb "$corpus" | cut -f1)
  line="fuzz_$t: ${execs:-?} executions in ${seconds}s, corpus $files files ($bytes bytes), exit $rc"
  echo "$line"
  summary+="$line"$'\n'
  found=$(find "$artifacts" -type f | wc -l)
  if ((rc != 0 || found > 0)); then
    status=1
    tail -60 "$log"
    for f in "$artifacts"*; do
      [[ -f $f ]] || continue
      cp "$f" "$here/regressions/$t/"
      echo "crashing input saved as tests/fuzz/regressions/$t/$(basename "$f")"
    done
  fi
done
# ---- a planted bug per target: a harness that never reaches its reader would pass the run above
# silently; with LOGREG_FUZZ_PLANTED_BUG=1 each target must find the bug fuzz_entries.hpp plants,
# and no seed may have it (or the check would pass without any fuzzing).
for t in "${targets[@]}"; do
  if ! LOGREG_FUZZ_PLANTED_BUG=1 "$build/tests/fuzz/fuzz_corpus" replay "$t" "$seeds/$t" >/dev/null 2>&1; then
    line="fuzz_$t: a seed already has the planted bug's property; change the seed or the property"
    status=1
    echo "$line"
    summary+="$line"$'\n'
    continue
  fi
  planted=$build/planted/$t
  rm -rf "$planted" && mkdir -p "$planted/corpus" "$planted/artifacts"
  log=$build/planted_$t.log
  rc=0
  dict=()
  [[ -n ${dicts[$t]:-} ]] && dict=(-dict="$here/${dicts[$t]}")
  LOGREG_FUZZ_PLANTED_BUG=1 ASAN_OPTIONS=detect_leaks=0 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time=120 -use_value_profile=1 -max_len=16384 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$planted/artifacts/" "${dict[@]}" "$planted/corpus" "$seeds/$t" \
      >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if ((rc != 0)) && grep -q "planted bug found" "$log"; then
    line="fuzz_$t: planted bug found after ${execs:-?} executions"
  else
    line="fuzz_$t: planted bug NOT found in 120 s (exit $rc): the harness or the fuzzer is broken"
    status=1
    tail -20 "$log"
  fi
  echo "$line"
  summary+="$line"$'\n'
done

echo
echo "=== fuzzing summary"
printf '%s' "$summary"
exit $status
