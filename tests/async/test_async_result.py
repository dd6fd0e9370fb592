"""Result/Option: every method, pattern matching, immutability, and the monad laws as
property tests (hypothesis)."""

from __future__ import annotations

import asyncio
import dataclasses
import pickle

import pytest
from hypothesis import given, settings, strategies as st

import polaroid
from polaroid.result import (NOTHING, Err, Nothing, Ok, Option, Result, Some, UnwrapError, catch,
                             catch_async, collect_results, from_optional)

# ---------------------------------------------------------------- strategies

values = st.one_of(st.integers(), st.text(max_size=5), st.none(), st.floats(allow_nan=False))
ints = st.integers(min_value=-10**6, max_value=10**6)
results = st.one_of(ints.map(Ok), ints.map(Err))
options = st.one_of(ints.map(Some), st.just(Nothing()))

# functions int -> int, and int -> Result / Option (chosen by a small table so hypothesis
# can shrink them)
_FUNS = [lambda x: x + 1, lambda x: x * 2, lambda x: -x, lambda x: x // 3, lambda x: x * x % 97]
funs = st.sampled_from(_FUNS)
_RFUNS = [lambda x: Ok(x + 1), lambda x: Err(x), lambda x: Ok(x * 3) if x % 2 else Err(-x),
          lambda x: Ok(x) if x > 0 else Err(x - 7)]
rfuns = st.sampled_from(_RFUNS)
_OFUNS = [lambda x: Some(x + 1), lambda x: Nothing(), lambda x: Some(x * 3) if x % 2 else Nothing()]
ofuns = st.sampled_from(_OFUNS)


# ---------------------------------------------------------------- laws: Result


@given(results)
def test_result_map_identity(r):
    assert r.map(lambda x: x) == r


@given(results, funs, funs)
def test_result_map_composition(r, f, g):
    assert r.map(f).map(g) == r.map(lambda x: g(f(x)))


@given(ints, rfuns)
def test_result_left_identity(x, f):
    assert Ok(x).and_then(f) == f(x)


@given(results)
def test_result_right_identity(r):
    assert r.and_then(Ok) == r


@given(results, rfuns, rfuns)
def test_result_and_then_associativity(r, f, g):
    assert r.and_then(f).and_then(g) == r.and_then(lambda x: f(x).and_then(g))


@given(results)
def test_result_map_err_identity(r):
    assert r.map_err(lambda e: e) == r


@given(results, funs, funs)
def test_result_map_err_composition(r, f, g):
    assert r.map_err(f).map_err(g) == r.map_err(lambda e: g(f(e)))


@given(results, rfuns, rfuns)
def test_result_or_else_associativity(r, f, g):
    assert r.or_else(f).or_else(g) == r.or_else(lambda e: f(e).or_else(g))


@given(results, funs)
def test_result_map_is_and_then_of_ok(r, f):
    assert r.map(f) == r.and_then(lambda x: Ok(f(x)))


@given(results)
def test_result_ok_err_options(r):
    assert r.is_ok() != r.is_err()
    if r.is_ok():
        assert r.ok() == Some(r.unwrap()) and r.err() == Nothing()
    else:
        assert r.err() == Some(r.unwrap_err()) and r.ok() == Nothing()
    assert list(r) == ([r.unwrap()] if r.is_ok() else [])


# ---------------------------------------------------------------- laws: Option


@given(options)
def test_option_map_identity(o):
    assert o.map(lambda x: x) == o


@given(options, funs, funs)
def test_option_map_composition(o, f, g):
    assert o.map(f).map(g) == o.map(lambda x: g(f(x)))


@given(ints, ofuns)
def test_option_left_identity(x, f):
    assert Some(x).and_then(f) == f(x)


@given(options)
def test_option_right_identity(o):
    assert o.and_then(Some) == o


@given(options, ofuns, ofuns)
def test_option_and_then_associativity(o, f, g):
    assert o.and_then(f).and_then(g) == o.and_then(lambda x: f(x).and_then(g))


@given(options, ints)
def test_option_ok_or_roundtrip(o, e):
    r = o.ok_or(e)
    assert r.ok() == o
    assert (r == Err(e)) == o.is_none()


# ---------------------------------------------------------------- every method


def test_ok_methods():
    r: Result[int, str] = Ok(2)
    assert r.is_ok() and not r.is_err()
    assert r.map(lambda x: x + 1) == Ok(3)
    assert r.map_err(lambda e: e + "!") == Ok(2)
    assert r.map_or(0, lambda x: x * 10) == 20
    assert r.and_then(lambda x: Ok(x * 2)) == Ok(4)
    assert r.and_then(lambda x: Err("no")) == Err("no")
    assert r.or_else(lambda e: Ok(0)) == Ok(2)
    assert r.unwrap() == 2 and r.expect("boom") == 2
    assert r.unwrap_or(9) == 2 and r.unwrap_or_else(lambda e: 9) == 2
    assert r.unwrap_or_raise() == 2
    assert r.ok() == Some(2) and r.err() == Nothing()
    with pytest.raises(UnwrapError, match="unwrap_err on Ok"):
        r.unwrap_err()
    with pytest.raises(UnwrapError, match="wanted an error"):
        r.expect_err("wanted an error")
    assert list(r) == [2]
    assert repr(r) == "Ok(2)"
    with pytest.raises(TypeError, match="must return a Result"):
        r.and_then(lambda x: x)


def test_err_methods():
    e = ValueError("bad")
    r: Result[int, Exception] = Err(e)
    assert r.is_err() and not r.is_ok()
    assert r.map(lambda x: x + 1) is r
    assert r.map_err(lambda x: str(x)) == Err("bad")
    seen = []
    assert r.map_err(lambda x: seen.append(x)) is r  # a logging function keeps the error
    assert seen == [e]
    assert r.map_or(7, lambda x: x) == 7
    assert r.and_then(lambda x: Ok(x)) is r
    assert r.or_else(lambda x: Ok(5)) == Ok(5)
    assert r.unwrap_or(9) == 9 and r.unwrap_or_else(lambda x: len(str(x))) == 3
    assert r.unwrap_err() is e and r.expect_err("x") is e
    assert r.ok() == Nothing() and r.err() == Some(e)
    with pytest.raises(UnwrapError) as ei:
        r.unwrap()
    assert ei.value.__cause__ is e and ei.value.value is r
    with pytest.raises(UnwrapError, match="loading: bad"):
        r.expect("loading")
    with pytest.raises(ValueError, match="bad"):
        r.unwrap_or_raise()
    with pytest.raises(UnwrapError):
        Err("text").unwrap_or_raise()
    assert list(r) == []
    assert repr(Err("x")) == "Err('x')"
    with pytest.raises(TypeError, match="must return a Result"):
        r.or_else(lambda x: 1)


def test_async_combinators():
    async def double(x):
        return x * 2

    async def check(x):
        return Ok(x) if x > 0 else Err("neg")

    async def main():
        assert await Ok(2).map_async(double) == Ok(4)
        assert await Err("e").map_async(double) == Err("e")
        assert await Ok(2).and_then_async(check) == Ok(2)
        assert await Ok(-2).and_then_async(check) == Err("neg")
        assert await Err("e").and_then_async(check) == Err("e")
        assert await catch_async(double(4)) == Ok(8)

        async def boom():
            raise KeyError("k")

        r = await catch_async(boom())
        assert isinstance(r.unwrap_err(), KeyError)

    asyncio.run(main())


def test_option_methods():
    s: Option[int] = Some(3)
    n: Option[int] = Nothing()
    assert s.is_some() and not s.is_none() and n.is_none() and not n.is_some()
    assert s.map(lambda x: x + 1) == Some(4) and n.map(lambda x: x + 1) is n
    assert s.and_then(lambda x: Some(x * 2)) == Some(6) and n.and_then(lambda x: Some(1)) is n
    assert s.or_else(lambda: Some(0)) == s and n.or_else(lambda: Some(0)) == Some(0)
    assert s.filter(lambda x: x > 2) == s and s.filter(lambda x: x > 5) == Nothing()
    assert n.filter(lambda x: True) is n
    assert s.unwrap() == 3 and s.expect("x") == 3
    with pytest.raises(UnwrapError, match="unwrap on Nothing"):
        n.unwrap()
    with pytest.raises(UnwrapError, match="need a value"):
        n.expect("need a value")
    assert s.unwrap_or(0) == 3 and n.unwrap_or(0) == 0
    assert s.unwrap_or_else(lambda: 0) == 3 and n.unwrap_or_else(lambda: 8) == 8
    assert s.ok_or("e") == Ok(3) and n.ok_or("e") == Err("e")
    assert s.ok_or_else(lambda: "e") == Ok(3) and n.ok_or_else(lambda: "e") == Err("e")
    assert list(s) == [3] and list(n) == []
    assert repr(s) == "Some(3)" and repr(n) == "Nothing()"
    with pytest.raises(TypeError):
        s.and_then(lambda x: x)
    with pytest.raises(TypeError):
        n.or_else(lambda: 1)


def test_nothing_is_a_singleton():
    assert Nothing() is Nothing() is NOTHING
    assert Nothing[int]() is NOTHING
    assert pickle.loads(pickle.dumps(Nothing())) is NOTHING
    assert hash(Nothing()) == hash(Nothing())
    assert Nothing() != Some(None)


def test_pattern_matching():
    def describe(x):
        match x:
            case Ok(v):
                return f"ok {v}"
            case Err(e):
                return f"err {e}"
            case Some(v):
                return f"some {v}"
            case Nothing():
                return "nothing"
        return "?"

    assert describe(Ok(1)) == "ok 1"
    assert describe(Err("x")) == "err x"
    assert describe(Some(2)) == "some 2"
    assert describe(Nothing()) == "nothing"


def test_immutable_and_hashable():
    for v in (Ok(1), Err(1), Some(1)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            v.value = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Err(1).error = 2  # type: ignore[misc]
    assert len({Ok(1), Ok(1), Err(1), Some(1)}) == 3
    assert Ok(1) != Err(1) and Ok(1) != Some(1)
    assert pickle.loads(pickle.dumps(Ok([1, 2]))) == Ok([1, 2])
    assert isinstance(Ok(1), Result) and isinstance(Err(1), Result)
    assert isinstance(Some(1), Option) and isinstance(Nothing(), Option)


def test_helpers():
    assert from_optional(None) == Nothing() and from_optional(0) == Some(0)
    assert collect_results([Ok(1), Ok(2)]) == Ok([1, 2])
    assert collect_results([Ok(1), Err("a"), Err("b")]) == Err("a")
    assert collect_results([]) == Ok([])
    assert catch(int, "12") == Ok(12)
    r = catch(int, "x", exceptions=ValueError)
    assert isinstance(r.unwrap_err(), ValueError)
    with pytest.raises(ValueError):
        catch(int, "x", exceptions=KeyError)


def test_reexported_from_package():
    for name in ("Result", "Ok", "Err", "Option", "Some", "Nothing"):
        assert getattr(polaroid, name) is globals()[name]


@settings(max_examples=50)
@given(st.lists(results, max_size=8))
def test_collect_results_property(rs):
    c = collect_results(rs)
    errs = [r for r in rs if r.is_err()]
    if errs:
        assert c == errs[0]
    else:
        assert c == Ok([r.unwrap() for r in rs])
