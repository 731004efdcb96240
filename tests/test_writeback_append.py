"""Appending follow-up rows in place (pipeline.writeback.append): the verify step catches
any byte of the log that changed other than the new rows, and a new row that reads wrong."""
from __future__ import annotations

import datetime as dt

import pytest

from pipeline.writeback.append import LogAppend, check_appended
from pipeline.writeback.package import Package, write_package
from pipeline.writeback.update import build_updated
from tests.register_builder import FOLLOWUP_HEADER, customer, minimal_register

HEADERS = tuple(zip(("date", "customer_id", "rep", "method", "content", "need", "expected_close",
                     "satisfaction", "next_follow_up", "source"), (*FOLLOWUP_HEADER, "来源")))
ROW = {"date": dt.date(2026, 11, 30), "customer_id": "C0001", "rep": "王强", "method": "电话",
       "content": "谈了 <机油> & 价格", "need": "明确", "expected_close": dt.date(2026, 12, 20),
       "satisfaction": 4.0, "next_follow_up": None, "source": "邮件 2026-11-30 15:20"}


def register(tmp_path, followups=2):
    rows = [[dt.date(2026, 11, i + 1), "C0001", "王强", "电话", f"第{i}次", None, None, 3, None]
            for i in range(followups)]
    return minimal_register(tmp_path / "r.xlsx", customers=[customer("C0001", "宝安鸿达汽修")],
                            followups=rows).read_bytes()


@pytest.mark.parametrize("followups", [2, 0])   # the splice path, and the streaming path (header only)
def test_a_clean_append_verifies(tmp_path, followups):
    data = register(tmp_path, followups)
    update = build_updated(data, "客户", [], LogAppend("跟进记录", HEADERS, {}, (ROW,)))
    assert check_appended(Package(update.data), update.appended, False) is None
    assert (update.appended.splice is not None) == (followups > 0)


@pytest.mark.parametrize("followups", [2, 0])
@pytest.mark.parametrize("old, new", [
    (b"<v>3</v>", b"<v>2</v>"),                                      # a staff row's 满意度 changed
    (b"<v>4</v>", b"<v>5</v>"),                                      # the appended satisfaction
    ("谈了 &lt;机油&gt; &amp; 价格".encode(), "谈了".encode()),       # the appended text
])
def test_any_other_change_is_caught(tmp_path, followups, old, new):
    if followups == 0 and old == b"<v>3</v>":
        pytest.skip("no staff rows to change")
    data = register(tmp_path, followups)
    update = build_updated(data, "客户", [], LogAppend("跟进记录", HEADERS, {}, (ROW,)))
    package = Package(update.data)
    part = update.appended.part
    sheet = package.read(part)
    old = old if isinstance(old, bytes) else old.encode()
    assert old in sheet
    tampered = write_package(package, {part: sheet.replace(old, new, 1)})
    assert check_appended(Package(tampered), update.appended, False) is not None


@pytest.mark.parametrize("followups", [2, 0])   # spliced and streamed
def test_a_filter_over_the_log_keeps_covering_it(tmp_path, followups):
    """The sheet's filter over the whole log grows over the new rows and the 来源 column next
    to it, and so does the hidden _xlnm._FilterDatabase name (LibreOffice filters by it)."""
    import io

    import openpyxl
    path = tmp_path / "r.xlsx"
    path.write_bytes(register(tmp_path, followups))
    book = openpyxl.load_workbook(path)
    book["跟进记录"].auto_filter.ref = f"A1:I{followups + 1}"
    book.save(path)
    data = path.read_bytes()
    update = build_updated(data, "客户", [], LogAppend("跟进记录", HEADERS, {}, (ROW,)))
    assert check_appended(Package(update.data), update.appended, False) is None
    after = openpyxl.load_workbook(io.BytesIO(update.data))
    assert after["跟进记录"].auto_filter.ref == f"A1:J{followups + 2}"
    names = Package(update.data).read("xl/workbook.xml").decode()
    if "_xlnm._FilterDatabase" in Package(data).read("xl/workbook.xml").decode():
        assert f"$A$1:$J${followups + 2}" in names
