"""The whole nightly run on a big register: time and peak memory per stage (issue #7).

    python benchmarks/bench_pipeline.py [--customers 50000 --rows 500000] [--register PATH]
                                        [--no-half] [--no-cli]

For the full size and for half of it (to show how time grows) this
  * generates the register once (benchmarks/make_register.py's generator, seed 1),
    cached under /tmp by size, or uses --register for the full size;
  * times the floor, pandas.read_excel(sheet_name=None, engine="calamine");
  * runs the pipeline stage by stage through the functions the runner calls (read,
    validate, every rule stage of pipeline.rules.stages.STAGES by name, report, the
    in-place write-back, emails into the outbox) on a copy of the register;
  * runs ``python run.py`` end to end with --dry-run and without (on a copy).
Each measurement runs in its own process, so "peak" is that process's ru_maxrss;
per stage it shows the peak reached by the end of the stage (a high-water mark, so
it only ever grows) and how much the stage raised it.

Done-when (issue #7), at 50,000 customers with 500,000 follow-ups and orders: the
whole run, write-back included, within 2.5x the floor and under 1.5 GB; doubling the
size at most 2.2x the time.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 11, 23)
CONFIG = "[register]\ncreate_demo_if_missing = false\n"
TIME_LIMIT, MEMORY_LIMIT_GB, GROWTH_LIMIT = 2.5, 1.5, 2.2


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2   # KiB on Linux


# --- measurements, each run in a child process (python bench_pipeline.py --child ...) ---

def measure_floor(register: Path) -> dict:
    import pandas as pd
    started = time.perf_counter()
    pd.read_excel(register, sheet_name=None, engine="calamine")
    return {"seconds": time.perf_counter() - started, "peak_gb": peak_gb()}


def measure_stages(register: Path, work: Path) -> dict:
    """The runner's flow (pipeline/runner.py), one timed step at a time."""
    from pipeline import runner
    from pipeline.config import load_config
    from pipeline.model import State
    from pipeline.read.validate import used_sheets, validate
    from pipeline.read.workbook import read_workbook
    from pipeline.report.workbook import write_report
    from pipeline.rules.stages import STAGES
    from pipeline.writeback import update as writeback

    copy = work / "register.xlsx"
    shutil.copyfile(register, copy)
    (work / "config.toml").write_text(CONFIG, encoding="utf-8")
    opts = runner.RunOptions(config=load_config(work / "config.toml"), today=TODAY, run_date=TODAY,
                             register=copy, output=work / "out")
    steps: list[dict] = []

    def step(name: str, fn):
        before, started = peak_gb(), time.perf_counter()
        result = fn()
        steps.append({"stage": name, "seconds": time.perf_counter() - started,
                      "peak_gb": peak_gb(), "raised_gb": peak_gb() - before})
        return result

    facts: dict = {}
    snap, sheets = step("read", lambda: (writeback.snapshot(copy), read_workbook(copy, wanted=used_sheets(opts.config))))
    register_, problems = step("validate", lambda: validate(sheets, opts.config, opts.run_date))
    del sheets
    state = State.start(register_, opts.today, opts.run_date)
    for stage in STAGES:
        state, found = step(f"rules: {stage.__name__}", lambda: stage(state, opts.config))
        problems = problems + found
    step("report", lambda: write_report(work / "out" / "report.xlsx", state, problems))
    step("write-back", lambda: runner._write_back(opts, state, snap, facts))
    step("emails", lambda: runner._send_emails(opts, state, problems, facts))
    status = facts.get("writeback", {}).get("status")
    return {"steps": steps, "writeback_status": status, "peak_gb": peak_gb(),
            "emails": len(facts.get("emails", []))}


def measure_cli(register: Path, work: Path, dry_run: bool) -> dict:
    """``python run.py`` end to end, in its own process: wall time and its peak RSS."""
    copy = work / "register.xlsx"
    shutil.copyfile(register, copy)
    (work / "config.toml").write_text(CONFIG, encoding="utf-8")
    command = [sys.executable, str(ROOT / "run.py"), "--config", str(work / "config.toml"),
               "--register", str(copy), "--output", str(work / "out"), "--date", TODAY.isoformat()]
    started = time.perf_counter()
    child = subprocess.Popen(command + (["--dry-run"] if dry_run else []), cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"run.py failed: {child.stderr.read().decode()[-2000:]}")
    return {"seconds": seconds, "peak_gb": usage.ru_maxrss / 1024 ** 2}


def child_main(kind: str, register: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as work:
        if kind == "floor":
            result = measure_floor(register)
        elif kind == "stages":
            result = measure_stages(register, Path(work))
        else:
            result = measure_cli(register, Path(work), dry_run=(kind == "cli-dry"))
    out.write_text(json.dumps(result), encoding="utf-8")


def in_child(kind: str, register: Path) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, __file__, "--child", kind, str(register), out.name],
                       check=True, stdout=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text(encoding="utf-8"))


