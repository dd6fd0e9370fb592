from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TableKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TABLE_KIND_TABLE: _ClassVar[TableKind]
    TABLE_KIND_VIEW: _ClassVar[TableKind]
TABLE_KIND_TABLE: TableKind
TABLE_KIND_VIEW: TableKind

class Plan(_message.Message):
    __slots__ = ("root",)
    ROOT_FIELD_NUMBER: _ClassVar[int]
    root: Relation
    def __init__(self, root: _Optional[_Union[Relation, _Mapping]] = ...) -> None: ...

class Relation(_message.Message):
    __slots__ = ("read", "sql", "arrow", "handle", "table", "select", "filter", "with_columns", "aggregate", "join", "sort", "distinct", "limit", "rename", "drop", "union")
    READ_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    ARROW_FIELD_NUMBER: _ClassVar[int]
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    SELECT_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    WITH_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    JOIN_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    DISTINCT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RENAME_FIELD_NUMBER: _ClassVar[int]
    DROP_FIELD_NUMBER: _ClassVar[int]
    UNION_FIELD_NUMBER: _ClassVar[int]
    read: ReadFiles
    sql: SqlQuery
    arrow: ArrowData
    handle: HandleRef
    table: TableRef
    select: Select
    filter: Filter
    with_columns: WithColumns
    aggregate: Aggregate
    join: Join
    sort: Sort
    distinct: Distinct
    limit: Limit
    rename: Rename
    drop: Drop
    union: Union
    def __init__(self, read: _Optional[_Union[ReadFiles, _Mapping]] = ..., sql: _Optional[_Union[SqlQuery, _Mapping]] = ..., arrow: _Optional[_Union[ArrowData, _Mapping]] = ..., handle: _Optional[_Union[HandleRef, _Mapping]] = ..., table: _Optional[_Union[TableRef, _Mapping]] = ..., select: _Optional[_Union[Select, _Mapping]] = ..., filter: _Optional[_Union[Filter, _Mapping]] = ..., with_columns: _Optional[_Union[WithColumns, _Mapping]] = ..., aggregate: _Optional[_Union[Aggregate, _Mapping]] = ..., join: _Optional[_Union[Join, _Mapping]] = ..., sort: _Optional[_Union[Sort, _Mapping]] = ..., distinct: _Optional[_Union[Distinct, _Mapping]] = ..., limit: _Optional[_Union[Limit, _Mapping]] = ..., rename: _Optional[_Union[Rename, _Mapping]] = ..., drop: _Optional[_Union[Drop, _Mapping]] = ..., union: _Optional[_Union[Union, _Mapping]] = ...) -> None: ...

class ReadFiles(_message.Message):
    __slots__ = ("format", "paths", "csv")
    class Format(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        FORMAT_AUTO: _ClassVar[ReadFiles.Format]
        FORMAT_PARQUET: _ClassVar[ReadFiles.Format]
        FORMAT_CSV: _ClassVar[ReadFiles.Format]
        FORMAT_IPC: _ClassVar[ReadFiles.Format]
    FORMAT_AUTO: ReadFiles.Format
    FORMAT_PARQUET: ReadFiles.Format
    FORMAT_CSV: ReadFiles.Format
    FORMAT_IPC: ReadFiles.Format
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    format: ReadFiles.Format
    paths: _containers.RepeatedScalarFieldContainer[str]
    csv: CsvOptions
    def __init__(self, format: _Optional[_Union[ReadFiles.Format, str]] = ..., paths: _Optional[_Iterable[str]] = ..., csv: _Optional[_Union[CsvOptions, _Mapping]] = ...) -> None: ...

class CsvOptions(_message.Message):
    __slots__ = ("no_header", "delimiter", "quote", "null_values")
    NO_HEADER_FIELD_NUMBER: _ClassVar[int]
    DELIMITER_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    NULL_VALUES_FIELD_NUMBER: _ClassVar[int]
    no_header: bool
    delimiter: str
    quote: str
    null_values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, no_header: _Optional[bool] = ..., delimiter: _Optional[str] = ..., quote: _Optional[str] = ..., null_values: _Optional[_Iterable[str]] = ...) -> None: ...

