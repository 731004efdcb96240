"""The register's format (spec §2): its sheets, their fields, and the headers staff may type.

Every field has an English id (used in code and as the English alias), the Simplified
Chinese default header, and the Traditional Chinese alias.  ``kind`` tells the
validator how to read a cell.  config.toml may add more aliases per sheet.
"""
from __future__ import annotations

from dataclasses import dataclass

# The years a date in the register (and --date) may have: outside, the year is a typo
# (3026 for 2026).  Also keeps every date + interval far inside pandas' range (to 2262).
YEAR_MIN, YEAR_MAX = 1900, 2100


@dataclass(frozen=True)
class Field:
    name: str
    header: str
    traditional: str
    kind: str = "text"
    required: bool = False
    more: tuple[str, ...] = ()    # other spellings shops use (微信 for 微信号)

    def aliases(self) -> tuple[str, ...]:
        return (self.header, self.traditional, self.name, *self.more)


@dataclass(frozen=True)
class SheetSpec:
    key: str                      # customers / followups / orders / reps
    names: tuple[str, ...]        # Simplified, Traditional, English sheet names
    fields: tuple[Field, ...]
    optional: bool = False

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


CUSTOMERS = SheetSpec("customers", ("客户", "客戶", "Customers"), (
    Field("customer_id", "客户编号", "客戶編號", "id", required=True),
    Field("name", "客户名称", "客戶名稱", "text", required=True),
    Field("kind", "客户类型", "客戶類型"),
    Field("contact", "联系人", "聯繫人"),
    Field("phone", "电话", "電話", "phone"),
    Field("wechat", "微信号", "微信號", more=("微信", "WeChat", "微信ID")),
    Field("email", "邮箱", "郵箱", "email"),
    Field("region", "地区", "地區"),
    Field("vehicles", "主营车型", "主營車型"),
    Field("rep", "业务员", "業務員", "rep"),
    Field("need", "需求", "需求", "need"),
    Field("expected_close", "预计成交", "預計成交", "date"),
    Field("birthday", "生日", "生日", "birthday"),
    Field("snooze_until", "暂缓至", "暫緩至", "date"),
    Field("grade_override", "人工等级", "人工等級", "grade"),
    Field("created", "建档日期", "建檔日期", "date"),
    Field("notes", "备注", "備註"),
    # Read when present (a value left by an earlier run or another system), rewritten nightly.
    Field("last_contact", "最近联系", "最近聯繫", "date"),
))

# Columns the pipeline owns on the customer sheet, in the order they are appended.
COMPUTED = (
    Field("grade", "等级", "等級", "grade"),
    Field("lifecycle", "客户状态", "客戶狀態"),
    Field("key_account", "重点客户", "重點客戶"),
    Field("last_contact", "最近联系", "最近聯繫", "date"),
    Field("next_follow_up", "下次跟进", "下次跟進", "date"),
    Field("overdue_days", "逾期天数", "逾期天數", "int"),
    Field("churn_risk", "流失风险", "流失風險"),
    Field("churn_reason", "风险原因", "風險原因"),
    Field("completeness", "档案完整度", "檔案完整度", "percent"),
    Field("overdue_receivable", "欠款", "欠款", "money"),
)

FOLLOWUPS = SheetSpec("followups", ("跟进记录", "跟進記錄", "FollowUps"), (
    Field("date", "日期", "日期", "date", required=True),
    Field("customer_id", "客户编号", "客戶編號", "id", required=True),
    Field("rep", "业务员", "業務員", "rep"),
    Field("method", "方式", "方式"),
    Field("content", "内容", "內容"),
    Field("need", "需求", "需求", "need"),
    Field("expected_close", "预计成交", "預計成交", "date"),
    Field("satisfaction", "满意度", "滿意度", "satisfaction"),
    Field("next_follow_up", "下次跟进", "下次跟進", "date"),
), optional=True)

ORDERS = SheetSpec("orders", ("销售", "銷售", "Sales"), (
    Field("date", "日期", "日期", "date", required=True),
    Field("customer_id", "客户编号", "客戶編號", "id", required=True),
    Field("order_no", "单号", "單號", "id"),
    Field("amount", "金额", "金額", "amount", required=True),
    Field("received", "已收金额", "已收金額", "amount"),
    Field("due_date", "应收日期", "應收日期", "date"),
), optional=True)

REPS = SheetSpec("reps", ("业务员", "業務員", "Reps"), (
    Field("name", "姓名", "姓名", "rep", required=True),   # read as the 业务员 columns are
    Field("email", "邮箱", "郵箱", "email"),
    Field("role", "角色", "角色", "role"),
    Field("active", "在职", "在職", "yesno"),
))

SHEETS = (CUSTOMERS, FOLLOWUPS, ORDERS, REPS)

# The nine profile fields counted by 档案完整度 (spec §2).
PROFILE_FIELDS = ("name", "kind", "contact", "phone", "region", "vehicles", "rep", "need", "birthday")

NEEDS = ("明确", "潜在", "无")
GRADES = ("A", "B", "C", "D", "E")
# 客户状态 (spec §3.3), as written into the register.
POTENTIAL, ACTIVE, LOST = "潜在", "现实", "流失"
ROLE_REP, ROLE_MANAGER = "业务员", "主管"
