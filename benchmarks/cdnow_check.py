"""Does the churn flag predict who stops buying?  Checked on the public CDNOW history.

Issue #6: the CDNOW sample (2,357 customers who first bought in Q1 1997) is loaded as a
register, orders up to 1997-09-30 only (the 39-week calibration period), and run through
the whole pipeline with ``--date 1997-09-30 --dry-run``.  The report's 客户 sheet then
says who is 流失风险 高/中/低; the next 39 weeks (1997-10-01 .. 1998-06-30) say who
really bought again.  Among repeat buyers (orders on 2+ days in the calibration
period), those flagged 高 should re-buy at a clearly lower rate than the rest.

    python benchmarks/cdnow_check.py [--data PATH] [--keep DIR]

The register: 客户 (客户编号 = the CDNOW customer id as text, 业务员 spread over 4
reps, 建档日期 = first purchase, 需求 empty), 销售 (one row per CDNOW transaction in
the calibration period), 业务员 (4 reps and a 主管).  No 跟进记录 sheet.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import xlsxwriter

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA = PROJECT_DIR.parent / "shared" / "data" / "cdnow_sample.txt"
AS_OF = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)             # 39 weeks after AS_OF
REPS = ["王强", "李娜", "张伟", "刘洋"]
BOSS = "陈总"
RISK_HEADER, ALIVE_HEADER, ID_HEADER = "流失风险", "仍在合作概率", "客户编号"
CONFIG = "[register]\ncreate_demo_if_missing = false\n"


def load_cdnow(path: Path = DATA) -> pd.DataFrame:
    """Transactions: customer_id (text, leading zeros kept), date, quantity, amount."""
    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype=str,
                      names=["customer_id", "sample_id", "date", "quantity", "amount"])
    return pd.DataFrame({
        "customer_id": raw["customer_id"].astype(object),
        "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
        "quantity": raw["quantity"].astype(int),
        "amount": raw["amount"].astype(float),
    })


def write_register(transactions: pd.DataFrame, path: Path, as_of: date = AS_OF) -> Path:
    """The CDNOW history as a shop's register, with the orders up to ``as_of``."""
    first = transactions.groupby("customer_id")["date"].min().sort_index()
    known = transactions[transactions["date"] <= pd.Timestamp(as_of)].sort_values(["date", "customer_id"])
    with xlsxwriter.Workbook(str(path)) as book:
        book.set_properties({"created": datetime(1997, 10, 1)})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        customers = book.add_worksheet("客户")
        customers.write_row(0, 0, ["客户编号", "客户名称", "业务员", "需求", "建档日期"])
        for r, (cid, created) in enumerate(first.items(), start=1):
            customers.write_string(r, 0, cid)
            customers.write_string(r, 1, f"CDNOW客户{cid}")
            customers.write_string(r, 2, REPS[(r - 1) % len(REPS)])
            customers.write_datetime(r, 4, created.to_pydatetime(), day)
        orders = book.add_worksheet("销售")
        orders.write_row(0, 0, ["日期", "客户编号", "单号", "金额"])
        for r, row in enumerate(known.itertuples(index=False), start=1):
            orders.write_datetime(r, 0, row.date.to_pydatetime(), day)
            orders.write_string(r, 1, row.customer_id)
            orders.write_string(r, 2, f"CD{r:05d}")
            orders.write_number(r, 3, row.amount)
        reps = book.add_worksheet("业务员")
        reps.write_row(0, 0, ["姓名", "邮箱", "角色", "在职"])
        for r, name in enumerate(REPS, start=1):
            reps.write_row(r, 0, [name, f"rep{r}@example.com", "业务员", "是"])
        reps.write_row(len(REPS) + 1, 0, [BOSS, "boss@example.com", "主管", "是"])
    return path


def run_pipeline(register: Path, work: Path, as_of: date = AS_OF) -> Path:
    """``python run.py --dry-run`` in-process; returns the day's output folder."""
    from pipeline.cli import main
    config = work / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    output = work / "out"
    status = main(["--config", str(config), "--register", str(register), "--output", str(output),
                   "--date", as_of.isoformat(), "--dry-run"], environ={})
    if status != 0:
        raise RuntimeError(f"run.py exited with {status}")
    return output / as_of.isoformat()


def read_flags(report: Path) -> pd.DataFrame:
    """The report's 客户 sheet: customer_id, risk (高/中/低/""), p_alive (NaN if absent)."""
    sheet = pd.read_excel(report, sheet_name="客户", engine="calamine", dtype=object)
    alive = sheet[ALIVE_HEADER] if ALIVE_HEADER in sheet.columns else float("nan")
    return pd.DataFrame({
        "customer_id": sheet[ID_HEADER].astype(str),
        "risk": sheet[RISK_HEADER].fillna("").astype(str),
        "p_alive": pd.to_numeric(pd.Series(alive, index=sheet.index), errors="coerce"),
    }).set_index("customer_id")


@dataclass(frozen=True)
class Group:
    label: str
    customers: int
    rebought: int

    @property
    def rate(self) -> float:
        return self.rebought / self.customers if self.customers else float("nan")


