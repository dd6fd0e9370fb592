"""SET TimeZone on the server (src/server/sql_session.c): kept by a client's SQL session between
its requests (with its temporary objects), one request's only without a session; TIMESTAMPTZ
results carry the zone as Arrow tz metadata and print in it. Compared with DuckDB, one DuckDB
connection per server session."""
from __future__ import annotations

import duckdb
import pyarrow as pa

from helpers import assert_same

Q = ("SELECT TIMESTAMPTZ '2024-03-10 12:00:00+00' AS t, "
     "TIMESTAMPTZ '2024-03-10 12:00:00+00'::VARCHAR AS s, "
     "extract(hour FROM TIMESTAMPTZ '2024-03-10 12:00:00+00') AS h, "
     "'2024-11-03 01:30:00'::TIMESTAMPTZ AS l, current_setting('TimeZone') AS z")


def duck(zone: str) -> pa.Table:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    return con.sql(Q).to_arrow_table()


def test_session_keeps_time_zone(client):
    with client.sql_session() as s1, client.sql_session() as s2:
        s1.execute_sql("SET TimeZone = 'America/New_York'")
        s2.execute_sql("SET TimeZone = 'Asia/Kolkata'")
        got = s1.execute_sql(Q)
        assert_same(got, duck("America/New_York"))
        assert got.schema.field("t").type == pa.timestamp("us", tz="America/New_York")
        assert_same(s2.execute_sql(Q), duck("Asia/Kolkata"))
        # a request without a session is UTC; RESET goes back to UTC
        assert client.execute_sql("SELECT current_setting('TimeZone') AS z").to_pylist() == [{"z": "UTC"}]
        s1.execute_sql("RESET TimeZone")
        assert_same(s1.execute_sql(Q), duck("UTC"))
        assert_same(s2.execute_sql(Q), duck("Asia/Kolkata"))


def test_script_time_zone_one_request(client):
    got = client.execute_sql("SET TimeZone = 'Asia/Tokyo'; " + Q)
    assert_same(got, duck("Asia/Tokyo"))
    assert client.execute_sql("SELECT current_setting('TimeZone') AS z").to_pylist() == [{"z": "UTC"}]
