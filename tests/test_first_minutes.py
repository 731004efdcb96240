"""The terminal in the first five minutes (issue #14): --help, a register that does not fit,
a refused write-back, and the README's quick start.  Real processes and real .xlsx files."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipeline.messages import fill
from tests.register_builder import CUSTOMER_HEADER, REPS_HEADER, customer, minimal_register, write_workbook

PROJECT = Path(__file__).resolve().parent.parent
DAY = "2026-11-23"
ARGPARSE_ENGLISH = ("usage:", "options:", "show this help message and exit", "error:", "unrecognized")


def run_py(*args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PROJECT / "run.py"), *args], cwd=cwd,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


def config(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text("[register]\ncreate_demo_if_missing = false\n" + text, encoding="utf-8")
    return path


def test_help_is_chinese_throughout_by_default():
    done = run_py("--help")
    assert done.returncode == 0
    out = done.stdout
    assert out.startswith("用法：run.py")
    assert "选项" in out and "显示这段说明后退出" in out and "按这一天运行" in out
    for word in ARGPARSE_ENGLISH:
        assert word not in out, word


def test_help_is_english_throughout_when_configured(tmp_path):
    done = run_py("--config", str(config(tmp_path, '[locale]\nlanguage = "en"\n')), "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: run.py") and "show this help message and exit" in done.stdout
    assert "run as of this day" in done.stdout
    assert not re.search(r"[\u4e00-\u9fff]", done.stdout)


def test_help_columns_line_up_with_chinese_placeholders():
    lines = [l for l in run_py("--help").stdout.splitlines() if l.startswith("  --")]
    # Each help text starts at the same terminal column (a Chinese character is two columns wide).
    columns = set()
    for line in lines:
        help_text = re.match(r"  \S+(?: \S+)?\s+(\S.*)", line).group(1)
        width = sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in line[:line.index(help_text)])
        columns.add(width)
    assert len(columns) == 1, lines


def test_a_wrong_option_is_said_in_the_configured_language():
    done = run_py("--bogus")
    assert done.returncode == 2
    assert "用法：" in done.stderr and "不认识的参数：--bogus" in done.stderr
    assert "unrecognized" not in done.stderr and "error:" not in done.stderr


def test_a_missing_customer_sheet_lists_the_sheets_found_and_points_at_aliases(tmp_path):
    customers = [customer("C1", "鑫达汽修厂")]
    register = minimal_register(tmp_path / "台账.xlsx", customers, [], [])
    # The shop called its sheet 客户资料.
    book = openpyxl.load_workbook(register)
    book["客户"].title = "客户资料"
    book.save(register)
    done = run_py("--config", str(config(tmp_path)), "--register", str(register), "--date", DAY,
                  "--dry-run", "--output", str(tmp_path / "out"))
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert "没有「客户」工作表" in line and "「客户资料」" in line and "「业务员」" in line
    assert "[aliases]" in line and 'sheets = { customers = [' in line
    # Doing what the line says makes the run go.
    fixed = config(tmp_path, '[aliases]\nsheets = { customers = ["客户资料"] }\n')
    again = run_py("--config", str(fixed), "--register", str(register), "--date", DAY,
                   "--dry-run", "--output", str(tmp_path / "out"))
    assert again.returncode == 0, again.stderr


def test_a_missing_required_header_lists_the_headers_found_and_points_at_aliases(tmp_path):
    header = ["编号" if h == "客户编号" else h for h in CUSTOMER_HEADER]
    register = write_workbook(tmp_path / "台账.xlsx", {
        "客户": [header, customer("C1", "鑫达汽修厂")], "业务员": [REPS_HEADER, ["王强", "w@x.com", "业务员", "是"]]})
    done = run_py("--config", str(config(tmp_path)), "--register", str(register), "--date", DAY,
                  "--dry-run", "--output", str(tmp_path / "out"))
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert "缺少必需的列「客户编号」" in line and "「编号」" in line and "「客户名称」" in line
    assert "[aliases.customers]" in line and "customer_id = [" in line


def test_a_refused_write_back_does_not_say_done(tmp_path):
    register = minimal_register(tmp_path / "台账.xlsx", [customer("C1", "鑫达汽修厂", 电话="13800138000")], [], [])
    before = register.read_bytes()
    (tmp_path / "~$台账.xlsx").write_bytes(b"\x06WangQiang")    # Excel's lock file: someone has it open
    done = run_py("--config", str(config(tmp_path)), "--register", str(register), "--date", DAY,
                  "--output", str(tmp_path / "out"))
    assert done.returncode == 0
    [line] = [l for l in done.stdout.splitlines() if l.startswith("写回台账…")]
    assert line.startswith("写回台账… 未写回：客户台账正被") and "完成" not in line
    assert register.read_bytes() == before


def test_a_written_register_still_says_done(tmp_path):
    register = minimal_register(tmp_path / "台账.xlsx", [customer("C1", "鑫达汽修厂", 电话="13800138000")], [], [])
    done = run_py("--config", str(config(tmp_path)), "--register", str(register), "--date", DAY,
                  "--output", str(tmp_path / "out"))
    [line] = [l for l in done.stdout.splitlines() if l.startswith("写回台账…")]
    assert line.startswith("写回台账… 完成")


def test_readme_quick_start_makes_a_venv_first_and_ci_runs_its_test_line():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("```", 2)[1].strip().splitlines()
    assert quick[0] == "python3 -m venv .venv && . .venv/bin/activate"
    ci = [l for l in (PROJECT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if l and not l.startswith(("#", "set ", "cd "))]
    assert ci == [quick[2]] == ['python -m pip install -e ".[test]" && python -m pytest']
    # The unattended recipes use the venv's python, never the system's.
    assert "/usr/bin/python3" not in readme and "C:\\Python311" not in readme
    assert "/srv/shop-followup/.venv/bin/python run.py --schedule" in readme
    assert ".venv\\Scripts\\python.exe" in readme and ".venv/bin/python run.py >>" in readme


@pytest.mark.parametrize("template, values, expected", [
    ("every {n:day|# days}", {"n": 1}, "every day"),
    ("every {n:day|# days}", {"n": 7}, "every 7 days"),
    ("{n:# greeting|# greetings}", {"n": 1}, "1 greeting"),
    ("{n:# greeting|# greetings}", {"n": 0}, "0 greetings"),
    ("{n:,} and {m:.1f}", {"n": 12345, "m": 2.25}, "12,345 and 2.2"),
])
def test_plural_placeholders(template, values, expected):
    assert fill(template, **values) == expected
