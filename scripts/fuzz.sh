#!/usr/bin/env bash
# Fuzzing of every tests/fuzz/fuzz_<target>.c.
#   fuzz.sh replay        replays tests/fuzz/corpus/<target>/ through build-asan/replay_<target>
#                         (ASan+UBSan, plain main; built by `make build-asan`)
#   fuzz.sh run SECONDS   builds the targets with clang -fsanitize=fuzzer,address,undefined in
#                         build-fuzz/ and runs each for SECONDS, seeded from the committed corpus;
#                         new inputs go to build-fuzz/corpus/<target>/, crashes to
#                         tests/fuzz/corpus/<target>/crash-* (minimise and commit them).
# Exits non-zero when any input crashes, leaks or hangs.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-replay}
targets=()
for f in tests/fuzz/fuzz_*.c; do
  [ -e "$f" ] || continue
  t=$(basename "$f" .c); targets+=("${t#fuzz_}")
done
if [ ${#targets[@]} -eq 0 ]; then echo "fuzz: no targets"; exit 0; fi

case "$mode" in
replay)
  cmake --build build-asan -j "$(nproc)" --target $(printf 'replay_%s ' "${targets[@]}") >/dev/null
  for t in "${targets[@]}"; do
    dir=tests/fuzz/corpus/$t
    [ -d "$dir" ] || { echo "fuzz replay $t: no corpus"; continue; }
    printf 'fuzz replay %-10s ' "$t"
    build-asan/replay_$t "$dir"
  done
  ;;
run)
  secs=${2:-60}
  export CC=clang
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DPL_TESTS=OFF -DPL_FUZZ=ON \
        -DCMAKE_C_FLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -Wno-error" \
        -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  cmake --build build-fuzz -j "$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null
  status=0
  for t in "${targets[@]}"; do
    mkdir -p build-fuzz/corpus/$t tests/fuzz/corpus/$t
    log=build-fuzz/fuzz_$t.log
    if build-fuzz/fuzz_$t build-fuzz/corpus/$t tests/fuzz/corpus/$t -max_total_time="$secs" \
         -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=0 \
         -artifact_prefix=tests/fuzz/corpus/$t/ >"$log" 2>&1; then
      echo "fuzz $t: ${secs}s, $(grep -o 'cov: [0-9]*' "$log" | tail -1), no crash"
    else
      echo "fuzz $t: FAILED (see $log)"; tail -30 "$log"; status=1
    fi
  done
  exit $status
  ;;
*) echo "usage: fuzz.sh replay | run SECONDS" >&2; exit 2 ;;
esac
