#!/usr/bin/env bash
# `make run`: generates the small sample market-tick data set (bench/gen_ticks.py --small: five
# zstd Parquet files under data/sample/ticks, skipped when already there) and runs polaroid's main
# job on it: inspect (schema), read (cat: table, projection, CSV, JSON, row count), convert
# (Parquet -> CSV -> Parquet, Parquet -> Arrow IPC -> CSV), SQL (scripts/sample.sql: aggregate,
# filter, 1-minute bars, COPY). Outputs go to data/sample/out.
#   POLAROID=build-x/polaroid scripts/run_sample.sh   use another binary (default build/polaroid)
set -euo pipefail
cd "$(dirname "$0")/.."
P=${POLAROID:-build/polaroid}
D=data/sample/ticks
O=data/sample/out
[ -x "$P" ] || { echo "run_sample: $P not found (make build)" >&2; exit 1; }
.venv/bin/python bench/gen_ticks.py --small --out "$D"
step() { printf '\n$ %s\n' "$*"; "$@"; }
first=$(ls "$D"/*.parquet | head -1)
mkdir -p "$O"
step "$P" schema "$first" --brief
printf '\n$ %s\n' "$P schema $first | (row group 0)"
"$P" schema "$first" | sed -n '/^row group 0/,/^$/p' | head -16
step "$P" cat "$D/*.parquet" --limit 10
step "$P" cat "$D/*.parquet" --columns ts,symbol,price --limit 5 --format csv
step "$P" cat "$D/*.parquet" --columns symbol,price,size --limit 3 --format json
step "$P" cat "$D/*.parquet" --format none
step "$P" convert "$first" "$O/ticks.csv" --limit 100000
step head -3 "$O/ticks.csv"
step "$P" convert "$O/ticks.csv" "$O/ticks.parquet" --compression zstd --row-group-size 25000
step "$P" schema "$O/ticks.parquet" --brief
# Arrow IPC lands separately: report instead of failing while it is not built in
printf '\n$ %s\n' "$P convert $first $O/ticks.arrow --limit 100000"
if err=$("$P" convert "$first" "$O/ticks.arrow" --limit 100000 2>&1); then
  step "$P" cat "$O/ticks.arrow" --limit 3 --format csv
elif [[ "$err" == *"not built"* ]]; then
  echo "(skipped: $err)"
else
  echo "$err" >&2; exit 1
fi
# SQL: a per-symbol aggregate, a filter, 1-minute bars into a session table, COPY to Parquet
# (scripts/sample.sql), then a query over the written bars
step "$P" sql --timing -f scripts/sample.sql
step "$P" sql --format csv "SELECT symbol, count(*) AS bars, sum(trades) AS trades FROM '$O/bars.parquet' GROUP BY symbol ORDER BY symbol"
step ls -l "$O"

# The server: polaroid serve on the sample data (a free loopback port), the sync Python client
# against it, then SIGTERM (a graceful shutdown exits 0)
printf '\n$ %s\n' "$P serve --listen 127.0.0.1:0 --data-root data/sample &"
"$P" serve --listen 127.0.0.1:0 --data-root data/sample >"$O/serve.out" 2>"$O/serve.log" &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
for _ in $(seq 200); do grep -q "listening on" "$O/serve.out" && break; sleep 0.05; done
cat "$O/serve.out"
ADDR=$(sed -n 's/.*listening on \([^,]*\),.*/\1/p' "$O/serve.out")
[ -n "$ADDR" ] || { echo "run_sample: the server did not start:" >&2; cat "$O/serve.log" >&2; exit 1; }
step .venv/bin/python scripts/sample_client.py "$ADDR"
kill -TERM $SRV
rc=0
wait $SRV || rc=$?
trap - EXIT
printf 'polaroid serve exited %d after SIGTERM\n' "$rc"
[ "$rc" = 0 ] || exit 1
printf '\nsample run done: data in %s, outputs in %s\n' "$D" "$O"
