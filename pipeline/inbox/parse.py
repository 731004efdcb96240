"""Reading a rep's reply into 跟进记录 rows: a pure function of the text and its date.

Two ways of writing are understood, also mixed in one message:

- labelled lines, as the 「记录跟进」 link pre-fills them (``方式：电话`` / ``内容：…``), for
  the customer named in the subject (or on a ``客户编号`` line);
- one line per customer, starting with the customer id, the rest in any order
  (``C0015 电话 谈了下季度机油 明确 12-20``): a contact way and a need word are
  recognised as such, a date right after the need word is 预计成交 and any other date is
  下次跟进, ``4分`` / ``满意度4`` is the satisfaction, every other word is the 内容.

Forgiving as people type on phones: full-width colons, digits and letters, labels
with or without the colon, any order, Chinese or English labels, dates as the
register reader accepts them plus 今天 / 明天 / 后天 / 下周一 / 周五 / 12-20 / 12月20日 /
3天后 relative to the message's date.  Quoted text of the original email is ignored.
What cannot be read is returned as (line, what-was-wrong) pairs, never guessed at.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pipeline import schema
from pipeline.inbox.days import fold, parse_day
from pipeline.read.cells import NEED_WORDS

# Field ids of a follow-up row a reply may fill, in the order the link pre-fills them.
REPLY_FIELDS = ("method", "content", "need", "expected_close", "satisfaction", "next_follow_up")
DATE_FIELDS = ("date", "expected_close", "next_follow_up")
# Words that name the way of contact: a free line's word is the 方式 when it is one of these.
METHODS = {"电话": "电话", "電話": "电话", "打电话": "电话", "来电": "电话", "拜访": "拜访", "拜訪": "拜访",
           "上门": "上门", "上門": "上门", "到店": "到店", "来店": "到店", "微信": "微信", "短信": "短信",
           "邮件": "邮件", "郵件": "邮件", "面谈": "面谈", "面談": "面谈", "视频": "视频", "视频会议": "视频",
           "qq": "QQ", "whatsapp": "WhatsApp", "phone": "phone", "call": "call", "visit": "visit",
           "wechat": "WeChat", "email": "email", "sms": "SMS", "meeting": "meeting", "video": "video"}
# The English contact words as a Chinese register writes them (电话, not "phone").
_METHODS_IN_CHINESE = {"phone": "电话", "call": "电话", "visit": "拜访", "WeChat": "微信", "email": "邮件",
                       "SMS": "短信", "meeting": "面谈", "video": "视频"}


def in_chinese(method: str | None) -> str | None:
    """A recognised English contact word in the Chinese register's words; others as typed."""
    return _METHODS_IN_CHINESE.get(method, method) if method else method


# Extra spellings of the labels, beyond the register's own headers (schema) and the
# labels the link uses (templates/messages/inbox.toml); compared NFKC-folded, lower-case.
LABEL_SYNONYMS = {
    "method": ("跟进方式", "联系方式"),
    "content": ("跟进内容", "notes"),
    "need": ("客户需求",),
    "expected_close": ("成交日期", "预计成交日期", "expected close"),
    "satisfaction": ("满意程度", "rating"),
    "next_follow_up": ("下次联系", "下次跟进日期", "next follow-up", "next follow up", "next contact"),
    "date": ("跟进日期", "联系日期"),
    "customer_id": ("customer id", "customer"),
}
_QUOTE_STARTS = re.compile(
    r"^(?:-{2,}.*(?:原始邮件|原始郵件|original message|forwarded message).*"
    r"|_{5,}.*|on .+ wrote:?|在.+写道[:：]?|.+於.+寫道[:：]?"
    r"|(?:发件人|發件人|寄件者|from)\s*[:：].*)$", re.IGNORECASE)
