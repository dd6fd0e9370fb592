"""The session time zone (SET TimeZone): TIMESTAMPTZ values shown, cast and computed in it, as
DuckDB does; expected values from DuckDB at run time. Several zones, DST transitions (gaps and
overlaps), pre-1970 and pre-1900 (local mean time) instants, the far future (POSIX TZ rules)."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ZONES = ["America/New_York", "Europe/London", "Asia/Tokyo", "Asia/Kolkata", "Australia/Lord_Howe",
         "UTC"]

INSTANTS = ["2024-01-02 10:00:00+00", "2024-07-01 12:34:56.789+00", "2024-03-10 06:59:59+00",
            "2024-03-10 07:00:00+00", "2024-11-03 05:30:00+00", "2024-11-03 06:30:00+00",
            "1950-06-01 12:00:00+00", "1969-12-31 23:59:59.5+00", "1850-01-01 00:00:00+00",
            "2200-07-01 12:00:00+00", "2024-03-31 01:00:00+00", "2024-10-27 00:59:59.999999+00"]

LOCALS = ["2024-01-02 10:00:00", "2024-03-10 02:30:00", "2024-11-03 01:30:00",
          "2024-03-31 01:30:00", "2024-10-27 01:30:00", "2024-04-07 02:30:00",
          "1950-06-01 12:00:00", "1890-01-01 00:00:00", "2200-11-02 01:30:00"]


def tz_setup(zone):
    return [f"SET TimeZone = '{zone}'"]


def values_list(texts, kind):
    return ", ".join(f"({kind} '{t}')" for t in texts)


@pytest.mark.parametrize("zone", ZONES)
def test_tz_show(sql, zone):
    """TIMESTAMPTZ -> VARCHAR: the local time with its offset (+HH, +HH:MM, +HH:MM:SS)."""
    sql.check(f"SELECT t::VARCHAR AS s, t FROM (VALUES {values_list(INSTANTS, 'TIMESTAMPTZ')}) v(t)",
              setup=tz_setup(zone))


@pytest.mark.parametrize("zone", ZONES)
def test_tz_read_local(sql, zone):
    """VARCHAR / TIMESTAMP / DATE -> TIMESTAMPTZ: a wall-clock time in the session zone (a gap
    takes the offset before it, an overlap the later instant)."""
    sql.check(f"SELECT s, s::TIMESTAMPTZ AS a, s::TIMESTAMP::TIMESTAMPTZ AS b, "
              f"epoch(s::TIMESTAMPTZ) AS e, s::DATE::TIMESTAMPTZ AS d, "
              f"s::TIMESTAMPTZ::VARCHAR AS v FROM (VALUES {values_list(LOCALS, '')}) v(s)",
              setup=tz_setup(zone))


@pytest.mark.parametrize("zone", ZONES)
def test_tz_to_local(sql, zone):
    """TIMESTAMPTZ -> TIMESTAMP / DATE / TIME: the local wall clock in the session zone."""
    sql.check(f"SELECT t::TIMESTAMP AS a, t::DATE AS b, t::TIMESTAMP::TIME AS c "
              f"FROM (VALUES {values_list(INSTANTS, 'TIMESTAMPTZ')}) v(t)", setup=tz_setup(zone))


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Asia/Kolkata"])
def test_tz_parts(sql, zone):
    """date_part / extract / date_trunc / strftime of a TIMESTAMPTZ in the session zone."""
    sql.check(f"SELECT t, extract(hour FROM t) AS h, date_part('day', t) AS d, "
              f"date_part('minute', t) AS mi, dayofweek(t) AS dow, "
              f"date_trunc('day', t) AS td, date_trunc('month', t) AS tm, date_trunc('hour', t) AS th, "
              f"strftime(t, '%Y-%m-%d %H:%M:%S') AS f "
              f"FROM (VALUES {values_list(INSTANTS, 'TIMESTAMPTZ')}) v(t)", setup=tz_setup(zone))


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe"])
def test_tz_interval_add(sql, zone):
    """+ INTERVAL '1 day' is a local day (23 or 25 hours across a DST change), '24 hours' is not."""
    sql.check(f"SELECT t, t + INTERVAL '1 day' AS a, t + INTERVAL '24 hours' AS b, "
              f"t - INTERVAL '1 month' AS c, (t + INTERVAL '1 day')::VARCHAR AS d "
              f"FROM (VALUES {values_list(LOCALS, 'TIMESTAMPTZ')}) v(t)", setup=tz_setup(zone))


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_tz_parquet_utc_column(sql, zone):
    """A Parquet timestamp[us, UTC] column is TIMESTAMPTZ and shows in the session zone."""
    path = sql.tmp / "tz.parquet"
    ts = pa.array([0, 1704189600000000, 1710054000000000, None, -631152000000000],
                  pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"id": [1, 2, 3, 4, 5], "ts": ts}), str(path))
    q = (f"SELECT id, ts, ts::VARCHAR AS s, extract(hour FROM ts) AS h, ts::DATE AS d "
         f"FROM read_parquet('{path}') ORDER BY id")
    got = sql.check(q, setup=tz_setup(zone), ordered=True)
    # the Arrow result carries the session zone, as DuckDB's does
    assert got.schema.field("ts").type == sql.duckdb(tz_setup(zone) + [q]).schema.field("ts").type


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_tz_table_roundtrip(sql, zone):
    """TIMESTAMPTZ stored in a table and read back, compared with strings in the session zone."""
    sql.check("SELECT id, t, t::VARCHAR AS s FROM tt WHERE t >= '2024-03-10 03:00:00' ORDER BY id",
              setup=tz_setup(zone) + [
                  "CREATE TABLE tt (id INTEGER, t TIMESTAMPTZ)",
                  "INSERT INTO tt VALUES (1, '2024-03-10 01:00:00'), (2, '2024-03-10 03:00:00'), "
                  "(3, '2024-03-10 12:00:00+00'), (4, NULL)"], ordered=True)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_tz_at_time_zone(sql, zone):
    """AT TIME ZONE / timezone(): naive -> TIMESTAMPTZ shown in the session zone, and back."""
    sql.check("SELECT (TIMESTAMP '2024-01-01 12:00' AT TIME ZONE 'Europe/Paris')::VARCHAR AS a, "
              "TIMESTAMPTZ '2024-07-01 12:00:00+00' AT TIME ZONE 'Asia/Kolkata' AS b, "
              "timezone('America/Chicago', TIMESTAMP '2024-03-10 12:00') AS c",
              setup=tz_setup(zone))


def test_tz_current_setting(sql):
    sql.check("SELECT current_setting('TimeZone') AS z", setup=tz_setup("Asia/Tokyo"))
    sql.check("SELECT current_setting('timezone') AS z", setup=["SET timezone TO 'Europe/London'"])


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_tz_now_type(sql, zone):
    sql.check("SELECT typeof(now()) AS a, typeof(current_timestamp) AS b, "
              "now() - now() AS c, current_timestamp::DATE - now()::DATE AS d", setup=tz_setup(zone))


RANGES = [
    ("hours", "generate_series(TIMESTAMPTZ '2024-03-10 00:00', TIMESTAMPTZ '2024-03-10 05:00', "
              "INTERVAL '1 hour')"),
    ("days", "range(TIMESTAMPTZ '2024-03-08 02:30', TIMESTAMPTZ '2024-03-14', INTERVAL '1 day')"),
    ("days_back", "generate_series(TIMESTAMPTZ '2024-11-05 00:30', TIMESTAMPTZ '2024-10-30', "
                  "-INTERVAL '1 day')"),
    ("months", "range(TIMESTAMPTZ '2024-01-31 12:00', TIMESTAMPTZ '2025-01-01', INTERVAL '1 month')"),
    ("day_hours", "range(TIMESTAMPTZ '2024-03-09 01:00', TIMESTAMPTZ '2024-03-13', "
                  "INTERVAL '1 day 2 hours')"),
]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe"])
@pytest.mark.parametrize("name,rng", RANGES, ids=[r[0] for r in RANGES])
def test_tz_range(sql, zone, name, rng):
    """range / generate_series of TIMESTAMPTZ: days and months are local ones (DST)."""
    sql.check(f"SELECT t, t::VARCHAR AS s FROM {rng} g(t)", setup=tz_setup(zone), ordered=True)


def test_tz_unknown_zone(sql):
    sql.error(["SET TimeZone = 'Mars/Base'"], "unknown time zone", "Mars/Base")


def test_tz_reset(sql):
    """RESET TimeZone: back to UTC (DuckDB's machine zone; compared with its 'UTC')."""
    q = "SELECT TIMESTAMPTZ '2024-07-01 12:00:00+02'::VARCHAR AS s, current_setting('TimeZone') AS z"
    r = sql.polaroid(["SET TimeZone = 'Asia/Tokyo'", "RESET TimeZone", q], fmt="csv")
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    exp = sql.duckdb(["SET TimeZone = 'UTC'", q]).to_pylist()[0]
    assert r.stdout.decode().splitlines()[1] == f"{exp['s']},{exp['z']}"


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_tz_current_date_local(sql, zone):
    """current_date / LOCALTIMESTAMP are local (the zones are 25 hours apart: at most one of
    them has UTC's date)."""
    sql.check("SELECT current_date - CAST(timezone('UTC', now()) AS DATE) AS d, "
              "date_diff('hour', timezone('UTC', now()), LOCALTIMESTAMP) AS h", setup=tz_setup(zone))


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_tz_make_timestamptz(sql, zone):
    sql.check("SELECT make_timestamptz(2024, 3, 10, 2, 30, 0) AS a, "
              "make_timestamptz(2024, 11, 3, 1, 30, 15.5)::VARCHAR AS b, "
              "make_timestamptz(2024, 3, 10, 2, 30, 0, 'Asia/Tokyo')::VARCHAR AS c, "
              "make_timestamptz(1900, 1, 1, 0, 0, 0, 'America/Chicago') AS d", setup=tz_setup(zone))


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_tz_table_changes(sql, zone):
    """Strings without an offset reach TIMESTAMPTZ columns as local times in every DML path:
    a DEFAULT, COPY FROM a CSV file, UPDATE ... SET, ALTER COLUMN ... TYPE."""
    (sql.tmp / "tzc.csv").write_text("id,t\n2,2024-03-10 01:00:00\n3,2024-07-01 12:00:00\n")
    sql.check("SELECT 'a' AS w, id, t, t::VARCHAR AS v FROM a UNION ALL "
              "SELECT 'b', id, s, s::VARCHAR FROM b ORDER BY w, id",
              setup=tz_setup(zone) + [
                  "CREATE TABLE a (id INTEGER, t TIMESTAMPTZ DEFAULT '2024-01-01 10:00:00')",
                  "INSERT INTO a (id) VALUES (1)",
                  "COPY a FROM '{tmp}/tzc.csv' (HEADER)",
                  "UPDATE a SET t = '2024-12-01 00:00:00' WHERE id = 3",
                  "CREATE TABLE b (id INTEGER, s VARCHAR)",
                  "INSERT INTO b VALUES (1, '2024-03-10 01:00:00'), (2, '1950-01-01 00:00:00')",
                  "ALTER TABLE b ALTER COLUMN s TYPE TIMESTAMPTZ"], ordered=True)
