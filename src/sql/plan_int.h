/* plan_int.h - internals shared by the SQL planner files (plan_*.c).
 *
 * plan_pre.c       same-length rewriting of DuckDB syntax before parsing; a small lexer to
 *                  re-read the original text (EXCLUDE lists, GROUP BY ALL)
 * plan_type.c      type names, literals (typed literals, intervals), pl_sql_type_from_node
 * plan_expr.c      expressions: column resolution (scopes, outer references), operators,
 *                  functions, aggregates, windows, CASE/CAST/..., subquery expressions
 * plan_rel.c       relations (a pl_df plus per-column SQL facts), finalisation of column
 *                  references, helpers over pl_df
 * plan_from.c      FROM: tables, CTEs, files, table functions, subqueries, joins
 * plan_select.c    SELECT: WHERE, GROUP BY, HAVING, windows, projection, DISTINCT, ORDER BY,
 *                  LIMIT, set operations, VALUES, WITH; pl_sql_plan_query
 * plan_subquery.c  subqueries in expressions: scalar, IN, EXISTS (decorrelated into joins)
 * plan_qualify.c   the QUALIFY clause (blanked before parsing, parsed on its own)
 * plan_recursive.c WITH RECURSIVE: fixpoint iteration at planning time
 * plan_hive.c      hive-partitioned file sets (key=value directories become columns)
 * plan_multi.c     several files whose schemas differ (by name, union_by_name)
 *
 * Column references during translation are index references (pl_expr.index) into the relation
 * of the scope they were resolved in; references to an enclosing query's relation (correlated
 * subqueries) carry index SQ_OUTER_BASE - i. Before an expression reaches the DataFrame API it
 * is "finalised": index references become (qualifier, name) references when that pair is unique
 * in the input, else stay index references. */
#ifndef PL_SQL_PLAN_INT_H
#define PL_SQL_PLAN_INT_H

#include "exec/exec.h"
#include "sql/sql_int.h"

/* ---------------------------------------------------------------- lexer (plan_pre.c) */

typedef enum sq_tok_kind {
    SQ_TOK_END = 0,
    SQ_TOK_IDENT,
    SQ_TOK_QIDENT,
    SQ_TOK_STRING,
    SQ_TOK_NUMBER,
    SQ_TOK_PUNCT
} sq_tok_kind;

typedef struct sq_token {
    sq_tok_kind kind;
    int32_t start, end;
} sq_token;

bool sq_lex_next(const char *sql, int32_t len, int32_t pos, sq_token *tok);
bool sq_tok_is(const char *sql, const sq_token *tok, const char *word);

typedef struct sq_names {
    int32_t n;
    char **names;
    int32_t *pos;
} sq_names;
void sq_names_reset(sq_names *n);
/* DuckDB's modifiers of a select-list star: `* [EXCLUDE ...] [REPLACE ...] [RENAME ...]`, each
 * a parenthesised list or a single item. start/end_of: each clause's keyword and end (-1 when
 * absent; index 0 EXCLUDE, 1 REPLACE, 2 RENAME), paren: written in parentheses, end: after the
 * last. item: the star is a select item (REPLACE/RENAME are read only then; `x * replace(...)`
 * is a multiplication). Scans from pos, just after the star. */
typedef struct sq_star_mods {
    int32_t start[3], end_of[3];
    bool paren[3];
    int32_t end;
} sq_star_mods;
void sq_star_mods_scan(const char *sql, int32_t len, int32_t pos, bool item, sq_star_mods *m);
/* The star of the ColumnRef at star_loc ([ident .]* '*'): the offset just after it, or -1. */
int32_t sq_star_end(const char *sql, int32_t star_loc);
/* RENAME (a AS b, ...) of the star at star_loc: old names in from, new names in to (same order). */
pl_status sq_read_rename(const char *sql, int32_t star_loc, sq_names *from, sq_names *to,
                         pl_error *err);
