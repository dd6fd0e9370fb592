"""Errors as values: ``Result`` (``Ok`` / ``Err``) and ``Option`` (``Some`` / ``Nothing``).

The asyncio client (:mod:`polaroid.async_client`) returns a ``Result`` from every I/O method
instead of raising for server-side errors, so a pipeline routes failures as values::

    from polaroid.result import Ok, Err

    r = await client.read_parquet("ticks/AAPL.parquet")          # Result[DataFrame, PolaroidError]
    out = (r.map(lambda df: df.select(["ts", "price"]))
            .and_then(lambda df: client.filter(df, "price > 100"))
            .map_err(lambda e: log(e)))
    match out:
        case Ok(df):  ...
        case Err(e):  ...

Both types are immutable (frozen dataclasses), hashable when their content is, generic
(``Result[T, E]``, ``Option[T]``) and support ``match`` (``case Ok(v)``, ``case Err(e)``,
``case Some(v)``, ``case Nothing()``). ``Nothing()`` is a singleton: ``Nothing() is Nothing()``.
Iterating a ``Result`` or ``Option`` yields its value once (``Ok``/``Some``) or nothing, so
``for v in r: ...`` runs only on success.

The method names and meanings follow Rust's ``Result`` and ``Option``: ``map``, ``map_err``,
``and_then``, ``or_else``, ``unwrap``, ``unwrap_or``, ``unwrap_or_else``, ``unwrap_err``, ``expect``,
``is_ok``, ``is_err``, ``ok``, ``err``; ``Option``: ``map``, ``and_then``, ``or_else``,
``filter``, ``unwrap``, ``unwrap_or``, ``unwrap_or_else``, ``expect``, ``is_some``, ``is_none``,
``ok_or``, ``ok_or_else``. ``unwrap`` of an ``Err`` (or ``Nothing``) raises :class:`UnwrapError`
(chained to the error when it is an exception).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import (Any, Awaitable, Callable, Generic, Iterable, Iterator, List, NoReturn, TypeVar,
                    Union)

__all__ = ["Result", "Ok", "Err", "Option", "Some", "Nothing", "UnwrapError", "NOTHING",
           "from_optional", "collect_results", "catch", "catch_async"]

T = TypeVar("T")
U = TypeVar("U")
E = TypeVar("E")
F = TypeVar("F")


class UnwrapError(Exception):
    """``unwrap`` (or ``expect``) of an ``Err`` or ``Nothing``; ``.value`` is the Result/Option."""

    def __init__(self, message: str, value: Any) -> None:
        super().__init__(message)
        self.value = value


# ---------------------------------------------------------------------------- Result


class Result(Generic[T, E]):
    """``Ok(value)`` or ``Err(error)``. Abstract: build one of the two subclasses."""

    __slots__ = ()

    # -- queries
    def is_ok(self) -> bool:
        """True for ``Ok``."""
        raise NotImplementedError

    def is_err(self) -> bool:
        """True for ``Err``."""
        return not self.is_ok()

    def ok(self) -> "Option[T]":
        """``Some(value)`` for ``Ok``, ``Nothing()`` for ``Err``."""
        raise NotImplementedError

    def err(self) -> "Option[E]":
        """``Some(error)`` for ``Err``, ``Nothing()`` for ``Ok``."""
        raise NotImplementedError

    # -- transformations
    def map(self, f: Callable[[T], U]) -> "Result[U, E]":
        """``Ok(f(value))``; an ``Err`` is returned unchanged (f is not called)."""
        raise NotImplementedError

    def map_err(self, f: Callable[[E], F]) -> "Result[T, F]":
        """``Err(f(error))``; an ``Ok`` is returned unchanged. When ``f`` returns None (e.g. a
        logging function) the original error is kept, so ``.map_err(log)`` logs and passes it on."""
        raise NotImplementedError

    def map_or(self, default: U, f: Callable[[T], U]) -> U:
        """``f(value)`` for ``Ok``, else ``default``."""
        raise NotImplementedError

    def and_then(self, f: Callable[[T], "Result[U, E]"]) -> "Result[U, E]":
        """``f(value)`` (which returns a Result) for ``Ok``; an ``Err`` is returned unchanged."""
        raise NotImplementedError

    def or_else(self, f: Callable[[E], "Result[T, F]"]) -> "Result[T, F]":
        """``f(error)`` (which returns a Result) for ``Err``; an ``Ok`` is returned unchanged."""
        raise NotImplementedError

    async def map_async(self, f: Callable[[T], Awaitable[U]]) -> "Result[U, E]":
        """``Ok(await f(value))``; an ``Err`` unchanged."""
        raise NotImplementedError

    async def and_then_async(self, f: Callable[[T], Awaitable["Result[U, E]"]]) -> "Result[U, E]":
        """``await f(value)`` for ``Ok`` (an async step of a pipeline, e.g. ``client.collect``);
        an ``Err`` unchanged."""
        raise NotImplementedError

    # -- extraction
    def unwrap(self) -> T:
        """The value of an ``Ok``; raises :class:`UnwrapError` for an ``Err``."""
        raise NotImplementedError

    def expect(self, message: str) -> T:
        """Like ``unwrap``, with ``message`` in the exception."""
        raise NotImplementedError

    def unwrap_err(self) -> E:
        """The error of an ``Err``; raises :class:`UnwrapError` for an ``Ok``."""
        raise NotImplementedError

    def expect_err(self, message: str) -> E:
        raise NotImplementedError

    def unwrap_or(self, default: T) -> T:
        """The value of an ``Ok``, else ``default``."""
        raise NotImplementedError

    def unwrap_or_else(self, f: Callable[[E], T]) -> T:
        """The value of an ``Ok``, else ``f(error)``."""
        raise NotImplementedError

    def unwrap_or_raise(self) -> T:
        """The value of an ``Ok``; for an ``Err`` raises the error itself when it is an
        exception (the usual Python style at the edge of a Result pipeline)."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[T]:
        """Yields the value once for ``Ok``, nothing for ``Err``."""
        raise NotImplementedError