def holdout_groups(transactions: pd.DataFrame, flags: pd.DataFrame, as_of: date = AS_OF,
                   end: date = HOLDOUT_END, alive_threshold: float = 0.3) -> dict[str, Group]:
    """Re-purchase in (as_of, end] per group; "repeat" = orders on 2+ days up to as_of."""
    missing = set(transactions["customer_id"]) - set(flags.index)
    if missing:
        raise ValueError(f"{len(missing)} CDNOW customers missing from the report, e.g. {min(missing)}")
    calibration = transactions[transactions["date"] <= pd.Timestamp(as_of)]
    order_days = calibration.groupby("customer_id")["date"].nunique()
    rhythm_high = rhythm_would_say_high(calibration, as_of).reindex(flags.index, fill_value=False)
    holdout = transactions[(transactions["date"] > pd.Timestamp(as_of))
                           & (transactions["date"] <= pd.Timestamp(end))]
    frame = flags.assign(
        repeat=order_days.reindex(flags.index).fillna(0).to_numpy() >= 2,
        rebought=flags.index.isin(holdout["customer_id"].unique()))
    masks = {
        "all customers": frame.index == frame.index,
        "repeat buyers": frame["repeat"].to_numpy(),
        "repeat, 高": (frame["repeat"] & (frame["risk"] == "高")).to_numpy(),
        "repeat, not 高": (frame["repeat"] & (frame["risk"] != "高")).to_numpy(),
        "repeat, 中": (frame["repeat"] & (frame["risk"] == "中")).to_numpy(),
        "repeat, 低": (frame["repeat"] & (frame["risk"] == "低")).to_numpy(),
        "repeat, rhythm rule alone 高": (frame["repeat"] & rhythm_high).to_numpy(),
        f"repeat, P(alive) < {alive_threshold:g}": (frame["repeat"] & (frame["p_alive"] < alive_threshold)).to_numpy(),
        f"repeat, P(alive) >= {alive_threshold:g}": (frame["repeat"] & (frame["p_alive"] >= alive_threshold)).to_numpy(),
        "one-time buyers": (~frame["repeat"]).to_numpy(),
    }
    return {label: Group(label, int(mask.sum()), int(frame["rebought"].to_numpy()[mask].sum()))
            for label, mask in masks.items()}


def rhythm_would_say_high(calibration: pd.DataFrame, as_of: date, min_orders: int = 3,
                          factor: float = 3.0, extra_days: int = 28) -> pd.Series:
    """Who the broken-rhythm rule alone would call 高 (spec §3.5, config defaults): the
    pipeline caps that rule at 中 once the model is fitted, so the report cannot say."""
    days = calibration[["customer_id", "date"]].drop_duplicates().sort_values(["customer_id", "date"])
    gaps = days.groupby("customer_id")["date"].diff().dt.days
    per_id = pd.DataFrame({"orders": days.groupby("customer_id")["date"].size(),
                           "last": days.groupby("customer_id")["date"].max(),
                           "median_gap": gaps.groupby(days["customer_id"]).median()})
    since = (pd.Timestamp(as_of) - per_id["last"]).dt.days
    gap = per_id["median_gap"]
    return (per_id["orders"] >= min_orders) & (since > (factor * gap).clip(lower=gap + extra_days))


def check(data: Path, work: Path) -> tuple[dict[str, Group], dict, float]:
    """Register → pipeline → flags → holdout rates; also the model note and run seconds."""
    transactions = load_cdnow(data)
    register = write_register(transactions, work / "cdnow_register.xlsx")
    start = time.perf_counter()
    day = run_pipeline(register, work)
    seconds = time.perf_counter() - start
    facts = json.loads((day / "summary.json").read_text(encoding="utf-8"))
    flags = read_flags(day / "report.xlsx")
    return holdout_groups(transactions, flags), facts.get("notes", {}).get("churn_model", {}), seconds


def table(groups: dict[str, Group]) -> str:
    lines = [f"{'group':<28}{'customers':>10}{'re-bought':>11}{'rate':>8}"]
    lines += [f"{g.label:<28}{g.customers:>10}{g.rebought:>11}{g.rate:>8.3f}" for g in groups.values()]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--keep", type=Path, help="keep the register and the run's output here")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"no CDNOW data at {args.data}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        groups, model, seconds = check(args.data, work)
    print(f"pipeline run as of {AS_OF}: {seconds:.1f} s")
    print(f"churn model: fitted={model.get('fitted')} repeat customers={model.get('repeat_customers')} "
          f"BG/NBD={model.get('bgnbd')} Gamma-Gamma={model.get('gamma_gamma')}")
    print(f"re-purchase {AS_OF + timedelta(days=1)} .. {HOLDOUT_END} (39 weeks):")
    print(table(groups))
    high, rest = groups["repeat, 高"], groups["repeat, not 高"]
    print(f"repeat buyers flagged 高 re-bought at {high.rate:.3f}, the others at {rest.rate:.3f} "
          f"(ratio {high.rate / rest.rate:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