/* REPLACE (expr AS name, ...) of the star at star_loc parsed on its own like QUALIFY: *tree owns
 * the ResTargets (*items, *n_items; none when the star has no REPLACE). */
pl_status sq_replace_parse(const char *sql, int32_t star_loc, PgQuery__ParseResult **tree,
                           PgQuery__Node *const **items, size_t *n_items, pl_error *err);
/* The EXCLUDE list following the star of the ColumnRef at star_loc in the original text. */
pl_status sq_read_exclude(const char *sql, int32_t star_loc, sq_names *out, pl_error *err);
/* QUALIFY (plan_qualify.c): the end of the clause whose condition starts at `from` (the next
 * ORDER/LIMIT/OFFSET/FETCH/UNION/EXCEPT/INTERSECT/';' at its level, or a closing parenthesis). */
int32_t sq_qualify_end(const char *sql, int32_t len, int32_t from);
/* The QUALIFY condition of st, parsed from the original text on its own (NULL in *cond when st
 * has none); *tree owns the nodes (pg_query__parse_result__free_unpacked). */
pl_status sq_qualify_parse(const char *sql, const PgQuery__SelectStmt *st,
                           PgQuery__ParseResult **tree, const PgQuery__Node **cond, pl_error *err);
/* Parses a clause of the script on its own: a copy blank everywhere except "SELECT" written at
 * kw and the original bytes [body, end), so its nodes carry exact positions into the script. */
pl_status sq_parse_masked(const char *sql, int32_t kw, int32_t body, int32_t end,
                          PgQuery__ParseResult **out, pl_error *err);
/* DuckDB's null treatment written last in the arguments of the call at call_loc:
 * f(x IGNORE NULLS) -> 1, f(x RESPECT NULLS) -> 2, else 0; *at: the keyword's offset. */
int sq_null_treatment(const char *sql, int32_t call_loc, int32_t *at);
/* Whether the set operation st (UNION) is DuckDB's UNION [ALL] BY NAME: the original text has
 * BY NAME after the last set operation keyword before its right side (blanked before parsing). */
bool sq_union_by_name(const char *sql, const PgQuery__SelectStmt *st);
/* Whether the original text has `word` starting exactly at loc. */
bool sq_text_is_word_at(const char *sql, int32_t loc, const char *word);
/* DuckDB join kinds the PostgreSQL grammar lacks: pl_sql_preprocess blanks ASOF / SEMI / ANTI
 * before JOIN (ASOF also before LEFT/INNER/RIGHT/FULL [OUTER] JOIN) and turns POSITIONAL JOIN
 * into CROSS JOIN; sq_join_marker reads the keyword back from the original text: the kind of
 * the last JOIN before rarg_loc (the first location inside the join's right item), and the
 * keyword's position in *at (-1 for a plain join). */
typedef enum sq_join_mark { SQ_JOIN_PLAIN = 0, SQ_JOIN_ASOF, SQ_JOIN_SEMI, SQ_JOIN_ANTI, SQ_JOIN_POSITIONAL } sq_join_mark;
sq_join_mark sq_join_marker(const char *sql, int32_t rarg_loc, int32_t *at);

/* ---------------------------------------------------------------- errors */

/* Records the error with sql_pos = pos and returns code. */
/* plan_multi.c: how the files of one read (globs expanded) are combined when their schemas
 * differ. target NULL: they have the same columns (one scan). */
typedef struct sq_multi {
    int32_t n_files;
    pl_schema **schemas; /* each file's, when target is set */
    pl_schema *target;   /* the read's columns */
} sq_multi;
/* Looks at the files' schemas when needed (union_by_name, or a multi-file Parquet/IPC scan
 * that refuses them); errors: a file without a column of the first (without by_name), a
 * column whose types have no common type (PL_ERR_TYPE), the files' own errors. */
pl_status sq_multi_plan(int32_t n_files, const char *const *files, pl_format fmt,
                        const pl_read_opts *opts, bool by_name, sq_multi *m, pl_error *err);
/* The scan of files[first .. first + n) with m's columns (m NULL or without target: one
 * multi-file scan). */
