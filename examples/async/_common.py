"""Shared argument parsing of the asyncio examples (run them against `make run`'s server, or any
`polaroid serve` whose data root has tick files: columns symbol, price, size)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # the checkout's package

SAMPLE_FILES = [f"ticks/ticks-{i:04d}.parquet" for i in range(5)]  # make run's data/sample


def parser(doc: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    ap.add_argument("--server", default=os.environ.get("POLAROID_SERVER", "localhost:50051"),
                    help="polaroid serve address (default $POLAROID_SERVER or localhost:50051)")
    ap.add_argument("--files", nargs="*", default=SAMPLE_FILES,
                    help="tick files under the server's data root (default: make run's sample)")
    ap.add_argument("--quick", action="store_true", help="a short run (the tests use it)")
    return ap
