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
targets=(idx idx_gzip safetensors checkpoint npy)
# libFuzzer dictionaries (JSON tokens, field and metadata names) for the targets that read JSON.
declare -A dicts=([safetensors]=safetensors.dict [checkpoint]=safetensors.dict [npy]=npy.dict [csv]=csv.dict)

cmake -S "$src" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
  -DLOGREG_BUILD_FUZZERS=ON -DLOGREG_BUILD_EXAMPLES=OFF -DLOGREG_BUILD_BENCH=OFF >/dev/null
# The image targets exist when logreg found libspng (tests/fuzz/CMakeLists.txt says so otherwise).
if grep -q '^LOGREG_SPNG_LIBRARY:FILEPATH=/' "$build/CMakeCache.txt"; then
  targets+=(png pgm)
fi
# The CSV target exists when logreg found libcsv.
if grep -q '^LOGREG_CSV_LIBRARY:FILEPATH=/' "$build/CMakeCache.txt"; then
  targets+=(csv)
fi
cmake --build "$build" -j "$(nproc)" --target fuzzers

seeds=$build/seeds
"$build/tests/fuzz/fuzz_corpus" seeds "$seeds" >/dev/null
results=$build/results
rm -rf "$results" && mkdir -p "$results"

# fuzz TARGET: SECONDS of fuzzing; writes its summary line to results/TARGET.fuzz, and "failed"
# to results/TARGET.failed when the target crashed, leaked or found anything.
fuzz() {
  local t=$1 corpus=$build/corpus/$1 artifacts=$build/artifacts/$1/ log=$build/fuzz_$1.log rc=0 dict=()
  mkdir -p "$corpus" "$artifacts"
  # -malloc_limit_mb: libFuzzer's own cap on one allocation; the harness enforces a much tighter
  # bound relative to each input (fuzz_entries.hpp). Inputs up to 16 KiB.
  [[ -n ${dicts[$t]:-} ]] && dict=(-dict="$here/${dicts[$t]}")
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=64 \
      -max_len=16384 -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" \
      "$corpus" "$seeds/$t" "$here/regressions/$t" >"$log" 2>&1 || rc=$?
  local execs files bytes found
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(du -sb "$corpus" | cut -f1)
  echo "fuzz_$t: ${execs:-?} executions in ${seconds}s, corpus $files files ($bytes bytes), exit $rc" \
    >"$results/$t.fuzz"
  found=$(find "$artifacts" -type f | wc -l)
  if ((rc != 0 || found > 0)); then
    touch "$results/$t.failed"
    { tail -60 "$log"
      for f in "$artifacts"*; do
        [[ -f $f ]] || continue
        cp "$f" "$here/regressions/$t/"
        echo "crashing input saved as tests/fuzz/regressions/$t/$(basename "$f")"
      done; } >"$results/$t.details"
  fi
}

# planted TARGET: a harness that never reaches its reader would pass the run above silently; with
# LOGREG_FUZZ_PLANTED_BUG=1 each target must find the bug fuzz_entries.hpp plants, and no seed may
# have it (or the check would pass without any fuzzing).
planted() {
  local t=$1 dir=$build/planted/$1 log=$build/planted_$1.log rc=0 dict=() execs
  if ! LOGREG_FUZZ_PLANTED_BUG=1 "$build/tests/fuzz/fuzz_corpus" replay "$t" "$seeds/$t" >/dev/null 2>&1; then
    echo "fuzz_$t: a seed already has the planted bug's property; change the seed or the property" >"$results/$t.planted"
    touch "$results/$t.failed"
    return
  fi
  rm -rf "$dir" && mkdir -p "$dir/corpus" "$dir/artifacts"
  [[ -n ${dicts[$t]:-} ]] && dict=(-dict="$here/${dicts[$t]}")
  LOGREG_FUZZ_PLANTED_BUG=1 ASAN_OPTIONS=detect_leaks=0 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time=120 -use_value_profile=1 -max_len=16384 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "${dict[@]}" "$dir/corpus" "$seeds/$t" \
      >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if ((rc != 0)) && grep -q "planted bug found" "$log"; then
    echo "fuzz_$t: planted bug found after ${execs:-?} executions" >"$results/$t.planted"
  else
    echo "fuzz_$t: planted bug NOT found in 120 s (exit $rc): the harness or the fuzzer is broken" \
      >"$results/$t.planted"
    touch "$results/$t.failed"
    tail -20 "$log" >"$results/$t.details"
  fi
}

# One fuzzer per core: each is single-threaded.
jobs_max=$(nproc)
for t in "${targets[@]}"; do
  echo "=== fuzz_$t for ${seconds}s, then its planted bug"
  (fuzz "$t"; planted "$t") &
  while (($(jobs -rp | wc -l) >= jobs_max)); do wait -n || true; done
done
wait

echo
echo "=== fuzzing summary"
status=0
for t in "${targets[@]}"; do cat "$results/$t.fuzz"; done
for t in "${targets[@]}"; do cat "$results/$t.planted"; done
for t in "${targets[@]}"; do
  if [[ -e $results/$t.failed ]]; then
    status=1
    echo "--- fuzz_$t failed:"
    cat "$results/$t.details" 2>/dev/null || true
  fi
done
exit $status