pl_status sq_multi_scan(const sq_multi *m, int32_t first, int32_t n, const char *const *files,
                        pl_format fmt, const pl_read_opts *opts, pl_df **out, pl_error *err);
void sq_multi_reset(sq_multi *m);
/* *acc UNION ALL run in order (run taken; *acc is run when NULL, NULL after a failure). */
pl_status sq_union_append(pl_df **acc, pl_df *run, pl_error *err);
/* Equal names and types (dictionaries as their value types) in the same order. */
bool sq_same_columns(const pl_schema *a, const pl_schema *b);

/* plan_hive.c: the scan of files (resolved paths, globs expanded) under hive key=value
 * directories, with one column per key; hive 1/0 = hive_partitioning true/false, -1 = auto;
 * m: the files' schemas (sq_multi_plan over the same files). *out NULL (and PL_OK) when there
 * are no partitions: the caller scans the files itself. */
pl_status sq_scan_hive(int32_t n_files, const char *const *files, pl_format fmt,
                       const pl_read_opts *opts, int hive, const sq_multi *m, pl_df **out,
                       pl_error *err);
pl_status sq_fail(pl_error *err, pl_status code, int32_t pos, const char *fmt, ...)
    PL_PRINTF(4, 5);
/* Fills err->sql_pos when still unset; returns st. */
pl_status sq_at(pl_error *err, pl_status st, int32_t pos);

/* ---------------------------------------------------------------- relations (plan_rel.c) */

#define SQ_OUTER_BASE (-1000000)

typedef struct sq_rel {
    pl_df *df;        /* owned reference */
    int32_t n_cols;
    bool *hidden;     /* not part of an unqualified '*' */
    bool *constant;   /* uncorrelated scalar subquery results: the same on every row */
    pl_expr **star_expr; /* USING columns: what '*' shows instead (owned), or NULL */
    int32_t n_using;  /* merged USING/NATURAL columns, resolved first for unqualified names */
    char **using_names;
    pl_expr **using_exprs; /* over df */
    /* other names a column answers to when no column has that name (range(3) t: t.range);
     * owned strings */
    int32_t n_alts;
    struct sq_alt {
        char *qual, *name;
        int32_t col;
    } *alts;
} sq_rel;
/* Adds (qual, name) as another name of column col of r. */
pl_status sq_rel_add_alt(sq_rel *r, const char *qual, const char *name, int32_t col,
                         pl_error *err);

pl_status sq_rel_init(sq_rel *r, pl_df *df, pl_error *err); /* takes df */
void sq_rel_reset(sq_rel *r);
/* Replaces r->df by df (taken) whose first r->n_cols columns are r's; new columns get the
 * given hidden/constant flags. */
pl_status sq_rel_extend(sq_rel *r, pl_df *df, bool hidden, bool constant, pl_error *err);
const char *sq_rel_name(const sq_rel *r, int32_t i);
const char *sq_rel_qual(const sq_rel *r, int32_t i);

/* An index reference to column i of r (qualifier and name for printing and finalising). */
pl_expr *sq_colref(const sq_rel *r, int32_t i, int32_t pos);

/* The columns of one or two dfs side by side (join residuals). */
typedef struct sq_cols {
    const pl_df *a, *b;
} sq_cols;
/* A finalised copy of e (new reference): index references become name references where
 * unique. Errors: INTERNAL for leftover outer references. */
pl_status sq_finalize(const pl_expr *e, const pl_df *a, const pl_df *b, pl_expr **out,
                      pl_error *err);
/* Copy of e with index references shifted by delta (only those >= from). */
pl_expr *sq_shift(const pl_expr *e, int32_t from, int32_t delta);

/* Whether any column reference of e satisfies: kind 0 = inner (index >= 0), 1 = outer, 2 = a
 * probe's reference before aggregation (SQ_PRE_BASE). */
