#!/usr/bin/env python3
"""The 8 TPC-H tables at a scale factor, written as Parquet (bench/README.md, "TPC-H").

Written from the TPC-H specification (clauses 1.4 and 4.2): the spec's columns and types
(identifiers INTEGER, BIGINT for the order keys; money and quantities DECIMAL(15,2); dates
DATE; CHAR/VARCHAR as strings), its row counts (SF x 200,000 parts, 800,000 partsupps, 10,000
suppliers, 150,000 customers, 1,500,000 orders, ~6,000,000 lineitems; 25 nations, 5 regions),
its key relationships (4 suppliers per part by the spec's formula, lineitem suppliers among
them, orders only for customers whose key is not a multiple of 3, sparse order keys: 8 used in
every 32) and its value domains (nation and region names, market segments, ship modes and
instructions, part types, containers, brands and colour names, order priorities, return flags
and line statuses from the dates around 1995-06-17, dates in 1992-1998, phone numbers with the
nation's country code, supplier comments with "Customer ... Complaints/Recommends"). Comments
are substrings of a pseudo-text made by the spec's grammar from its word lists, so the words
the queries look for ("special requests", ...) occur. The random draws are numpy's PCG64
(not dbgen's generator): the rows are not dbgen's, the distributions and domains are.

Deterministic by seed: every table (and every chunk of the orders) has its own random stream.
Output: data/tpch/sf<SF>/<table>.parquet (pyarrow, snappy, statistics; orders and lineitem in
row groups of OR_CHUNK orders) and _manifest.json; generation is skipped when the manifest
matches.

  bench/gen_tpch.py [--sf 1] [--out DIR] [--seed S] [--force]
"""
import argparse
import json
import os
import sys
import time

GEN_VERSION = 1
DEFAULT_SEED = 19920101
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]
OR_CHUNK = 150_000  # orders per generated chunk (one row group of orders and of lineitem)

# --- value domains (TPC-H clause 4.2.2 and 4.2.3) ------------------------------------------

REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
NATIONS = [("ALGERIA", 0), ("ARGENTINA", 1), ("BRAZIL", 1), ("CANADA", 1), ("EGYPT", 4),
           ("ETHIOPIA", 0), ("FRANCE", 3), ("GERMANY", 3), ("INDIA", 2), ("INDONESIA", 2),
           ("IRAN", 4), ("IRAQ", 4), ("JAPAN", 2), ("JORDAN", 4), ("KENYA", 0), ("MOROCCO", 0),
           ("MOZAMBIQUE", 0), ("PERU", 1), ("CHINA", 2), ("ROMANIA", 3), ("SAUDI ARABIA", 4),
           ("VIETNAM", 2), ("RUSSIA", 3), ("UNITED KINGDOM", 3), ("UNITED STATES", 1)]
SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"]
PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
INSTRUCTIONS = ["DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"]
MODES = ["REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"]
TYPE_S1 = ["STANDARD", "SMALL", "MEDIUM", "LARGE", "ECONOMY", "PROMO"]
TYPE_S2 = ["ANODIZED", "BURNISHED", "PLATED", "POLISHED", "BRUSHED"]
TYPE_S3 = ["TIN", "NICKEL", "BRASS", "STEEL", "COPPER"]
CONT_S1 = ["SM", "LG", "MED", "JUMBO", "WRAP"]
CONT_S2 = ["CASE", "BOX", "BAG", "JAR", "PKG", "PACK", "CAN", "DRUM"]
COLORS = (
    "almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood "
    "burnished chartreuse chiffon chocolate coral cornflower cornsilk cream cyan dark deep dim "
    "dodger drab firebrick floral forest frosted gainsboro ghost goldenrod green grey honeydew "
    "hot indian ivory khaki lace lavender lawn lemon light lime linen magenta maroon medium "
    "metallic midnight mint misty moccasin navajo navy olive orange orchid pale papaya peach "
    "peru pink plum powder puff purple red rose rosy royal saddle salmon sandy seashell sienna "
    "sky slate smoke snow spring steel tan thistle tomato turquoise violet wheat white "
    "yellow").split()
assert len(COLORS) == 92

