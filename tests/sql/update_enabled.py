#!/usr/bin/env python3
"""Rewrites tests/sql/enabled.txt with the tests of tests/sql that pass now (run by `make test`
through `make sqltest`), and prints the ones that fail with the first line of their error.

  POLAROID=build-asan/polaroid .venv/bin/python tests/sql/update_enabled.py
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    env = dict(os.environ)
    env.pop("SQLTEST_ENABLED_ONLY", None)
    env.setdefault("POLAROID", "build-asan/polaroid")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                        "tests/sql"], cwd=ROOT, capture_output=True, text=True, env=env)
    passed, failed = [], []
    for line in r.stdout.splitlines():
        m = re.match(r"(PASSED|FAILED|ERROR) tests/sql/[^:]+::(.+?)(?: - (.*))?$", line)
        if m:
            (passed if m.group(1) == "PASSED" else failed).append((m.group(2), m.group(3) or ""))
    if not passed and not failed:
        sys.stdout.write(r.stdout[-3000:] + r.stderr[-3000:])
        return 1
    with open(os.path.join(HERE, "enabled.txt"), "w") as fh:
        fh.write("# Tests of tests/sql run by `make test` (SQLTEST_ENABLED_ONLY=1): those polaroid "
                 "passes,\n# written by tests/sql/update_enabled.py. `make sqltest-all` runs "
                 "every test; the others\n# are open acceptance tests (see tests/sql/README.md).\n")
        for name, _ in sorted(passed):
            fh.write(name + "\n")
    print(f"update_enabled: {len(passed)} passed (enabled), {len(failed)} failing:")
    for name, why in failed:
        print(f"  {name}: {why[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