bool sq_has_ref(const pl_expr *e, int kind);
/* Smallest and largest inner index referenced (-1/-1 when none). */
void sq_ref_range(const pl_expr *e, int32_t *lo, int32_t *hi);
bool sq_expr_equal(const pl_expr *a, const pl_expr *b);
bool sq_has_kind(const pl_expr *e, pl_expr_kind kind);

/* DataFrame calls that finalise their expressions against the input and set sql_pos. */
pl_status sq_rel_filter(sq_rel *r, const pl_expr *pred, pl_error *err);

/* ---------------------------------------------------------------- context and scopes */

typedef struct sq_cte {
    char *name;
    pl_df *df;
    bool is_volatile; /* inlined plan whose rows differ between evaluations (random()) */
    /* a CTE of a correlated subquery that refers to the outer query (its own plan failed):
     * df is NULL and each reference plans it like a derived table there (plan_from.c) */
    const PgQuery__CommonTableExpr *corr;
    bool busy; /* corr: being planned (its own name then means an outer CTE or table) */
    struct sq_cte *next;
} sq_cte;

/* A correlated subquery found to need flattening (sq_flat) by its first plan: the outer
 * columns it uses, by position and name. Planning it again in the same place (inside an
 * enclosing subquery planned twice itself) goes straight to the flattened plan, so nests of
 * flattened subqueries are planned O(depth^2) times, not 2^depth. */
typedef struct sq_flat_memo {
    const void *node; /* the subquery's SelectStmt */
    uint32_t mode;    /* the caller's planning flags */
    bool agg;
    int32_t n_used;
    int32_t *cols;
    char **names; /* "qualifier.name" of each used column */
    struct sq_flat_memo *next;
} sq_flat_memo;

/* The FROM of a correlated subquery being planned (sq_ctx.from_corr): a derived table there
 * that refers to the outer query (`FROM (SELECT ... WHERE u.k = t.k) s`) is planned over the
 * subquery's distinct outer values D too (`correlated_derived`, plan_from.c), with D's columns
 * first under the names __fc<id>_<j> (hidden); the subquery's flat_begin then matches them
 * with its own D (IS NOT DISTINCT FROM), so each FROM row keeps its outer value. */
typedef struct sq_from_corr {
    struct sq_flat *flat; /* the subquery's (first plan: collects; flattened: applies) */
    int32_t n, cap;
    int32_t *ids;         /* [n]: the correlated derived tables' key name ids */
} sq_from_corr;

typedef struct sq_ctx {
    pl_session *s;
    const char *sql;
    int32_t next_id;
    sq_cte *ctes;
    int32_t depth;
    sq_flat_memo *flat_memo;
    sq_from_corr *from_corr; /* the FROM being planned belongs to a correlated subquery */
} sq_ctx;
/* Frees what planning kept in ctx (sq_flat_memo). */
void sq_ctx_reset(sq_ctx *ctx);
/* The session time zone (SET TimeZone; "UTC" by default). (plan_expr.c) */
const char *sq_session_zone(const sq_ctx *ctx);
/* e (taken) as __session_zone(e, zone): a zoned timestamp result shown and computed in the
 * session zone; anything else unchanged. e itself when no zone was SET, unless always. NULL on
 * NOMEM. */
pl_expr *sq_zone_wrap(const sq_ctx *ctx, pl_expr *e, bool always);
/* A relation's zoned timestamp columns relabelled to the session zone (a projection; the
 * same instants), so every TIMESTAMPTZ shows and computes in it. (plan_from.c) */
pl_status sq_rel_zone(const sq_ctx *ctx, sq_rel *r, pl_error *err);

