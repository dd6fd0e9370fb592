"""The Python part of `make run` (scripts/run_sample.sh): a short session against a running
`polaroid serve` whose data root is data/sample, with the sync client (`import polaroid`).

    .venv/bin/python scripts/sample_client.py HOST:PORT
"""
import sys

import polaroid as pd


def show(title, value):
    print(f"\n>>> {title}")
    print(value)


def main(target):
    client = pd.connect(target)
    info = client.server_info()
    show("client.server_info()", f"polaroid {info.version}, {info.threads} threads, same host: "
         f"{info.same_host}, capabilities: {', '.join(info.capabilities)}")

    ticks = pd.read_parquet("ticks/*.parquet")  # lazy: nothing runs yet
    show("ticks.schema", ticks.schema)
    show("len(ticks)", len(ticks))

    big = (ticks.filter("size >= 500")
                .filter(pd.col("symbol") == "FATN")
                .select(["ts", "symbol", "price", "size", "side"])
                .sort("ts")
                .head(5))
    show("large FATN trades (filter, select, sort, head) -> pyarrow", big.collect())

    per_symbol = (ticks.group_by("symbol")
                       .agg([pd.col("price").mean().alias("avg_price"),
                             pd.col("size").sum().alias("volume"),
                             pd.col("price").count().alias("trades")])
                       .sort("volume", descending=True)
                       .head(5))
    show("volume per symbol (group_by/agg) -> pandas", per_symbol.to_pandas())

    bars = pd.sql("""
        SELECT symbol, time_bucket(INTERVAL '1 minute', ts) AS minute,
               min(price) AS low, max(price) AS high, sum(size) AS volume
        FROM 'ticks/*.parquet' WHERE symbol = 'XCR'
        GROUP BY ALL ORDER BY minute LIMIT 5""")
    show("1-minute bars (SQL on the server) -> polars", bars.to_polars())

    show("explain()", big.explain())

    try:
        pd.read_parquet("../outside.parquet").collect()
    except pd.PolaroidError as e:
        show("a path outside the data root is refused", f"{type(e).__name__}: {e}")
    client.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "localhost:50051")
