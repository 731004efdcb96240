"""The package's layout stays true: imports point one way (read → rules → outputs).

Walks every module's imports with ``ast`` and checks each arrow against ALLOWED:
a part may import the parts listed for it and itself, nothing else.  The spine
(config, model, messages, schema, …) is below everything; ``cli`` and ``runner`` sit
on top and wire the parts together.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
SPINE = {"config", "config_checks", "model", "messages", "schema", "palette", "addresses", "ooxml"}
BASE = SPINE | {"dates"}
# part -> the parts it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "spine": {"spine", "dates"},
    "dates": {"spine"},
    "read": {"spine", "dates"},
    "models": {"spine"},
    "rules": {"spine", "dates", "models"},
    "writeback": {"spine"},
    "report": {"spine", "dates", "rules", "models"},
    "mail": {"spine", "dates", "rules"},
    "ops": {"spine"},
    "demo": set(),
    "inbox": {"spine", "read", "rules"},
    "mailbox": {"spine", "dates", "read", "inbox", "mail", "writeback"},
    "cli": {"spine", "ops", "runner"},
    "runner": {"spine", "dates", "read", "rules", "models", "writeback", "report", "mail", "ops", "demo",
               "mailbox"},
    "init": set(),
}


def part_of(module: str) -> str:
    """``pipeline.rules.grading`` -> ``rules``; spine modules -> ``spine``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "init"
    name = parts[1]
    return "spine" if name in SPINE else name


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str) -> set[str]:
    """Every ``pipeline.…`` module a source imports, at any depth (lazy imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pipeline")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            if node.module == "pipeline":
                found |= {f"pipeline.{a.name}" for a in node.names}
            else:
                found.add(node.module)
    return found


def wrong_arrows(sources: dict[str, str]) -> list[str]:
    """``a -> b`` for each import that points a way ALLOWED does not list."""
    wrong = []
    for module, source in sorted(sources.items()):
        here = part_of(module)
        for target in sorted(imported_modules(source, module)):
            there = part_of(target)
            if there != here and there not in ALLOWED[here]:
                wrong.append(f"{module} -> {target}")
    return wrong


def package_sources() -> dict[str, str]:
    return {module_name(p): p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}


def test_every_module_belongs_to_a_known_part():
    unknown = {part_of(m) for m in package_sources()} - set(ALLOWED)
    assert not unknown


def test_imports_point_one_way():
    assert wrong_arrows(package_sources()) == []


@pytest.mark.parametrize("module, line, target", [
    ("pipeline.rules.grading", "from pipeline.writeback import update_register", "pipeline.writeback"),
    ("pipeline.read.validate", "from pipeline.rules.history import text_column", "pipeline.rules.history"),
    ("pipeline.models.bgnbd", "    import pipeline.rules.churn", "pipeline.rules.churn"),
    ("pipeline.schema", "from pipeline import rules", "pipeline.rules"),
    ("pipeline.mail.compose", "from pipeline.report.workbook import write_report", "pipeline.report.workbook"),
    ("pipeline.cli", "from pipeline.demo import write_demo_register", "pipeline.demo"),
    ("pipeline.writeback.sheet", "from pipeline.read.cells import parse_date", "pipeline.read.cells"),
])
def test_a_wrong_arrow_is_caught(module, line, target):
    sources = package_sources()
    # A lazy import inside a function counts as much as one at the top.
    body = f"def later():\n    {line.strip()}\n" if line.startswith(" ") else line
    sources[module] += "\n" + body + "\n"
    assert wrong_arrows(sources) == [f"{module} -> {target}"]


def test_subpackage_inits_only_re_export():
    """An ``__init__.py`` holds a docstring, imports and ``__all__``: nothing else."""
    for init in PACKAGE.glob("*/__init__.py"):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), init
        for node in tree.body[1:]:
            assert isinstance(node, (ast.Import, ast.ImportFrom)) or (
                isinstance(node, ast.Assign) and node.targets[0].id == "__all__"), (init, node.lineno)