/* Correlated conjuncts taken out of a subquery's WHERE. */
typedef struct sq_corr {
    int32_t n_keys, cap_keys;
    pl_expr **inner; /* over the subquery's FROM relation */
    pl_expr **outer; /* over the enclosing relation (plain index refs) */
    bool *ne;        /* [n_keys]: key from IS NOT DISTINCT FROM (NULL matches NULL) */
    bool allow_ne;   /* in: IS NOT DISTINCT FROM may become a key (semi/anti joins); else it
                      * is a residual */
    int32_t n_resid, cap_resid;
    pl_expr **resid; /* mixed: inner refs >= 0, outer refs SQ_OUTER_BASE - i */
    int32_t pos;
} sq_corr;
void sq_corr_reset(sq_corr *c);
/* The error for a subquery (`what`: "scalar subqueries", ...) correlated by a condition other
 * than an equality (c->resid non-empty), placed at the first such condition, with the reason
 * and the rewrite that works (a join on the condition). (plan_subquery.c) */
pl_status sq_corr_refuse(const sq_corr *c, const char *what, const char *rewrite, pl_error *err);

/* Flattening a correlated subquery (DuckDB's "dependent join"): the distinct values D of the
 * outer columns it uses are joined with its FROM relation (a cross join that its WHERE, now
 * over D instead of the outer row, turns into a hash join plus residual), every outer
 * reference becomes a reference to D, and D's columns become the correlation keys (matching
 * NULL with NULL). The subquery is then planned per key like one correlated by equalities, so
 * any correlation condition, and outer references anywhere (select list, GROUP BY, ORDER BY),
 * work. A first plan collects the outer columns used (`used`); the flattened plan is asked for
 * with `apply`. */
typedef struct sq_flat {
    int32_t n_outer; /* columns of the outer relation */
    bool *used;      /* [n_outer]: set for every outer column referenced (first plan) */
    bool apply;      /* in: plan flattened (sq_plan_query fills map, cols, n_d) */
    bool agg;        /* in: an aggregate without GROUP BY: one row for every D row, also without
                      * matches (D right-joined, each aggregate filtered to the matched rows) */
    int32_t *map;    /* [n_outer]: the subquery relation's column standing for the outer column */
    int32_t *cols;   /* [n_d]: the outer columns of D, in order */
    int32_t n_d;
    bool grew; /* out: the flattened plan met an outer column the first plan had not seen (a
                * part of the query after one that failed early): recorded in used, and the
                * caller plans it again */
} sq_flat;
/* A sq_flat for an outer relation of n_outer columns (used all false). */
pl_status sq_flat_init(sq_flat *f, int32_t n_outer, pl_error *err);
void sq_flat_reset(sq_flat *f);
/* Whether the first plan referenced an outer column. */
bool sq_flat_any(const sq_flat *f);

enum {
    SQ_ALLOW_AGG = 1u << 0,
    SQ_ALLOW_WINDOW = 1u << 1,
    SQ_ALLOW_SUBQUERY = 1u << 2, /* subquery expressions may join onto the relation */
};

typedef struct sq_alias {
    const char *name;
    const PgQuery__Node *node;
    bool busy;
} sq_alias;

/* A grouped query's scope after its aggregation (sq_scope.post): subqueries of its select list,
 * HAVING, QUALIFY and ORDER BY are planned over the aggregated relation, like DuckDB binds them.
 * An outer reference from such a subquery resolves in the relation before aggregation (`pre`)
 * and must be a GROUP BY key (keys[k] is the aggregated relation's column k); an aggregate of
 * outer columns only (`max(t.x)` inside the subquery) is the outer query's aggregate aggs[j]
 * (column n_keys + j). One not computed yet goes into `missing` and planning fails: the query
 * is planned again with it added to its aggregates. */
typedef struct sq_post {
    const sq_rel *pre;
    pl_expr *const *keys;
    int32_t n_keys;
    pl_expr *const *aggs;
    int32_t n_aggs;
    int32_t n_missing, cap_missing;
    pl_expr **missing; /* over pre (owned) */
} sq_post;
void sq_post_reset(sq_post *p);

/* Subqueries of a grouped query's select list, HAVING, QUALIFY and ORDER BY (outside aggregate
 * arguments) met while translating: each becomes a placeholder call SQ_DEFER_FN(i[, x]) (x: the
 * translated left side of IN / ANY / ALL) and is planned once the query is aggregated. */