_SATISFACTION = re.compile(r"^([1-5])(?:\.0)?\s*(?:分|stars?|/5)?$")
_ID_LIKE = re.compile(r"^[A-Za-z]{1,4}-?\d{2,}$")
_SPLIT = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class Reply:
    """What a message says: rows (field id -> value) and what could not be read."""
    rows: tuple[dict, ...] = ()
    not_understood: tuple[tuple[str, str], ...] = ()   # (the line as typed, problem code)
    ignored: tuple[str, ...] = ()                       # lines that were no record (greetings…)


@dataclass
class _Row:
    customer_id: str
    values: dict = field(default_factory=dict)
    content: list = field(default_factory=list)


def labels(extra: dict[str, tuple[str, ...]] | None = None) -> list[tuple[str, str]]:
    """(label, field id), longest label first: the register's headers, their synonyms and
    ``extra`` (the link's labels in both languages)."""
    found = {}
    for spec_field in schema.FOLLOWUPS.fields:
        for alias in spec_field.aliases():
            found[fold(alias).lower()] = spec_field.name
    for name, words in list(LABEL_SYNONYMS.items()) + list((extra or {}).items()):
        for word in words:
            found.setdefault(fold(word).lower(), name)
    found.pop("rep", None)          # the rep is the sender, never typed
    found.pop("业务员", None)
    return sorted(found.items(), key=lambda item: -len(item[0]))


def body_lines(text: str) -> list[str]:
    """The lines the sender wrote: quoted text of the original email left out."""
    lines = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line, folded = raw.strip(" \t\u3000\xa0"), fold(raw)
        if folded.startswith(">"):
            continue
        if _QUOTE_STARTS.match(folded):
            break
        if line:
            lines.append(line)     # as typed: 内容 keeps its full-width commas
    return lines


def parse_reply(subject: str, text: str, sent: date, customer_ids,
                label_words: dict[str, tuple[str, ...]] | None = None) -> Reply:
    """The follow-up rows in a reply sent on ``sent``; ids are matched case-insensitively
    (``customer_ids``: the ids, or a ready {ID.upper(): id} mapping when reading many)."""
    ids = customer_ids if isinstance(customer_ids, dict) else id_lookup(customer_ids)
    table = labels(label_words)
    subject_id = _customer_in(fold(subject), ids)
    labelled: _Row | None = None
    rows: list[_Row] = []
    bad: list[tuple[str, str]] = []
    ignored: list[str] = []
    last_field = ""
    for line in body_lines(text):
        found = _label(line, table)
        if found is not None:
            name, value = found
            if labelled is None:
                labelled = _Row(subject_id or "")
            last_field = name
            problem = _set_labelled(labelled, name, value, sent, ids)
            if problem:
                bad.append((line, problem))
            continue
        first = fold(_SPLIT.split(line, maxsplit=1)[0])
        if first.upper() in ids or _ID_LIKE.match(first):
            last_field = ""
            row, problems = _free_line(line, sent, ids, table)
            bad += [(line, p) for p in problems]
            if row is not None:
                rows.append(row)
        elif labelled is not None and last_field == "content":
            labelled.content.append(line)     # 内容 carried on over the next lines
        else:
            ignored.append(line)
    if labelled is not None:
        if not labelled.customer_id:
            bad.append((subject, "no_customer"))
        elif _filled(labelled):
            rows.insert(0, labelled)
    if not rows and not bad:
        bad.append(("", "nothing_found"))
    return Reply(tuple(_finish(r, sent) for r in rows), tuple(bad), tuple(ignored))


def id_lookup(customer_ids) -> dict[str, str]:
    return {cid.upper(): cid for cid in customer_ids}


def _customer_in(text: str, ids: dict[str, str]) -> str | None:
    for token in re.split(r"[^0-9A-Za-z_-]+", text):
        if token.upper() in ids:
            return ids[token.upper()]
    return None