@dataclass(frozen=True, repr=False)
class Ok(Result[T, E]):
    """A success carrying ``value``."""

    value: T
    __match_args__ = ("value",)

    def __repr__(self) -> str:
        return f"Ok({self.value!r})"

    def is_ok(self) -> bool:
        return True

    def ok(self) -> "Option[T]":
        return Some(self.value)

    def err(self) -> "Option[E]":
        return Nothing()

    def map(self, f: Callable[[T], U]) -> "Result[U, E]":
        return Ok(f(self.value))

    def map_err(self, f: Callable[[E], F]) -> "Result[T, F]":
        return self  # type: ignore[return-value]

    def map_or(self, default: U, f: Callable[[T], U]) -> U:
        return f(self.value)

    def and_then(self, f: Callable[[T], "Result[U, E]"]) -> "Result[U, E]":
        r = f(self.value)
        if not isinstance(r, Result):
            raise TypeError(f"and_then: the function must return a Result, got {type(r).__name__}")
        return r

    def or_else(self, f: Callable[[E], "Result[T, F]"]) -> "Result[T, F]":
        return self  # type: ignore[return-value]

    async def map_async(self, f: Callable[[T], Awaitable[U]]) -> "Result[U, E]":
        return Ok(await f(self.value))

    async def and_then_async(self, f: Callable[[T], Awaitable["Result[U, E]"]]) -> "Result[U, E]":
        r = await f(self.value)
        if not isinstance(r, Result):
            raise TypeError(f"and_then_async: the function must return a Result, got {type(r).__name__}")
        return r

    def unwrap(self) -> T:
        return self.value

    def expect(self, message: str) -> T:
        return self.value

    def unwrap_err(self) -> NoReturn:
        raise UnwrapError(f"unwrap_err on Ok({self.value!r})", self)

    def expect_err(self, message: str) -> NoReturn:
        raise UnwrapError(f"{message}: Ok({self.value!r})", self)

    def unwrap_or(self, default: T) -> T:
        return self.value

    def unwrap_or_else(self, f: Callable[[E], T]) -> T:
        return self.value

    def unwrap_or_raise(self) -> T:
        return self.value

    def __iter__(self) -> Iterator[T]:
        yield self.value


