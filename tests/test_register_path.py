"""A register path that names a folder (``--register input`` or ``path = "共享盘/销售部"``) is a typo
like a missing file: one line naming the path and where it came from, exit 1, never a traceback."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("given, source", [("cli", "--register"), ("config", "[register] path")])
def test_a_register_path_that_is_a_folder_is_one_line(tmp_path, given, source):
    folder = tmp_path / "共享盘"
    folder.mkdir()
    line = f'path = "{folder.as_posix()}"\n' if given == "config" else ""
    (tmp_path / "config.toml").write_text(f"[register]\ncreate_demo_if_missing = false\n{line}", encoding="utf-8")
    args = ["--register", str(folder)] if given == "cli" else []
    done = subprocess.run([sys.executable, "run.py", "--config", str(tmp_path / "config.toml"), *args,
                           "--output", str(tmp_path / "out"), "--date", "2026-11-23"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(folder) in lines[0] and "文件夹" in lines[0] and source in lines[0], done.stderr
