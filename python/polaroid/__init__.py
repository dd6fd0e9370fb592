"""polaroid: a Python client for `polaroid serve`, the columnar DataFrame engine's gRPC server.

    import polaroid as pd
    client = pd.connect("localhost:50051")      # also the default connection
    df = pd.read_parquet("ticks/*.parquet")      # lazy: nothing runs yet
    out = (df.filter("price > 100")
             .group_by("symbol").agg(pd.col("price").mean().alias("avg_px"), pd.len_())
             .sort("symbol")
             .collect())                         # -> pyarrow.Table

The plan is built locally and sent whole; results stream back as Arrow. Errors raise
``polaroid.PolaroidError`` subclasses carrying the server's what/where/why.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from . import errors
from .client import (DEFAULT_TARGET, AppendResult, Client, Handle, ResultStream, SqlSession,
                     TableInfo, WriteResult, connect, get_default, set_default)
from .errors import (AlreadyExistsError, CancelledError, DataLossError, DeadlineExceededError,
                     FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError,
                     PermissionDeniedError, PolaroidError, ResourceExhaustedError,
                     UnauthenticatedError, UnavailableError, UnimplementedError)
from .expr import (Expr, all_horizontal, any_horizontal, coalesce, col, count, len_, lit,
                   sql_expr, when)
from .frame import DataFrame, GroupBy

__version__ = "0.3.0"

PolaroidClient = Client

__all__ = [
    "connect", "Client", "PolaroidClient", "get_default", "set_default", "DataFrame", "GroupBy",
    "Expr", "Handle", "ResultStream", "SqlSession", "TableInfo", "WriteResult", "AppendResult",
    "read_parquet", "read_csv", "read_ipc", "scan", "sql", "execute_sql", "from_arrow", "from_pandas",
    "from_polars", "table", "concat", "col", "lit", "sql_expr", "count", "len_", "when",
    "coalesce", "all_horizontal", "any_horizontal",
    "PolaroidError", "NotFoundError", "InvalidArgumentError", "PermissionDeniedError",
    "UnauthenticatedError", "ResourceExhaustedError", "DeadlineExceededError", "CancelledError",
    "UnavailableError", "InternalError", "DataLossError", "AlreadyExistsError",
    "FailedPreconditionError", "UnimplementedError", "errors", "DEFAULT_TARGET",
]


def read_parquet(source: Any, *, columns: Optional[Sequence[str]] = None,
                 n_rows: Optional[int] = None) -> DataFrame:
    """Parquet files under the server's data root: a path, a glob ("ticks/*.parquet") or a list."""
    return get_default().read_parquet(source, columns=columns, n_rows=n_rows)


def read_csv(source: Any, **kwargs: Any) -> DataFrame:
    """CSV files under the server's data root (has_header, separator, quote_char, null_values)."""
    return get_default().read_csv(source, **kwargs)


def read_ipc(source: Any, **kwargs: Any) -> DataFrame:
    """Arrow IPC files under the server's data root."""
    return get_default().read_ipc(source, **kwargs)


def scan(source: Any, format: Optional[str] = None) -> DataFrame:
    return get_default().scan(source, format)


def sql(query: str, **frames: DataFrame) -> DataFrame:
    """A SQL query on the server; ``pd.sql("SELECT * FROM t WHERE x > 1", t=df)``."""
    return get_default().sql(query, **frames)


def execute_sql(script: str, **frames: DataFrame) -> Any:
    """Runs a SQL script (CREATE TABLE, INSERT, CREATE VIEW, DROP, queries) on the server now;
    see Client.execute_sql."""
    return get_default().execute_sql(script, **frames)


def from_arrow(data: Any) -> DataFrame:
    """Uploads a pyarrow Table (sent with the plan)."""
    return get_default().from_arrow(data)


def from_pandas(df: Any, *, preserve_index: bool = False) -> DataFrame:
    return get_default().from_pandas(df, preserve_index=preserve_index)


def from_polars(df: Any) -> DataFrame:
    return get_default().from_polars(df)


def table(name: str) -> DataFrame:
    """A live table of the default connection's server."""
    return get_default().table(name)


def concat(frames: Sequence[DataFrame], *, distinct: bool = False) -> DataFrame:
    """Rows of the frames one after the other (by position; UNION ALL unless distinct)."""
    frames = list(frames)
    if not frames:
        raise ValueError("concat needs at least one DataFrame")
    return frames[0].union(*frames[1:], distinct=distinct)

# errors as values (the asyncio client returns them): polaroid.Ok(...), match r: case Err(e): ...
from .result import Err, Nothing, Ok, Option, Result, Some  # noqa: E402

__all__ += ["Result", "Ok", "Err", "Option", "Some", "Nothing"]