def _label(line: str, table: list[tuple[str, str]]) -> tuple[str, str] | None:
    low = fold(line).lower()
    for label, name in table:
        if low.startswith(label):
            rest = line[_typed_length(line, label):]
            if rest[:1] in (":", "：", "﹕"):
                return name, rest[1:].strip()
            # Without a colon, only when a space or a non-letter follows (需求明确 / 内容 谈了).
            if not rest or rest[:1].isspace() or not (label.isascii() and rest[:1].isascii() and rest[:1].isalnum()):
                return name, rest.strip()
    return None


def _typed_length(line: str, label: str) -> int:
    """How many characters of ``line`` as typed make up the (folded) ``label``."""
    for end in range(len(label), len(line) + 1):
        if fold(line[:end]).lower() == label:
            return end
    return len(label)


def _set_labelled(row: _Row, name: str, value: str, sent: date, ids: dict[str, str]) -> str:
    if name == "customer_id":
        cid = ids.get(fold(value).upper().replace(" ", ""))
        if value and cid is None:
            return "unknown_customer"
        row.customer_id = cid or row.customer_id
        return ""
    if name == "content":
        if value:
            row.content.append(value)
        return ""
    if not value:
        return ""
    parsed, problem = read_value(name, value, sent)
    if problem:
        return problem
    row.values[name] = parsed
    return ""


def read_value(name: str, value: str, sent: date):
    """(value, "") or (None, problem code) for one typed field."""
    value = value if name == "content" else fold(value)
    if name in DATE_FIELDS:
        day = parse_day(value, sent)
        return (day, "") if day else (None, "bad_date")
    if name == "need":
        need = NEED_WORDS.get(value.lower().removesuffix("需求"))
        return (need, "") if need else (None, "bad_need")
    if name == "satisfaction":
        match = _SATISFACTION.match(value.lower())
        return (float(match.group(1)), "") if match else (None, "bad_satisfaction")
    if name == "method":
        return METHODS.get(value.lower(), value), ""
    return value, ""


def _free_line(line: str, sent: date, ids: dict[str, str], table) -> tuple[_Row | None, list[str]]:
    first, *words = _SPLIT.split(line)
    cid = ids.get(fold(first).upper())
    if cid is None:
        return None, ["unknown_customer"]
    row, problems, after_need = _Row(cid), [], False
    for word in words:
        labelled = _label(word, table)
        # Inside a line a label counts only with its value glued on (满意度4, 下次跟进:12-20).
        if labelled is not None and labelled[1] and labelled[0] not in ("customer_id", "content", "date"):
            name, value = labelled
            parsed, problem = read_value(name, value, sent)
            problems += [problem] if problem else []
            row.values[name] = parsed
            after_need = False
            continue
        low = fold(word).lower()
        day = parse_day(word, sent)
        if day is not None:
            name = "expected_close" if after_need and "expected_close" not in row.values else "next_follow_up"
            if name in row.values:
                name = "expected_close" if "expected_close" not in row.values else None
            if name is None:
                row.content.append(word)
            else:
                row.values[name] = day
        elif low in METHODS and "method" not in row.values:
            row.values["method"] = METHODS[low]
        elif low.removesuffix("需求") in NEED_WORDS and "need" not in row.values and low not in ("no",):
            row.values["need"] = NEED_WORDS[low.removesuffix("需求")]
            after_need = True
            continue
        elif _SATISFACTION.match(low) and not low.isdigit() and "satisfaction" not in row.values:
            row.values["satisfaction"] = float(_SATISFACTION.match(low).group(1))
        else:
            row.content.append(word)
        after_need = False
    if not _filled(row) and not problems:
        problems.append("nothing_found")
    return (row if not problems else None), problems


def _filled(row: _Row) -> bool:
    return bool(row.content) or any(row.values.get(f) is not None for f in REPLY_FIELDS)


def _finish(row: _Row, sent: date) -> dict:
    out = {"date": row.values.get("date") or sent, "customer_id": row.customer_id}
    for name in REPLY_FIELDS:
        out[name] = " ".join(row.content) if name == "content" else row.values.get(name)
    return out