# --- the parent: registers, the runs, the table ---

def register_for(customers: int, rows: int, given: Path | None) -> Path:
    path = given or Path(tempfile.gettempdir()) / f"bench_register_c{customers}_r{rows}.xlsx"
    if not path.exists():
        print(f"generating {path} ({customers:,} customers, {rows:,} follow-ups and orders)…", flush=True)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_register.py"), str(path),
                        "--customers", str(customers), "--rows", str(rows),
                        "--as-of", TODAY.isoformat(), "--seed", "1"], check=True)
    return path


def measure_size(customers: int, rows: int, given: Path | None, cli: bool) -> dict:
    register = register_for(customers, rows, given)
    print(f"measuring {customers:,} / {rows:,} ({register})…", flush=True)
    result = {"register": str(register), "floor": in_child("floor", register),
              "stages": in_child("stages", register)}
    if cli:
        result["cli_dry"] = in_child("cli-dry", register)
        result["cli"] = in_child("cli", register)
    return result


def print_table(sizes: list[tuple[str, dict]]) -> None:
    heads = "".join(f"{label:>22}" for label, _ in sizes)
    print(f"\n{'stage':<28}{heads}\n{'':<28}" + "".join(f"{'s':>10}{'peak GB':>12}" for _ in sizes))
    names = [s["stage"] for s in sizes[0][1]["stages"]["steps"]]
    for i, name in enumerate(names):
        cells = "".join(f"{r['stages']['steps'][i]['seconds']:10.2f}{r['stages']['steps'][i]['peak_gb']:12.2f}"
                        for _, r in sizes)
        print(f"{name:<28}{cells}")
    rows = [("whole run (sum of stages)", lambda r: (total(r, True), r["stages"]["peak_gb"])),
            ("  of which dry-run part", lambda r: (total(r, False), None)),
            ("floor (read_excel calamine)", lambda r: (r["floor"]["seconds"], r["floor"]["peak_gb"]))]
    if "cli" in sizes[0][1]:
        rows += [("run.py --dry-run", lambda r: (r["cli_dry"]["seconds"], r["cli_dry"]["peak_gb"])),
                 ("run.py (write-back)", lambda r: (r["cli"]["seconds"], r["cli"]["peak_gb"]))]
    print("-" * (28 + 22 * len(sizes)))
    for label, get in rows:
        cells = ""
        for _, r in sizes:
            seconds, peak = get(r)
            cells += f"{seconds:10.2f}" + (f"{peak:12.2f}" if peak is not None else " " * 12)
        print(f"{label:<28}{cells}")


def total(r: dict, with_writeback: bool) -> float:
    return sum(s["seconds"] for s in r["stages"]["steps"] if with_writeback or s["stage"] != "write-back")


def print_verdict(full: dict, half: dict | None) -> None:
    whole = full["cli"]["seconds"] if "cli" in full else total(full, True)
    peak = max(full["stages"]["peak_gb"], full.get("cli", {}).get("peak_gb", 0.0))
    ratio = whole / full["floor"]["seconds"]
    print(f"\nwhole run with write-back: {whole:.1f} s = {ratio:.2f}x the floor "
          f"(target <= {TIME_LIMIT}x: {'ok' if ratio <= TIME_LIMIT else 'MISSED'})")
    print(f"peak memory: {peak:.2f} GB (target < {MEMORY_LIMIT_GB} GB: "
          f"{'ok' if peak < MEMORY_LIMIT_GB else 'MISSED'})")
    print(f"write-back status: {full['stages']['writeback_status']}")
    if half:
        half_whole = half["cli"]["seconds"] if "cli" in half else total(half, True)
        growth = whole / half_whole
        print(f"full / half size: {growth:.2f}x the time (target <= {GROWTH_LIMIT}x: "
              f"{'ok' if growth <= GROWTH_LIMIT else 'MISSED'}); floor {full['floor']['seconds'] / half['floor']['seconds']:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=500_000, help="follow-ups and orders, each")
    parser.add_argument("--register", type=Path, help="a register of that size (generated if missing)")
    parser.add_argument("--no-half", action="store_true", help="skip the half-size run")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end run.py runs")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    full = measure_size(args.customers, args.rows, args.register, not args.no_cli)
    sizes = [(f"{args.customers:,}/{args.rows:,}", full)]
    half = None
    if not args.no_half:
        half = measure_size(args.customers // 2, args.rows // 2, None, not args.no_cli)
        sizes.append((f"{args.customers // 2:,}/{args.rows // 2:,}", half))
    print_table(sizes)
    print_verdict(full, half)
    return 0


if __name__ == "__main__":
    sys.exit(main())
