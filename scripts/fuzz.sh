#!/usr/bin/env bash
# Fuzzing. `fuzz.sh replay` runs every corpus file of tests/fuzz/corpus/<target>/ through the
# target built with a plain main() (ASan+UBSan); `fuzz.sh run SECONDS` builds each
# tests/fuzz/fuzz_<target>.c with clang -fsanitize=fuzzer,address,undefined and runs it for
# SECONDS. Crashes are written to tests/fuzz/corpus/<target>/ for minimising and committing.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "fuzz: no targets yet"