@dataclass(frozen=True, repr=False)
class Err(Result[T, E]):
    """A failure carrying ``error`` (for the async client: a ``polaroid.PolaroidError``)."""

    error: E
    __match_args__ = ("error",)

    def __repr__(self) -> str:
        return f"Err({self.error!r})"

    def is_ok(self) -> bool:
        return False

    def ok(self) -> "Option[T]":
        return Nothing()

    def err(self) -> "Option[E]":
        return Some(self.error)

    def map(self, f: Callable[[T], U]) -> "Result[U, E]":
        return self  # type: ignore[return-value]

    def map_err(self, f: Callable[[E], F]) -> "Result[T, F]":
        e = f(self.error)
        if e is None:  # a side-effect function (logging): keep the error
            return self  # type: ignore[return-value]
        return Err(e)

    def map_or(self, default: U, f: Callable[[T], U]) -> U:
        return default

    def and_then(self, f: Callable[[T], "Result[U, E]"]) -> "Result[U, E]":
        return self  # type: ignore[return-value]

    def or_else(self, f: Callable[[E], "Result[T, F]"]) -> "Result[T, F]":
        r = f(self.error)
        if not isinstance(r, Result):
            raise TypeError(f"or_else: the function must return a Result, got {type(r).__name__}")
        return r

    async def map_async(self, f: Callable[[T], Awaitable[U]]) -> "Result[U, E]":
        return self  # type: ignore[return-value]

    async def and_then_async(self, f: Callable[[T], Awaitable["Result[U, E]"]]) -> "Result[U, E]":
        return self  # type: ignore[return-value]

    def _raise(self, message: str) -> NoReturn:
        e = self.error
        if isinstance(e, BaseException):
            raise UnwrapError(message, self) from e
        raise UnwrapError(message, self)

    def unwrap(self) -> NoReturn:
        self._raise(f"unwrap on Err({self.error!r})")

    def expect(self, message: str) -> NoReturn:
        self._raise(f"{message}: {self.error}")

    def unwrap_err(self) -> E:
        return self.error

    def expect_err(self, message: str) -> E:
        return self.error

    def unwrap_or(self, default: T) -> T:
        return default

    def unwrap_or_else(self, f: Callable[[E], T]) -> T:
        return f(self.error)

    def unwrap_or_raise(self) -> NoReturn:
        if isinstance(self.error, BaseException):
            raise self.error
        self._raise(f"unwrap_or_raise on Err({self.error!r})")

    def __iter__(self) -> Iterator[T]:
        return iter(())


# ---------------------------------------------------------------------------- Option


class Option(Generic[T]):
    """``Some(value)`` or ``Nothing()``. Abstract: build one of the two subclasses."""

    __slots__ = ()

    def is_some(self) -> bool:
        raise NotImplementedError

    def is_none(self) -> bool:
        return not self.is_some()

    def map(self, f: Callable[[T], U]) -> "Option[U]":
        """``Some(f(value))``; ``Nothing()`` unchanged."""
        raise NotImplementedError

    def and_then(self, f: Callable[[T], "Option[U]"]) -> "Option[U]":
        """``f(value)`` (an Option) for ``Some``; ``Nothing()`` unchanged."""
        raise NotImplementedError

    def or_else(self, f: Callable[[], "Option[T]"]) -> "Option[T]":
        """``Some`` unchanged; ``f()`` for ``Nothing``."""
        raise NotImplementedError

    def filter(self, pred: Callable[[T], bool]) -> "Option[T]":
        """``Some(value)`` when ``pred(value)``, else ``Nothing()``."""
        raise NotImplementedError

    def unwrap(self) -> T:
        """The value of a ``Some``; raises :class:`UnwrapError` for ``Nothing``."""
        raise NotImplementedError

    def expect(self, message: str) -> T:
        raise NotImplementedError

    def unwrap_or(self, default: T) -> T:
        raise NotImplementedError

    def unwrap_or_else(self, f: Callable[[], T]) -> T:
        raise NotImplementedError

    def ok_or(self, error: E) -> Result[T, E]:
        """``Ok(value)`` for ``Some``, ``Err(error)`` for ``Nothing``."""
        raise NotImplementedError

    def ok_or_else(self, f: Callable[[], E]) -> Result[T, E]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[T]:
        raise NotImplementedError