#define SQ_DEFER_FN "__sq_defer"
typedef struct sq_defer {
    int32_t n, cap;
    const PgQuery__SubLink **v;
} sq_defer;

/* Outer references while probing whether an aggregate in a subquery belongs to the grouped
 * outer query (sq_scope.agg_probe): SQ_PRE_BASE - i for column i of sq_post.pre. They never
 * leave the probe. */
#define SQ_PRE_BASE (-500000)

typedef struct sq_scope {
    sq_ctx *ctx;
    sq_rel *rel;
    struct sq_scope *outer;
    uint32_t allow;
    const char *clause; /* "WHERE", "GROUP BY", ... for messages */
    const PgQuery__SelectStmt *sel; /* named windows */
    sq_alias *aliases; /* select-list aliases usable in WHERE/GROUP BY/HAVING */
    int32_t n_aliases;
    bool outer_used;
    bool unbound; /* pl_sql_parse_expr: names that resolve nowhere become name references */
    int32_t columns_pick; /* expanding COLUMNS(...) (select item, condition, ORDER BY item): rel column + 1, 0 = none */
    sq_flat *flat; /* a correlated subquery's own scope: outer references collected or remapped */
    sq_post *post;   /* a grouped query after aggregation: how its subqueries see it */
    sq_defer *defer; /* a grouped query: subqueries deferred until after aggregation */
    bool agg_probe;  /* translating an aggregate's arguments to find its query level */
    struct sq_lambda *lambdas; /* parameters of the lambdas whose bodies are being planned */
} sq_scope;

/* A lambda's parameters (x, or (acc, x, i)): references become __lambda_param(id, slot). */
typedef struct sq_lambda {
    const char *names[3];
    int32_t n;
    int64_t id; /* nesting depth: distinct among enclosing lambdas */
    struct sq_lambda *up;
} sq_lambda;

/* ---------------------------------------------------------------- expressions (plan_expr.c) */

pl_status sq_expr(sq_scope *sc, const PgQuery__Node *n, pl_expr **out, pl_error *err);
/* sq_expr for a condition (WHERE, an aggregate's FILTER): a COLUMNS(...) in n (outside
 * subqueries and nested FILTERs) makes it the AND of n translated once per selected column of
 * sc->rel, like DuckDB. (plan_select.c) */
pl_status sq_expr_columns_and(sq_scope *sc, const PgQuery__Node *n, pl_expr **out, pl_error *err);
/* grouping(...) / grouping_id(...) become calls of this name (never reach the DataFrame layer:
 * the aggregation replaces them by the grouping set's bit mask of the arguments). */
#define SQ_GROUPING_FN "__grouping"
/* unnest(list) of the select list becomes a call of this name (never reaches the DataFrame
 * layer: the SELECT planner adds an UNNEST node and replaces it by the element column). */
#define SQ_UNNEST_FN "__unnest"
/* DuckDB's INTERVAL (expr) unit: rewritten before parsing (same length) into a call of this
 * name, __iv(expr, unit), the unit a bare word (plan_pre.c); planned as to_<unit>s(...) of the
 * value cast to DOUBLE and truncated (plan_expr.c, interval_of). */
#define SQ_INTERVAL_FN "__iv"
/* Resolves a column name (qualifier may be NULL) in the scope chain. */
pl_status sq_resolve(sq_scope *sc, const char *qual, const char *name, int32_t pos,
                     pl_expr **out, pl_error *err);
/* Column index in r by qualifier/name, -1 none, -2 ambiguous. */
int32_t sq_rel_find(const sq_rel *r, const char *qual, const char *name);
/* DuckDB-like default output name of a select expression (caller frees with pl_free). */
char *sq_expr_name(const char *sql, const PgQuery__Node *n);
/* Whether the type word at byte pos of sql is a 32-bit FLOAT (FLOAT, FLOAT(1..24)), which the
 * PostgreSQL grammar reads as float8 (plan_type.c). */
