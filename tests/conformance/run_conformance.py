#!/usr/bin/env python3
"""Parquet conformance: every file of the parquet-testing collection against its expected content.

For each .parquet file under <parquet-testing>/{data,bad_data} (sidecars under expected/):
  * expected/<path>.csv   -> `polaroid cat FILE --format csv` must print exactly those cells
                             (NULL = empty unquoted field, "" = empty string; see INDEX.md);
  * expected/<path>.jsonl -> `polaroid cat FILE --format json` must print the same JSON objects;
  * expected/<path>.error.txt (DuckDB refuses the file) -> polaroid must either refuse it cleanly
    (exit 1 with a message, no crash or sanitizer report), or read it; when it reads it, the file
    is checked against pyarrow instead: `polaroid convert FILE out.parquet` and pyarrow must read
    the same table from both.
Files polaroid refuses on purpose are listed in expected_failures.txt with the reason; a listed
file that starts passing is reported so the list stays true. Encrypted files must be refused with
a message that says so.

shredded_variant/ (a sibling of data/; skip it with --no-variant) runs the same way against
DuckDB's .jsonl. Where DuckDB refuses a case, its cases.json decides: a spec error case must be
refused; a spec-valid case may be refused (DuckDB refuses it too) or read. A read is compared with
the DuckDB output of a "twin" case whose cases.json value is the same Variant (e.g. case-041, an
array without its value column, against case-001); without a twin it counts as "read, unverified".

Prints one line per failure (the first differing row/column) and a summary
`conformance: N passed, N failed, N refused as documented`. Files run in parallel (--jobs, default
2), each with a 60 s timeout. Exit status 1 on any unexpected failure, crash (signal or sanitizer
report) or timeout.
"""
import argparse
import concurrent.futures as cf
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TIMEOUT = 60
CRASH_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer", "Segmentation fault", "Assertion")


def parse_csv(text):
    """RFC 4180 rows; an unquoted empty field is None (NULL), a quoted one is ''."""
    rows, row, i, n = [], [], 0, len(text)
    field, quoted, at_start = [], False, True
    while i < n:
        c = text[i]
        if at_start and c == '"':
            quoted, at_start = True, False
            i += 1
            while i < n:
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        field.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                field.append(text[i])
                i += 1
            continue
        if c == ',':
            row.append("".join(field) if (field or quoted) else None)
            field, quoted, at_start = [], False, True
            i += 1
        elif c == '\n' or c == '\r':
            row.append("".join(field) if (field or quoted) else None)
            rows.append(row)
            row, field, quoted, at_start = [], [], False, True
            i += 2 if (c == '\r' and i + 1 < n and text[i + 1] == '\n') else 1
        else:
            field.append(c)
            at_start = False
            i += 1
    if field or quoted or row:
        row.append("".join(field) if (field or quoted) else None)
        rows.append(row)
    return rows


def load_expected_failures():
    out = {}
    path = os.path.join(HERE, "expected_failures.txt")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            out[name] = reason.strip()
    return out


def sidecar(root, rel):
    base = os.path.join(root, "expected", rel)
    if base.endswith(".parquet.encrypted"):
        stem = base[: -len(".parquet.encrypted")] + ".encrypted"
    elif base.endswith(".parquet"):
        stem = base[: -len(".parquet")]
    else:
        stem = base
    for ext, kind in ((".csv", "csv"), (".jsonl", "jsonl"), (".error.txt", "error")):
        if os.path.exists(stem + ext):
            return kind, stem + ext
    return None, None


def run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, b"", b"timeout"
    return p.returncode, p.stdout, p.stderr


def crashed(rc, err):
    text = err.decode("utf-8", "replace")
    return rc is None or rc < 0 or rc > 2 or any(m in text for m in CRASH_MARKERS)


def crash_status(rc, err):
    if rc is None:
        return "timeout", f"no result after {TIMEOUT} s"
    why = f"killed by signal {-rc}: " if rc < 0 else f"exit {rc}: "
    return "crash", why + err.decode("utf-8", "replace")[-600:]


def clean_refusal(rel, rc, err):
    """exit 1 and one `polaroid: ...` message (encrypted files: saying so)."""
    msg = err.decode("utf-8", "replace").strip()
    if rc != 1:
        return "fail", f"exit {rc} (expected 1): {msg[:200]}"
    if not msg.startswith("polaroid: "):
        return "fail", "exit 1 without a polaroid: message" + (f" ({msg[:200]})" if msg else "")
    if ".encrypted" in rel and "encrypt" not in msg:
        return "fail", "encrypted file refused without saying so: " + msg[:200]
    return "refused", msg


