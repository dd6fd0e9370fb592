"""Building protobuf messages that nest deeply.

The upb protobuf runtime copies a sub-message given to a constructor (``pb.Expr(call=c)``) or
to ``append``/``extend`` by serialising and parsing it, and its parser stops at 100 nested
messages: a chain of ~50 DataFrame operations or an expression ~50 operators deep failed with
"Exceeded upb_DecodeOptions_MaxDepth" before anything reached the server. ``CopyFrom`` (and
``add().CopyFrom``) copy without parsing, so :func:`new` sets message fields that way. The
server enforces its own depth limit (``--max-plan-depth``) with a clear error.
"""

from __future__ import annotations

from typing import Any, Iterable

from google.protobuf.message import Message


def new(cls: Any, **fields: Any) -> Any:
    """``cls(**fields)``, with message-valued and repeated-message fields copied by CopyFrom."""
    m = cls()
    for name, v in fields.items():
        if v is None:
            continue
        if isinstance(v, Message):
            getattr(m, name).CopyFrom(v)
        elif isinstance(v, (list, tuple)) or (hasattr(v, "__iter__") and not isinstance(v, (str, bytes))):
            extend(getattr(m, name), v)
        else:
            setattr(m, name, v)
    return m


def extend(repeated: Any, items: Iterable[Any]) -> None:
    """``repeated.extend(items)`` for messages and scalars alike, messages by CopyFrom."""
    for x in items:
        if isinstance(x, Message):
            repeated.add().CopyFrom(x)
        else:
            repeated.append(x)