# the grammar's word lists (clause 4.2.2.13)
NOUNS = ("packages requests accounts deposits foxes ideas theodolites pinto_beans instructions "
         "dependencies excuses platelets asymptotes courts dolphins multipliers sauternes "
         "warthogs frets dinos attainments somas Tiresias patterns forges braids hockey_players "
         "frays warhorses dugouts notornis epitaphs pearls tithes waters orbits gifts sheaves "
         "depths sentiments decoys realms pains grouches escapades").split()
VERBS = ("sleep wake are cajole haggle nag use boost affix detect integrate maintain nod was "
         "lose sublate solve thrash promise engage hinder print x-ray breach eat grow impress "
         "mold poach serve run dazzle snooze doze unwind kindle play hang believe doubt").split()
ADJECTIVES = ("special pending unusual express furious sly careful blithe quick fluffy slow "
              "quiet ruthless thin close dogged daring brave stealthy permanent enticing idle "
              "busy regular final ironic even bold silent").split()
ADVERBS = ("sometimes always never furiously slyly carefully blithely quickly fluffily slowly "
           "quietly ruthlessly thinly closely doggedly daringly bravely stealthily permanently "
           "enticingly idly busily regularly finally ironically evenly boldly silently").split()
PREPOSITIONS = ("about above according_to across after against along alongside_of among "
                "around at atop before behind beneath beside besides between beyond by despite "
                "during except for from in_place_of inside instead_of into near of on outside "
                "over past since through throughout to toward under until up upon without with "
                "within").split()
AUXILIARIES = ("do may might shall will would can could should ought_to must will_have_to "
               "shall_have_to could_have_to should_have_to must_have_to need_to try_to").split()
TERMINATORS = [".", ";", ":", "?", "!", "--"]
ADDRESS_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,. "

TEXT_POOL_BYTES = 4 << 20
# text lengths [min, max] of the comment columns (clause 4.2.3)
COMMENT_LEN = {"region": (31, 115), "nation": (31, 114), "supplier": (25, 100),
               "customer": (29, 116), "part": (5, 22), "partsupp": (49, 198),
               "orders": (19, 78), "lineitem": (10, 43)}

EPOCH_1992 = 8035       # 1992-01-01 as days since 1970-01-01
END_1998 = 10591        # 1998-12-31
CURRENT = 9298          # 1995-06-17: the spec's CURRENTDATE (return flags, line status)


def counts(sf):
    """Row counts of the scaled tables at scale factor sf (at least 1 row each)."""
    def n(base):
        return max(1, int(round(base * sf)))
    return {"supplier": n(10_000), "customer": n(150_000), "part": n(200_000),
            "orders": n(1_500_000)}


def _rng(seed, *stream):
    import numpy as np
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


def text_pool(seed):
    """The pseudo-text the comments are cut from (clause 4.2.2.14's grammar), as bytes."""
    import numpy as np
    rng = _rng(seed, 99)
    words = {k: [w.replace("_", " ") for w in v] for k, v in
             [("n", NOUNS), ("v", VERBS), ("j", ADJECTIVES), ("d", ADVERBS),
              ("p", PREPOSITIONS), ("x", AUXILIARIES)]}

    def pick(kind):
        w = words[kind]
        return w[int(rng.integers(len(w)))]

    def noun_phrase():
        form = int(rng.integers(4))
        if form == 0:
            return pick("n")
        if form == 1:
            return pick("j") + " " + pick("n")
        if form == 2:
            return pick("j") + ", " + pick("j") + " " + pick("n")
        return pick("d") + " " + pick("j") + " " + pick("n")

    def verb_phrase():
        form = int(rng.integers(4))
        if form == 0:
            return pick("v")
        if form == 1:
            return pick("x") + " " + pick("v")
        if form == 2:
            return pick("v") + " " + pick("d")
        return pick("x") + " " + pick("v") + " " + pick("d")

    def prep_phrase():
        return pick("p") + " the " + noun_phrase()

    parts, size = [], 0
    while size < TEXT_POOL_BYTES:
        form = int(rng.integers(5))
        if form == 0:
            s = [noun_phrase(), verb_phrase()]
        elif form == 1:
            s = [noun_phrase(), verb_phrase(), prep_phrase()]
        elif form == 2:
            s = [noun_phrase(), verb_phrase(), noun_phrase()]
        elif form == 3:
            s = [noun_phrase(), prep_phrase(), verb_phrase(), noun_phrase()]
        else:
            s = [noun_phrase(), prep_phrase(), verb_phrase(), prep_phrase()]
        sent = " ".join(s) + TERMINATORS[int(rng.integers(len(TERMINATORS)))] + " "
        parts.append(sent)
        size += len(sent)
    return np.frombuffer("".join(parts).encode(), dtype=np.uint8)


