"""Does 流失风险 say who stops buying?  Checked on the public CDNOW history at several dates.

Issue #12 (after #6): the CDNOW sample (2,357 customers who first bought in Q1 1997,
purchases to 1998-06-30) is loaded as a register with the orders up to an as-of date and
run through the whole pipeline with ``--date <as-of> --dry-run``.  The report's 客户
sheet says who is 流失风险 高/中/低; the rest of the log (the holdout) says who really
bought again.  At every as-of date the levels must show (spec §3.5): re-buy rate
低 > 中 > 高, 高 at most half of 低, and an AUC of the 3-level ordering for "did not buy
again" of at least 0.68.  For comparison the table also shows the AUC of the model's
continuous P(still active) and of a plain 3-level cut of expected purchases in the
holdout's length (terciles), both read from the same fit.

    python benchmarks/cdnow_check.py [--data PATH] [--keep DIR] [--date YYYY-MM-DD ...]

The register: 客户 (客户编号 = the CDNOW customer id as text, 业务员 spread over 4
reps, 建档日期 = first purchase, 需求 empty), 销售 (one row per CDNOW transaction up
to the as-of date), 业务员 (4 reps and a 主管).  No 跟进记录 sheet.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from scipy.stats import rankdata

from pipeline.config import ChurnConfig
from pipeline.models import bgnbd, mbgnbd
from pipeline.models.bgnbd import rfm_summary

PROJECT_DIR = Path(__file__).resolve().parent.parent
# The sample sits in the shared folder beside the project (or beside its worktree folder).
DATA = next((folder / "shared" / "data" / "cdnow_sample.txt" for folder in PROJECT_DIR.parents
             if (folder / "shared" / "data" / "cdnow_sample.txt").exists()),
            PROJECT_DIR.parent / "shared" / "data" / "cdnow_sample.txt")
AS_OF = date(1997, 9, 30)                   # the published calibration end (Fader, Hardie & Lee 2005)
HOLDOUT_END = date(1998, 6, 30)             # the end of the log
AS_OF_DATES = (date(1997, 5, 31), date(1997, 8, 31), date(1997, 11, 30))
LEVELS = ("低", "中", "高")
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
    with contextlib.redirect_stdout(io.StringIO()):   # the run's own console report
        status = main(["--config", str(config), "--register", str(register), "--output", str(output),
                       "--date", as_of.isoformat(), "--dry-run"], environ={})
    if status != 0:
        raise RuntimeError(f"run.py exited with {status}")
    return output / as_of.isoformat() / "dry-run"   # a dry run writes beside the real run's files


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


def check(data: Path, work: Path, as_of: date = AS_OF) -> tuple[dict[str, Group], dict, float]:
    """Register → pipeline → flags → holdout rates; also the model note and run seconds."""
    groups, model, seconds, _ = check_date(load_cdnow(data), work, as_of)
    return groups, model, seconds


def check_date(transactions: pd.DataFrame, work: Path, as_of: date):
    """One as-of date: the groups, the model note, the run's seconds and the level table."""
    folder = work / as_of.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    register = write_register(transactions, folder / "cdnow_register.xlsx", as_of)
    start = time.perf_counter()
    day = run_pipeline(register, folder, as_of)
    seconds = time.perf_counter() - start
    facts = json.loads((day / "summary.json").read_text(encoding="utf-8"))
    flags = read_flags(day / "report.xlsx")
    groups = holdout_groups(transactions, flags, as_of)
    return groups, facts.get("notes", {}).get("churn_model", {}), seconds, \
        level_table(transactions, flags, as_of)


@dataclass(frozen=True)
class LevelTable:
    as_of: date
    rows: dict[str, tuple[Group, Group, Group]]   # level -> (all, one-time, repeat)
    auc: float
    auc_p_alive: float
    auc_expected_cut: float
    auc_bgnbd_rule: float

    @property
    def holds(self) -> bool:
        """Spec §3.5's three conditions."""
        low, medium, high = (self.rows[level][0].rate for level in LEVELS)
        return low > medium > high and high <= 0.5 * low and self.auc >= 0.68


def level_table(transactions: pd.DataFrame, flags: pd.DataFrame, as_of: date,
                end: date = HOLDOUT_END) -> LevelTable:
    """Re-buy rate per level (all / one-time / repeat buyers) and the AUCs, for the 现实
    customers (those with a level)."""
    calibration = transactions[transactions["date"] <= pd.Timestamp(as_of)]
    order_days = calibration.groupby("customer_id")["date"].nunique().reindex(flags.index).fillna(0)
    holdout = transactions[(transactions["date"] > pd.Timestamp(as_of))
                           & (transactions["date"] <= pd.Timestamp(end))]
    frame = flags.assign(repeat=order_days.to_numpy() >= 2,
                         rebought=flags.index.isin(holdout["customer_id"].unique()))
    frame = frame[frame["risk"].isin(LEVELS)]
    rows = {}
    for level in LEVELS:
        at = frame[frame["risk"] == level]
        rows[level] = tuple(Group(label, len(part), int(part["rebought"].sum())) for label, part in
                            (("all", at), ("one-time", at[~at["repeat"]]), ("repeat", at[at["repeat"]])))
    gone = ~frame["rebought"].to_numpy()
    rank = frame["risk"].map({level: i for i, level in enumerate(LEVELS)}).to_numpy(dtype=float)
    alive = frame["p_alive"].to_numpy(dtype=float)
    return LevelTable(as_of, rows, auc(gone, rank), auc(gone, -alive),
                      auc(gone, expected_cut(calibration, frame.index, as_of, end)),
                      auc(gone, bgnbd_rule(calibration, frame.index, as_of)))


def auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of ``score`` for ``positive`` (ties count half): the
    chance that a random positive scores above a random negative."""
    if not np.isfinite(score).all():
        return float("nan")
    ranks = rankdata(score)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def expected_cut(calibration: pd.DataFrame, ids: pd.Index, as_of: date, end: date) -> np.ndarray:
    """The comparison rule: terciles of the MBG/NBD's expected purchases over the holdout
    (2 = lowest third), from a fit on the same history."""
    summary = rfm_summary(calibration["customer_id"], calibration["date"], as_of).reindex(ids)
    x, t_x, T = (summary[c].to_numpy() for c in ("x", "t_x", "T"))
    expected = mbgnbd.expected_purchases(mbgnbd.fit_mbgnbd(x, t_x, T), (end - as_of).days / 7.0, x, t_x, T)
    low, high = np.quantile(expected, [1 / 3, 2 / 3])
    return np.where(expected <= low, 2.0, np.where(expected <= high, 1.0, 0.0))


def bgnbd_rule(calibration: pd.DataFrame, ids: pd.Index, as_of: date) -> np.ndarray:
    """The same level rule (config defaults) read from a BG/NBD fit instead: is the
    MBG/NBD worth keeping?  (2 = 高, 1 = 中, 0 = 低.)"""
    churn = ChurnConfig()
    summary = rfm_summary(calibration["customer_id"], calibration["date"], as_of).reindex(ids)
    x, t_x, T = (summary[c].to_numpy() for c in ("x", "t_x", "T"))
    days = calibration[["customer_id", "date"]].drop_duplicates().sort_values(["customer_id", "date"])
    gaps = days.groupby("customer_id")["date"].diff().dt.days.groupby(days["customer_id"]).median()
    horizon = round(churn.model_horizon_gaps * float(gaps.dropna().median())) / 7.0
    params = bgnbd.fit_bgnbd(x, t_x, T)
    expected = bgnbd.expected_purchases(params, horizon, x, t_x, T)
    alive = bgnbd.p_alive(params, x, t_x, T)
    high = (expected < churn.model_high_below) | (alive < churn.model_gone_below)
    return np.where(high, 2.0, np.where(expected < churn.model_medium_below, 1.0, 0.0))


def table(groups: dict[str, Group]) -> str:
    lines = [f"{'group':<28}{'customers':>10}{'re-bought':>11}{'rate':>8}"]
    lines += [f"{g.label:<28}{g.customers:>10}{g.rebought:>11}{g.rate:>8.3f}" for g in groups.values()]
    return "\n".join(lines)


def levels_text(result: LevelTable) -> str:
    weeks = (HOLDOUT_END - result.as_of).days / 7.0
    lines = [f"as of {result.as_of}, holdout to {HOLDOUT_END} ({weeks:.0f} weeks)",
             f"{'level':<6}{'customers':>10}{'re-bought':>10}{'rate':>7}"
             f"{'one-time':>10}{'rate':>7}{'repeat':>8}{'rate':>7}"]
    for level in LEVELS:
        every, once, repeat = result.rows[level]
        lines.append(f"{level:<5}{every.customers:>10}{every.rebought:>10}{every.rate:>7.3f}"
                     f"{once.customers:>10}{once.rate:>7.3f}{repeat.customers:>8}{repeat.rate:>7.3f}")
    low, high = result.rows["低"][0].rate, result.rows["高"][0].rate
    lines.append(f"AUC of the 3 levels for 'did not buy again': {result.auc:.3f}   "
                 f"(continuous P(alive): {result.auc_p_alive:.3f}; tercile cut of expected "
                 f"purchases: {result.auc_expected_cut:.3f}; the same rule on a BG/NBD fit: "
                 f"{result.auc_bgnbd_rule:.3f});  高/低 = {high / low:.2f};  "
                 f"{'holds' if result.holds else 'FAILS'}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--keep", type=Path, help="keep the registers and the runs' output here")
    parser.add_argument("--date", type=date.fromisoformat, nargs="*", default=list(AS_OF_DATES))
    args = parser.parse_args()
    if not args.data.exists():
        print(f"no CDNOW data at {args.data}", file=sys.stderr)
        return 1
    transactions = load_cdnow(args.data)
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        for as_of in args.date:
            _, model, seconds, result = check_date(transactions, work, as_of)
            fit = {k: round(v, 4) for k, v in (model.get("mbgnbd") or {}).items() if k in "r alpha a b"}
            print(f"pipeline run as of {as_of}: {seconds:.1f} s; model fitted={model.get('fitted')} "
                  f"repeat customers={model.get('repeat_customers')} MBG/NBD={fit}")
            print(levels_text(result))
            print()
            failed += not result.holds
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