def first_diff_csv(got, want):
    if len(got) != len(want):
        return f"{len(got) - 1} rows, expected {len(want) - 1}"
    for r, (g, w) in enumerate(zip(got, want)):
        if g != w:
            for c in range(max(len(g), len(w))):
                gv = g[c] if c < len(g) else "<missing>"
                wv = w[c] if c < len(w) else "<missing>"
                if gv != wv:
                    col = want[0][c] if c < len(want[0]) else c
                    return f"row {r - 1 if r else 'header'}, column {col}: got {gv!r}, expected {wv!r}"
    return "differs"


def check_against_pyarrow(polaroid, path):
    """Reads `path` with polaroid (rewriting it as Parquet) and with pyarrow; compares tables."""
    import pyarrow.parquet as pq
    try:
        want = pq.read_table(path)
    except Exception as e:  # pyarrow refuses too: nothing to compare with
        return None, f"pyarrow also refuses it ({str(e)[:80]})"
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.parquet")
        rc, _, err = run([polaroid, "convert", path, out])
        if rc != 0:
            return False, "convert failed: " + err.decode("utf-8", "replace").strip()[:200]
        got = pq.read_table(out)
    if got.num_rows != want.num_rows or got.column_names != want.column_names:
        return False, f"pyarrow reads {want.num_rows} rows {want.column_names}, polaroid {got.num_rows} {got.column_names}"
    for name in want.column_names:
        a, b = got.column(name).to_pylist(), want.column(name).to_pylist()
        if a != b and repr(a) != repr(b):
            for i, (x, y) in enumerate(zip(a, b)):
                if x != y and repr(x) != repr(y):
                    return False, f"column {name} row {i}: polaroid {x!r}, pyarrow {y!r}"
    return True, "matches pyarrow"


_VARIANT_CASES = {}


def variant_case(root, rel):
    """The cases.json entry of a shredded_variant/ file (None if unknown)."""
    if not _VARIANT_CASES:
        try:
            with open(os.path.join(root, "shredded_variant", "cases.json"), encoding="utf-8") as f:
                for c in json.load(f):
                    if c.get("parquet_file"):
                        _VARIANT_CASES["shredded_variant/" + c["parquet_file"]] = c
        except (OSError, ValueError):
            _VARIANT_CASES["?"] = None
    return _VARIANT_CASES.get(rel)


def variant_twin(root, rel):
    """(name, expected .jsonl) of another shredded_variant case with the same spec value that
    DuckDB reads, or None."""
    want = (variant_case(root, rel) or {}).get("variant")
    if not want:
        return None
    for other, c in sorted(_VARIANT_CASES.items()):
        if other == rel or not c or c.get("variant") != want:
            continue
        kind, exp = sidecar(root, other)
        if kind == "jsonl":
            return other, exp
    return None


def compare_jsonl(text, want_text):
    """(ok, first difference) of two JSON-lines texts compared as parsed objects."""
    got_lines = [l for l in text.splitlines() if l.strip()]
    want_lines = [l for l in want_text.splitlines() if l.strip()]
    if len(got_lines) != len(want_lines):
        return False, f"{len(got_lines)} rows, expected {len(want_lines)}"
    for i, (g, w) in enumerate(zip(got_lines, want_lines)):
        try:
            gj = json.loads(g)
        except ValueError as e:
            return False, f"row {i}: invalid JSON from polaroid ({e}): {g[:200]}"
        wj = json.loads(w)
        if gj != wj:
            if isinstance(gj, dict) and isinstance(wj, dict):
                for k in wj:
                    if gj.get(k, "<missing>") != wj[k]:
                        return False, f"row {i}, column {k}: got {json.dumps(gj.get(k, '<missing>'))[:200]}, expected {json.dumps(wj[k])[:200]}"
            return False, f"row {i}: got {g[:300]}, expected {w[:300]}"
    return True, ""