def substrings(pool, rng, n, lo, hi):
    """n strings cut from pool at random offsets, lengths uniform in [lo, hi] (a pyarrow
    StringArray; the pool is ASCII). Leading and trailing blanks are kept, as dbgen does."""
    import numpy as np
    import pyarrow as pa
    lens = rng.integers(lo, hi + 1, n, dtype=np.int64)
    starts = rng.integers(0, len(pool) - hi, n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    idx = np.repeat(starts - offsets[:-1], lens) + np.arange(offsets[-1], dtype=np.int64)
    data = pool[idx]
    return pa.Array.from_buffers(pa.large_string(), n,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)]).cast(
                                     pa.string())


def random_chars(rng, n, lo, hi):
    """n random strings over ADDRESS_CHARS, lengths uniform in [lo, hi] (the spec's v-string)."""
    import numpy as np
    import pyarrow as pa
    alphabet = np.frombuffer(ADDRESS_CHARS.encode(), dtype=np.uint8)
    lens = rng.integers(lo, hi + 1, n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=offsets[1:])
    data = alphabet[rng.integers(0, len(alphabet), int(offsets[-1]))]
    return pa.Array.from_buffers(pa.large_string(), n,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)]).cast(
                                     pa.string())


def decimal(cents):
    """DECIMAL(15,2) array from an int64 numpy array of hundredths."""
    import numpy as np
    import pyarrow as pa
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(15, 2), len(cents), [None, pa.py_buffer(words)])


def choose(rng, values, n):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    return pc.take(pa.array(values), pa.array(rng.integers(0, len(values), n, dtype=np.int32)))


def numbered(prefix, keys):
    import pyarrow as pa
    return pa.array([f"{prefix}#{k:09d}" for k in keys.tolist()], pa.string())


def phones(rng, nationkeys):
    import numpy as np
    import pyarrow as pa
    n = len(nationkeys)
    a = rng.integers(100, 1000, n)
    b = rng.integers(100, 1000, n)
    c = rng.integers(1000, 10000, n)
    return pa.array([f"{cc}-{x}-{y}-{z}" for cc, x, y, z in
                     zip((np.asarray(nationkeys) + 10).tolist(), a.tolist(), b.tolist(),
                         c.tolist())], pa.string())


