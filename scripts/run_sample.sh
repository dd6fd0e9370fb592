#!/usr/bin/env bash
# `make run`: generates sample market-tick data (bench/gen_ticks.py, small variant) under data/
# and runs polaroid's main job on it.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "polaroid: sample run not wired yet"
