"""A small shop's day, built directly from records, for the email and mailer tests."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from pipeline import schema
from pipeline.model import Problem, Register, RepDay, State, Task

TODAY = date(2026, 11, 23)   # a Monday; the previous working day is Friday 20 November

REPS = [
    {"name": "王强", "email": "wangqiang@shop.example", "role": schema.ROLE_REP},
    {"name": "李娜", "email": "lina@shop.example", "role": schema.ROLE_REP},
    {"name": "陈刚", "email": "chengang@shop.example", "role": schema.ROLE_REP},
    {"name": "张总", "email": "boss@shop.example", "role": schema.ROLE_MANAGER},
    {"name": "赵六", "email": "zhao@shop.example", "role": schema.ROLE_REP, "active": False},
]

# customer id -> (name, rep, grade, overdue days, churn risk)
CUSTOMERS = {
    "C001": ("宏达汽修厂", "王强", "A", 3, ""),
    "C002": ("顺风车队", "王强", "B", 0, "中"),
    "C003": ("老李轮胎店", "王强", "D", 40, ""),
    "C004": ("鑫源汽配", "李娜", "A", 0, "高"),
    "C005": ("平安快修", "李娜", "C", 9, ""),
    "C006": ("路路通物流", "陈刚", "B", 0, ""),
    "C007": ("恒通4S店", "赵六", "C", 2, ""),       # rep not 在职: unassigned
    "C008": ("金桥维修", "", "D", 0, ""),            # no rep at all: unassigned
}


def customer_records(names: dict[str, str] | None = None) -> list[dict]:
    names = names or {}
    records = []
    for cid, (name, rep, grade, overdue, risk) in CUSTOMERS.items():
        records.append({
            "customer_id": cid, "name": names.get(cid, name), "rep": rep,
            "contact": "联系人" + cid[-1], "phone": "1380013800" + cid[-1],
        })
    return records


def task(cid: str, kind: str = "follow_up", rep: str | None = None, **overrides) -> Task:
    name, owner, grade, overdue, risk = CUSTOMERS[cid]
    values = dict(
        rep=owner if rep is None else rep, kind=kind, customer_id=cid, customer_name=name,
        contact="联系人" + cid[-1], phone=f"1380013800{cid[-1]} / 0755-8888000{cid[-1]}",
        grade=grade, key_account=grade == "A", due=TODAY - timedelta(days=overdue),
        overdue_days=overdue, reasons=(f"{grade}级客户", f"已逾期{overdue}天") if overdue else (f"{grade}级客户",),
        latest_note="上次说月底要一批刹车片", record_hint="记下对方要的品牌和数量",
    )
    values.update(overrides)
    return Task(**values)


def build_state(names: dict[str, str] | None = None, figures: dict | None = None) -> State:
    """The register, computed columns and each rep's day; ``names`` renames customers."""
    names = names or {}
    followups = [
        {"date": pd.Timestamp("2026-11-20"), "customer_id": "C001", "rep": "王强", "content": "报价"},
        {"date": pd.Timestamp("2026-11-21"), "customer_id": "C004", "rep": "李娜", "content": "送样"},
        {"date": pd.Timestamp("2026-11-22"), "customer_id": "C005", "rep": "", "content": "微信"},
        {"date": pd.Timestamp("2026-11-19"), "customer_id": "C002", "rep": "王强", "content": "太早"},
        {"date": pd.Timestamp("2026-11-23"), "customer_id": "C006", "rep": "陈刚", "content": "今天"},
    ]
    register = Register.from_records(customers=customer_records(names), followups=followups,
                                     reps=REPS)
    customers = register.customers.copy()
    customers["grade"] = [CUSTOMERS[c][2] for c in customers["customer_id"]]
    customers["overdue_days"] = [CUSTOMERS[c][3] for c in customers["customer_id"]]
    customers["next_follow_up"] = [pd.Timestamp(TODAY - timedelta(days=CUSTOMERS[c][3]))
                                   for c in customers["customer_id"]]
    customers["churn_risk"] = [CUSTOMERS[c][4] for c in customers["customer_id"]]

    def renamed(t: Task) -> Task:
        return Task(**{**t.__dict__, "customer_name": names.get(t.customer_id, t.customer_name)})

    days = (
        RepDay("王强", "wangqiang@shop.example", schema.ROLE_REP, tuple(map(renamed, (
            task("C001"), task("C002"), task("C003", kind="win_back"),
            task("C002", kind="care", care_event="生日（农历十月初五）", due=TODAY + timedelta(days=2),
                 overdue_days=0, reasons=("生日（农历十月初五）：2026-11-25，还有2天", "B级客户"),
                 record_hint="发了祝福就记一笔"),
        ))), over_cap=2),
        RepDay("李娜", "lina@shop.example", schema.ROLE_REP,
               tuple(map(renamed, (task("C004"), task("C005"))))),
        RepDay("陈刚", "chengang@shop.example", schema.ROLE_REP, (renamed(task("C006")),)),
        RepDay("张总", "boss@shop.example", schema.ROLE_MANAGER, (),
               unassigned=tuple(map(renamed, (task("C007", rep="", owner_rep="赵六"),
                                              task("C008", rep=""))))),
    )
    return State(register=register, today=TODAY, run_date=TODAY, customers=customers,
                 days=days, figures=figures or {})


FIGURES = {
    "customers_total": 8, "ever_bought": 6, "repeat_buyers": 4, "one_time_buyers": 2,
    "never_contacted": 1, "per_grade": {"A": 2, "B": 2, "C": 2, "D": 2, "E": 0},
    "per_state": {"潜在": 2, "现实": 5, "流失": 1}, "per_rep": {"王强": 3, "李娜": 2},
    "churn_per_rep": {"王强": {"高": 0, "中": 1}, "李娜": {"高": 1, "中": 0}},
    "revenue_by_month": [("2026-06", 12000.0), ("2026-07", 8000.0), ("2026-08", 15500.5),
                         ("2026-09", 9000.0), ("2026-10", 20000.0), ("2026-11", 4000.0)],
    "revenue_by_rep": {"王强": 40000.0, "李娜": 28500.5}, "top20_share": 0.62,
    "receivables_total": 12345.0, "receivables_customers": 2,
    "top_risks": [{"customer_id": "C004", "name": "鑫源汽配", "rep": "李娜", "churn_risk": "高",
                   "churn_reason": "平时约每7天进货一次，已有23天未进货", "expected_value": 8800.0,
                   "last_order": date(2026, 10, 31)}],
}

PROBLEMS = [
    Problem("客户", 5, "电话", "1381234", "bad_phone", "电话号码位数不对", "改成11位手机号或带区号的座机"),
    Problem("销售", 12, "日期", "2026-13-01", "bad_date", "日期不存在", "改成正确的日期", "error"),
]
