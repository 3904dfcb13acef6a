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
  -DLOGREG_BUILD_FUZZERS=ON -DLOGREG_BUILD_EXAMPLES=OFF -DLOGREG_BUILD_BENCH=OFF >/dev/null
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
echo
echo "=== fuzzing summary"
printf '%s' "$summary"
exit $status
