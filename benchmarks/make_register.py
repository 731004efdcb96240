"""Make a big register for benchmarking the nightly run.

    python benchmarks/make_register.py OUT.xlsx --customers 50000 --rows 500000 \
        --as-of 2026-11-23 --seed 1 [--mistakes] [--formulas]

``--rows`` is the number of follow-ups and of orders each (``--followups`` /
``--orders`` set them apart).  Prints how long generating and writing took.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.demo.shop import write_register  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the .xlsx file to write")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=500_000, help="follow-ups and orders, each")
    parser.add_argument("--followups", type=int, help="follow-up rows (default: --rows)")
    parser.add_argument("--orders", type=int, help="order rows (default: --rows)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today(), help="YYYY-MM-DD")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mistakes", action="store_true", help="sprinkle data mistakes and blank rows")
    parser.add_argument("--formulas", action="store_true", help="add the 未收金额 formula column to 销售")
    args = parser.parse_args(argv)
    followups = args.rows if args.followups is None else args.followups
    orders = args.rows if args.orders is None else args.orders
    started, cpu = time.perf_counter(), time.process_time()
    write_register(args.out, customers=args.customers, followups=followups, orders=orders,
                   as_of=args.as_of, seed=args.seed, mistakes=args.mistakes, formulas=args.formulas)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = args.out.stat().st_size / 1e6
    print(f"{args.out}: {args.customers:,} customers, {followups:,} follow-ups, {orders:,} orders "
          f"as of {args.as_of} in {wall:.1f} s ({cpu:.1f} s CPU), {size:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
