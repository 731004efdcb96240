"""Reading one column of raw cells into clean values, and saying which cells are bad.

Each reader takes a Series of raw cell values as python-calamine gives them (str,
float, int, bool, date, datetime, time; "" for empty) and returns ``(values, bad)``:
``values`` normalised per the conventions of ``pipeline.model``, and ``bad`` a Series of
problem kinds ("" where the cell is fine or empty).  A bad cell's value is empty.
Vectorised where the volume is (dates, amounts, ids in 500,000-row logs).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.addresses import mail_address

EXCEL_EPOCH = np.datetime64("1899-12-30")
EXCEL_EPOCH_1904 = np.datetime64("1904-01-01")   # workbooks saved with the 1904 date system (old Mac Excel)
SERIAL_MIN, SERIAL_MAX = 32874, 73415          # 1990-01-01 .. 2100-12-31
YMD_MIN, YMD_MAX = 19000101, 21001231
YEAR_MIN, YEAR_MAX = schema.YEAR_MIN, schema.YEAR_MAX   # a date outside is reported and ignored
SPACES = re.compile(r"[\s\u3000]+")

DATE_PATTERNS = (   # year, month, day; optional time after the date is ignored
    r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$",
    r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?$",
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$",
)
DATE_REGEX = "|".join(f"(?:{p})" for p in DATE_PATTERNS).replace("?P<y>", "").replace("?P<m>", "").replace("?P<d>", "")
PHONE_PART = re.compile(r"^(?:\+?86-?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?|\d{7,8}|[48]00-?\d{3}-?\d{4})$")
PHONE_SPLIT = re.compile(r"\s*[/;；]\s*")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
NEED_WORDS = {"明确": "明确", "明確": "明确", "clear": "明确",
              "潜在": "潜在", "潛在": "潜在", "latent": "潜在",
              "无": "无", "無": "无", "none": "无", "no": "无"}
# 在职 is read strictly (the README lists these words): anything else is a problem and
# counts as NOT employed, so a departed rep's customers go to the 主管 (privacy wins).
YES = {"是", "y", "yes", "true", "1", "在职", "在職", "在岗", "在崗", "√", "✓", "✔"}
NO = {"否", "n", "no", "false", "0", "离职", "離職", "已离职", "已離職", "不在职", "不在職",
      "停用", "辞职", "辭職", "已辞职", "已辭職", "×", "✗", "✘"}
# Runs of spaces and line breaks (Alt+Enter in Excel) inside a name; and between two
# Chinese characters, where a name never has a space.
_NAME_SPACES = re.compile(r"\s+")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff]) (?=[\u3400-\u9fff\uf900-\ufaff])")
ROLES = {"业务员": schema.ROLE_REP, "業務員": schema.ROLE_REP, "rep": schema.ROLE_REP, "sales": schema.ROLE_REP,
         "主管": schema.ROLE_MANAGER, "manager": schema.ROLE_MANAGER, "owner": schema.ROLE_MANAGER,
         "老板": schema.ROLE_MANAGER, "经理": schema.ROLE_MANAGER, "經理": schema.ROLE_MANAGER}


def display(value) -> str:
    """A raw cell as the user would recognise it in a problem report."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))   # beyond 15 digits Excel itself shows 1E+308, not 309 digits
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time() else value.strftime("%Y-%m-%d")
    return "" if value is None else str(value)


STRIP = " \t\r\n\u3000"


def clean_text(value) -> str:
    """Text with stray spaces removed at the ends (inside the text is the user's own)."""
    if value.__class__ is str:
        return value.strip(STRIP)
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))   # beyond 15 digits Excel itself shows 1E+308, not 309 digits
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.strftime("%Y-%m-%d")
    return str(value).strip(STRIP)


def clean_code(value) -> str:
    """Ids, phone numbers, grades: full-width forms folded (Ａ→A, １→1), no spaces."""
    if value.__class__ is str and (not value or (value.isprintable() and " " not in value
                                                 and unicodedata.is_normalized("NFKC", value))):
        return value        # the common case ("C0001", "明确", empty) needs no work
    return SPACES.sub("", unicodedata.normalize("NFKC", clean_text(value)))


