"""How long the nightly in-place register update takes on a big shop's register.

Generates (once, cached next to the output) a register of 50,000 customers x 30
columns with 500,000-row 跟进记录 and 销售 logs, streamed with xlsxwriter's
constant-memory mode, then times:
  * build_updated: rewriting the customer sheet inside the package (in memory);
  * update_register: the whole safe path (lock and change checks, backup, write,
    read-back verification, atomic replace);
  * openpyxl.load_workbook + save of the same file, what the update replaces.
The update must be at least 10x faster than openpyxl.

    python benchmarks/bench_writeback.py [--customers 50000] [--log-rows 500000] [--skip-openpyxl]
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.writeback.update import OutColumn, build_updated, snapshot, update_register  # noqa: E402

STAFF = ["客户编号", "客户名称", "客户类型", "联系人", "电话", "邮箱", "地区", "主营车型", "业务员",
         "需求", "预计成交", "生日", "暂缓至", "人工等级", "建档日期", "备注", "微信号", "地址",
         "开票抬头", "税号"]
STALE = ["等级", "客户状态", "重点客户", "最近联系", "下次跟进", "逾期天数"]   # from an older run
TODAY = dt.date(2026, 11, 23)


def generate(path: Path, customers: int, log_rows: int) -> None:
    rng = np.random.default_rng(7)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date = book.add_format({"num_format": "yyyy/m/d"})
    sheet = book.add_worksheet("客户")
    sheet.write_row(0, 0, STAFF + STALE)
    kinds = ["修理厂", "车队", "经销商", "个人"]
    for r in range(1, customers + 1):
        sheet.write_row(r, 0, [f"C{r:06d}", f"客户{r}号汽修", kinds[r % 4], f"联系人{r % 97}",
                               f"138{r:08d}", f"c{r}@example.com", "深圳", "大众/丰田",
                               f"业务员{r % 8}", ["明确", "潜在", "无"][r % 3]])
        sheet.write_datetime(r, 10, dt.datetime(2027, 1, 1), date)
        sheet.write_row(r, 11, ["农历八月十五", None, None])
        sheet.write_datetime(r, 14, dt.datetime(2024, 1, 1) + dt.timedelta(days=r % 700), date)
        sheet.write_row(r, 15, ["备注文字", f"wx{r}", "宝安区某路", f"抬头{r}", f"9144{r:014d}"])
        sheet.write_row(r, 20, ["ABCDE"[r % 5], "现实", "否"])
        sheet.write_datetime(r, 23, dt.datetime(2026, 10, 1), date)
        sheet.write_datetime(r, 24, dt.datetime(2026, 11, 1), date)
        sheet.write_number(r, 25, r % 30)
    ids = rng.integers(1, customers + 1, size=log_rows)
    days = rng.integers(0, 1000, size=log_rows)
    amounts = rng.integers(100, 20000, size=log_rows)
    for name, header in (("跟进记录", ["日期", "客户编号", "业务员", "方式", "内容", "满意度"]),
                         ("销售", ["日期", "客户编号", "单号", "金额", "已收金额", "应收日期"])):
        log = book.add_worksheet(name)
        log.write_row(0, 0, header)
        for r in range(1, log_rows + 1):
            log.write_number(r, 0, 45000 + int(days[r - 1]), date)
            log.write_string(r, 1, f"C{int(ids[r - 1]):06d}")
            if name == "销售":
                log.write_row(r, 2, [f"SO{r:08d}", int(amounts[r - 1]), int(amounts[r - 1])])
                log.write_number(r, 5, 45030 + int(days[r - 1]), date)
            else:
                log.write_row(r, 2, [f"业务员{r % 8}", "电话", "询价刹车片，约下周回访", 4])
    book.add_worksheet("业务员").write_row(0, 0, ["姓名", "邮箱", "角色", "在职"])
    book.close()


def nightly_columns(customers: int, night: int) -> list[OutColumn]:
    rng = np.random.default_rng(night)
    rows = range(2, customers + 2)
    grade = rng.choice(list("ABCDE"), size=customers)
    overdue = rng.integers(0, 40, size=customers)
    due = [TODAY + dt.timedelta(days=int(d) - 20) for d in rng.integers(0, 60, size=customers)]
    risk = rng.choice(["高", "中", "低", ""], size=customers)
    return [
        OutColumn("等级", "text", dict(zip(rows, grade.tolist()))),
        OutColumn("客户状态", "text", {r: "现实" for r in rows}),
        OutColumn("重点客户", "text", {r: "是" if r % 5 == 0 else "否" for r in rows}),
        OutColumn("最近联系", "date", {r: TODAY - dt.timedelta(days=r % 90) for r in rows}),
        OutColumn("下次跟进", "date", dict(zip(rows, due))),
        OutColumn("逾期天数", "int", dict(zip(rows, overdue.tolist()))),
        OutColumn("流失风险", "text", {r: v or None for r, v in zip(rows, risk.tolist())}),
        OutColumn("风险原因", "text", {r: "平时约每7天进货一次，已有23天未进货"
                                      for r, v in zip(rows, risk.tolist()) if v in ("高", "中")}),
        OutColumn("档案完整度", "percent", {r: (r % 10) / 9 for r in rows}),
        OutColumn("欠款", "money", {r: 1234.5 for r in rows if r % 17 == 0}),
    ]


def peak_mb() -> float:
    """The process's peak resident memory; the writeback must not add much to the run's."""
    try:
        import resource
    except ImportError:                 # Windows: no resource module
        return float("nan")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, action):
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    print(f"{label:<46} {seconds:8.2f} s", flush=True)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--log-rows", type=int, default=500_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench_writeback")
    parser.add_argument("--skip-openpyxl", action="store_true")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    source = args.cache / f"register-{args.customers}-{args.log_rows}.xlsx"
    if not source.exists():
        timed("generate register (xlsxwriter, constant memory)",
              lambda: generate(source, args.customers, args.log_rows))
    print(f"register: {source} ({source.stat().st_size / 1e6:.1f} MB)")
    work = args.cache / "share" / "客户台账.xlsx"
    work.parent.mkdir(exist_ok=True)
    shutil.copyfile(source, work)
    columns = nightly_columns(args.customers, night=1)
    data = work.read_bytes()
    print(f"peak memory before the update (ru_maxrss): {peak_mb():.0f} MB")
    timed("build_updated (customer sheet rewrite only)",
          lambda: build_updated(data, "客户", columns))
    update_seconds, result = timed("update_register (checks, backup, verify, replace)",
                                   lambda: update_register(
                                       work, "客户", columns, read_snapshot=snapshot(work),
                                       backup_dir=args.cache / "backups", keep_backups=2,
                                       stamp="bench"))
    print(f"  -> {result.status} {result.reason_code}")
    print(f"peak memory so far (ru_maxrss): {peak_mb():.0f} MB")
    timed("update_register, second night, same values", lambda: update_register(
        work, "客户", columns, read_snapshot=snapshot(work), backup_dir=args.cache / "backups",
        keep_backups=2, stamp="bench"))
    if args.skip_openpyxl:
        return
    import openpyxl

    def openpyxl_round_trip():
        book = openpyxl.load_workbook(source)
        book.save(args.cache / "openpyxl-resaved.xlsx")
    openpyxl_seconds, _ = timed("openpyxl.load_workbook + save", openpyxl_round_trip)
    print(f"speed-up of update_register over openpyxl: {openpyxl_seconds / update_seconds:.1f}x "
          f"(required: >= 10x)")


if __name__ == "__main__":
    main()
