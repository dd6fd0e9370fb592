#!/usr/bin/env bash
# `make run`: generates the small sample market-tick data set (bench/gen_ticks.py --small, five
# zstd Parquet files under data/sample/ticks, skipped when already there) and runs polaroid's main
# job of this stage on it: inspect, read, project, convert.
set -euo pipefail
cd "$(dirname "$0")/.."
P=build/polaroid
D=data/sample/ticks
.venv/bin/python bench/gen_ticks.py --small --out "$D"
step() { printf '\n$ %s\n' "$*"; "$@"; }
first=$(ls "$D"/*.parquet | head -1)
step $P schema "$first" --brief
step $P cat "$D/*.parquet" --limit 10
step $P cat "$D/*.parquet" --columns ts,symbol,price --limit 5 --format csv
step $P cat "$D/*.parquet" --format none
mkdir -p data/sample/out
step $P convert "$first" data/sample/out/ticks.csv --limit 100000
step $P convert data/sample/out/ticks.csv data/sample/out/ticks.parquet --compression zstd
step $P cat data/sample/out/ticks.parquet --limit 3 --format json
printf '\nsample run done: data in %s, outputs in data/sample/out\n' "$D"