def retail_cents(partkey):
    """p_retailprice in hundredths (clause 4.2.3), for a numpy array of part keys."""
    return 90000 + (partkey // 10) % 20001 + 100 * (partkey % 1000)


def part_suppliers(partkey, i, n_supp):
    """The i-th (0..3) supplier of a part (clause 4.2.3, PS_SUPPKEY)."""
    return (partkey + i * (n_supp // 4 + (partkey - 1) // n_supp)) % n_supp + 1


def gen_region(seed, pool, sf):
    import numpy as np
    import pyarrow as pa
    rng = _rng(seed, 1)
    return pa.table({
        "r_regionkey": pa.array(np.arange(5, dtype=np.int32)),
        "r_name": pa.array(REGIONS),
        "r_comment": substrings(pool, rng, 5, *COMMENT_LEN["region"]),
    })


def gen_nation(seed, pool, sf):
    import numpy as np
    import pyarrow as pa
    rng = _rng(seed, 2)
    return pa.table({
        "n_nationkey": pa.array(np.arange(25, dtype=np.int32)),
        "n_name": pa.array([n for n, _ in NATIONS]),
        "n_regionkey": pa.array([r for _, r in NATIONS], pa.int32()),
        "n_comment": substrings(pool, rng, 25, *COMMENT_LEN["nation"]),
    })


def gen_supplier(seed, pool, sf):
    import numpy as np
    import pyarrow as pa
    rng = _rng(seed, 3)
    n = counts(sf)["supplier"]
    keys = np.arange(1, n + 1, dtype=np.int32)
    nation = rng.integers(0, 25, n, dtype=np.int32)
    comments = substrings(pool, rng, n, *COMMENT_LEN["supplier"]).to_pylist()
    # SF x 5 complaints and SF x 5 recommendations (clause 4.2.3, S_COMMENT; Q16 looks for them)
    n_each = max(1, int(round(5 * sf)))
    picked = rng.choice(n, size=min(n, 2 * n_each), replace=False)
    for k, row in enumerate(picked.tolist()):
        tail = "Complaints" if k < n_each else "Recommends"
        c = comments[row]                      # 25..100 characters: room for 19 and a gap
        gap = int(rng.integers(0, len(c) - 19 + 1))
        start = int(rng.integers(0, len(c) - 19 - gap + 1))
        insert = "Customer " + c[start:start + gap] + tail
        comments[row] = c[:start] + insert + c[start + len(insert):]
    return pa.table({
        "s_suppkey": pa.array(keys),
        "s_name": numbered("Supplier", keys),
        "s_address": random_chars(rng, n, 10, 40),
        "s_nationkey": pa.array(nation),
        "s_phone": phones(rng, nation),
        "s_acctbal": decimal(rng.integers(-99999, 1000000, n)),
        "s_comment": pa.array(comments, pa.string()),
    })


def gen_customer(seed, pool, sf):
    import numpy as np
    import pyarrow as pa
    rng = _rng(seed, 4)
    n = counts(sf)["customer"]
    keys = np.arange(1, n + 1, dtype=np.int32)
    nation = rng.integers(0, 25, n, dtype=np.int32)
    return pa.table({
        "c_custkey": pa.array(keys),
        "c_name": numbered("Customer", keys),
        "c_address": random_chars(rng, n, 10, 40),
        "c_nationkey": pa.array(nation),
        "c_phone": phones(rng, nation),
        "c_acctbal": decimal(rng.integers(-99999, 1000000, n)),
        "c_mktsegment": choose(rng, SEGMENTS, n),
        "c_comment": substrings(pool, rng, n, *COMMENT_LEN["customer"]),
    })


def gen_part(seed, pool, sf):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    rng = _rng(seed, 5)
    n = counts(sf)["part"]
    keys = np.arange(1, n + 1, dtype=np.int64)
    # p_name: 5 distinct colours
    colours = np.argsort(rng.random((n, len(COLORS))), axis=1)[:, :5]
    cols = [pc.take(pa.array(COLORS), pa.array(colours[:, k])) for k in range(5)]
    name = pc.binary_join_element_wise(*cols, " ")
    m = rng.integers(1, 6, n)
    brand_n = rng.integers(1, 6, n)
    types = pc.binary_join_element_wise(choose(rng, TYPE_S1, n), choose(rng, TYPE_S2, n),
                                        choose(rng, TYPE_S3, n), " ")
    container = pc.binary_join_element_wise(choose(rng, CONT_S1, n), choose(rng, CONT_S2, n),
                                            " ")
    return pa.table({
        "p_partkey": pa.array(keys.astype(np.int32)),
        "p_name": name,
        "p_mfgr": pa.array([f"Manufacturer#{x}" for x in m.tolist()], pa.string()),
        "p_brand": pa.array([f"Brand#{x}{y}" for x, y in zip(m.tolist(), brand_n.tolist())],
                            pa.string()),
        "p_type": types,
        "p_size": pa.array(rng.integers(1, 51, n, dtype=np.int32)),
        "p_container": container,
        "p_retailprice": decimal(retail_cents(keys)),
        "p_comment": substrings(pool, rng, n, *COMMENT_LEN["part"]),
    })


def gen_partsupp(seed, pool, sf):
    import numpy as np
    import pyarrow as pa
    rng = _rng(seed, 6)
    c = counts(sf)
    n_part, n_supp = c["part"], c["supplier"]
    partkey = np.repeat(np.arange(1, n_part + 1, dtype=np.int64), 4)
    i = np.tile(np.arange(4, dtype=np.int64), n_part)
    n = len(partkey)
    return pa.table({
        "ps_partkey": pa.array(partkey.astype(np.int32)),
        "ps_suppkey": pa.array(part_suppliers(partkey, i, n_supp).astype(np.int32)),
        "ps_availqty": pa.array(rng.integers(1, 10000, n, dtype=np.int32)),
        "ps_supplycost": decimal(rng.integers(100, 100001, n)),
        "ps_comment": substrings(pool, rng, n, *COMMENT_LEN["partsupp"]),
    })


def gen_orders_chunk(seed, pool, sf, first, n):
    """Orders first..first+n-1 (0-based order numbers) and their lineitems: (orders, lineitem)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    rng = _rng(seed, 7, first // OR_CHUNK)
    c = counts(sf)
    n_cust, n_part, n_supp = c["customer"], c["part"], c["supplier"]
    idx = np.arange(first, first + n, dtype=np.int64)
    orderkey = (idx // 8) * 32 + idx % 8 + 1          # 8 keys used in every 32 (clause 4.2.3)
    # customers whose key is not a multiple of 3 (a third of the customers has no orders)
    n_ok = n_cust - n_cust // 3
    k = rng.integers(0, n_ok, n, dtype=np.int64)
    custkey = 3 * (k // 2) + k % 2 + 1
    orderdate = rng.integers(EPOCH_1992, END_1998 - 151 + 1, n, dtype=np.int64)
    n_lines = rng.integers(1, 8, n, dtype=np.int64)
    m = int(n_lines.sum())
    order_of = np.repeat(np.arange(n), n_lines)
    line_start = np.zeros(n, dtype=np.int64)
    np.cumsum(n_lines[:-1], out=line_start[1:])
    linenumber = np.arange(m, dtype=np.int64) - line_start[order_of] + 1
    partkey = rng.integers(1, n_part + 1, m, dtype=np.int64)
    suppkey = part_suppliers(partkey, rng.integers(0, 4, m, dtype=np.int64), n_supp)
    quantity = rng.integers(1, 51, m, dtype=np.int64)
    extprice = quantity * retail_cents(partkey)
    discount = rng.integers(0, 11, m, dtype=np.int64)
    tax = rng.integers(0, 9, m, dtype=np.int64)
    odate = orderdate[order_of]
    shipdate = odate + rng.integers(1, 122, m)
    commitdate = odate + rng.integers(30, 91, m)
    receiptdate = shipdate + rng.integers(1, 31, m)
    ra = np.where(rng.integers(0, 2, m) == 0, 0, 1)                     # R or A
    returnflag = np.where(receiptdate <= CURRENT, ra, 2)                 # N when not yet received
    linestatus = np.where(shipdate > CURRENT, 0, 1)                      # O / F
    # o_totalprice: sum of extendedprice * (1 + tax) * (1 - discount), in hundredths
    charge = extprice * (100 + tax) * (100 - discount) // 10000
    total = np.add.reduceat(charge, line_start)
    n_f = np.add.reduceat(linestatus, line_start)
    status = np.where(n_f == n_lines, 0, np.where(n_f == 0, 1, 2))      # F / O / P
    n_clerks = max(1, int(round(sf * 1000)))
    clerk = rng.integers(1, n_clerks + 1, n)
    orders = pa.table({
        "o_orderkey": pa.array(orderkey),
        "o_custkey": pa.array(custkey.astype(np.int32)),
        "o_orderstatus": pc.take(pa.array(["F", "O", "P"]), pa.array(status)),
        "o_totalprice": decimal(total),
        "o_orderdate": pa.array(orderdate.astype(np.int32)).cast(pa.date32()),
        "o_orderpriority": choose(rng, PRIORITIES, n),
        "o_clerk": numbered("Clerk", clerk),
        "o_shippriority": pa.array(np.zeros(n, dtype=np.int32)),
        "o_comment": substrings(pool, rng, n, *COMMENT_LEN["orders"]),
    })

    def date(a):
        return pa.array(a.astype(np.int32)).cast(pa.date32())

    lineitem = pa.table({
        "l_orderkey": pa.array(orderkey[order_of]),
        "l_partkey": pa.array(partkey.astype(np.int32)),
        "l_suppkey": pa.array(suppkey.astype(np.int32)),
        "l_linenumber": pa.array(linenumber.astype(np.int32)),
        "l_quantity": decimal(quantity * 100),
        "l_extendedprice": decimal(extprice),
        "l_discount": decimal(discount),
        "l_tax": decimal(tax),
        "l_returnflag": pc.take(pa.array(["R", "A", "N"]), pa.array(returnflag)),
        "l_linestatus": pc.take(pa.array(["O", "F"]), pa.array(linestatus)),
        "l_shipdate": date(shipdate),
        "l_commitdate": date(commitdate),
        "l_receiptdate": date(receiptdate),
        "l_shipinstruct": choose(rng, INSTRUCTIONS, m),
        "l_shipmode": choose(rng, MODES, m),
        "l_comment": substrings(pool, rng, m, *COMMENT_LEN["lineitem"]),
    })
    return orders, lineitem


def default_out(sf):
    return os.path.join("data", "tpch", f"sf{sf:g}")


def table_path(out, name):
    return os.path.join(out, f"{name}.parquet")


def params_of(sf, seed):
    return {"generator": "bench/gen_tpch.py", "gen_version": GEN_VERSION, "sf": sf,
            "seed": seed}


def generate(sf, out=None, seed=DEFAULT_SEED, force=False, quiet=False):
    """Writes the 8 tables under out (default data/tpch/sf<SF>) unless the manifest already
    matches. Returns the manifest dict."""
    out = out or default_out(sf)
    out = os.path.join(ROOT, out) if not os.path.isabs(out) else out
    params = params_of(sf, seed)
    mpath = os.path.join(out, "_manifest.json")
    try:
        with open(mpath) as fh:
            m = json.load(fh)
        if not force and m.get("params") == params and all(
                os.path.exists(table_path(out, t)) for t in TABLES):
            if not quiet:
                print(f"gen_tpch: {out} is up to date")
            return m
    except (OSError, ValueError):
        pass
    import pyarrow
    import pyarrow.parquet as pq
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name.endswith(".parquet") or name.endswith(".tmp") or name == "_manifest.json":
            os.remove(os.path.join(out, name))
    t0 = time.time()
    pool = text_pool(seed)
    rows = {}
    for name, fn in [("region", gen_region), ("nation", gen_nation),
                     ("supplier", gen_supplier), ("customer", gen_customer),
                     ("part", gen_part), ("partsupp", gen_partsupp)]:
        t = fn(seed, pool, sf)
        pq.write_table(t, table_path(out, name) + ".tmp")
        rows[name] = t.num_rows
    n_orders = counts(sf)["orders"]
    writers = {}
    rows["orders"] = rows["lineitem"] = 0
    try:
        for first in range(0, n_orders, OR_CHUNK):
            o, li = gen_orders_chunk(seed, pool, sf, first, min(OR_CHUNK, n_orders - first))
            for name, t in [("orders", o), ("lineitem", li)]:
                if name not in writers:
                    writers[name] = pq.ParquetWriter(table_path(out, name) + ".tmp", t.schema)
                writers[name].write_table(t, row_group_size=t.num_rows)
                rows[name] += t.num_rows
    finally:
        for w in writers.values():
            w.close()
    for name in TABLES:
        os.replace(table_path(out, name) + ".tmp", table_path(out, name))
    m = {"params": params, "writer": f"pyarrow {pyarrow.__version__} (snappy)",
         "rows": rows, "total_rows": sum(rows.values()),
         "total_bytes": sum(os.path.getsize(table_path(out, t)) for t in TABLES),
         "files": [os.path.basename(table_path(out, t)) for t in TABLES],
         "seconds": round(time.time() - t0, 1)}
    with open(mpath + ".tmp", "w") as fh:
        json.dump(m, fh, indent=1)
    os.replace(mpath + ".tmp", mpath)
    if not quiet:
        print(f"gen_tpch: wrote {out}: SF {sf:g}, {rows['lineitem']} lineitems, "
              f"{m['total_bytes'] / 1e6:.0f} MB in {m['seconds']}s")
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sf", type=float, default=1.0, help="scale factor (default 1)")
    ap.add_argument("--out", help="output directory (default data/tpch/sf<SF>)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    a = ap.parse_args(argv)
    if not a.sf > 0:
        ap.error("--sf must be positive")
    generate(a.sf, a.out, a.seed, a.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
