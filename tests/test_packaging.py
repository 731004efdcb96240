"""A plain (non-editable) install finds its templates, away from the checkout."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def test_installed_copy_finds_its_templates(tmp_path):
    source, target = tmp_path / "src", tmp_path / "site"
    # A copy, so that the build's own files never land in the checkout.
    for name in ("pipeline", "templates"):
        shutil.copytree(PROJECT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    probe = ("from pipeline.messages import template_dir, text\n"
             "from pipeline.mail.compose import TEMPLATE_DIR\n"
             "print(template_dir()); print(TEMPLATE_DIR.is_dir()); print(text('run.step.read'))\n")
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert Path(out[0]) == target / "pipeline" / "templates"
    assert out[1:] == ["True", "读取台账"]