def each(function, raw: pd.Series) -> pd.Series:
    """``function`` applied to every cell; a plain loop is several times faster than Series.map."""
    return pd.Series([function(v) for v in raw.tolist()], index=raw.index, dtype=object)


def _result(values: pd.Series, bad: pd.Series) -> tuple[pd.Series, pd.Series]:
    return values, bad.astype(object)


def read_text(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _result(each(clean_text, raw), pd.Series("", index=raw.index))


EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}


def read_id(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """An Excel error (#N/A from a failed lookup) is no id: the row is reported as missing one."""
    ids = each(clean_code, raw)
    return _result(ids.where(~ids.str.upper().isin(EXCEL_ERRORS), ""), pd.Series("", index=raw.index))


def read_dates(raw: pd.Series, date1904: bool = False) -> tuple[pd.Series, pd.Series]:
    """Real dates, Excel serials, yyyymmdd numbers, and dates typed as text.

    ``date1904``: the workbook counts serial numbers from 1904 (its workbookPr says so).
    A date whose year is outside YEAR_MIN..YEAR_MAX is "bad_year" and left empty.
    """
    kind = each(_date_kind, raw)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    far = pd.Series(False, index=raw.index)
    is_date = kind == "date"
    if is_date.any():
        real = each(_as_date, raw[is_date])
        far[is_date] = [not YEAR_MIN <= d.year <= YEAR_MAX for d in real.tolist()]
        near = is_date & ~far
        if near.any():   # converted only when in range: pandas cannot hold year 3026
            out[near] = pd.to_datetime(real[near[is_date]]).astype("datetime64[ns]")
    is_num = kind == "num"
    if is_num.any():
        out[is_num], far[is_num] = _dates_from_numbers(raw[is_num].astype(float), date1904)
    is_str = kind == "str"
    if is_str.any():
        out[is_str], far[is_str] = _dates_from_text(each(clean_code, raw[is_str]).astype(str))
    bad = pd.Series("", index=raw.index, dtype=object)
    bad[(kind != "empty") & out.isna()] = "bad_date"
    bad[far] = "bad_year"
    return out, bad


def _date_kind(value) -> str:
    if value == "" or value is None:
        return "empty"
    if isinstance(value, (dt.date, dt.datetime)):
        return "date"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "num"
    if isinstance(value, str):
        return "empty" if not value.strip(" \u3000") else "str"
    return "other"


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _dates_from_numbers(numbers: pd.Series, date1904: bool = False) -> tuple[pd.Series, pd.Series]:
    """(dates, far): ``far`` marks an 8-digit yyyymmdd number whose year is out of range."""
    values = numbers.to_numpy()
    whole = np.floor(values)
    eight = (whole == values) & (values >= 10000101) & (values <= 99991231)
    year = np.where(eight, whole // 10000, 0)
    far = eight & ((year < YEAR_MIN) | (year > YEAR_MAX)) & (whole % 10000 // 100 >= 1) & (whole % 10000 // 100 <= 12)
    ymd = eight & (values >= YMD_MIN) & (values <= YMD_MAX)
    serial = ~ymd & ~far & (values >= SERIAL_MIN) & (values < SERIAL_MAX + 1)
    result = pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[ns]")
    if ymd.any():
        result[ymd] = pd.to_datetime(pd.Series(whole[ymd].astype(np.int64).astype(str), index=numbers.index[ymd]),
                                     format="%Y%m%d", errors="coerce")
    if serial.any():
        days = whole[serial].astype("timedelta64[D]")
        result[serial] = ((EXCEL_EPOCH_1904 if date1904 else EXCEL_EPOCH) + days).astype("datetime64[ns]")
    return result, pd.Series(far, index=numbers.index)


def _dates_from_text(texts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(dates, far): ``far`` marks a date typed with a year out of range (3026-03-05)."""
    parts = texts.str.extract(DATE_REGEX)
    # The alternatives each have (y, m, d): take whichever alternative matched.
    ymd = [parts.iloc[:, i::3].bfill(axis=1).iloc[:, 0] for i in range(3)]
    frame = pd.DataFrame({"year": ymd[0], "month": ymd[1], "day": ymd[2]}).astype(float)
    far = (frame["year"] < YEAR_MIN) | (frame["year"] > YEAR_MAX)
    frame.loc[far, "year"] = np.nan   # pandas cannot hold year 3026: never hand it over
    return pd.to_datetime(frame, errors="coerce").astype("datetime64[ns]"), far


def read_amounts(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Money: numbers, or text like "1,200" / "¥1200元"; negative amounts are bad."""
    def one(value):
        if value == "" or value is None:
            return np.nan
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        s = clean_code(value).replace(",", "").replace("¥", "").replace("￥", "").removesuffix("元")
        try:
            return float(s)
        except ValueError:
            return "bad"
    parsed = each(one, raw)
    bad = pd.Series("", index=raw.index, dtype=object)
    bad[each(lambda v: isinstance(v, str), parsed).astype(bool)] = "bad_number"
    values = pd.to_numeric(parsed.where(bad == "", np.nan), errors="coerce").astype(float)
    bad[values < 0] = "negative_amount"
    return values.where(values >= 0), bad


def _read_words(raw: pd.Series, one, kind: str, empty="") -> tuple[pd.Series, pd.Series]:
    """Cells that must be one of a few words: ``one`` maps cleaned text to a value or None."""
    cleaned = each(clean_code, raw)
    values = pd.Series([empty if s == "" else one(s) for s in cleaned.tolist()], index=raw.index, dtype=object)
    bad = pd.Series("", index=raw.index, dtype=object)
    bad[(cleaned != "") & values.isna()] = kind
    return values.where(values.notna(), empty).astype(object), bad


def read_phone(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    cleaned = each(clean_code, raw)
    ok = each(lambda s: s == "" or all(PHONE_PART.match(p) for p in PHONE_SPLIT.split(s) if p), cleaned).astype(bool)
    bad = pd.Series("", index=raw.index, dtype=object)
    bad[~ok] = "bad_phone"
    return cleaned.astype(object), bad   # an odd phone is still shown to the rep as typed


def read_name(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A person's name: a line break or a run of spaces is one space (none between Chinese
    characters), full-width letters folded, so "王\n强" in 业务员 matches "王强" in 客户."""
    return _result(each(clean_name, raw), pd.Series("", index=raw.index))


def clean_name(value) -> str:
    name = clean_text(value)
    if name.isprintable() and " " not in name and unicodedata.is_normalized("NFKC", name):
        return name
    name = _NAME_SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip()
    return _CJK_GAP.sub("", name)


def read_email(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """An address the mail library can send to: our own shape check, then email-validator's
    (no DNS lookup; no non-ASCII before the @, which most servers cannot take)."""
    cleaned = each(clean_code, raw)
    checked: dict[str, str | None] = {}

    def one(s: str) -> str | None:
        if s not in checked:
            checked[s] = _valid_address(s)
        return checked[s]
    return _read_words(cleaned, one, "bad_email")


def _valid_address(s: str) -> str | None:
    return mail_address(s) if EMAIL.match(s) else None


def read_grade(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    def one(s):
        g = s.upper().removesuffix("级").removesuffix("級").removesuffix("类")
        return g if g in schema.GRADES else None
    return _read_words(raw, one, "bad_grade")


def read_need(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _read_words(raw, lambda s: NEED_WORDS.get(s.lower()), "bad_need")


def read_satisfaction(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    def one(s):
        try:
            v = float(s.removesuffix("分"))
        except ValueError:
            return None
        return v if 1 <= v <= 5 else None
    values, bad = _read_words(raw, one, "bad_satisfaction", empty=np.nan)
    return values.astype(float), bad


def read_yesno(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """是/否 (empty = 是); a word not in YES or NO is a problem and reads as 否."""
    def one(s):
        return True if s.lower() in YES else False if s.lower() in NO else None
    values, bad = _read_words(raw, one, "bad_yesno", empty=True)
    return values.where(bad == "", False).astype(bool), bad


def read_role(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _read_words(raw, lambda s: ROLES.get(s.lower()), "bad_role", empty=schema.ROLE_REP)


READERS = {"text": read_text, "id": read_id, "rep": read_name, "date": read_dates, "amount": read_amounts,
           "phone": read_phone, "email": read_email, "grade": read_grade, "need": read_need,
           "satisfaction": read_satisfaction, "yesno": read_yesno, "role": read_role, "birthday": read_text}