class SqlQuery(_message.Message):
    __slots__ = ("query", "inputs")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    query: str
    inputs: _containers.RepeatedCompositeFieldContainer[NamedRelation]
    def __init__(self, query: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[NamedRelation, _Mapping]]] = ...) -> None: ...

class NamedRelation(_message.Message):
    __slots__ = ("name", "relation")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    relation: Relation
    def __init__(self, name: _Optional[str] = ..., relation: _Optional[_Union[Relation, _Mapping]] = ...) -> None: ...

class ArrowData(_message.Message):
    __slots__ = ("ipc_stream",)
    IPC_STREAM_FIELD_NUMBER: _ClassVar[int]
    ipc_stream: bytes
    def __init__(self, ipc_stream: _Optional[bytes] = ...) -> None: ...

class HandleRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class TableRef(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class Select(_message.Message):
    __slots__ = ("input", "exprs")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    EXPRS_FIELD_NUMBER: _ClassVar[int]
    input: Relation
    exprs: _containers.RepeatedCompositeFieldContainer[NamedExpr]
    def __init__(self, input: _Optional[_Union[Relation, _Mapping]] = ..., exprs: _Optional[_Iterable[_Union[NamedExpr, _Mapping]]] = ...) -> None: ...

class Filter(_message.Message):
    __slots__ = ("input", "predicate")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    PREDICATE_FIELD_NUMBER: _ClassVar[int]
    input: Relation
    predicate: Expr
    def __init__(self, input: _Optional[_Union[Relation, _Mapping]] = ..., predicate: _Optional[_Union[Expr, _Mapping]] = ...) -> None: ...

class WithColumns(_message.Message):
    __slots__ = ("input", "exprs")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    EXPRS_FIELD_NUMBER: _ClassVar[int]
    input: Relation
    exprs: _containers.RepeatedCompositeFieldContainer[NamedExpr]
    def __init__(self, input: _Optional[_Union[Relation, _Mapping]] = ..., exprs: _Optional[_Iterable[_Union[NamedExpr, _Mapping]]] = ...) -> None: ...

class Aggregate(_message.Message):
    __slots__ = ("input", "keys", "aggs")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    AGGS_FIELD_NUMBER: _ClassVar[int]
    input: Relation
    keys: _containers.RepeatedCompositeFieldContainer[NamedExpr]
    aggs: _containers.RepeatedCompositeFieldContainer[NamedExpr]
    def __init__(self, input: _Optional[_Union[Relation, _Mapping]] = ..., keys: _Optional[_Iterable[_Union[NamedExpr, _Mapping]]] = ..., aggs: _Optional[_Iterable[_Union[NamedExpr, _Mapping]]] = ...) -> None: ...

class Join(_message.Message):
    __slots__ = ("left", "right", "type", "on", "left_on", "right_on", "suffix", "null_equal", "asof_op")
    class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        JOIN_INNER: _ClassVar[Join.Type]
        JOIN_LEFT: _ClassVar[Join.Type]
        JOIN_RIGHT: _ClassVar[Join.Type]
        JOIN_FULL: _ClassVar[Join.Type]
        JOIN_SEMI: _ClassVar[Join.Type]
        JOIN_ANTI: _ClassVar[Join.Type]
        JOIN_CROSS: _ClassVar[Join.Type]
        JOIN_ASOF: _ClassVar[Join.Type]
        JOIN_ASOF_LEFT: _ClassVar[Join.Type]
    JOIN_INNER: Join.Type
    JOIN_LEFT: Join.Type
    JOIN_RIGHT: Join.Type
    JOIN_FULL: Join.Type
    JOIN_SEMI: Join.Type
    JOIN_ANTI: Join.Type
    JOIN_CROSS: Join.Type
    JOIN_ASOF: Join.Type
    JOIN_ASOF_LEFT: Join.Type
    class AsofOp(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ASOF_GE: _ClassVar[Join.AsofOp]
        ASOF_GT: _ClassVar[Join.AsofOp]
        ASOF_LE: _ClassVar[Join.AsofOp]
        ASOF_LT: _ClassVar[Join.AsofOp]
    ASOF_GE: Join.AsofOp
    ASOF_GT: Join.AsofOp
    ASOF_LE: Join.AsofOp
    ASOF_LT: Join.AsofOp
    LEFT_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    LEFT_ON_FIELD_NUMBER: _ClassVar[int]
    RIGHT_ON_FIELD_NUMBER: _ClassVar[int]
    SUFFIX_FIELD_NUMBER: _ClassVar[int]
    NULL_EQUAL_FIELD_NUMBER: _ClassVar[int]
    ASOF_OP_FIELD_NUMBER: _ClassVar[int]
    left: Relation
    right: Relation
    type: Join.Type
    on: _containers.RepeatedScalarFieldContainer[str]
    left_on: _containers.RepeatedCompositeFieldContainer[Expr]
    right_on: _containers.RepeatedCompositeFieldContainer[Expr]
    suffix: str
    null_equal: bool
    asof_op: Join.AsofOp
    def __init__(self, left: _Optional[_Union[Relation, _Mapping]] = ..., right: _Optional[_Union[Relation, _Mapping]] = ..., type: _Optional[_Union[Join.Type, str]] = ..., on: _Optional[_Iterable[str]] = ..., left_on: _Optional[_Iterable[_Union[Expr, _Mapping]]] = ..., right_on: _Optional[_Iterable[_Union[Expr, _Mapping]]] = ..., suffix: _Optional[str] = ..., null_equal: _Optional[bool] = ..., asof_op: _Optional[_Union[Join.AsofOp, str]] = ...) -> None: ...

class Sort(_message.Message):
    __slots__ = ("input", "keys")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    input: Relation
    keys: _containers.RepeatedCompositeFieldContainer[SortKey]
    def __init__(self, input: _Optional[_Union[Relation, _Mapping]] = ..., keys: _Optional[_Iterable[_Union[SortKey, _Mapping]]] = ...) -> None: ...

class SortKey(_message.Message):
    __slots__ = ("expr", "descending", "nulls")
    class Nulls(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        NULLS_DEFAULT: _ClassVar[SortKey.Nulls]
        NULLS_FIRST: _ClassVar[SortKey.Nulls]
        NULLS_LAST: _ClassVar[SortKey.Nulls]
    NULLS_DEFAULT: SortKey.Nulls
    NULLS_FIRST: SortKey.Nulls
    NULLS_LAST: SortKey.Nulls
    EXPR_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    NULLS_FIELD_NUMBER: _ClassVar[int]
    expr: Expr
    descending: bool
    nulls: SortKey.Nulls
    def __init__(self, expr: _Optional[_Union[Expr, _Mapping]] = ..., descending: _Optional[bool] = ..., nulls: _Optional[_Union[SortKey.Nulls, str]] = ...) -> None: ...

class Distinct(_message.Message):
    __slots__ = ("input", "subset")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    SUBSET_FIELD_NUMBER: _ClassVar[int]
    input: Relation
    subset: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, input: _Optional[_Union[Relation, _Mapping]] = ..., subset: _Optional[_Iterable[str]] = ...) -> None: ...

class Limit(_message.Message):
    __slots__ = ("input", "offset", "limit")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    input: Relation
    offset: int
    limit: int
    def __init__(self, input: _Optional[_Union[Relation, _Mapping]] = ..., offset: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class Rename(_message.Message):
    __slots__ = ("input", "old_names", "new_names")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OLD_NAMES_FIELD_NUMBER: _ClassVar[int]
    NEW_NAMES_FIELD_NUMBER: _ClassVar[int]
    input: Relation
    old_names: _containers.RepeatedScalarFieldContainer[str]
    new_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, input: _Optional[_Union[Relation, _Mapping]] = ..., old_names: _Optional[_Iterable[str]] = ..., new_names: _Optional[_Iterable[str]] = ...) -> None: ...

class Drop(_message.Message):
    __slots__ = ("input", "columns")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    input: Relation
    columns: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, input: _Optional[_Union[Relation, _Mapping]] = ..., columns: _Optional[_Iterable[str]] = ...) -> None: ...

class Union(_message.Message):
    __slots__ = ("inputs", "distinct")
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    DISTINCT_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[Relation]
    distinct: bool
    def __init__(self, inputs: _Optional[_Iterable[_Union[Relation, _Mapping]]] = ..., distinct: _Optional[bool] = ...) -> None: ...

class NamedExpr(_message.Message):
    __slots__ = ("expr", "name")
    EXPR_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    expr: Expr
    name: str
    def __init__(self, expr: _Optional[_Union[Expr, _Mapping]] = ..., name: _Optional[str] = ...) -> None: ...

class Expr(_message.Message):
    __slots__ = ("column", "literal", "call", "cast", "agg", "sql")
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    LITERAL_FIELD_NUMBER: _ClassVar[int]
    CALL_FIELD_NUMBER: _ClassVar[int]
    CAST_FIELD_NUMBER: _ClassVar[int]
    AGG_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    column: ColumnRef
    literal: Literal
    call: Call
    cast: Cast
    agg: AggCall
    sql: str
    def __init__(self, column: _Optional[_Union[ColumnRef, _Mapping]] = ..., literal: _Optional[_Union[Literal, _Mapping]] = ..., call: _Optional[_Union[Call, _Mapping]] = ..., cast: _Optional[_Union[Cast, _Mapping]] = ..., agg: _Optional[_Union[AggCall, _Mapping]] = ..., sql: _Optional[str] = ...) -> None: ...

class ColumnRef(_message.Message):
    __slots__ = ("name", "qualifier")
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUALIFIER_FIELD_NUMBER: _ClassVar[int]
    name: str
    qualifier: str
    def __init__(self, name: _Optional[str] = ..., qualifier: _Optional[str] = ...) -> None: ...

class Literal(_message.Message):
    __slots__ = ("is_null", "bool_value", "int64_value", "float64_value", "string_value", "binary_value", "date_days", "timestamp_us", "interval_value")
    IS_NULL_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    BINARY_VALUE_FIELD_NUMBER: _ClassVar[int]
    DATE_DAYS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_VALUE_FIELD_NUMBER: _ClassVar[int]
    is_null: bool
    bool_value: bool
    int64_value: int
    float64_value: float
    string_value: str
    binary_value: bytes
    date_days: int
    timestamp_us: int
    interval_value: Interval
    def __init__(self, is_null: _Optional[bool] = ..., bool_value: _Optional[bool] = ..., int64_value: _Optional[int] = ..., float64_value: _Optional[float] = ..., string_value: _Optional[str] = ..., binary_value: _Optional[bytes] = ..., date_days: _Optional[int] = ..., timestamp_us: _Optional[int] = ..., interval_value: _Optional[_Union[Interval, _Mapping]] = ...) -> None: ...

class Interval(_message.Message):
    __slots__ = ("months", "days", "nanos")
    MONTHS_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    NANOS_FIELD_NUMBER: _ClassVar[int]
    months: int
    days: int
    nanos: int
    def __init__(self, months: _Optional[int] = ..., days: _Optional[int] = ..., nanos: _Optional[int] = ...) -> None: ...

class Call(_message.Message):
    __slots__ = ("function", "args")
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    function: str
    args: _containers.RepeatedCompositeFieldContainer[Expr]
    def __init__(self, function: _Optional[str] = ..., args: _Optional[_Iterable[_Union[Expr, _Mapping]]] = ...) -> None: ...

class Cast(_message.Message):
    __slots__ = ("expr", "type", "try_cast")
    EXPR_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TRY_CAST_FIELD_NUMBER: _ClassVar[int]
    expr: Expr
    type: str
    try_cast: bool
    def __init__(self, expr: _Optional[_Union[Expr, _Mapping]] = ..., type: _Optional[str] = ..., try_cast: _Optional[bool] = ...) -> None: ...

class AggCall(_message.Message):
    __slots__ = ("function", "args", "distinct", "filter")
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    DISTINCT_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    function: str
    args: _containers.RepeatedCompositeFieldContainer[Expr]
    distinct: bool
    filter: Expr
    def __init__(self, function: _Optional[str] = ..., args: _Optional[_Iterable[_Union[Expr, _Mapping]]] = ..., distinct: _Optional[bool] = ..., filter: _Optional[_Union[Expr, _Mapping]] = ...) -> None: ...

class PlanRequest(_message.Message):
    __slots__ = ("plan",)
    PLAN_FIELD_NUMBER: _ClassVar[int]
    plan: Plan
    def __init__(self, plan: _Optional[_Union[Plan, _Mapping]] = ...) -> None: ...

class ExecuteRequest(_message.Message):
    __slots__ = ("plan", "options")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    plan: Plan
    options: ExecuteOptions
    def __init__(self, plan: _Optional[_Union[Plan, _Mapping]] = ..., options: _Optional[_Union[ExecuteOptions, _Mapping]] = ...) -> None: ...

class ExecuteOptions(_message.Message):
    __slots__ = ("max_message_bytes", "timeout_ms", "memory_limit_bytes", "allow_shared_memory", "shared_memory_min_bytes", "request_id", "keep_dictionaries", "shared_memory_max_files", "session_id")
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    ALLOW_SHARED_MEMORY_FIELD_NUMBER: _ClassVar[int]
    SHARED_MEMORY_MIN_BYTES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEEP_DICTIONARIES_FIELD_NUMBER: _ClassVar[int]
    SHARED_MEMORY_MAX_FILES_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    max_message_bytes: int
    timeout_ms: int
    memory_limit_bytes: int
    allow_shared_memory: bool
    shared_memory_min_bytes: int
    request_id: str
    keep_dictionaries: bool
    shared_memory_max_files: int
    session_id: str
    def __init__(self, max_message_bytes: _Optional[int] = ..., timeout_ms: _Optional[int] = ..., memory_limit_bytes: _Optional[int] = ..., allow_shared_memory: _Optional[bool] = ..., shared_memory_min_bytes: _Optional[int] = ..., request_id: _Optional[str] = ..., keep_dictionaries: _Optional[bool] = ..., shared_memory_max_files: _Optional[int] = ..., session_id: _Optional[str] = ...) -> None: ...

class ExecuteResponse(_message.Message):
    __slots__ = ("arrow_ipc", "shared_memory", "summary")
    ARROW_IPC_FIELD_NUMBER: _ClassVar[int]
    SHARED_MEMORY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    arrow_ipc: bytes
    shared_memory: SharedMemoryResult
    summary: ExecuteSummary
    def __init__(self, arrow_ipc: _Optional[bytes] = ..., shared_memory: _Optional[_Union[SharedMemoryResult, _Mapping]] = ..., summary: _Optional[_Union[ExecuteSummary, _Mapping]] = ...) -> None: ...

class SharedMemoryResult(_message.Message):
    __slots__ = ("path", "size", "lease_id", "files", "run_file", "run_first", "run_batches")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    RUN_FILE_FIELD_NUMBER: _ClassVar[int]
    RUN_FIRST_FIELD_NUMBER: _ClassVar[int]
    RUN_BATCHES_FIELD_NUMBER: _ClassVar[int]
    path: str
    size: int
    lease_id: str
    files: _containers.RepeatedCompositeFieldContainer[SharedMemoryFile]
    run_file: _containers.RepeatedScalarFieldContainer[int]
    run_first: _containers.RepeatedScalarFieldContainer[int]
    run_batches: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, path: _Optional[str] = ..., size: _Optional[int] = ..., lease_id: _Optional[str] = ..., files: _Optional[_Iterable[_Union[SharedMemoryFile, _Mapping]]] = ..., run_file: _Optional[_Iterable[int]] = ..., run_first: _Optional[_Iterable[int]] = ..., run_batches: _Optional[_Iterable[int]] = ...) -> None: ...

