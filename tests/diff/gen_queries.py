"""Random SQL queries over the tables of gen_data.py (tests/diff/README.md).

QueryGen(seed).query() returns a Query: the SQL text (with {t1}/{t2}/{t3} placeholders for the
table sources), the set of features it uses (config.UNSUPPORTED names features polaroid cannot run
yet: such queries are skipped and counted) and whether its row order is fully determined
(ORDER BY every output column: the comparison is then ordered).

Only queries whose result is deterministic in SQL are generated: LIMIT comes with an ORDER BY
over every output column (rows tying on all of them are identical), row_number() windows order
by a unique id, and arithmetic stays far from overflow (and never divides by a possible zero).
"""
import random
import re
import zlib

from gen_data import NAMES, SCHEMAS, UNIQUE, WORDS

CMP = ["=", "<>", "<", "<=", ">", ">="]


class Query:
    def __init__(self, sql, features, ordered):
        self.sql = sql
        self.features = frozenset(features)
        self.ordered = ordered

    def text(self, sources):
        return self.sql.format(**sources)


class Scope:
    """The columns visible to expressions: (qualified name, kind)."""

    def __init__(self, tables):
        self.cols = [(f"{alias}.{c}", kind) for alias, t in tables
                     for c, kind in SCHEMAS[t].items()]

    def of(self, kind):
        return [c for c, k in self.cols if k == kind]


