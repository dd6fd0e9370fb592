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
            f.add("cast")
            return f"CAST({self.expr('ts', sc, f, depth + 1)} AS DATE)"
        raise ValueError(kind)

    def int_expr(self, sc, f, d):
        r = self.r
        e = lambda: self.expr("int", sc, f, d + 1)  # noqa: E731
        c = r.randrange(11)
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

    def double_expr(self, sc, f, d):
        r = self.r
        c = r.randrange(8)
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
        if c == 8 and sc.of("ts"):
            f.add("ts_compare")
            return f"({r.choice(sc.of('ts'))} {r.choice(CMP)} {self.lit('ts')})"
        kind = r.choice(["int", "int", "double", "str"])
        return f"({self.expr(kind, sc, f, d + 1)} {r.choice(CMP)} {self.expr(kind, sc, f, d + 1)})"

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
        kinds = ["int", "double", "str", "ts", "bool", "date"]
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

    def agg(self, sc, f):
        r = self.r
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
        if r.random() < 0.5:
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
                sql += f" QUALIFY c{2 + j} {r.choice(['<=', '>', '=', '<>'])} {r.randint(0, 6)}"
            else:
                # a window written in the clause itself
                sql += (f" QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY t1.id DESC) "
                        f"<= {r.randint(1, 4)} OR t1.a IS NULL")
        return Query(sql, f, False)

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
              ("window", 2), ("distinct", 1), ("error", 0.3)]

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
        return self.q_distinct()


assert all((t, c) in UNIQUE for t, c in [("t1", "id"), ("t2", "id")])
