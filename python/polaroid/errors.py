"""Errors raised by the polaroid client.

Every failed call raises a :class:`PolaroidError` subclass chosen by the gRPC status code. The
server puts its engine error record (what happened, where, why) in the status message and, field
by field, in the trailing metadata key ``polaroid-error-bin`` (a serialised
``polaroid.v1.ErrorDetail``); both are exposed here:

- ``what``: what happened (the engine's message);
- ``where``: the location as text (plan path, file, row group, column, row, byte offset, SQL
  position), or "";
- ``why``: the engine's hint when it gave one, else its status name ("corrupt input", ...);
- the raw fields: ``plan_path`` (where in the plan a bad plan failed, such as
  ``"root.filter.predicate.call.args[0]"``, or None), ``path``, ``column``, ``column_index``,
  ``row_group``, ``row``, ``byte_offset``, ``sql_position`` (0-based byte offset into the SQL
  text, or None; ``sql_line`` / ``sql_column``, 1-based, from the server for SQL it ran; for
  ``execute_sql`` the message also ends with the line and a caret under the position like
  ``polaroid sql``'s), ``hint``, ``status_name``, ``request_id`` (the client's own id when it sent
  one); ``code`` is the ``grpc.StatusCode`` (None for errors raised by the client itself).
"""

from __future__ import annotations

from typing import Any, Optional

import grpc

__all__ = [
    "PolaroidError",
    "NotFoundError",
    "InvalidArgumentError",
    "PermissionDeniedError",
    "UnauthenticatedError",
    "ResourceExhaustedError",
    "DeadlineExceededError",
    "CancelledError",
    "UnavailableError",
    "InternalError",
    "DataLossError",
    "AlreadyExistsError",
    "FailedPreconditionError",
    "UnimplementedError",
    "ERROR_DETAIL_KEY",
    "from_rpc_error",
]

ERROR_DETAIL_KEY = "polaroid-error-bin"