bool sq_written_float32(const char *sql, int32_t pos);
/* protobuf-c gives "" for unset strings: s, or NULL when empty. */
static inline const char *sq_nz(const char *s) { return s && s[0] ? s : NULL; }
/* The sval of a String node, or NULL. */
const char *sq_str(const PgQuery__Node *n);
int32_t sq_node_pos(const PgQuery__Node *n);
/* Splits an AND tree into conjuncts (borrowed node pointers). */
pl_status sq_conjuncts(const PgQuery__Node *n, const PgQuery__Node ***out, int32_t *n_out,
                       pl_error *err);
/* ORDER BY item to a sort key direction. */
void sq_sortby_dir(const PgQuery__SortBy *sb, bool *desc, bool *nulls_first);
/* Builds a WINDOW expression for fc with OVER def. */
pl_status sq_int_const(const PgQuery__Node *n, bool *is_int, int64_t *v);

/* ---------------------------------------------------------------- types (plan_type.c) */

/* A literal from an A_Const (NULL, int, float, string, bool). */
pl_status sq_const(const PgQuery__AConst *c, pl_expr **out, pl_error *err);
/* '...'::type and TYPE '...' with a string literal: a literal of that type (intervals parsed
 * here), or NULL in *out when it should stay a CAST. */
pl_status sq_typed_literal(const char *text, const PgQuery__TypeName *tn, int32_t pos,
                           pl_expr **out, pl_error *err);
/* Parses interval text ("1 hour", "2 days 03:00:00", "1" with unit mask). */
pl_status sq_parse_interval(const char *text, int32_t range_mask, pl_interval *out);
/* Lower-case type name of tn without pg_catalog, for checks ("interval"). */
const char *sq_type_base(const PgQuery__TypeName *tn);

/* ---------------------------------------------------------------- subqueries */

typedef struct sq_select_opts {
    sq_scope *outer; /* enclosing scope (correlated references), or NULL */
    sq_corr *corr;   /* receives correlated conjuncts (with outer) */
    bool exists_mode; /* stop after FROM/WHERE: *out is that relation */
    bool empty_input; /* plan over no rows (WHERE false), correlation keys neither grouped nor
                       * projected: the value of an aggregate subquery when nothing matches */
    bool scalar_agg;  /* out: a SELECT with aggregates and no GROUP BY (one row per outer row) */
    bool keep_from;   /* also project every column of the FROM/WHERE relation (hidden, last),
                       * when the query maps its rows one to one (see rows_only) */
    bool rows_only;   /* out: a plain SELECT of FROM/WHERE rows (no aggregate, window,
                       * DISTINCT, QUALIFY, LIMIT/OFFSET, set operation) */
    int32_t n_from_cols; /* out with keep_from: how many such columns */
    sq_flat *flat;       /* with outer: collect the outer columns used, or plan flattened */
} sq_select_opts;

/* Plans st (flattened: o->flat->apply) again while it fails having met new outer columns (o->flat->grew). */
pl_status sq_plan_flat(sq_ctx *ctx, const PgQuery__SelectStmt *st, sq_select_opts *o, pl_df **out,
                       pl_error *err);

/* A correlated residual (inner refs into the subquery's FROM relation, outer refs
 * SQ_OUTER_BASE - i) as a join condition over (outer relation, subquery result): outer refs
 * become indices i, inner refs move by shift (the outer width plus the columns before the
 * subquery's FROM columns). */
pl_expr *sq_resid_for_join(const pl_expr *e, int32_t shift);

/* The "count bug" of decorrelation: a correlated aggregate subquery without GROUP BY has one
 * row per outer row even when no inner row matches, but grouped by the correlation keys it has
 * none for such keys. Completes *sub ([__ck..., values...], from sq_plan_query with corr) to one
 * row per distinct key value of outer_df (keys corr->outer over outer_df): groups with a NULL
 * key are dropped (they never match) and every missing key, NULL included, gets the subquery's
 * values over no rows (planned again with empty_input). Join the result on the keys with
 * null_equal so that NULL outer keys find their row. */
