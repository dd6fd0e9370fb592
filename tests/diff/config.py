"""Configuration of the differential tests (tests/diff/README.md).

UNSUPPORTED: query features polaroid cannot run yet, with the reason. A generated query using any
of them is skipped and counted as "skipped (unsupported)"; `run_diff.py --all` runs them anyway
and reports which now pass, so that entries can be removed as the engine grows. Feature names are
the ones gen_queries.py records (select, where, group_by, join_inner, window:rank, fn:upper, ...).
"""

UNSUPPORTED = {
    # feature: reason, or (feature, feature, ...): reason for queries using all of them
}


def unsupported_of(features):
    """The UNSUPPORTED entries a query with these features hits (sorted, as strings)."""
    hit = []
    for key in UNSUPPORTED:
        if isinstance(key, tuple):
            if all(k in features for k in key):
                hit.append("+".join(key))
        elif key in features:
            hit.append(key)
    return sorted(hit)

# Doubles compare to |a - b| <= ATOL + RTOL * max(|a|, |b|) (summation order differs).
RTOL = 1e-9
ATOL = 1e-6

QUERIES_PER_SEED = 200
FIXED_SEED = 1
TIMEOUT_S = 60