class PolaroidError(Exception):
    """Base class of every error the polaroid client raises for a failed server call."""

    code: Optional[grpc.StatusCode] = None

    def __init__(
        self,
        message: str,
        *,
        code: Optional[grpc.StatusCode] = None,
        detail: Any = None,
        details: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details = details if details is not None else message  # the gRPC status message
        self.detail = detail  # polaroid_pb2.ErrorDetail or None
        d = detail
        self.status_name: str = d.status if d is not None else ""
        self.what: str = (d.message if d is not None and d.message else (details or message))
        self.hint: str = d.hint if d is not None else ""
        self.plan_path: Optional[str] = (getattr(d, "plan_path", "") or None) if d is not None else None
        self.path: Optional[str] = (d.path or None) if d is not None else None
        self.column: Optional[str] = (d.column or None) if d is not None else None
        self.column_index: Optional[int] = _opt(d.column_index) if d is not None else None
        self.row_group: Optional[int] = _opt(d.row_group) if d is not None else None
        self.row: Optional[int] = _opt(d.row) if d is not None else None
        self.byte_offset: Optional[int] = _opt(d.byte_offset) if d is not None else None
        self.sql_position: Optional[int] = _opt(d.sql_position) if d is not None else None
        # the server's line and column of sql_position (1-based; 0 on the wire: none)
        self.sql_line: Optional[int] = (getattr(d, "sql_line", 0) or None) if d is not None else None
        self.sql_column: Optional[int] = (getattr(d, "sql_column", 0) or None) if d is not None else None
        self.sql_context: str = ""  # add_sql_context: the line and a caret, shown by str()
        self.request_id: str = d.request_id if d is not None else ""
        self.why: str = self.hint or self.status_name
        self.where: str = self._where()

    def _where(self) -> str:
        parts = []
        if self.plan_path:
            parts.append(f"plan {self.plan_path}")
        if self.path:
            parts.append(f"file {self.path!r}")
        if self.row_group is not None:
            parts.append(f"row group {self.row_group}")
        if self.column:
            parts.append(f"column {self.column!r}")
        elif self.column_index is not None:
            parts.append(f"column #{self.column_index}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.byte_offset is not None:
            parts.append(f"byte {self.byte_offset}")
        if self.sql_line is not None and self.sql_column is not None:
            parts.append(f"SQL line {self.sql_line}, column {self.sql_column}")
        elif self.sql_position is not None:
            parts.append(f"SQL position {self.sql_position}")
        return ", ".join(parts)

    def add_sql_context(self, sql: str) -> "PolaroidError":
        """Locates sql_position (a byte offset) in sql, the text the request sent: sets
        sql_line and sql_column (1-based, in characters; the server gives them too) and
        sql_context, that line with a caret under the position, which str() shows after the
        message (like ``polaroid sql``). Returns self."""
        if self.sql_position is None or self.sql_context:
            return self
        before = sql.encode("utf-8")[:self.sql_position].decode("utf-8", errors="ignore")
        start = before.rfind("\n") + 1
        end = sql.find("\n", len(before))
        line = sql[start:end if end >= 0 else len(sql)].replace("\t", " ").replace("\r", " ")
        self.sql_line = before.count("\n") + 1
        self.sql_column = len(before) - start + 1
        head = f"LINE {self.sql_line}: "
        self.sql_context = f"{head}{line}\n{' ' * (len(head) + self.sql_column - 1)}^"
        return self

    def __str__(self) -> str:
        s = self.message
        if self.code is not None:
            s = f"{s} [{self.code.name}]"
        return f"{s}\n{self.sql_context}" if self.sql_context else s


def _opt(v: int) -> Optional[int]:
    """ErrorDetail uses -1 for 'not applicable'; proto3 defaults an unset field to 0, which we
    cannot tell from a real 0, so only negative values mean absent."""
    return None if v < 0 else v


class NotFoundError(PolaroidError):
    """A file, handle or table that does not exist (NOT_FOUND)."""

    code = grpc.StatusCode.NOT_FOUND


class InvalidArgumentError(PolaroidError, ValueError):
    """A bad plan, expression or SQL text (INVALID_ARGUMENT); ``sql_position`` when known."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class PermissionDeniedError(PolaroidError):
    """A path that leaves the data root, or another client's handle (PERMISSION_DENIED)."""

    code = grpc.StatusCode.PERMISSION_DENIED


class UnauthenticatedError(PolaroidError):
    """A missing or wrong bearer token (UNAUTHENTICATED)."""

    code = grpc.StatusCode.UNAUTHENTICATED


class ResourceExhaustedError(PolaroidError):
    """A limit: memory, queue, message size, handles (RESOURCE_EXHAUSTED)."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceededError(PolaroidError, TimeoutError):
    """The call's deadline or the server's query time limit passed (DEADLINE_EXCEEDED)."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class CancelledError(PolaroidError):
    """The call was cancelled (CANCELLED)."""

    code = grpc.StatusCode.CANCELLED


class UnavailableError(PolaroidError, ConnectionError):
    """The server cannot be reached or is shutting down (UNAVAILABLE)."""

    code = grpc.StatusCode.UNAVAILABLE


class InternalError(PolaroidError):
    """A bug or an unexpected failure on the server (INTERNAL, UNKNOWN)."""

    code = grpc.StatusCode.INTERNAL


class DataLossError(PolaroidError):
    """A corrupt input file (DATA_LOSS)."""

    code = grpc.StatusCode.DATA_LOSS


class AlreadyExistsError(PolaroidError):
    """The target exists (ALREADY_EXISTS): a file written without overwrite, a table."""

    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPreconditionError(PolaroidError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class UnimplementedError(PolaroidError):
    """The server does not support this method or plan node (UNIMPLEMENTED)."""

    code = grpc.StatusCode.UNIMPLEMENTED


_BY_CODE = {
    cls.code: cls
    for cls in (
        NotFoundError,
        InvalidArgumentError,
        PermissionDeniedError,
        UnauthenticatedError,
        ResourceExhaustedError,
        DeadlineExceededError,
        CancelledError,
        UnavailableError,
        InternalError,
        DataLossError,
        AlreadyExistsError,
        FailedPreconditionError,
        UnimplementedError,
    )
}
_BY_CODE[grpc.StatusCode.UNKNOWN] = InternalError
_BY_CODE[grpc.StatusCode.OUT_OF_RANGE] = InvalidArgumentError


def error_class(code: Optional[grpc.StatusCode]) -> type:
    return _BY_CODE.get(code, PolaroidError)  # type: ignore[arg-type]


def parse_error_detail(trailing_metadata: Any) -> Any:
    """The ErrorDetail in the trailing metadata, or None."""
    if not trailing_metadata:
        return None
    for item in trailing_metadata:
        key, value = item[0], item[1]
        if key == ERROR_DETAIL_KEY:
            from ._proto import polaroid_pb2 as pb

            detail = pb.ErrorDetail()
            try:
                detail.ParseFromString(bytes(value))
            except Exception:  # a malformed trailer must not hide the error itself
                return None
            return detail
    return None


def from_status(code: Optional[grpc.StatusCode], details: Optional[str], trailing: Any) -> PolaroidError:
    detail = parse_error_detail(trailing)
    details = details or ""
    message = details or (detail.message if detail is not None else "") or (
        code.name if code is not None else "error")
    cls = error_class(code)
    return cls(message, code=code, detail=detail, details=details)


def from_rpc_error(e: grpc.RpcError) -> PolaroidError:
    """The PolaroidError for a failed gRPC call (sync or aio)."""
    code = details = trailing = None
    try:
        code = e.code()  # type: ignore[attr-defined]
    except Exception:
        pass
    try:
        details = e.details()  # type: ignore[attr-defined]
    except Exception:
        pass
    try:
        trailing = e.trailing_metadata()  # type: ignore[attr-defined]
    except Exception:
        pass
    if (code == grpc.StatusCode.INTERNAL and details == "Internal error from Core"
            and not any(k == "polaroid-error-bin" for k, _ in (trailing or ()))):
        # gRPC's own status for a stream cut without one from the server (the connection
        # died mid-call): the server is unreachable, not failing; retried and counted as such
        code = grpc.StatusCode.UNAVAILABLE
        details = "the connection to the server was lost during the call (Internal error from Core)"
    return from_status(code, details, trailing)