pl_status sq_complete_scalar_agg(sq_scope *outer_sc, const PgQuery__SelectStmt *st,
                                 const sq_corr *corr, pl_df *outer_df, pl_df **sub, int32_t pos,
                                 pl_error *err);

/* Plans a query node (SelectStmt with set operations, VALUES, WITH). */
pl_status sq_plan_query(sq_ctx *ctx, const PgQuery__SelectStmt *st, sq_select_opts *o,
                        pl_df **out, pl_error *err);
/* WITH RECURSIVE (plan_recursive.c). Whether the tree under m names the table `name` (a
 * RangeVar without schema); *pos: that reference's location. */
bool sq_refers_to(const ProtobufCMessage *m, const char *name, int32_t *pos);
/* How many table references (RangeVars without schema) under m name `name`; the subtree `skip`
 * (may be NULL) is not looked at. (plan_recursive.c) */
int32_t sq_count_refs(const ProtobufCMessage *m, const ProtobufCMessage *skip, const char *name);
/* Whether the tree under m calls a volatile scalar function (random(), now(), ...), whose value
 * differs between evaluations. (plan_expr.c) */
bool sq_calls_volatile(const ProtobufCMessage *m);
/* Evaluates the recursive CTE (non-recursive term UNION [ALL] recursive term) to its fixpoint
 * now; *out reads the materialised rows. */
pl_status sq_plan_recursive_cte(sq_ctx *ctx, const PgQuery__CommonTableExpr *cte, pl_df **out,
                                pl_error *err);
/* FROM list into a relation (plan_from.c). */
pl_status sq_plan_from(sq_ctx *ctx, sq_scope *outer, PgQuery__Node **items, size_t n_items,
                       sq_rel *out, int32_t *n_item_cols, pl_error *err);
pl_status sq_plan_from_item(sq_ctx *ctx, sq_scope *outer, const PgQuery__Node *item,
                            sq_rel *left, sq_rel *out, pl_error *err);
/* Joins r with right (taken) on keys, appending right's columns. key_ne ([n_keys], may be
 * NULL): per key, whether NULL matches NULL (else null_equal for all). */
pl_status sq_join_append(sq_rel *r, pl_df *right, pl_join_type type, int32_t n_keys,
                         pl_expr *const *lkeys, pl_expr *const *rkeys, const pl_expr *resid,
                         bool null_equal, const bool *key_ne, int32_t pos, pl_error *err);
/* A one-row, one-column (hidden) table to select constants from. */
pl_status sq_dual(pl_df **out, pl_error *err);

/* Subquery expressions (plan_subquery.c): joins onto sc->rel and returns the expression. */
pl_status sq_sublink(sq_scope *sc, const PgQuery__SubLink *sl, pl_expr **out, pl_error *err);
/* sq_sublink for a deferred subquery (sq_defer): x (taken, may be NULL) is the translated left
 * side of IN / ANY / ALL. */
pl_status sq_sublink_now(sq_scope *sc, const PgQuery__SubLink *sl, pl_expr *x, pl_expr **out,
                         pl_error *err);
/* Whether the tree under m calls an aggregate function outside OVER (...) and outside
 * subqueries: the query it belongs to is grouped. (plan_expr.c) */
bool sq_calls_agg(const ProtobufCMessage *m);
/* Whether st is, by its text, an aggregate without GROUP BY (one row): a plain SELECT with
 * aggregates or HAVING and no GROUP BY. (plan_select.c) */
bool sq_select_scalar_agg(const PgQuery__SelectStmt *st);
/* WHERE conjunct forms planned as semi/anti joins: returns true in *done when handled. */
pl_status sq_where_sublink(sq_scope *sc, const PgQuery__Node *conj, bool *done, pl_error *err);

/* Test hook: a catalog used when the session is NULL (tests). */
typedef pl_df *(*sq_lookup_fn)(void *user, const char *name);
void pl_sql_set_test_catalog(sq_lookup_fn fn, void *user);
pl_df *sq_lookup_table(sq_ctx *ctx, const char *name);

#endif