class SharedMemoryFile(_message.Message):
    __slots__ = ("path", "size")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    path: str
    size: int
    def __init__(self, path: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class ExecuteSummary(_message.Message):
    __slots__ = ("rows", "batches", "bytes", "elapsed_us", "request_id")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_US_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    rows: int
    batches: int
    bytes: int
    elapsed_us: int
    request_id: str
    def __init__(self, rows: _Optional[int] = ..., batches: _Optional[int] = ..., bytes: _Optional[int] = ..., elapsed_us: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class SchemaResponse(_message.Message):
    __slots__ = ("arrow_schema", "fields")
    ARROW_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    arrow_schema: bytes
    fields: _containers.RepeatedCompositeFieldContainer[FieldInfo]
    def __init__(self, arrow_schema: _Optional[bytes] = ..., fields: _Optional[_Iterable[_Union[FieldInfo, _Mapping]]] = ...) -> None: ...

class FieldInfo(_message.Message):
    __slots__ = ("name", "type", "nullable")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NULLABLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    nullable: bool
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., nullable: _Optional[bool] = ...) -> None: ...

class ExplainRequest(_message.Message):
    __slots__ = ("plan", "optimized", "analyze")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZED_FIELD_NUMBER: _ClassVar[int]
    ANALYZE_FIELD_NUMBER: _ClassVar[int]
    plan: Plan
    optimized: bool
    analyze: bool
    def __init__(self, plan: _Optional[_Union[Plan, _Mapping]] = ..., optimized: _Optional[bool] = ..., analyze: _Optional[bool] = ...) -> None: ...

class ExplainResponse(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class DescribeResponse(_message.Message):
    __slots__ = ("arrow_ipc",)
    ARROW_IPC_FIELD_NUMBER: _ClassVar[int]
    arrow_ipc: bytes
    def __init__(self, arrow_ipc: _Optional[bytes] = ...) -> None: ...

class WriteRequest(_message.Message):
    __slots__ = ("plan", "path", "format", "compression", "row_group_size", "overwrite")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    ROW_GROUP_SIZE_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    plan: Plan
    path: str
    format: ReadFiles.Format
    compression: str
    row_group_size: int
    overwrite: bool
    def __init__(self, plan: _Optional[_Union[Plan, _Mapping]] = ..., path: _Optional[str] = ..., format: _Optional[_Union[ReadFiles.Format, str]] = ..., compression: _Optional[str] = ..., row_group_size: _Optional[int] = ..., overwrite: _Optional[bool] = ...) -> None: ...

class WriteResponse(_message.Message):
    __slots__ = ("rows", "bytes", "path")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    rows: int
    bytes: int
    path: str
    def __init__(self, rows: _Optional[int] = ..., bytes: _Optional[int] = ..., path: _Optional[str] = ...) -> None: ...

class CreateHandleRequest(_message.Message):
    __slots__ = ("plan", "materialize", "ttl_seconds", "sql_session")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MATERIALIZE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SQL_SESSION_FIELD_NUMBER: _ClassVar[int]
    plan: Plan
    materialize: bool
    ttl_seconds: int
    sql_session: bool
    def __init__(self, plan: _Optional[_Union[Plan, _Mapping]] = ..., materialize: _Optional[bool] = ..., ttl_seconds: _Optional[int] = ..., sql_session: _Optional[bool] = ...) -> None: ...

class HandleInfo(_message.Message):
    __slots__ = ("id", "schema", "num_rows", "ttl_seconds")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    NUM_ROWS_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    schema: SchemaResponse
    num_rows: int
    ttl_seconds: int
    def __init__(self, id: _Optional[str] = ..., schema: _Optional[_Union[SchemaResponse, _Mapping]] = ..., num_rows: _Optional[int] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class HeartbeatRequest(_message.Message):
    __slots__ = ("handle_ids",)
    HANDLE_IDS_FIELD_NUMBER: _ClassVar[int]
    handle_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, handle_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class HeartbeatResponse(_message.Message):
    __slots__ = ("alive", "unknown")
    ALIVE_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    alive: _containers.RepeatedScalarFieldContainer[str]
    unknown: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, alive: _Optional[_Iterable[str]] = ..., unknown: _Optional[_Iterable[str]] = ...) -> None: ...

class DropHandleRequest(_message.Message):
    __slots__ = ("handle_ids",)
    HANDLE_IDS_FIELD_NUMBER: _ClassVar[int]
    handle_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, handle_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DropHandleResponse(_message.Message):
    __slots__ = ("dropped",)
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    dropped: int
    def __init__(self, dropped: _Optional[int] = ...) -> None: ...

class CreateTableRequest(_message.Message):
    __slots__ = ("name", "arrow_schema", "columns", "as_plan", "if_not_exists", "replace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARROW_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    AS_PLAN_FIELD_NUMBER: _ClassVar[int]
    IF_NOT_EXISTS_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    arrow_schema: bytes
    columns: _containers.RepeatedCompositeFieldContainer[ColumnDef]
    as_plan: Plan
    if_not_exists: bool
    replace: bool
    def __init__(self, name: _Optional[str] = ..., arrow_schema: _Optional[bytes] = ..., columns: _Optional[_Iterable[_Union[ColumnDef, _Mapping]]] = ..., as_plan: _Optional[_Union[Plan, _Mapping]] = ..., if_not_exists: _Optional[bool] = ..., replace: _Optional[bool] = ...) -> None: ...

class ColumnDef(_message.Message):
    __slots__ = ("name", "type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class TableInfo(_message.Message):
    __slots__ = ("name", "schema", "num_rows", "kind")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    NUM_ROWS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    name: str
    schema: SchemaResponse
    num_rows: int
    kind: TableKind
    def __init__(self, name: _Optional[str] = ..., schema: _Optional[_Union[SchemaResponse, _Mapping]] = ..., num_rows: _Optional[int] = ..., kind: _Optional[_Union[TableKind, str]] = ...) -> None: ...

class DropTableRequest(_message.Message):
    __slots__ = ("name", "if_exists")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IF_EXISTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    if_exists: bool
    def __init__(self, name: _Optional[str] = ..., if_exists: _Optional[bool] = ...) -> None: ...

class DropTableResponse(_message.Message):
    __slots__ = ("dropped",)
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    dropped: bool
    def __init__(self, dropped: _Optional[bool] = ...) -> None: ...

class ListTablesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTablesResponse(_message.Message):
    __slots__ = ("tables",)
    TABLES_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedCompositeFieldContainer[TableInfo]
    def __init__(self, tables: _Optional[_Iterable[_Union[TableInfo, _Mapping]]] = ...) -> None: ...

class AppendRequest(_message.Message):
    __slots__ = ("table", "seq", "arrow_ipc", "json_rows")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ARROW_IPC_FIELD_NUMBER: _ClassVar[int]
    JSON_ROWS_FIELD_NUMBER: _ClassVar[int]
    table: str
    seq: int
    arrow_ipc: bytes
    json_rows: str
    def __init__(self, table: _Optional[str] = ..., seq: _Optional[int] = ..., arrow_ipc: _Optional[bytes] = ..., json_rows: _Optional[str] = ...) -> None: ...

class AppendAck(_message.Message):
    __slots__ = ("seq", "rows", "table_rows")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TABLE_ROWS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    rows: int
    table_rows: int
    def __init__(self, seq: _Optional[int] = ..., rows: _Optional[int] = ..., table_rows: _Optional[int] = ...) -> None: ...

class ServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServerInfoResponse(_message.Message):
    __slots__ = ("version", "capabilities", "limits", "threads", "same_host")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    THREADS_FIELD_NUMBER: _ClassVar[int]
    SAME_HOST_FIELD_NUMBER: _ClassVar[int]
    version: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    limits: Limits
    threads: int
    same_host: bool
    def __init__(self, version: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., threads: _Optional[int] = ..., same_host: _Optional[bool] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_message_bytes", "max_concurrent_queries", "max_queued_queries", "query_timeout_ms", "max_memory_bytes", "max_handles_per_client", "max_plan_depth", "handle_ttl_seconds")
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_QUERIES_FIELD_NUMBER: _ClassVar[int]
    MAX_QUEUED_QUERIES_FIELD_NUMBER: _ClassVar[int]
    QUERY_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    MAX_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_HANDLES_PER_CLIENT_FIELD_NUMBER: _ClassVar[int]
    MAX_PLAN_DEPTH_FIELD_NUMBER: _ClassVar[int]
    HANDLE_TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    max_message_bytes: int
    max_concurrent_queries: int
    max_queued_queries: int
    query_timeout_ms: int
    max_memory_bytes: int
    max_handles_per_client: int
    max_plan_depth: int
    handle_ttl_seconds: int
    def __init__(self, max_message_bytes: _Optional[int] = ..., max_concurrent_queries: _Optional[int] = ..., max_queued_queries: _Optional[int] = ..., query_timeout_ms: _Optional[int] = ..., max_memory_bytes: _Optional[int] = ..., max_handles_per_client: _Optional[int] = ..., max_plan_depth: _Optional[int] = ..., handle_ttl_seconds: _Optional[int] = ...) -> None: ...

class ReleaseSharedMemoryRequest(_message.Message):
    __slots__ = ("lease_id", "client_pid", "unmapped")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_PID_FIELD_NUMBER: _ClassVar[int]
    UNMAPPED_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    client_pid: int
    unmapped: bool
    def __init__(self, lease_id: _Optional[str] = ..., client_pid: _Optional[int] = ..., unmapped: _Optional[bool] = ...) -> None: ...

class ReleaseSharedMemoryResponse(_message.Message):
    __slots__ = ("released",)
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    released: bool
    def __init__(self, released: _Optional[bool] = ...) -> None: ...

class ErrorDetail(_message.Message):
    __slots__ = ("status", "message", "hint", "path", "column", "column_index", "row_group", "row", "byte_offset", "sql_position", "request_id", "plan_path", "sql_line", "sql_column")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    COLUMN_INDEX_FIELD_NUMBER: _ClassVar[int]
    ROW_GROUP_FIELD_NUMBER: _ClassVar[int]
    ROW_FIELD_NUMBER: _ClassVar[int]
    BYTE_OFFSET_FIELD_NUMBER: _ClassVar[int]
    SQL_POSITION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_PATH_FIELD_NUMBER: _ClassVar[int]
    SQL_LINE_FIELD_NUMBER: _ClassVar[int]
    SQL_COLUMN_FIELD_NUMBER: _ClassVar[int]
    status: str
    message: str
    hint: str
    path: str
    column: str
    column_index: int
    row_group: int
    row: int
    byte_offset: int
    sql_position: int
    request_id: str
    plan_path: str
    sql_line: int
    sql_column: int
    def __init__(self, status: _Optional[str] = ..., message: _Optional[str] = ..., hint: _Optional[str] = ..., path: _Optional[str] = ..., column: _Optional[str] = ..., column_index: _Optional[int] = ..., row_group: _Optional[int] = ..., row: _Optional[int] = ..., byte_offset: _Optional[int] = ..., sql_position: _Optional[int] = ..., request_id: _Optional[str] = ..., plan_path: _Optional[str] = ..., sql_line: _Optional[int] = ..., sql_column: _Optional[int] = ...) -> None: ...
