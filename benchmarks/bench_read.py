"""Benchmark (issue #2): reading + validating a big register vs. the floor.

    python benchmarks/bench_read.py [REGISTER.xlsx]

The floor is ``pandas.read_excel(..., engine="calamine")`` of every sheet of the same
file; validation should add at most 50% to it.  Without an argument a register of
50,000 customers with 500,000 follow-ups and 500,000 orders is generated first
(benchmarks/make_register.py), which takes about a minute.
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.config import Config  # noqa: E402
from pipeline.demo.shop import write_register  # noqa: E402
from pipeline.read.validate import used_sheets, validate  # noqa: E402
from pipeline.read.workbook import read_workbook  # noqa: E402


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<44}{seconds:8.2f} s")
    return result, seconds


def main() -> None:
    if len(sys.argv) > 1:
        path = Path(sys.argv[1])
    else:
        path = Path(tempfile.mkdtemp()) / "big.xlsx"
        timed("generate 50,000 / 500,000 / 500,000", lambda: write_register(
            path, customers=50_000, followups=500_000, orders=500_000, as_of=date(2026, 11, 23), mistakes=True))
    _, floor = timed("floor: pandas.read_excel(engine=calamine)",
                     lambda: pd.read_excel(path, sheet_name=None, engine="calamine"))
    sheets, read = timed("read_workbook (calamine, the used sheets)", lambda: read_workbook(path, wanted=used_sheets(Config())))
    (register, problems), check = timed("validate", lambda: validate(sheets, Config(), date(2026, 11, 23)))
    total = read + check
    print(f"{'read + validate':<44}{total:8.2f} s  = {total / floor:.2f} x floor "
          f"(validation adds {100 * (total - floor) / floor:+.0f}% to the floor)")
    print(f"rows: {len(register.customers):,} customers, {len(register.followups):,} follow-ups, "
          f"{len(register.orders):,} orders; {len(problems):,} problems")


if __name__ == "__main__":
    main()