class QueryGen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    # ------------------------------------------------------------------ expressions
    def lit(self, kind):
        r = self.r
        if kind == "int":
            return str(r.randint(-20, 100))
        if kind == "double":
            return f"{r.uniform(-50, 50):.2f}"
        if kind == "str":
            return "'" + r.choice(WORDS + NAMES).replace("'", "''") + "'"
        if kind == "bool":
            return r.choice(["TRUE", "FALSE"])
        if kind == "ts":
            return f"TIMESTAMP '2024-01-{r.randint(1, 28):02d} {r.randint(0, 23):02d}:00:00'"
        if kind == "date":
            return f"DATE '2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}'"
        if kind == "dec":
            return f"{r.uniform(-99, 99):.2f}"  # a DECIMAL literal
        raise ValueError(kind)

    def expr(self, kind, sc, f, depth=0):
        """An expression of the given kind; adds used features to the set f."""
        r = self.r
        cols = sc.of(kind)
        if depth >= 2 or r.random() < 0.45:
            if cols and r.random() < 0.85:
                return r.choice(cols)
            if kind == "bool" and not cols:
                return self.pred(sc, f, depth + 1)
            return self.lit(kind)
        if kind == "int":
            return self.int_expr(sc, f, depth)
        if kind == "double":
            return self.double_expr(sc, f, depth)
        if kind == "str":
            return self.str_expr(sc, f, depth)
        if kind == "bool":
            return self.pred(sc, f, depth)
        if kind == "ts":
            return self.ts_expr(sc, f, depth)
        if kind == "date":
            return self.date_expr(sc, f, depth)
        if kind == "dec":
            return self.dec_expr(sc, f, depth)
        raise ValueError(kind)

    def int_expr(self, sc, f, d):
        r = self.r
        e = lambda: self.expr("int", sc, f, d + 1)  # noqa: E731
        c = r.randrange(11)
        if r.random() < 0.35:
            return self.int_expr2(sc, f, d)
        if c < 2:
            f.add("arith")
            return f"({e()} {r.choice(['+', '-'])} {e()})"
        if c == 2:  # a small factor keeps products far from overflow
            f.add("arith")
            return f"({e()} * {r.randint(-5, 5)})"
        if c == 3:
            f.add("mod")
            return f"({e()} % {r.randint(1, 7)})"
        if c == 4:
            f.add("fn:abs")
            return f"abs({e()})"
        if c == 5:
            f.add("case")
            return f"CASE WHEN {self.pred(sc, f, d + 1)} THEN {e()} ELSE {e()} END"
        if c == 6:
            f.add("coalesce")
            return f"coalesce({e()}, {self.lit('int')})"
        if c == 7:
            f.add("fn:length")
            return f"length({self.expr('str', sc, f, d + 1)})"
        if c == 8 and sc.of("ts"):
            fld = r.choice(["year", "month", "day", "hour", "minute", "dow"])
            f.add("fn:extract")
            return f"extract({fld} FROM {self.expr('ts', sc, f, d + 1)})"
        if c == 9:
            f.add("fn:greatest")
            fn = r.choice(["greatest", "least"])
            return f"{fn}({e()}, {e()})"
        f.add("intdiv")
        return f"({e()} // {r.randint(1, 9)})"

    def int_expr2(self, sc, f, d):
        """Integer expressions of the second generation: division and modulo by negative
        divisors, NULL propagation, nullif, casts that round, date differences, positions."""
        r = self.r
        e = lambda: self.expr("int", sc, f, d + 1)  # noqa: E731
        c = r.randrange(10)
        if c == 0:
            f.add("intdiv_neg")
            return f"({e()} {r.choice(['//', '%'])} {r.choice([-1, -2, -3, -7])})"
        if c == 1:
            f.add("null_prop")
            return f"({e()} {r.choice(['+', '*', '-'])} CAST(NULL AS INTEGER))"
        if c == 2:
            f.add("fn:nullif")
            return f"nullif({e()}, {r.randint(-2, 5)})"
        if c == 3:
            f.add("cast_round")
            return f"CAST({self.expr(r.choice(['double', 'dec']), sc, f, d + 1)} AS BIGINT)"
        if c == 4 and sc.of("date"):
            f.add("fn:date_diff")
            part = r.choice(["day", "month", "year", "week", "quarter"])
            return f"date_diff('{part}', {self.expr('date', sc, f, d + 1)}, {self.lit('date')})"
        if c == 5:
            f.add("fn:strpos")
            needle = r.choice(["a", "e", "an", "é", "p", ""])
            if r.random() < 0.5:
                return f"strpos({self.expr('str', sc, f, d + 1)}, '{needle}')"
            return f"position('{needle}' IN {self.expr('str', sc, f, d + 1)})"
        if c == 6 and sc.of("ts"):
            f.add("fn:date_part")
            part = r.choice(["quarter", "doy", "week", "isodow", "epoch"])
            if part == "epoch":
                return f"CAST(date_part('epoch', {self.expr('ts', sc, f, d + 1)}) AS BIGINT)"
            return f"date_part('{part}', {self.expr(r.choice(['ts', 'date']), sc, f, d + 1)})"
        if c == 7:
            f.add("fn:sign")
            return f"sign({e()})"
        if c == 8 and sc.of("date"):
            f.add("date_minus_date")
            return f"({self.expr('date', sc, f, d + 1)} - {self.lit('date')})"
        f.add("fn:length")
        return f"length({self.expr('str', sc, f, d + 1)})"

    def dec_expr(self, sc, f, d):
        """DECIMAL expressions: arithmetic with decimals and integers, casts, round/abs."""
        r = self.r
        x = lambda: self.expr("dec", sc, f, d + 1)  # noqa: E731
        f.add("decimal")
        c = r.randrange(8)
        if c < 2:
            return f"({x()} {r.choice(['+', '-'])} {x()})"
        if c == 2:
            return f"({x()} * {r.choice(['2', '-3', '0.5', '1.25'])})"
        if c == 3:
            f.add("cast")
            return f"CAST({self.expr('int', sc, f, d + 1)} AS DECIMAL(12,2))"
        if c == 4:
            f.add("cast")
            return f"CAST({self.expr('double', sc, f, d + 1)} AS DECIMAL(12,3))"
        if c == 5:
            f.add("fn:round")
            return f"round({x()}, {r.randint(0, 1)})"
        if c == 6:
            f.add("fn:abs")
            return f"abs({x()})"
        return f"({x()} + {self.expr('int', sc, f, d + 1)})"

    def date_expr(self, sc, f, d):
        r = self.r
        c = r.randrange(4)
        if c == 0:
            f.add("cast")
            return f"CAST({self.expr('ts', sc, f, d + 1)} AS DATE)"
        if c == 1:
            f.add("date_plus_int")
            return f"({self.expr('date', sc, f, d + 1)} + {r.randint(-40, 40)})"
        if c == 2:
            f.add("fn:date_trunc_date")
            return (f"CAST(date_trunc('{r.choice(['month', 'year', 'week', 'quarter'])}', "
                    f"{self.expr('date', sc, f, d + 1)}) AS DATE)")
        f.add("fn:greatest")
        return f"{r.choice(['greatest', 'least'])}({self.expr('date', sc, f, d + 1)}, {self.lit('date')})"

    def double_expr(self, sc, f, d):
        r = self.r
        c = r.randrange(8)
        if r.random() < 0.3:
            c2 = r.randrange(5)
            if c2 == 0:
                fn = r.choice(["floor", "ceil", "round", "trunc"])
                f.add("fn:" + fn)
                return f"{fn}({self.expr('double', sc, f, d + 1)})"
            if c2 == 1:
                f.add("div_neg")
                return (f"({self.expr('double', sc, f, d + 1)} / "
                        f"{r.choice(['-3', '-0.5', '7'])})")
            if c2 == 2:
                f.add("cast")
                return f"CAST({self.expr('dec', sc, f, d + 1)} AS DOUBLE)"
            if c2 == 3:
                f.add("fn:round")
                return f"round({self.expr('double', sc, f, d + 1)}, {r.choice([-1, -2])})"
            f.add("fn:nullif")
            return f"nullif({self.expr('double', sc, f, d + 1)}, 0.0)"
        if c < 2:
            f.add("arith")
            return (f"({self.expr('double', sc, f, d + 1)} {r.choice(['+', '-', '*'])} "
                    f"{self.expr(r.choice(['double', 'int']), sc, f, d + 1)})")
        if c == 2:
            f.add("div")  # the divisor is never zero
            return (f"({self.expr(r.choice(['double', 'int']), sc, f, d + 1)} / "
                    f"(abs({self.expr('int', sc, f, d + 1)}) + 1))")
        if c == 3:
            f.add("fn:round")
            return f"round({self.expr('double', sc, f, d + 1)}, {r.randint(0, 2)})"
        if c == 4:
            f.add("fn:sqrt")
            return f"sqrt(abs({self.expr('double', sc, f, d + 1)}))"
        if c == 5:
            f.add("cast")
            return f"CAST({self.expr('int', sc, f, d + 1)} AS DOUBLE)"
        if c == 6:
            f.add("case")
            return (f"CASE WHEN {self.pred(sc, f, d + 1)} THEN {self.expr('double', sc, f, d + 1)} "
                    f"ELSE {self.expr('double', sc, f, d + 1)} END")
        f.add("coalesce")
        return f"coalesce({self.expr('double', sc, f, d + 1)}, 0.0)"

    def str_expr(self, sc, f, d):
        r = self.r
        s = lambda: self.expr("str", sc, f, d + 1)  # noqa: E731
        c = r.randrange(9)
        if r.random() < 0.4:
            return self.str_expr2(sc, f, d)
        if c == 0:
            fn = r.choice(["upper", "lower"])
            f.add("fn:" + fn)
            return f"{fn}({s()})"
        if c == 1:
            f.add("concat")
            return f"({s()} || {self.lit('str')})"
        if c == 2:
            f.add("fn:substr")
            return f"substr({s()}, {r.randint(1, 3)}, {r.randint(0, 4)})"
        if c == 3:
            f.add("fn:trim")
            return f"trim({s()})"
        if c == 4:
            f.add("fn:replace")
            return f"replace({s()}, '{r.choice('aep')}', '{r.choice(['o', 'XY', ''])}')"
        if c == 5:
            f.add("coalesce")
            return f"coalesce({s()}, 'none')"
        if c == 6:
            f.add("cast")
            return f"CAST({self.expr('int', sc, f, d + 1)} AS VARCHAR)"
        if c == 7:
            f.add("case")
            return f"CASE WHEN {self.pred(sc, f, d + 1)} THEN {s()} ELSE {s()} END"
        f.add("fn:concat")
        return f"concat({s()}, '-', {s()})"

    def str_expr2(self, sc, f, d):
        """String functions of the second generation."""
        r = self.r
        s = lambda: self.expr("str", sc, f, d + 1)  # noqa: E731
        c = r.randrange(14)
        if c == 0:
            f.add("fn:substring")
            if r.random() < 0.5:
                return f"substring({s()} FROM {r.randint(-1, 4)} FOR {r.randint(0, 5)})"
            return f"substring({s()}, {r.randint(1, 4)})"
        if c == 1:
            fn = r.choice(["ltrim", "rtrim"])
            f.add("fn:" + fn)
            if r.random() < 0.5:
                return f"{fn}({s()})"
            return f"{fn}({s()}, '{r.choice(['a', ' p', 'xe'])}')"
        if c == 2:
            f.add("fn:trim_chars")
            return f"trim({r.choice(['BOTH', 'LEADING', 'TRAILING'])} '{r.choice(['a', ' ', 'ep'])}' FROM {s()})"
        if c == 3:
            fn = r.choice(["lpad", "rpad"])
            f.add("fn:" + fn)
            return f"{fn}({s()}, {r.randint(0, 8)}, '{r.choice(['*', 'xy', 'é'])}')"
        if c == 4:
            f.add("fn:split_part")
            return f"split_part({s()}, '{r.choice([' ', 'a', 'p', '_'])}', {r.randint(1, 3)})"
        if c == 5:
            f.add("fn:regexp_replace")
            pat = r.choice(["[aeiou]", "^.", "p+", "(a)(n)", "[A-Z]", "é|ü"])
            rep_ = r.choice(["X", "", "<\\1>" if "(" in pat else "-"])
            opt = r.choice(["", ", 'g'"])
            return f"regexp_replace({s()}, '{pat}', '{rep_}'{opt})"
        if c == 6:
            f.add("concat_null")
            return f"({s()} || {s()})"
        if c == 7:
            f.add("fn:left_right")
            return f"{r.choice(['left', 'right'])}({s()}, {r.randint(0, 4)})"
        if c == 8:
            f.add("fn:reverse")
            return f"reverse({s()})"
        if c == 9:
            f.add("fn:strftime")
            fmt = r.choice(["%Y-%m-%d", "%H:%M", "%d/%m/%Y %H", "%j", "%a %b"])
            return f"strftime({self.expr(r.choice(['ts', 'date']), sc, f, d + 1)}, '{fmt}')"
        if c == 10:
            f.add("cast")
            return f"CAST({self.expr(r.choice(['date', 'dec', 'bool']), sc, f, d + 1)} AS VARCHAR)"
        if c == 11:
            f.add("fn:repeat")
            return f"repeat({s()}, {r.randint(0, 3)})"
        if c == 12:
            f.add("fn:nullif")
            return f"nullif({s()}, {self.lit('str')})"
        f.add("fn:greatest")
        return f"{r.choice(['greatest', 'least'])}({s()}, {s()})"

    def ts_expr(self, sc, f, d):
        r = self.r
        c = r.randrange(3)
        t = self.expr("ts", sc, f, d + 1)
        if c == 0:
            f.add("fn:date_trunc")
            return f"date_trunc('{r.choice(['day', 'hour', 'month'])}', {t})"
        if c == 1:
            f.add("interval")
            return f"({t} + INTERVAL '{r.randint(1, 30)} {r.choice(['day', 'hour', 'minute'])}')"
        f.add("coalesce")
        return f"coalesce({t}, {self.lit('ts')})"

    def pred(self, sc, f, d=0):
        r = self.r
        c = r.randrange(12)
        if d < 2 and c < 3:
            f.add("and_or_not")
            op = r.choice(["AND", "OR", "AND NOT"])
            return f"({self.pred(sc, f, d + 1)} {op} {self.pred(sc, f, d + 1)})"
        if c == 3:
            f.add("is_null")
            kind = r.choice(["int", "double", "str", "ts"])
            return f"({self.expr(kind, sc, f, d + 1)} IS {r.choice(['', 'NOT '])}NULL)"
        if c == 4:
            f.add("in")
            kind = r.choice(["int", "str"])
            items = ", ".join(self.lit(kind) for _ in range(r.randint(1, 4)))
            return f"({self.expr(kind, sc, f, d + 1)} {r.choice(['', 'NOT '])}IN ({items}))"
        if c == 5:
            f.add("between")
            kind = r.choice(["int", "double"])
            lo, hi = sorted([r.randint(-500, 500), r.randint(-500, 500)])
            return f"({self.expr(kind, sc, f, d + 1)} BETWEEN {lo} AND {hi})"
        if c == 6 and sc.of("str"):
            f.add("like")
            pat = r.choice(["a%", "%e", "%an%", "_e%", "%", "b_", "A%", "%a_b%"])
            return f"({r.choice(sc.of('str'))} {r.choice(['', 'NOT '])}LIKE '{pat}')"
        if c == 7 and sc.of("bool"):
            return r.choice(sc.of("bool"))
        if c == 9 and r.random() < 0.6:
            return self.pred2(sc, f, d)
        if c == 8 and sc.of("ts"):
            f.add("ts_compare")
            return f"({r.choice(sc.of('ts'))} {r.choice(CMP)} {self.lit('ts')})"
        kind = r.choice(["int", "int", "double", "str"])
        return f"({self.expr(kind, sc, f, d + 1)} {r.choice(CMP)} {self.expr(kind, sc, f, d + 1)})"

    def pred2(self, sc, f, d):
        r = self.r
        c = r.randrange(6)
        s = lambda: self.expr("str", sc, f, d + 1)  # noqa: E731
        if c == 0:
            f.add("fn:starts_with")
            return f"starts_with({s()}, '{r.choice(['a', 'A', 'p', '', 'é'])}')"
        if c == 1:
            f.add("fn:regexp_matches")
            pat = r.choice(["^[a-m]", "e$", "a.a", "^$", "p{{2}}", "^.{{4}}$"])
            return f"regexp_matches({s()}, '{pat}')"
        if c == 2:
            f.add("dec_compare")
            return f"({self.expr('dec', sc, f, d + 1)} {r.choice(CMP)} {self.lit(r.choice(['dec', 'int']))})"
        if c == 3:
            f.add("is_distinct")
            kind = r.choice(["int", "str"])
            return (f"({self.expr(kind, sc, f, d + 1)} IS {r.choice(['', 'NOT '])}DISTINCT FROM "
                    f"{self.expr(kind, sc, f, d + 1)})")
        if c == 4:
            f.add("date_compare")
            return f"({self.expr('date', sc, f, d + 1)} {r.choice(CMP)} {self.lit('date')})"
        f.add("ilike")
        return f"({s()} {r.choice(['', 'NOT '])}ILIKE '{r.choice(['a%', '%E%', '_p%'])}')"

    # ------------------------------------------------------------------ queries
    def order_limit(self, n_out, f):
        """ORDER BY every output column (ordinals), LIMIT [OFFSET]; the order is then total."""
        r = self.r
        f.add("order_limit")
        keys = []
        for i in range(1, n_out + 1):
            k = str(i)
            if r.random() < 0.3:
                k += " DESC"
            if r.random() < 0.3:
                f.add("nulls_order")
                k += r.choice([" NULLS FIRST", " NULLS LAST"])
            keys.append(k)
        r.shuffle(keys)
        s = " ORDER BY " + ", ".join(keys) + f" LIMIT {r.randint(1, 60)}"
        if r.random() < 0.3:
            f.add("offset")
            s += f" OFFSET {r.randint(0, 20)}"
        return s

    def select_items(self, sc, f, n):
        kinds = ["int", "double", "str", "ts", "bool", "date", "dec"]
        return [self.expr(self.r.choice(kinds), sc, f) for _ in range(n)]

    def q_project(self):
        r = self.r
        f = {"select"}
        sc = Scope([("t1", "t1")])
        items = self.select_items(sc, f, r.randint(1, 4))
        sql = "SELECT "
        if r.random() < 0.15:
            f.add("distinct")
            sql += "DISTINCT "
        sql += ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) + " FROM {t1} AS t1"
        if r.random() < 0.7:
            f.add("where")
            sql += " WHERE " + self.pred(sc, f)
        ordered = False
        if r.random() < 0.35:
            sql += self.order_limit(len(items), f)
            ordered = True
        return Query(sql, f, ordered)

    def agg2(self, sc, f):
        """Aggregates beyond the basic five (t1's columns must be in scope)."""
        r = self.r
        c = r.randrange(12)
        if c == 0:
            f.add("agg:string_agg")
            sep = r.choice(["','", "' | '", "''"])
            order = r.choice(["t1.s, t1.id", "t1.id DESC", "t1.s DESC NULLS FIRST, t1.id"])
            return f"string_agg({r.choice(['t1.s', 'upper(t1.s)'])}, {sep} ORDER BY {order})"
        if c == 1:
            fn = r.choice(["bool_and", "bool_or"])
            f.add("agg:" + fn)
            return f"{fn}({self.pred(sc, f, 1) if r.random() < 0.5 else 't1.flag'})"
        if c == 2:
            fn = r.choice(["stddev", "stddev_pop", "var_samp", "var_pop", "variance"])
            f.add("agg:var")
            return f"{fn}({r.choice(['t1.a', 't1.b', 't1.d', 't1.k'])})"
        if c == 3:
            f.add("agg:median")
            return f"median({r.choice(['t1.a', 't1.b', 't1.d', 't1.k'])})"
        if c == 4:
            fn = r.choice(["quantile_cont", "quantile_disc"])
            f.add("agg:" + fn)
            q = r.choice(["0.25", "0.5", "0.9", "0", "1"])
            return f"{fn}({r.choice(['t1.a', 't1.b', 't1.d'])}, {q})"
        if c == 5:
            fn = r.choice(["arg_min", "arg_max"])
            f.add("agg:arg_min_max")
            # the value is a function of the key or the key is unique: ties give one answer
            val, key = r.choice([("t1.s", "t1.id"), ("t1.a", "t1.id"), ("t1.a * 2", "t1.a"),
                                 ("upper(t1.s)", "t1.s"), ("t1.id", "t1.id"),
                                 ("t1.dt", "t1.id"), ("t1.k + 1", "t1.k")])
            return f"{fn}({val}, {key})"
        if c == 6:
            f.add("agg:count_distinct_types")
            return f"count(DISTINCT {r.choice(['t1.s', 't1.dt', 't1.ts', 't1.flag', 't1.b', 't1.d', 'lower(t1.s)'])})"
        if c in (7, 8):
            f.add("agg:filter")
            inner = r.choice(["count(*)", "sum(t1.a)", "max(t1.s)", "avg(t1.b)", "min(t1.dt)",
                              "count(DISTINCT t1.k)", "sum(t1.d)"])
            return f"{inner} FILTER (WHERE {self.pred(sc, f, 1)})"
        if c == 9:
            f.add("agg:decimal")
            return f"{r.choice(['sum', 'avg', 'min', 'max'])}({r.choice(['t1.d', '(t1.d * 2)', '(t1.d - t1.a)'])})"
        if c == 10:
            f.add("agg:mode_product")
            return r.choice(["count(t1.s)", "sum(DISTINCT t1.k)", "avg(DISTINCT t1.a)",
                             "min(DISTINCT t1.s)"])
        f.add("agg:expr_of_aggs")
        return f"(sum(t1.a) - count(t1.a) * {r.randint(1, 5)})"

    def agg(self, sc, f):
        r = self.r
        if r.random() < 0.35 and any(c.startswith("t1.") for c, _ in sc.cols):
            return self.agg2(sc, f)
        c = r.randrange(9)
        if c == 0:
            f.add("agg:count_star")
            return "count(*)"
        kind = r.choice(["int", "double"]) if c < 6 else r.choice(["str", "ts", "int"])
        arg = self.expr(kind, sc, f, 1)
        if not any(c_ in arg for c_, _ in sc.cols):
            f.add("agg_const_arg")  # an aggregate of a constant expression
        if c == 1:
            f.add("agg:count")
            return f"count({arg})"
        if c == 2:
            f.add("agg:sum")
            return f"sum({arg})"
        if c == 3:
            f.add("agg:avg")
            return f"avg({arg})"
        if c in (4, 6):
            f.add("agg:min")
            return f"min({arg})"
        if c in (5, 7):
            f.add("agg:max")
            return f"max({arg})"
        f.add("agg:count_distinct")
        return f"count(DISTINCT {arg})"

    def q_aggregate(self, join=False):
        r = self.r
        f = {"group_by"}
        tables = [("t1", "t1")]
        src = "{t1} AS t1"
        if join:
            kind = r.choice(["inner", "left"])
            f.add("join_" + kind)
            tables.append(("t3", "t3"))
            src += f" {'JOIN' if kind == 'inner' else 'LEFT JOIN'} {{t3}} AS t3 ON t1.k = t3.k"
        sc = Scope(tables)
        nkeys = r.choice([0, 1, 1, 2])
        keys = []
        for _ in range(nkeys):
            if r.random() < 0.75:
                keys.append(r.choice(["t1.k", "t1.s", "t1.flag", "t1.dt"] +
                                     (["t3.label"] if join else [])))
            else:
                f.add("group_by_expr")
                keys.append(r.choice(["(t1.a % 5)", "upper(t1.s)", "date_trunc('day', t1.ts)",
                                      "(t1.k > 4)", "coalesce(t1.k, -1)"]))
        keys = list(dict.fromkeys(keys))
        aggs = [self.agg(sc, f) for _ in range(r.randint(1, 3))]
        grouping = None
        if keys and r.random() < 0.25:
            grouping = r.choice(["ROLLUP", "CUBE", "GROUPING SETS"])
            f.add("grouping_sets")
            aggs.append(f"grouping({', '.join(keys)})")
        items = keys + aggs
        sql = ("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) + " FROM " + src)
        if r.random() < 0.08:
            f.add("where_empty")  # no row passes: aggregates over empty input
            sql += f" WHERE t1.a > {r.randint(1001, 5000)}"
        elif r.random() < 0.5:
            f.add("where")
            sql += " WHERE " + self.pred(sc, f)
        if grouping == "GROUPING SETS":
            sets = ["(" + ", ".join(r.sample(keys, r.randint(0, len(keys)))) + ")"
                    for _ in range(r.randint(1, 3))]
            sql += " GROUP BY GROUPING SETS (" + ", ".join(sets) + ")"
        elif grouping:
            sql += f" GROUP BY {grouping} (" + ", ".join(keys) + ")"
        elif keys:
            sql += " GROUP BY " + ", ".join(keys)
        if keys:
            if r.random() < 0.25:
                f.add("having")
                sql += f" HAVING count(*) > {r.randint(0, 40)}"
        else:
            f.discard("group_by")
            f.add("global_agg")
        ordered = False
        if keys and r.random() < 0.3:
            sql += self.order_limit(len(items), f)
            ordered = True
        return Query(sql, f, ordered)

    def q_join(self):
        r = self.r
        f = {"select"}
        kind = r.choice(["inner", "left"])
        f.add("join_" + kind)
        sc = Scope([("t1", "t1"), ("t2", "t2")])
        on = "t1.j = t2.j"
        if r.random() < 0.3:
            f.add("join_multi_key")
            on += " AND t1.k = t2.k"
        items = ["t1.id", "t2.id"] + self.select_items(sc, f, r.randint(1, 3))
        sql = ("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
               f" FROM {{t1}} AS t1 {'JOIN' if kind == 'inner' else 'LEFT JOIN'} {{t2}} AS t2 "
               f"ON {on}")
        if r.random() < 0.6:
            f.add("where")
            f.add("join_filter_left")  # a filter on the left table's columns above the join
            sql += " WHERE " + self.pred(Scope([("t1", "t1")]), f)
        ordered = False
        if r.random() < 0.25:
            sql += self.order_limit(len(items), f)
            ordered = True
        return Query(sql, f, ordered)

    def q_union(self):
        r = self.r
        f = {"select", "union_all"}
        sc = Scope([("t1", "t1")])
        kinds = [r.choice(["int", "double", "str"]) for _ in range(r.randint(1, 3))]
        parts = []
        for _ in range(r.randint(2, 3)):
            items = [self.expr(k, sc, f) for k in kinds]
            parts.append("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                         " FROM {t1} AS t1 WHERE " + self.pred(sc, f))
        return Query(" UNION ALL ".join(parts), f, False)

    def q_window(self):
        r = self.r
        f = {"select", "window"}
        sc = Scope([("t1", "t1")])
        part = r.choice(["t1.k", "t1.flag", "t1.s", "(t1.a % 3)"])
        wins = []
        for _ in range(r.randint(1, 3)):
            c = r.randrange(6)
            if r.random() < 0.35:
                wins.append(self.window2(part, f))
                continue
            if c == 0:
                f.add("window:row_number")
                wins.append(f"row_number() OVER (PARTITION BY {part} ORDER BY t1.id)")
            elif c == 1:
                f.add("window:rank")
                fn = r.choice(["rank", "dense_rank"])
                wins.append(f"{fn}() OVER (PARTITION BY {part} ORDER BY t1.a"
                            f"{r.choice(['', ' DESC'])} NULLS LAST)")
            elif c == 2:
                f.add("window:sum")
                wins.append(f"sum(t1.a) OVER (PARTITION BY {part})")
            elif c == 3:
                f.add("window:running_sum")
                wins.append(f"sum({r.choice(['t1.a', 't1.b'])}) OVER (PARTITION BY {part} "
                            f"ORDER BY t1.id)")
            elif c == 4:
                f.add("window:count")
                wins.append(f"count(*) OVER (PARTITION BY {part})")
            else:
                f.add("window:groups_frame")
                lo = r.choice(["UNBOUNDED PRECEDING", "1 PRECEDING", "2 PRECEDING", "CURRENT ROW"])
                hi = r.choice(["CURRENT ROW", "1 FOLLOWING", "UNBOUNDED FOLLOWING"])
                # EXCLUDE keeps the frame's row set independent of the order of peers (GROUPS
                # frames are peer-closed; the hole is the row or its peer group)
                ex = r.choice(["", "", " EXCLUDE CURRENT ROW", " EXCLUDE GROUP", " EXCLUDE TIES"])
                if ex:
                    f.add("window:frame_exclude")
                wins.append(f"{r.choice(['sum', 'count', 'max'])}(t1.a) OVER (PARTITION BY {part} "
                            f"ORDER BY t1.k GROUPS BETWEEN {lo} AND {hi}{ex})")
        items = ["t1.id", part] + wins
        # a window over a constant argument (sum(1), first_value(5), lag(7)), drawn from a
        # generator of its own (seeded by the query so far) so that the main stream, and with
        # it every other query of a seed, is unchanged
        cr = random.Random(zlib.crc32(" ".join(items).encode()))
        if cr.random() < 0.4:
            f.add("window:const_arg")
            over = cr.choice([f"PARTITION BY {part}", f"PARTITION BY {part} ORDER BY t1.id",
                              "ORDER BY t1.id", "", f"ORDER BY t1.id ROWS BETWEEN 2 PRECEDING "
                              "AND CURRENT ROW"])
            nav = "ORDER BY t1.id" in over
            fn = cr.choice(["sum(1)", "count(1)", "avg(2.5)", "max('x')", "min(3)", "sum(NULL)",
                            "count(NULL)", "first_value(5)", "last_value('z')"] +
                           (["lag(7)", "lead(7, 2, 0)", "nth_value(4, 2)"] if nav else []))
            items.append(f"{fn} OVER ({over})")
        sql = ("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
               " FROM {t1} AS t1")
        if r.random() < 0.5:
            f.add("where")
            sql += " WHERE " + self.pred(sc, f)
        if r.random() < 0.35:
            f.add("qualify")
            if r.random() < 0.5:
                # a window of the select list by its alias
                j = r.randrange(len(wins))
                op, k = r.choice(['<=', '>', '=', '<>']), r.randint(0, 6)
                # only a numeric window is compared with a number (a BOOLEAN, VARCHAR or DATE
                # one against an integer is an error or a cast in DuckDB, refused by polaroid)
                if wins[j].startswith("bool_") or re.match(r"\w+\(t1\.(s|dt)\b", wins[j]):
                    sql += f" QUALIFY c{2 + j} IS NOT NULL"
                else:
                    sql += f" QUALIFY c{2 + j} {op} {k}"
            else:
                # a window written in the clause itself
                sql += (f" QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY t1.id DESC) "
                        f"<= {r.randint(1, 4)} OR t1.a IS NULL")
        return Query(sql, f, False)

    def window2(self, part, f):
        """Window functions of the second generation; every one is deterministic (orders by
        the unique id, or its value is the same for peers)."""
        r = self.r
        c = r.randrange(10)
        if c == 0:
            fn = r.choice(["lag", "lead"])
            f.add("window:lag_lead")
            arg = r.choice(["t1.s", "t1.d", "t1.dt", "t1.b"])
            extra = r.choice(["", ", 2", ", 1, NULL", ", 3, " + {"t1.s": "'none'", "t1.d": "0.5",
                                                               "t1.dt": "DATE '2024-01-01'",
                                                               "t1.b": "-1.5"}[arg]])
            return f"{fn}({arg}{extra}) OVER (PARTITION BY {part} ORDER BY t1.id)"
        if c == 1:
            fn = r.choice(["ntile(3)", "percent_rank()", "cume_dist()"])
            f.add("window:" + fn.split("(")[0])
            if fn.startswith("ntile"):
                return f"{fn} OVER (PARTITION BY {part} ORDER BY t1.id)"
            return f"{fn} OVER (PARTITION BY {part} ORDER BY t1.a NULLS FIRST)"
        if c == 2:
            fn = r.choice(["first_value", "last_value", "nth_value"])
            f.add("window:first_last")
            arg = r.choice(["t1.s", "t1.a", "t1.d"])
            ign = r.choice(["", " IGNORE NULLS"])
            if ign:
                f.add("window:ignore_nulls")
            a2 = ", 2" if fn == "nth_value" else ""
            frame = r.choice(["", " ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
                              " ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING"])
            return f"{fn}({arg}{a2}{ign}) OVER (PARTITION BY {part} ORDER BY t1.id{frame})"
        if c == 3:
            f.add("window:rows_frame")
            fn = r.choice(["sum(t1.a)", "avg(t1.b)", "min(t1.s)", "max(t1.dt)", "count(t1.d)",
                           "sum(t1.d)"])
            lo = r.choice(["UNBOUNDED PRECEDING", "3 PRECEDING", "CURRENT ROW", "1 FOLLOWING"])
            hi = r.choice(["CURRENT ROW", "2 FOLLOWING", "UNBOUNDED FOLLOWING"])
            if lo == "1 FOLLOWING" and hi == "CURRENT ROW":
                hi = "2 FOLLOWING"
            return f"{fn} OVER (PARTITION BY {part} ORDER BY t1.id ROWS BETWEEN {lo} AND {hi})"
        if c == 4:
            f.add("window:range_frame")
            fn = r.choice(["sum(t1.c)", "count(*)", "max(t1.a)", "min(t1.b)"])
            w = r.choice(["5", "50", "0"])
            return (f"{fn} OVER (PARTITION BY {part} ORDER BY t1.a RANGE BETWEEN {w} PRECEDING "
                    f"AND {r.choice(['CURRENT ROW', w + ' FOLLOWING'])})")
        if c == 5:
            f.add("window:range_interval")
            return (f"count(*) OVER (PARTITION BY {part} ORDER BY t1.ts RANGE BETWEEN INTERVAL "
                    f"'{r.randint(1, 5)} days' PRECEDING AND CURRENT ROW)")
        if c == 6:
            fn = r.choice(["median(t1.a)", "quantile_disc(t1.b, 0.5)", "arg_max(t1.s, t1.id)",
                           "string_agg(t1.s, ',')"])
            f.add("window:holistic")
            if fn.startswith("string_agg"):
                return f"{fn} OVER (PARTITION BY {part} ORDER BY t1.id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)"
            return f"{fn} OVER (PARTITION BY {part})"
        if c == 7:
            f.add("window:filter")
            return f"count(*) FILTER (WHERE t1.a > 0) OVER (PARTITION BY {part} ORDER BY t1.id)"
        if c == 8:
            f.add("window:stddev")
            fn = r.choice(["stddev(t1.b)", "var_pop(t1.a)", "bool_or(t1.flag)", "bool_and(t1.flag)"])
            return f"{fn} OVER (PARTITION BY {part})"
        f.add("window:no_partition")
        return "sum(t1.a) OVER (ORDER BY t1.id ROWS BETWEEN 5 PRECEDING AND CURRENT ROW)"

    def q_distinct(self):
        r = self.r
        f = {"select", "distinct"}
        cols = r.sample(["t1.k", "t1.s", "t1.flag", "t1.dt", "(t1.a % 4)", "lower(t1.s)"],
                        r.randint(1, 3))
        sql = ("SELECT DISTINCT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(cols)) +
               " FROM {t1} AS t1")
        if r.random() < 0.5:
            f.add("where")
            sql += " WHERE " + self.pred(Scope([("t1", "t1")]), f)
        return Query(sql, f, False)

    def subq_pred(self, f, outer="t1"):
        """A predicate with a subquery over t2/t3 (correlated with the outer t1 or not)."""
        r = self.r
        o = outer
        sc2 = Scope([("t2", "t2")])
        c = r.randrange(9)
        if r.random() < 0.4:
            return self.subq_pred2(f, o)
        if c == 0:
            f.add("subq:scalar")
            agg = r.choice(["avg(t2.x)", "max(t2.x)", "min(t2.x)", "sum(t2.x) // 20",
                            "count(*) // 10"])
            return f"({o}.a {r.choice(CMP)} (SELECT {agg} FROM {{t2}} AS t2 WHERE {self.pred(sc2, f, 1)}))"
        if c == 1:
            f.add("subq:scalar_correlated")
            agg = r.choice(["count(*)", "max(t2.x)", "sum(t2.x)", "avg(t2.y)", "count(t2.name)"])
            extra = r.choice(["", f" AND t2.k = {o}.k", f" AND t2.x < {o}.a"])
            if "<" in extra:
                f.add("subq:non_equi")
            return (f"((SELECT {agg} FROM {{t2}} AS t2 WHERE t2.j = {o}.j{extra}) "
                    f"{r.choice(CMP)} {r.randint(-3, 3) if 'count' in agg else o + '.a'})")
        if c == 2:
            ex = r.choice(["EXISTS", "NOT EXISTS"])
            f.add("subq:exists")
            cond = r.choice([f"t2.j = {o}.j", f"t2.j = {o}.j AND t2.x > {o}.a",
                             f"t2.k = {o}.k AND t2.name = 'beta'", f"t2.x = {o}.a",
                             f"t2.j = {o}.j AND t2.k <> {o}.k"])
            if ("<" in cond or ">" in cond) and "t2.j" in cond:
                f.add("subq:non_equi")
            return f"{ex} (SELECT 1 FROM {{t2}} AS t2 WHERE {cond})"
        if c in (3, 4):
            neg = r.choice(["", "NOT "])
            f.add("subq:in" if not neg else "subq:not_in")
            lhs, col = r.choice([(f"{o}.j", "t2.j"), (f"{o}.k", "t2.k"), (f"{o}.a", "t2.x"),
                                 (f"{o}.k", "t3.k")])
            src = "{t3} AS t3" if col.startswith("t3") else "{t2} AS t2"
            w = ""
            if col.startswith("t2"):
                w = r.choice([" WHERE t2.name = 'beta'", f" WHERE {col} IS NOT NULL AND t2.y > 50",
                              " WHERE t2.x > 400", f" WHERE {col} < 20", ""])
            else:
                w = r.choice(["", " WHERE t3.weight > 1.0", " WHERE t3.label IS NOT NULL"])
            return f"({lhs} {neg}IN (SELECT {col} FROM {src}{w}))"
        if c == 5:
            f.add("subq:any_all")
            q = r.choice(["ANY", "ALL", "SOME"])
            w = r.choice(["t2.k = 3", "t2.name = 'beta'", "t2.x > 490", f"t2.j = {o}.j"])
            if o in w:
                f.add("subq:any_all_correlated")
            return f"({o}.a {r.choice(CMP)} {q} (SELECT t2.x FROM {{t2}} AS t2 WHERE {w}))"
        if c == 6:
            f.add("subq:scalar_correlated")
            f.add("subq:non_equi")
            return (f"((SELECT count(*) FROM {{t3}} AS t3 WHERE t3.k {r.choice(['<', '<=', '<>'])} "
                    f"{o}.k) {r.choice(CMP)} {r.randint(0, 11)})")
        if c == 7:
            f.add("subq:in_list_null")
            return f"({o}.k {r.choice(['', 'NOT '])}IN (SELECT t3.k FROM {{t3}} AS t3 WHERE t3.k < {r.randint(0, 12)} UNION ALL SELECT NULL))"
        f.add("subq:scalar_unique")
        return f"((SELECT t3.label FROM {{t3}} AS t3 WHERE t3.k = {o}.k) {r.choice(['IS NULL', 'IS NOT NULL', '= ' + repr(r.choice(['north', 'up', 'in']))])})"

    def subq_pred2(self, f, o):
        r = self.r
        c = r.randrange(8)
        if c == 0:
            neg = r.choice(["", "NOT "])
            f.add("subq:in_correlated")
            col = r.choice(["t2.x", "t2.k", "CAST(t2.y AS BIGINT)"])
            lhs = r.choice([f"{o}.a", f"{o}.k", f"({o}.a % 7)"])
            return f"({lhs} {neg}IN (SELECT {col} FROM {{t2}} AS t2 WHERE t2.j = {o}.j))"
        if c == 1:
            f.add("subq:any_all_correlated")
            q = r.choice(["ANY", "ALL"])
            return (f"({o}.k {r.choice(CMP)} {q} (SELECT t2.k FROM {{t2}} AS t2 WHERE t2.j = {o}.j"
                    f"{r.choice(['', ' AND t2.x > 0'])}))")
        if c == 2:
            f.add("subq:nested")
            return (f"EXISTS (SELECT 1 FROM {{t2}} AS t2 WHERE t2.j = {o}.j AND t2.k IN "
                    f"(SELECT t3.k FROM {{t3}} AS t3 WHERE t3.weight > {r.choice(['1.0', '1.5'])}))")
        if c == 3:
            f.add("subq:nested_correlated")
            return (f"({o}.a > (SELECT avg(t2.x) FROM {{t2}} AS t2 WHERE t2.k = {o}.k AND "
                    f"EXISTS (SELECT 1 FROM {{t3}} AS t3 WHERE t3.k = t2.k AND t3.label IS NOT NULL)))")
        if c == 4:
            f.add("subq:case")
            return (f"(CASE WHEN {o}.k > 4 THEN (SELECT count(*) FROM {{t2}} AS t2 WHERE t2.j = {o}.j) "
                    f"ELSE -1 END {r.choice(CMP)} {r.randint(-1, 3)})")
        if c == 5:
            f.add("subq:limit_correlated")
            return (f"({o}.a {r.choice(CMP)} (SELECT t2.x FROM {{t2}} AS t2 WHERE t2.j = {o}.j "
                    f"ORDER BY t2.x {r.choice(['ASC', 'DESC'])} NULLS LAST, t2.id LIMIT 1))")
        if c == 6:
            f.add("subq:or")
            return (f"(EXISTS (SELECT 1 FROM {{t2}} AS t2 WHERE t2.j = {o}.j AND t2.k = {o}.k) OR "
                    f"{o}.a {r.choice(['IN', 'NOT IN'])} (SELECT t2.x FROM {{t2}} AS t2 WHERE t2.name = 'beta'))")
        f.add("subq:not_in_nulls")
        return (f"({r.choice([f'{o}.j', f'{o}.k', 'NULL', '3'])} NOT IN (SELECT {r.choice(['t2.j', 't2.k'])} "
                f"FROM {{t2}} AS t2 WHERE t2.x {r.choice(['<', '>'])} {r.randint(-500, 500)}))")

    def subq_item(self, f, o="t1"):
        """A select-list item with a subquery."""
        r = self.r
        c = r.randrange(7)
        if c == 0:
            f.add("subq:scalar_correlated")
            agg = r.choice(["count(*)", "max(t2.x)", "sum(t2.x)", "min(t2.name)", "avg(t2.y)",
                            "count(DISTINCT t2.k)"])
            return f"(SELECT {agg} FROM {{t2}} AS t2 WHERE t2.j = {o}.j)"
        if c == 1:
            f.add("subq:scalar_unique")
            return f"(SELECT t3.label FROM {{t3}} AS t3 WHERE t3.k = {o}.k)"
        if c == 2:
            f.add("subq:scalar")
            return f"(SELECT max(t2.x) - min(t2.x) FROM {{t2}} AS t2 WHERE t2.k = {r.randint(0, 11)})"
        if c == 3:
            f.add("subq:in_select")
            neg = r.choice(["", "NOT "])
            w = r.choice(["t2.x > 300", "t2.name = 'beta'", "t2.k = 2"])
            return f"({o}.j {neg}IN (SELECT t2.j FROM {{t2}} AS t2 WHERE {w}))"
        if c == 4:
            f.add("subq:exists_select")
            return f"EXISTS (SELECT 1 FROM {{t2}} AS t2 WHERE t2.j = {o}.j AND t2.x > {o}.a)"
        if c == 5:
            f.add("subq:scalar_correlated")
            f.add("subq:non_equi")
            return f"(SELECT sum(t3.weight) FROM {{t3}} AS t3 WHERE t3.k > {o}.k)"
        f.add("subq:any_all")
        return f"({o}.a > ALL (SELECT t2.x FROM {{t2}} AS t2 WHERE t2.j = {o}.j))"

    def q_subquery(self):
        r = self.r
        f = {"select", "subquery"}
        sc = Scope([("t1", "t1")])
        c = r.randrange(4)
        if c < 2:  # filter and select list of plain rows
            items = ["t1.id"] + self.select_items(sc, f, r.randint(0, 2))
            if r.random() < 0.6:
                items.append(self.subq_item(f))
            sql = ("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                   " FROM {t1} AS t1 WHERE " + self.subq_pred(f))
            if r.random() < 0.4:
                op = r.choice(["AND", "OR"])
                sql += f" {op} " + (self.subq_pred(f) if r.random() < 0.5 else self.pred(sc, f))
            return Query(sql, f, False)
        if c == 2:  # grouped: subqueries in the select list over groups and in HAVING
            f.add("group_by")
            key = r.choice(["t1.k", "t1.j % 10"])
            items = [key, self.agg(sc, f)]
            if key == "t1.k" and r.random() < 0.6:
                f.add("subq:grouped_select")
                items.append(r.choice(["(SELECT count(*) FROM {t2} AS t2 WHERE t2.k = t1.k)",
                                       "(SELECT t3.label FROM {t3} AS t3 WHERE t3.k = t1.k)",
                                       "(SELECT max(t2.x) FROM {t2} AS t2 WHERE t2.k < t1.k)"]))
            sql = ("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                   " FROM {t1} AS t1")
            if r.random() < 0.4:
                sql += " WHERE " + self.subq_pred(f)
            sql += f" GROUP BY {key}"
            if r.random() < 0.7:
                f.add("subq:having")
                sql += r.choice([
                    " HAVING count(*) > (SELECT count(*) FROM {t3} AS t3) * " + str(r.randint(10, 40)),
                    " HAVING sum(t1.a) > (SELECT avg(t2.x) FROM {t2} AS t2)",
                    " HAVING max(t1.a) IN (SELECT t2.x FROM {t2} AS t2)",
                    " HAVING EXISTS (SELECT 1 FROM {t2} AS t2 WHERE t2.x = max(t1.a))"])
            return Query(sql, f, False)
        return self.q_cte(f)

    def q_cte(self, f):
        r = self.r
        f.add("cte")
        sc = Scope([("t1", "t1")])
        w = self.pred(sc, f)
        cte = (f"WITH c AS (SELECT t1.k AS k, count(*) AS n, sum(t1.a) AS s, max(t1.s) AS m "
               f"FROM {{t1}} AS t1 WHERE {w} GROUP BY t1.k)")
        c = r.randrange(4)
        if c == 0:
            f.add("cte:twice")
            return Query(cte + " SELECT x.k AS c0, x.n AS c1, y.s AS c2, y.m AS c3 FROM c AS x "
                         f"{r.choice(['JOIN', 'LEFT JOIN', 'FULL JOIN'])} c AS y ON x.k = y.k + "
                         f"{r.randint(1, 3)}", f, False)
        if c == 1:
            f.add("cte:twice")
            f.add("subq:scalar")
            return Query(cte + " SELECT c.k AS c0, c.s AS c1 FROM c WHERE c.n "
                         f"{r.choice(['>', '<='])} (SELECT avg(n) FROM c)", f, False)
        if c == 2:
            f.add("cte:join")
            return Query(cte + ", d AS (SELECT t2.k AS k, count(*) AS n2 FROM {t2} AS t2 GROUP BY "
                         "t2.k) SELECT d.k AS c0, c.n AS c1, d.n2 AS c2, c.m AS c3 FROM d LEFT "
                         "JOIN c ON c.k = d.k", f, False)
        f.add("cte:nested")
        return Query(cte + ", e AS (SELECT k, n * 2 AS n2 FROM c WHERE k IS NOT NULL) "
                     "SELECT e.k AS c0, e.n2 AS c1, (SELECT count(*) FROM c) AS c2 FROM e", f,
                     False)

    def q_join2(self):
        r = self.r
        f = {"select"}
        c = r.randrange(6)
        if r.random() < 0.35:
            return self.q_join3(f)
        if c <= 1:
            kind = r.choice(["inner", "left", "right", "full"])
            f.add("join_" + kind)
            jw = {"inner": "JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN",
                  "full": "FULL OUTER JOIN"}[kind]
            on = "t1.j = t2.j"
            if r.random() < 0.3:
                f.add("join_multi_key")
                on += " AND t1.k = t2.k"
            if r.random() < 0.6:
                f.add("join_non_equi")
                on += " AND " + r.choice(["t1.a < t2.x", "t1.b > t2.y", "t1.s <> t2.name",
                                          "t1.ts <= t2.ts2", "t2.x IS NOT NULL",
                                          "(t1.a + t2.x) % 3 = 0", "t1.k < 5"])
            sc = Scope([("t1", "t1"), ("t2", "t2")])
            items = ["t1.id", "t2.id"] + self.select_items(sc, f, r.randint(1, 3))
            sql = ("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                   f" FROM {{t1}} AS t1 {jw} {{t2}} AS t2 ON {on}")
            if r.random() < 0.4:
                f.add("where")
                sql += " WHERE " + self.pred(sc, f)
            ordered = False
            if r.random() < 0.2:
                sql += self.order_limit(len(items), f)
                ordered = True
            return Query(sql, f, ordered)
        if c == 2:
            kind = r.choice(["inner", "left", "right", "full"])
            f.add("join_using")
            f.add("join_" + kind)
            jw = {"inner": "JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN",
                  "full": "FULL JOIN"}[kind]
            cols = r.choice(["j", "j, k", "k"])
            src = "{t1} AS t1 " + jw + " {t2} AS t2"
            if cols == "k" and r.random() < 0.5:
                src = "{t3} AS t3 " + jw + " {t2} AS t2"
                items = ["k", "t3.label", "t2.id"]
            else:
                items = [c_.strip() for c_ in cols.split(",")] + ["t1.id", "t2.id", "t1.a + t2.x"]
            return Query("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                         f" FROM {src} USING ({cols})", f, False)
        if c == 3:
            kind = r.choice(["SEMI", "ANTI"])
            f.add("join_" + kind.lower())
            on = r.choice(["t1.j = t2.j", "t1.j = t2.j AND t1.a < t2.x", "t1.k = t2.k AND "
                           "t2.name = 'beta'", "t1.j = t2.j AND t1.k = t2.k"])
            sc = Scope([("t1", "t1")])
            items = ["t1.id"] + self.select_items(sc, f, r.randint(1, 2))
            sql = ("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                   f" FROM {{t1}} AS t1 {kind} JOIN {{t2}} AS t2 ON {on}")
            if r.random() < 0.4:
                sql += " WHERE " + self.pred(sc, f)
            return Query(sql, f, False)
        if c == 4:
            f.add("join_cross")
            sc = Scope([("t1", "t1"), ("t3", "t3")])
            items = ["t1.id", "t3.k"] + self.select_items(sc, f, r.randint(0, 2))
            cond = r.choice(["t1.k < t3.k", "t3.weight > t1.c * 2", "t1.s = t3.label",
                             "t1.k + t3.k = 10", "t3.label IS NULL"])
            return Query("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                         f" FROM {{t1}} AS t1{r.choice([' CROSS JOIN', ','])} {{t3}} AS t3 "
                         f"WHERE t1.id % {r.randint(5, 9)} = 0 AND {cond}", f, False)
        f.add("join_self")
        kind = r.choice(["JOIN", "LEFT JOIN"])
        sc = Scope([("a", "t1"), ("b", "t1")])
        items = ["a.id", "b.id"] + self.select_items(sc, f, r.randint(0, 2))
        return Query("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                     f" FROM {{t1}} AS a {kind} {{t1}} AS b ON a.j = b.j AND a.id "
                     f"{r.choice(['<', '<>'])} b.id AND a.k {r.choice(['=', '<', '>'])} b.k", f,
                     False)

    def q_join3(self, f):
        r = self.r
        c = r.randrange(4)
        jw = r.choice(["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"])
        f.add("join_" + jw.split()[0].lower())
        if c == 0:
            f.add("join_mixed_types")
            on = r.choice(["t1.a = t2.x", "t1.j = t2.x", "t1.b = t2.y", "t1.d = t2.x",
                           "t1.dt = CAST(t2.ts2 AS DATE)", "t1.s = t2.name",
                           "t1.j % 10 = t2.k", "t1.a = t2.j AND t1.k = t2.k",
                           "CAST(t1.b AS BIGINT) = t2.x", "t1.d = t2.y"])
            sc = Scope([("t1", "t1"), ("t2", "t2")])
            items = ["t1.id", "t2.id"] + self.select_items(sc, f, r.randint(0, 2))
            return Query("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                         f" FROM {{t1}} AS t1 {jw} {{t2}} AS t2 ON {on}", f, False)
        if c == 1:
            f.add("join_derived")
            return Query(
                "SELECT g.k AS c0, g.n AS c1, h.m AS c2, g.s AS c3 FROM (SELECT t1.k AS k, count(*) "
                f"AS n, sum(t1.d) AS s FROM {{t1}} AS t1 WHERE {self.pred(Scope([('t1', 't1')]), f)} "
                f"GROUP BY t1.k) AS g {jw} (SELECT t2.k AS k, max(t2.x) AS m FROM {{t2}} AS t2 "
                f"GROUP BY t2.k) AS h ON g.k = h.k", f, False)
        if c == 2:
            f.add("join_three")
            jw2 = r.choice(["JOIN", "LEFT JOIN", "FULL JOIN", "RIGHT JOIN"])
            sc = Scope([("t1", "t1"), ("t2", "t2"), ("t3", "t3")])
            items = ["t1.id", "t2.id", "t3.k"] + self.select_items(sc, f, r.randint(0, 2))
            return Query("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                         f" FROM {{t1}} AS t1 {jw} {{t2}} AS t2 ON t1.j = t2.j {jw2} {{t3}} AS t3 "
                         f"ON {r.choice(['t2.k = t3.k', 't1.k = t3.k', 'coalesce(t2.k, t1.k) = t3.k'])}"
                         + (f" WHERE {self.pred(sc, f)}" if r.random() < 0.4 else ""), f, False)
        f.add("join_lateral")
        f.add("subquery")
        return Query("SELECT t1.id AS c0, l.x AS c1, l.name AS c2 FROM {t1} AS t1, LATERAL (SELECT "
                     "t2.x, t2.name FROM {t2} AS t2 WHERE t2.j = t1.j ORDER BY t2.x DESC NULLS LAST, "
                     f"t2.id LIMIT {r.randint(1, 2)}) AS l WHERE t1.k = {r.randint(0, 9)}", f, False)

    def q_join_many(self):
        """3-5 inner joins written in a random FROM order (src/plan/joinorder.c reorders them):
        t1 a, t2 b (a.j = b.j, the one many-to-many edge), t3 c on k, optionally a second t3
        on k and a copy of t1 or t2 on its unique id, a cycle edge, a residual condition over two
        relations, filters on single relations."""
        r = self.r
        f = {"select", "join_inner", "join_many"}
        rels = [("a", "t1"), ("b", "t2"), ("c", "t3")]
        conds = ["a.j = b.j", r.choice(["a.k = c.k", "b.k = c.k"])]
        if r.random() < 0.5:
            rels.append(("d", "t3"))
            conds.append(r.choice(["a.k = d.k", "b.k = d.k", "c.k = d.k"]))
        if r.random() < 0.5:
            t, other = r.choice([("t1", "a"), ("t2", "b")])
            rels.append(("e", t))
            conds.append(f"{other}.id = e.id")
        if r.random() < 0.3:
            f.add("join_cycle")
            conds.append("a.k = b.k")
        if r.random() < 0.4:
            f.add("join_non_equi")
            conds.append(r.choice(["a.a < b.x", "(a.k + c.k) % 2 = 0", "b.name <> c.label",
                                   "a.b > b.y OR c.weight > 0.5"]))
        for alias, t in r.sample(rels, r.randint(0, 2)):
            f.add("where")
            conds.append(self.pred(Scope([(alias, t)]), f))
        r.shuffle(rels)
        r.shuffle(conds)
        src = "{" + rels[0][1] + "} AS " + rels[0][0]
        for alias, t in rels[1:]:
            src += (", " if r.random() < 0.8 else " CROSS JOIN ") + "{" + t + "} AS " + alias
        where = " WHERE " + " AND ".join(f"({c_})" for c_ in conds)
        sc = Scope(rels)
        if r.random() < 0.5:
            f.add("global_agg")
            items = ["count(*)", "sum(a.a)", "count(DISTINCT b.id)", "max(c.label)"]
        else:
            items = ["a.id", "b.id", "c.k"] + self.select_items(sc, f, r.randint(0, 2))
        return Query("SELECT " + ", ".join(f"{e} AS c{i}" for i, e in enumerate(items)) +
                     " FROM " + src + where, f, False)

    def q_setop(self):
        r = self.r
        op = r.choice(["UNION", "INTERSECT", "EXCEPT", "UNION ALL", "INTERSECT ALL", "EXCEPT ALL"])
        f = {"select", "setop:" + op.lower().replace(" ", "_")}
        pool = [("t1.k", "t2.k"), ("t1.s", "t2.name"), ("(t1.a % 5)", "(t2.x % 5)"),
                ("t1.j // 50", "t2.j // 50"), ("CAST(t1.ts AS DATE)", "CAST(t2.ts2 AS DATE)")]
        cols = r.sample(pool, r.randint(1, 2))
        sc1, sc2 = Scope([("t1", "t1")]), Scope([("t2", "t2")])
        left = ("SELECT " + ", ".join(f"{a} AS c{i}" for i, (a, _) in enumerate(cols)) +
                " FROM {t1} AS t1 WHERE " + self.pred(sc1, f))
        if r.random() < 0.5:
            right = ("SELECT " + ", ".join(f"{b} AS c{i}" for i, (_, b) in enumerate(cols)) +
                     " FROM {t2} AS t2 WHERE " + self.pred(sc2, f))
        else:
            right = ("SELECT " + ", ".join(f"{a} AS c{i}" for i, (a, _) in enumerate(cols)) +
                     " FROM {t1} AS t1 WHERE " + self.pred(sc1, f))
        sql = f"{left} {op} {right}"
        if r.random() < 0.3:
            op2 = r.choice(["UNION", "EXCEPT", "INTERSECT"])
            f.add("setop:chain")
            sql += (f" {op2} SELECT " + ", ".join(f"{a} AS c{i}" for i, (a, _) in enumerate(cols))
                    + " FROM {t1} AS t1 WHERE t1.k = " + str(r.randint(0, 9)))
        return Query(sql, f, False)

    def q_error(self):
        """A query both engines must refuse at run time (overflow, division by zero, a failed
        cast): polaroid must report an error, not return a result."""
        r = self.r
        c = r.randrange(4)
        if c == 0:
            return Query("SELECT t1.id * 9223372036854775807 AS c0 FROM {t1} AS t1",
                         {"error:overflow"}, False)
        if c == 1:  # (not inside sum(): DuckDB rewrites sum(x + c) as sum(x) + c * count(x))
            return Query("SELECT t1.k, t1.id + 9223372036854775000 AS c0 FROM {t1} AS t1",
                         {"error:overflow"}, False)
        if c == 2:
            return Query("SELECT t1.a % (t1.id - t1.id) AS c0 FROM {t1} AS t1",
                         {"error:div_zero", "mod"}, False)
        return Query("SELECT CAST(t1.s AS INTEGER) AS c0 FROM {t1} AS t1 WHERE t1.s <> ''",
                     {"error:cast", "cast"}, False)

    SHAPES = [("project", 6), ("aggregate", 5), ("agg_join", 2), ("join", 3), ("union", 2),
              ("window", 2), ("distinct", 1), ("error", 0.3), ("subquery", 4), ("join2", 3),
              ("setop", 1.5), ("join_many", 2)]

    def query(self):
        r = self.r
        shape = r.choices([s for s, _ in self.SHAPES], [w for _, w in self.SHAPES])[0]
        if shape == "project":
            return self.q_project()
        if shape == "aggregate":
            return self.q_aggregate()
        if shape == "agg_join":
            return self.q_aggregate(join=True)
        if shape == "join":
            return self.q_join()
        if shape == "union":
            return self.q_union()
        if shape == "window":
            return self.q_window()
        if shape == "error":
            return self.q_error()
        if shape == "subquery":
            return self.q_subquery()
        if shape == "join2":
            return self.q_join2()
        if shape == "setop":
            return self.q_setop()
        if shape == "join_many":
            return self.q_join_many()
        return self.q_distinct()


assert all((t, c) in UNIQUE for t, c in [("t1", "id"), ("t2", "id")])
