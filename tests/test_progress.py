"""Progress: tqdm bars on a terminal, one plain line per step otherwise."""
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.messages import set_language
from pipeline.ops.progress import progress, stage


class Terminal(io.StringIO):
    """A stream that says it is an interactive terminal."""

    def isatty(self):
        return True


DONE = re.compile(r"^读取台账… 完成 \(\d+\.\d 秒\)\n$")


def test_not_a_terminal_one_plain_line_after_the_items():
    stream = io.StringIO()
    seen = []
    for item in progress(["a", "b", "c"], desc="读取台账", stream=stream):
        seen.append(item)
        assert stream.getvalue() == ""      # nothing half-written while working
    assert seen == ["a", "b", "c"]
    assert DONE.match(stream.getvalue())


def test_a_terminal_gets_a_tqdm_bar():
    stream = Terminal()
    assert list(progress(range(3), total=3, desc="读取台账", stream=stream)) == [0, 1, 2]
    assert "读取台账" in stream.getvalue()
    assert "3/3" in stream.getvalue()


@given(st.lists(st.integers()))
def test_progress_yields_exactly_the_items(items):
    assert list(progress(iter(items), desc="x", stream=io.StringIO())) == items


def test_stage_not_a_terminal_one_line_with_seconds():
    stream = io.StringIO()
    with stage("读取台账", stream=stream):
        assert stream.getvalue() == ""
    assert DONE.match(stream.getvalue())


def test_a_failing_stage_says_so_and_the_error_goes_on():
    stream = io.StringIO()
    with pytest.raises(OSError):
        with stage("写回台账", stream=stream):
            raise OSError("file in use")
    assert re.match(r"^写回台账… 失败 \(\d+\.\d 秒\)\n$", stream.getvalue())


def test_stage_on_a_terminal_shows_the_name_while_working():
    stream = Terminal()
    with stage("计算等级", stream=stream):
        assert stream.getvalue() == "计算等级…"
    assert stream.getvalue().startswith("计算等级…\r计算等级… 完成")


def test_english_lines():
    set_language("en")
    try:
        stream = io.StringIO()
        with stage("Reading the register", stream=stream):
            pass
    finally:
        set_language("zh")
    assert re.match(r"^Reading the register… done \(\d+\.\d s\)\n$", stream.getvalue())
