#!/usr/bin/env bash
# Fuzzing of every tests/fuzz/fuzz_<target>.c (written by the format engineers; new files are
# picked up automatically).
#   fuzz.sh replay        builds replay_<target> (the target + tests/fuzz/replay_main.c, a plain
#                         main()) in build-asan with ASan+UBSan and runs every file of
#                         tests/fuzz/corpus/<target>/ through it once (make test / fuzz-replay)
#   fuzz.sh run SECONDS   builds the targets with clang -fsanitize=fuzzer,address,undefined in
#                         build-fuzz/ (the library compiled by clang with fuzzer-no-link) and runs
#                         each for SECONDS (-rss_limit_mb=2048, -timeout=10), seeded read-only
#                         from tests/fuzz/corpus/<target>/; new inputs go to
#                         build-fuzz/corpus/<target>/, crashes to tests/fuzz/corpus/<target>/crash-*
#                         (git-ignored until minimised: see tests/fuzz/README.md)
#   fuzz.sh [run SECONDS|replay] TARGET...   only these targets (names without fuzz_)
#   FUZZ_ASAN_DIR=build-x fuzz.sh replay      replay with another ASan build dir
#   FUZZ_BUILD_DIR=build-y fuzz.sh run 60     libFuzzer build in another dir
#   FUZZ_SEED=N fuzz.sh run 4                 libFuzzer's random seed (make fuzz-brief: 1, so
#                                             that make test explores the same inputs each run)
# Exits non-zero when any input crashes, leaks, hangs or runs out of memory, or a build fails.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-replay}
[ $# -gt 0 ] && shift
secs=60
if [ "$mode" = run ] && [ $# -gt 0 ]; then secs=$1; shift; fi
case "$secs" in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number, not \"$secs\"" >&2; exit 2 ;; esac

targets=()
if [ $# -gt 0 ]; then
  for t in "$@"; do
    [ -e "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz.sh: no tests/fuzz/fuzz_$t.c" >&2; exit 2; }
    targets+=("$t")
  done
else
  for f in tests/fuzz/fuzz_*.c; do
    [ -e "$f" ] || continue
    t=$(basename "$f" .c); targets+=("${t#fuzz_}")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then echo "fuzz: no targets"; exit 0; fi
jobs=$(nproc)
asan_dir=${FUZZ_ASAN_DIR:-build-asan}   # another ASan+UBSan build dir of the same configuration
fz=${FUZZ_BUILD_DIR:-build-fuzz}         # the clang libFuzzer build dir

# build DIR TARGET... : cmake --build, printing the log only when it fails
build() {
  local dir=$1; shift
  local log="$dir/fuzz-build.log"
  if ! cmake --build "$dir" -j "$jobs" --target "$@" >"$log" 2>&1; then
    echo "fuzz: build in $dir failed:"; grep -E "error|Error" "$log" | head -20; tail -5 "$log"
    return 1
  fi
}

case "$mode" in
replay)
  # configured every time (about a second) so that a new tests/fuzz/fuzz_*.c gets its target
  cmake -S . -B "$asan_dir" -DCMAKE_BUILD_TYPE=Debug -DPL_SANITIZE=ON \
        -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null || exit 1
  build "$asan_dir" $(printf 'replay_%s ' "${targets[@]}") || exit 1
  status=0
  for t in "${targets[@]}"; do
    dir=tests/fuzz/corpus/$t
    if [ ! -d "$dir" ]; then echo "fuzz replay $t: no corpus ($dir)"; continue; fi
    printf 'fuzz replay %-10s ' "$t"
    if ! out=$("$asan_dir/replay_$t" "$dir" 2>&1); then
      echo "FAILED"; echo "$out" | tail -40; status=1
    else
      echo "$out" | tail -1
    fi
  done
  exit $status
  ;;
run)
  if ! command -v clang >/dev/null; then echo "fuzz: clang not found" >&2; exit 1; fi
  CC=clang cmake -S . -B "$fz" -DCMAKE_BUILD_TYPE=Debug -DPL_TESTS=OFF -DPL_FUZZ=ON \
        -DCMAKE_C_FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -Wno-error" \
        -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null || exit 1
  build "$fz" $(printf 'fuzz_%s ' "${targets[@]}") || exit 1
  status=0
  for t in "${targets[@]}"; do
    mkdir -p "$fz/corpus/$t" tests/fuzz/corpus/$t
    log=$fz/fuzz_$t.log
    # first corpus dir receives new inputs; the committed one is only read
    if "$fz/fuzz_$t" "$fz/corpus/$t" tests/fuzz/corpus/$t -max_total_time="$secs" \
         ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
         -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1 \
         -artifact_prefix=tests/fuzz/corpus/$t/ >"$log" 2>&1; then
      echo "fuzz $t: ${secs}s, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs, $(grep -o 'cov: [0-9]*' "$log" | tail -1), no crash"
    else
      echo "fuzz $t: FAILED (log $log)"
      grep -E "ERROR|SUMMARY|artifact|Test unit written" "$log" | head -10
      tail -30 "$log"
      status=1
    fi
  done
  exit $status
  ;;
*) echo "usage: fuzz.sh replay [TARGET...] | run SECONDS [TARGET...]" >&2; exit 2 ;;
esac
