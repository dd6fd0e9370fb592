-- scripts/sample.sql: the SQL part of `make run` (scripts/run_sample.sh), over the sample ticks
-- (bench/gen_ticks.py --small). Run from the repository root: polaroid sql -f scripts/sample.sql
-- trades, volume and price range per symbol: the ten most traded
SELECT symbol, count(*) AS trades, sum(size) AS volume, round(avg(price), 2) AS avg_price,
       min(price) AS low, max(price) AS high
FROM 'data/sample/ticks/*.parquet'
GROUP BY symbol ORDER BY trades DESC LIMIT 10;
-- large trades of one symbol on one venue
SELECT ts, symbol, price, size, side
FROM 'data/sample/ticks/*.parquet'
WHERE symbol = 'FATN' AND exchange = 'XNYS' AND size >= 500
ORDER BY ts LIMIT 5;
-- 1-minute bars into a session table, then the busiest minutes
CREATE TABLE bars AS
SELECT symbol, time_bucket(INTERVAL '1 minute', ts) AS minute, count(*) AS trades,
       min(price) AS low, max(price) AS high, sum(size) AS volume
FROM 'data/sample/ticks/*.parquet'
WHERE symbol IN ('XCR', 'FATN')
GROUP BY ALL;
SELECT * FROM bars ORDER BY volume DESC LIMIT 5;
COPY bars TO 'data/sample/out/bars.parquet';