@dataclass(frozen=True, repr=False)
class Some(Option[T]):
    """A present value."""

    value: T
    __match_args__ = ("value",)

    def __repr__(self) -> str:
        return f"Some({self.value!r})"

    def is_some(self) -> bool:
        return True

    def map(self, f: Callable[[T], U]) -> "Option[U]":
        return Some(f(self.value))

    def and_then(self, f: Callable[[T], "Option[U]"]) -> "Option[U]":
        r = f(self.value)
        if not isinstance(r, Option):
            raise TypeError(f"and_then: the function must return an Option, got {type(r).__name__}")
        return r

    def or_else(self, f: Callable[[], "Option[T]"]) -> "Option[T]":
        return self

    def filter(self, pred: Callable[[T], bool]) -> "Option[T]":
        return self if pred(self.value) else Nothing()

    def unwrap(self) -> T:
        return self.value

    def expect(self, message: str) -> T:
        return self.value

    def unwrap_or(self, default: T) -> T:
        return self.value

    def unwrap_or_else(self, f: Callable[[], T]) -> T:
        return self.value

    def ok_or(self, error: E) -> Result[T, E]:
        return Ok(self.value)

    def ok_or_else(self, f: Callable[[], E]) -> Result[T, E]:
        return Ok(self.value)

    def __iter__(self) -> Iterator[T]:
        yield self.value


@dataclass(frozen=True, repr=False)
class Nothing(Option[T]):
    """No value. A singleton: ``Nothing() is Nothing()``; match it with ``case Nothing():``."""

    __match_args__ = ()
    _instance = None  # class attribute (not a field: no annotation)

    def __new__(cls, *args: Any, **kwargs: Any) -> "Nothing[T]":
        inst = cls.__dict__.get("_instance")
        if inst is None:
            inst = super().__new__(cls)
            type.__setattr__(cls, "_instance", inst)
        return inst

    def __repr__(self) -> str:
        return "Nothing()"

    def __reduce__(self) -> Any:
        return (Nothing, ())

    def is_some(self) -> bool:
        return False

    def map(self, f: Callable[[T], U]) -> "Option[U]":
        return self  # type: ignore[return-value]

    def and_then(self, f: Callable[[T], "Option[U]"]) -> "Option[U]":
        return self  # type: ignore[return-value]

    def or_else(self, f: Callable[[], "Option[T]"]) -> "Option[T]":
        r = f()
        if not isinstance(r, Option):
            raise TypeError(f"or_else: the function must return an Option, got {type(r).__name__}")
        return r

    def filter(self, pred: Callable[[T], bool]) -> "Option[T]":
        return self

    def unwrap(self) -> NoReturn:
        raise UnwrapError("unwrap on Nothing()", self)

    def expect(self, message: str) -> NoReturn:
        raise UnwrapError(message, self)

    def unwrap_or(self, default: T) -> T:
        return default

    def unwrap_or_else(self, f: Callable[[], T]) -> T:
        return f()

    def ok_or(self, error: E) -> Result[T, E]:
        return Err(error)

    def ok_or_else(self, f: Callable[[], E]) -> Result[T, E]:
        return Err(f())

    def __iter__(self) -> Iterator[T]:
        return iter(())


NOTHING: "Nothing[Any]" = Nothing()


# ---------------------------------------------------------------------------- helpers


def from_optional(value: Union[T, None]) -> Option[T]:
    """``Some(value)`` unless value is None."""
    return Nothing() if value is None else Some(value)


def collect_results(results: Iterable[Result[T, E]]) -> Result[List[T], E]:
    """``Ok([values...])`` when every result is Ok, else the first ``Err``."""
    out: List[T] = []
    for r in results:
        if isinstance(r, Err):
            return r  # type: ignore[return-value]
        out.append(r.unwrap())
    return Ok(out)


def catch(f: Callable[..., T], *args: Any, exceptions: Any = Exception, **kwargs: Any) -> Result[T, Any]:
    """``Ok(f(*args, **kwargs))``, or ``Err(exception)`` for the given exception types."""
    try:
        return Ok(f(*args, **kwargs))
    except exceptions as e:
        return Err(e)


async def catch_async(aw: Awaitable[T], exceptions: Any = Exception) -> Result[T, Any]:
    """``Ok(await aw)``, or ``Err(exception)`` for the given exception types."""
    try:
        return Ok(await aw)
    except exceptions as e:
        return Err(e)
