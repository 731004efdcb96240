"""How long 1,000 replies in the follow-up mailbox take: fetched, parsed, journalled, moved,
and written into a big shop's register (issue 13).

Starts a real IMAP server (pymap, in memory) on 127.0.0.1, delivers 1,000 replies from
the register's reps for their own customers (half one line per customer, half the
「记录跟进」 link's labelled form), then times, on the register:
  * the mailbox pass (mailbox.take_in): connect, fetch, parse, authorise, journal, move;
  * the write-back of the accepted rows (update_register with only the appended log rows:
    backup, checks, streaming the 跟进记录 sheet, verify, atomic replace).
Reading and validating the register is the nightly run's own step and is not counted.

    python benchmarks/bench_inbox.py [REGISTER.xlsx] [--replies 1000]

Without a register, a 50,000-customer one is generated (benchmarks/make_register.py).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import mailbox  # noqa: E402
from pipeline.config import Config, InboxConfig  # noqa: E402
from pipeline.read import read_workbook, validate  # noqa: E402
from pipeline.writeback.update import snapshot, update_register  # noqa: E402
from tests.imap_server import PASSWORD, USER, deliver, imap_server, reply  # noqa: E402

TODAY = date(2026, 11, 23)


def replies(register, count: int, night: int = 1) -> list[bytes]:
    customers = register.customers[~register.customers["blocked"]]
    reps = register.reps[(register.reps["email"] != "") & register.reps["active"]
                         & register.reps["name"].isin(set(customers["rep"]))]
    out = []
    for i in range(count):
        rep = reps.iloc[i % len(reps)]
        mine = customers[customers["rep"] == rep["name"]]
        cid = mine["customer_id"].iloc[(i * 7) % len(mine)]
        when = datetime.combine(TODAY - timedelta(days=3 - night), datetime.min.time()) + timedelta(minutes=i)
        if i % 2:
            body = f"{cid} 电话 谈了下季度机油，要报价 明确 12-20 满意度4\n\n发自我的iPhone"
            subject = "Re: 今日跟进"
        else:
            body = "方式：拜访\n内容：送了样品\n需求：潜在\n预计成交：\n满意度：\n下次跟进：下周一\n"
            subject = f"记录跟进 {cid}"
        out.append(reply(rep["email"], subject, body, when=when, message_id=f"<bench-{night}-{i}@phone.example>"))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("register", nargs="?", type=Path)
    parser.add_argument("--replies", type=int, default=1000)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    register_path = work / "register.xlsx"
    if args.register:
        shutil.copyfile(args.register, register_path)
    else:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_register.py"), str(register_path),
                        "--customers", "50000", "--rows", "500000", "--as-of", TODAY.isoformat()], check=True)
    config = Config()
    sheets = read_workbook(register_path)
    register, _ = validate(sheets, config, TODAY)
    with imap_server() as port:
        config = Config(inbox=InboxConfig(address="followup@shop.example", host="127.0.0.1", port=port,
                                           security="none", user=USER, password_env="P"))
        messages = replies(register, args.replies)
        deliver(port, *messages)
        started = time.perf_counter()
        merged, run = mailbox.take_in(config, register, sheets, work / "output", TODAY, {"P": PASSWORD}, None)
        fetched = time.perf_counter() - started
    print(f"mailbox pass: {run.facts['new']} replies, {run.facts['accepted']} accepted, "
          f"{run.facts['refused']} refused, {len(run.rows)} rows: {fetched:.1f} s")
    log = mailbox.log_rows(merged, run)
    started = time.perf_counter()
    result = update_register(register_path, merged.sheet_name("customers"), [], read_snapshot=snapshot(register_path),
                             backup_dir=work / "backups", keep_backups=1, stamp=TODAY.isoformat(), log=log)
    written = time.perf_counter() - started
    print(f"write-back of {len(log.rows)} rows into 跟进记录 ({len(register.followups):,} rows before): "
          f"{result.status} in {written:.1f} s")
    print(f"total: {fetched + written:.1f} s for {args.replies} replies")
    # The next night: the log has its 来源 column now; another batch goes under it.
    journal = work / "output" / "inbox" / "journal.jsonl"
    journal.unlink()
    sheets = read_workbook(register_path)
    register, _ = validate(sheets, Config(), TODAY)
    with imap_server() as port:
        config = Config(inbox=InboxConfig(address="followup@shop.example", host="127.0.0.1", port=port,
                                           security="none", user=USER, password_env="P"))
        deliver(port, *replies(register, args.replies, night=2))
        started = time.perf_counter()
        merged, run = mailbox.take_in(config, register, sheets, work / "output", TODAY, {"P": PASSWORD}, None)
        result = update_register(register_path, merged.sheet_name("customers"), [],
                                 read_snapshot=snapshot(register_path), backup_dir=work / "backups",
                                 keep_backups=1, stamp=TODAY.isoformat(), log=mailbox.log_rows(merged, run))
    print(f"next night, another {args.replies}: {result.status}, {time.perf_counter() - started:.1f} s in all")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if result.status == "written" else 1


if __name__ == "__main__":
    sys.exit(main())
