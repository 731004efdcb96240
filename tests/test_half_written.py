"""Nothing half-written carries a real name: when the output disk cannot take a file (full, or
a size limit), the report and the outbox emails are either whole or absent, and the shop gets
one line, not a traceback.

The failure is real: the run is a real process whose files may not grow past a limit
(RLIMIT_FSIZE, as a full disk does mid-file: the write fails with an OSError).
"""
from __future__ import annotations

import subprocess
import sys
import zipfile
from email import policy
from email.errors import CloseBoundaryNotFoundDefect, StartBoundaryNotFoundDefect
from email.parser import BytesParser
from pathlib import Path

import pytest

from pipeline.demo import write_demo_register

resource = pytest.importorskip("resource")   # POSIX only
ROOT = Path(__file__).resolve().parent.parent
LIMIT = 50_000   # bytes: the demo's report (about 60 kB) and most of its emails are larger


def run_limited(tmp_path: Path, register: Path, *extra: str) -> subprocess.CompletedProcess:
    (tmp_path / "config.toml").write_text("[register]\ncreate_demo_if_missing = false\n", encoding="utf-8")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))
    return subprocess.run([sys.executable, "run.py", "--config", str(tmp_path / "config.toml"), "--register",
                           str(register), "--output", str(tmp_path / "out"), "--date", "2026-11-23", *extra],
                          cwd=ROOT, capture_output=True, text=True, preexec_fn=limit, timeout=300, check=False)


def is_whole_email(path: Path) -> bool:
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    defects = [d for part in msg.walk() for d in part.defects]
    return not any(isinstance(d, (CloseBoundaryNotFoundDefect, StartBoundaryNotFoundDefect)) for d in defects)


def test_a_report_and_emails_the_disk_cannot_take_are_never_left_half_written(tmp_path):
    register = tmp_path / "台账.xlsx"
    write_demo_register(register, __import__("datetime").date(2026, 11, 23))
    done = run_limited(tmp_path, register, "--dry-run")
    day = tmp_path / "out" / "2026-11-23" / "dry-run"
    assert "Traceback" not in done.stderr, done.stderr
    reports = list(day.glob("report*.xlsx"))
    assert all(zipfile.is_zipfile(r) for r in reports), [(r.name, r.stat().st_size) for r in reports]
    emails = list((day / "outbox").glob("*.eml"))
    assert emails and all(is_whole_email(e) for e in emails), [(e.name, e.stat().st_size) for e in emails]
    assert not [f for f in day.rglob("*") if ".tmp" in f.name]   # no temporary file left behind
    assert not reports   # the report is larger than the limit: it is absent, and the shop hears why
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("今天的报表写不进"), done.stderr
    assert "邮件：" in done.stderr   # the rest of the night is still told