def check(polaroid, root, rel):
    path = os.path.join(root, rel)
    kind, exp = sidecar(root, rel)
    if kind is None:
        return "skip", "no expected sidecar"
    if kind == "error":
        rc, out, err = run([polaroid, "cat", path, "--format", "json" if rel.startswith("shredded_variant/") else "csv"])
        if crashed(rc, err):
            return crash_status(rc, err)
        if rc != 0:
            return clean_refusal(rel, rc, err)
        if rel.startswith("shredded_variant/"):
            case = variant_case(root, rel) or {}
            if "error_message" in case:
                return "fail", f"read a file the Variant spec calls invalid ({case['error_message']})"
            twin = variant_twin(root, rel)
            if twin is None:
                return "unverified", "(DuckDB refuses) read; the spec value is " + case.get("variant", "?")[:160]
            ok, why = compare_jsonl(out.decode("utf-8", "replace"), open(twin[1], encoding="utf-8").read())
            return ("pass" if ok else "fail"), f"(DuckDB refuses; compared with twin {twin[0]}) {why}"
        ok, why = check_against_pyarrow(polaroid, path)
        if ok is None:
            return "fail", "polaroid reads a file DuckDB and pyarrow refuse: " + why
        return ("pass" if ok else "fail"), "(DuckDB refuses) " + why
    fmt = "csv" if kind == "csv" else "json"
    rc, out, err = run([polaroid, "cat", path, "--format", fmt])
    if crashed(rc, err):
        return crash_status(rc, err)
    if rc != 0:
        return clean_refusal(rel, rc, err)
    text = out.decode("utf-8", "replace")
    want_text = open(exp, encoding="utf-8").read()
    if kind == "csv":
        got, want = parse_csv(text), parse_csv(want_text)
        if got == want:
            return "pass", ""
        return "fail", first_diff_csv(got, want)
    ok, why = compare_jsonl(text, want_text)
    return ("pass", "") if ok else ("fail", why)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--polaroid", default=os.path.join(REPO, "build", "polaroid"))
    ap.add_argument("--root", default=os.environ.get("PARQUET_TESTING", os.path.join(REPO, "..", "shared", "parquet-testing")))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--no-variant", action="store_true", help="skip shredded_variant/")
    ap.add_argument("filter", nargs="*", help="only files whose path contains one of these")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        print(f"conformance: parquet-testing not found at {root}", file=sys.stderr)
        return 1
    files = []
    for sub in ("data", "bad_data") + (() if args.no_variant else ("shredded_variant",)):
        for dirpath, _, names in os.walk(os.path.join(root, sub)):
            for n in sorted(names):
                if n.endswith(".parquet") or n.endswith(".parquet.encrypted"):
                    rel = os.path.relpath(os.path.join(dirpath, n), root)
                    if not args.filter or any(f in rel for f in args.filter):
                        files.append(rel)
    files.sort()
    documented = load_expected_failures()
    variant_case(root, "")  # load cases.json once, before the worker threads read it
    counts = {"pass": 0, "fail": 0, "crash": 0, "timeout": 0, "refused_doc": 0, "refused_bad": 0, "skip": 0,
              "unverified": 0}
    bad = []
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        results = list(ex.map(lambda r: (r, check(args.polaroid, root, r)), files))
    for rel, (status, detail) in results:
        doc = documented.get(rel)
        if status == "pass":
            counts["pass"] += 1
            if doc is not None:
                print(f"NOW PASSES (remove from expected_failures.txt): {rel}")
            if args.verbose:
                print(f"pass     {rel} {detail}")
        elif status == "refused":
            _, kind_path = sidecar(root, rel)
            if (kind_path or "").endswith(".error.txt") or doc is not None:
                counts["refused_doc"] += 1
                if args.verbose:
                    print(f"refused  {rel}: {detail.splitlines()[0] if detail else ''}")
            else:
                counts["refused_bad"] += 1
                bad.append(f"REFUSED  {rel}: {detail.splitlines()[-1] if detail else ''}")
        elif status == "skip":
            counts["skip"] += 1
        elif status == "unverified":
            counts["unverified"] += 1
            if args.verbose:
                print(f"unverif. {rel} {detail}")
        elif status in ("crash", "timeout"):
            counts[status] += 1
            bad.append(f"{status.upper():8} {rel}: {detail}")
        else:
            if doc is not None:
                counts["refused_doc"] += 1
                if args.verbose:
                    print(f"doc-fail {rel}: {detail}")
            else:
                counts["fail"] += 1
                bad.append(f"FAIL     {rel}: {detail}")
    for line in bad:
        print(line if len(line) <= 400 else line[:400] + " ...")
    failed = counts["fail"] + counts["crash"] + counts["timeout"] + counts["refused_bad"]
    print(f"conformance: {counts['pass']} passed, {failed} failed, {counts['refused_doc']} refused as documented"
          + (f", {counts['crash']} crashed" if counts["crash"] else "")
          + (f", {counts['timeout']} timed out" if counts["timeout"] else "")
          + (f", {counts['unverified']} read, unverified" if counts["unverified"] else "")
          + (f", {counts['skip']} without expected output" if counts["skip"] else "")
          + f" (of {len(files)} files)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
