"""Issue 11, the mail part: one recipient's failure is that recipient's, no email goes
twice or to the wrong person, and nothing a typo puts in config.toml is echoed.

End to end through run.py in a child process, with a real aiosmtpd server (or a raw
asyncio server that trickles), real .xlsx files and, for the full disk, a real tmpfs.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.mail.outbox import outbox_name
from pipeline.read import cells
from tests.register_builder import customer, minimal_register
from tests.smtp_server import free_port, smtp_server

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-23"
BOSS = ["陈总", "boss@example.com", "主管", "是"]


def cli(tmp_path: Path, register: Path, *, output: Path | None = None, mail: str = "", env=None,
        timeout: float = 120, extra=()) -> subprocess.CompletedProcess:
    """``python run.py`` as the shop runs it, with its own config.toml."""
    config = tmp_path / "config.toml"
    config.write_text("[register]\ncreate_demo_if_missing = false\n" + mail, encoding="utf-8")
    output = output or tmp_path / "out"
    environ = {k: v for k, v in os.environ.items() if k != "SHOP_MAIL_PASSWORD"} | (env or {})
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "--config", str(config), "--date", DAY,
                           "--register", str(register), "--output", str(output), *extra],
                          capture_output=True, text=True, timeout=timeout, env=environ, cwd=ROOT, check=False)


def mail_section(port: int, **extra) -> str:
    values = {"host": "127.0.0.1", "port": port, "security": "none", "from_address": "crm@example.com",
              "retries": 0, "timeout_seconds": 5, **extra}
    return "[mail]\n" + "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in values.items())


def summary(output: Path) -> dict:
    return json.loads((output / DAY / "summary.json").read_text(encoding="utf-8"))


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def problems_sheet(output: Path) -> list[tuple]:
    book = openpyxl.load_workbook(output / DAY / "report.xlsx", read_only=True)
    return [row for row in book["数据问题"].iter_rows(min_row=2, values_only=True)]


def due(cid: str, name: str, rep: str) -> list:
    """A customer due today (never contacted)."""
    return customer(cid, name, rep=rep, 需求="无", 建档日期=dt.date(2026, 1, 5))


# --- 1. rep rows the email library rejects ----------------------------------------

@pytest.mark.parametrize("address, ok", [
    ("wangqiang@example.com", True),
    ("wang.qiang+crm@qq.com", True),
    ("a@b..com", False),
    ("a@qq,com.cn", False),
    ("a,b@example.com", False),
    ('"a,b"@example.com', False),
    ("张伟@shop.example", False),     # non-ASCII before the @: most servers cannot take it
    ("a@localhost", False),
    ("a@@example.com", False),
    # a shop's own mail server on an internal name: the mail library and the server take it
    # (email-validator alone refuses special-use names as not globally deliverable)
    ("wangqiang@shop.local", True),
    ("wangqiang@mail.shop.test", True),
    ("WangQiang@Shop.LOCAL", True),
])
def test_addresses_are_checked_as_the_mail_library_will_use_them(address, ok):
    values, bad = cells.read_email(pd.Series([address]))
    assert (bad.iat[0] == "") is ok
    assert (values.iat[0] != "") is ok


ADDRESS_CHARS = st.sampled_from(list("ab.@,;:<>\"' \n\t()[]\\+-_张伟１") + ["qq.com", "example.com", "@qq.com"])


@settings(max_examples=300, deadline=None)
@given(st.lists(ADDRESS_CHARS, max_size=12).map("".join), st.text(max_size=12))
def test_every_address_and_name_the_reader_accepts_makes_a_message(address, name):
    """The class, not the cases: whatever passes the read-time check can be put in a
    message's To header, with whatever the 姓名 cell held."""
    from email.headerregistry import Address
    from email.message import EmailMessage
    values, bad = cells.read_email(pd.Series([address]))
    names, _ = cells.read_name(pd.Series([name]))
    if bad.iat[0] or not values.iat[0]:   # refused (a located problem) or empty: no address
        return
    msg = EmailMessage()
    msg["To"] = Address(display_name=names.iat[0], addr_spec=values.iat[0])
    assert values.iat[0].encode("ascii") and msg.as_bytes()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=300), min_size=2, max_size=6, unique=True))
def test_outbox_names_never_collide_and_stay_short(names):
    found = [outbox_name(f"{DAY}/rep/{n}") for n in names]
    assert len({f.casefold() for f in found}) == len(names)
    assert all(len((f + ".html").encode("utf-8")) <= 255 for f in found)
    assert all(not set(f) & set('\\/:*?"<>|\0') for f in found)


@pytest.mark.parametrize("typed, read", [
    ("王强", "王强"), ("王\n强", "王强"), ("王\r\n强 ", "王强"), ("王　强", "王强"),
    ("John\nSmith", "John Smith"), ("John   Smith", "John Smith"), ("Ｌｉｌｙ", "Lily"),
])
def test_a_line_break_in_a_name_is_read_as_the_name(typed, read):
    values, bad = cells.read_name(pd.Series([typed]))
    assert values.iat[0] == read and bad.iat[0] == ""


def test_bad_rep_rows_cost_only_their_own_email(tmp_path):
    """Old code: the first bad address raised while its message was built; that rep,
    every rep after them and the 主管 got nothing and the run exited 1."""
    reps = [["王强", "a@b..com", "业务员", "是"], ["李娜", "a@qq,com.cn", "业务员", "是"],
            ["张伟", "张伟@shop.example", "业务员", "是"], ["赵六", "zhao,liu@example.com", "业务员", "是"],
            ["刘\n洋", "liuyang@example.com", "业务员", "是"], ["周七", "zhouqi@example.com", "业务员", "是"],
            BOSS]
    customers = [due("C1", "鑫达汽修厂", "王强"), due("C2", "顺通车队", "刘洋"), due("C3", "平安快修", "周七")]
    register = minimal_register(tmp_path / "台账.xlsx", customers, reps=reps)
    with smtp_server() as server:
        done = cli(tmp_path, register, mail=mail_section(server.port))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    received = {r.rcpt_tos[0] for r in server.handler.received}
    assert received == {"liuyang@example.com", "zhouqi@example.com", "boss@example.com"}
    assert "顺通车队" in body(server.handler.to("liuyang@example.com")[0])   # 刘\n洋 = 刘洋
    rows = {(r[0], r[1]) for r in problems_sheet(tmp_path / "out") if r[4] == "邮箱格式不对"}
    assert rows == {("业务员", 2), ("业务员", 3), ("业务员", 4), ("业务员", 5)}
    facts = summary(tmp_path / "out")
    failed = {e["name"] for e in facts["emails"] if e["status"] == "failed"}
    assert failed == {"王强", "李娜", "张伟", "赵六"}
    boss = body(server.handler.to("boss@example.com")[0])
    assert "4 封邮件没有发出去" in boss and "王强" in boss


def test_a_shop_on_an_internal_mail_domain_gets_its_emails(tmp_path):
    """A shop whose own server hands out @shop.local addresses (an office NAS or Exchange):
    after issue 11's email-validator check every rep's address was '邮箱格式不对' and
    nobody got an email; the sender crm@shop.local must not be a config error either."""
    reps = [["王强", "wangqiang@shop.local", "业务员", "是"], ["老板", "boss@shop.local", "主管", "是"]]
    register = minimal_register(tmp_path / "台账.xlsx", [due("C1", "鑫达汽修厂", "王强")], reps=reps)
    with smtp_server() as server:
        done = cli(tmp_path, register, mail=mail_section(server.port, from_address="crm@shop.local"))
    assert done.returncode == 0, done.stderr
    assert {r.rcpt_tos[0] for r in server.handler.received} == {"wangqiang@shop.local", "boss@shop.local"}
    assert not [r for r in problems_sheet(tmp_path / "out") if r[4] == "邮箱格式不对"]


def test_a_message_the_library_refuses_fails_alone(tmp_path):
    """Below the read-time check: whatever makes one message unbuildable or unsendable
    is that message's failure (old code: raised out of deliver)."""
    from dataclasses import replace

    from pipeline.config import Config
    from pipeline.mail.compose import rep_email
    from pipeline.mail.send import compose_each, deliver
    from tests.mail_fixtures import build_state
    from tests.test_mailer import mail_config
    state = build_state()
    emails = [rep_email(d, state, Config()) for d in state.days if d.role == "业务员"]
    emails[0] = replace(emails[0], to="a@b..com")
    emails[1] = replace(emails[1], to_name="李\n娜")
    with smtp_server() as server:
        results = deliver(emails, mail_config(server), day=state.today, outbox=tmp_path / "outbox",
                          ledger=tmp_path / "ledger.jsonl", send=True)
    assert [r.status for r in results] == ["failed", "failed", "sent"]
    assert all("无法生成" in r.error for r in results[:2])
    assert results[0].path.suffix == ".html" and results[0].path.exists()
    built, failed = compose_each([1, 0, 2], lambda n: 10 // n, lambda n: (f"k{n}", "", f"n{n}"))
    assert built == [10, 5] and [(f.key, f.status, f.name) for f in failed] == [("k0", "failed", "n0")]


# --- 2. / 3d. outbox names --------------------------------------------------------

def test_outbox_names_are_unique_and_bounded():
    keys = [f"{DAY}/rep/{n}" for n in ("A/B", "A-B", "A_B", "A:B", "Amy", "amy", "王强", "王强 ", "张" * 5000, "")]
    names = [outbox_name(k) for k in keys]
    assert len({n.casefold() for n in names}) == len(keys)   # also on Windows and macOS
    assert all(len((n + ".html").encode("utf-8")) <= 255 for n in names)
    assert names[keys.index(f"{DAY}/rep/王强")] == "rep-王强" and names[1].startswith("rep-A-B")
    assert all(not set(n) & set('\\/:*?"<>|') for n in names)


def test_reps_named_a_slash_b_and_a_dash_b_keep_both_emails(tmp_path):
    reps = [["A/B", "ab1@example.com", "业务员", "是"], ["A-B", "ab2@example.com", "业务员", "是"], BOSS]
    customers = [due("C1", "鑫达汽修厂", "A/B"), due("C2", "顺通车队", "A-B")]
    register = minimal_register(tmp_path / "台账.xlsx", customers, reps=reps)
    done = cli(tmp_path, register)
    assert done.returncode == 0, done.stderr
    outbox = tmp_path / "out" / DAY / "outbox"
    bodies = [body(BytesParser(policy=policy.default).parsebytes(p.read_bytes())) for p in outbox.glob("rep-*.eml")]
    assert len(bodies) == 2
    assert sorted("鑫达汽修厂" in b for b in bodies) == [False, True]
    assert sorted("顺通车队" in b for b in bodies) == [False, True]


# --- 3. the output disk fills while mailing ---------------------------------------

@contextmanager
def small_disk(path: Path, size: str = "2m"):
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("needs root to mount a small tmpfs: " + mounted.stderr.decode(errors="replace"))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    for size in (65536, 1):   # big pieces, then byte by byte to the last one
        try:
            while os.write(fd, b"\0" * size):
                pass
        except OSError:
            pass
    os.close(fd)
    return filler


def test_a_full_disk_while_mailing_loses_no_sent_message(tmp_path):
    """Old code: the ledger write after the first message raised (the run crashed), the
    entry was lost and the next run sent that email again."""
    with small_disk(tmp_path / "disk") as disk:
        reps = [["王强", "wq@example.com", "业务员", "是"], ["李娜", "ln@example.com", "业务员", "是"],
                ["刘洋", "ly@example.com", "业务员", "是"], BOSS]
        customers = [due("C1", "鑫达汽修厂", "王强"), due("C2", "顺通车队", "李娜"), due("C3", "平安快修", "刘洋")]
        register = minimal_register(disk / "台账.xlsx", customers, reps=reps)
        output = disk / "out"
        filled = []
        with smtp_server() as server:
            def full_after_first(*args, _original=server.handler.handle_DATA):
                async def hook(srv, session, envelope):
                    reply = await _original(srv, session, envelope)
                    if not filled:   # the disk is full the moment the first is accepted
                        # The ledger's last block is full too (else its next small line
                        # would still fit in the block's slack): blank lines, which a
                        # reader skips, up to the block boundary.
                        for ledger in (disk / ".台账.pipeline" / "sent-ledger.jsonl", output / "sent-ledger.jsonl"):
                            if ledger.exists():
                                with ledger.open("ab") as f:
                                    f.write(b"\n" * (-ledger.stat().st_size % 4096))
                        filled.append(fill(disk))
                    return reply
                return hook(*args)
            server.handler.handle_DATA = full_after_first
            first = cli(tmp_path, register, output=output, mail=mail_section(server.port))
            assert "Traceback" not in first.stderr, first.stderr
            assert first.returncode == 1 and "No space left on device" in first.stderr.strip().splitlines()[-1]
            assert [r.rcpt_tos for r in server.handler.received] == [["wq@example.com"]]
            filled[0].unlink()
            second = cli(tmp_path, register, output=output, mail=mail_section(server.port))
        assert second.returncode == 0, second.stderr
        got = [r.rcpt_tos[0] for r in server.handler.received]
        assert sorted(got) == sorted(["wq@example.com", "ln@example.com", "ly@example.com", "boss@example.com"])
        facts = summary(output)
        assert [e["status"] for e in facts["emails"] if e["name"] == "王强"] == ["uncertain"]
        assert (output / DAY / "outbox" / "rep-王强.eml").exists()   # to forward if need be
        boss = body(server.handler.to("boss@example.com")[0])
        assert "王强" in boss and "可能已经发出" in boss
        assert "可能已在上次运行中发出" in second.stdout


def test_the_ledger_confirms_each_send_on_disk(tmp_path):
    from pipeline.mail.ledger import ledger_status, read_ledger
    from tests.test_mailer import mail_config, rep_emails, run
    with smtp_server(reject={"lina@shop.example"}) as server:
        run(rep_emails(), mail_config(server, retries=0), tmp_path)
    lines = [json.loads(x) for x in (tmp_path / "mail_ledger.jsonl").read_text("utf-8").splitlines()]
    assert [(x["key"].rsplit("/", 1)[1], x["status"]) for x in lines] == [
        ("王强", "sending"), ("王强", "sent"), ("李娜", "sending"), ("李娜", "failed"),
        ("陈刚", "sending"), ("陈刚", "sent")]
    ledger = tmp_path / "mail_ledger.jsonl"
    with ledger.open("a", encoding="utf-8") as f:   # a run killed between the two lines
        f.write(json.dumps({"key": "2026-11-23/rep/李娜", "status": "sending"}) + "\n")
    assert ledger_status([ledger])["2026-11-23/rep/李娜"] == "sending"
    assert "2026-11-23/rep/李娜" in read_ledger(ledger)


# --- 4a. 在职 read strictly ------------------------------------------------------

@pytest.mark.parametrize("typed, employed, problem", [
    ("", True, False), ("是", True, False), ("在职", True, False), ("Y", True, False), ("yes", True, False),
    ("1", True, False), ("✓", True, False), ("√", True, False),
    ("否", False, False), ("离职", False, False), ("已离职", False, False), ("不在职", False, False),
    ("停用", False, False), ("N", False, False), ("no", False, False), ("0", False, False),
    ("×", False, False), ("✗", False, False), ("已離職", False, False),
    ("走了", False, True), ("休假", False, True), ("?", False, True), ("x", False, True),
])
def test_employment_words(typed, employed, problem):
    values, bad = cells.read_yesno(pd.Series([typed]))
    assert bool(values.iat[0]) is employed
    assert (bad.iat[0] != "") is problem


def test_departed_and_ambiguous_reps_customers_go_to_the_manager(tmp_path):
    """Old code: 已离职 / 走了 read as employed (the departed rep got their customers'
    phones); of two rows named 张伟 the first got both people's customers."""
    reps = [["王强", "wq@example.com", "业务员", "已离职"], ["李娜", "ln@example.com", "业务员", "走了"],
            ["张伟", "zw1@example.com", "业务员", "是"], ["张伟 ", "zw2@example.com", "业务员", "是"],
            ["刘洋", "ly@example.com", "业务员", "是"], ["刘洋", "ly@example.com", "业务员", "是"], BOSS]
    customers = [due("C1", "鑫达汽修厂", "王强"), due("C2", "顺通车队", "李娜"),
                 due("C3", "平安快修", "张伟"), due("C4", "路路通物流", "刘洋")]
    register = minimal_register(tmp_path / "台账.xlsx", customers, reps=reps)
    done = cli(tmp_path, register)
    assert done.returncode == 0, done.stderr
    outbox = tmp_path / "out" / DAY / "outbox"
    assert sorted(p.name for p in outbox.glob("*.eml")) == ["owner-陈总.eml", "rep-刘洋.eml"]
    boss = body(BytesParser(policy=policy.default).parsebytes((outbox / "owner-陈总.eml").read_bytes()))
    assert all(n in boss for n in ("鑫达汽修厂", "顺通车队", "平安快修"))
    assert "路路通物流" not in boss   # 刘洋 written twice, identically: one person, their own customer
    found = {(r[1], r[4].split("，")[0]) for r in problems_sheet(tmp_path / "out") if r[0] == "业务员"}
    assert (3, "看不懂这个值") in found
    assert (5, "姓名与第 4 行重复") in found
    assert any(row == 7 for row, _ in found)


# --- 3c. two installs on one register ----------------------------------------------

def test_two_installs_on_one_register_send_once(tmp_path):
    """Old code: the ledger and the lock lived only in each install's output folder."""
    reps = [["王强", "wq@example.com", "业务员", "是"], BOSS]
    register = minimal_register(tmp_path / "台账.xlsx", [due("C1", "鑫达汽修厂", "王强")], reps=reps)
    with smtp_server() as server:
        first = cli(tmp_path, register, output=tmp_path / "pc1", mail=mail_section(server.port))
        second = cli(tmp_path, register, output=tmp_path / "pc2", mail=mail_section(server.port))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert len(server.handler.received) == 2
    assert {e["status"] for e in summary(tmp_path / "pc2")["emails"]} == {"already_sent"}
    assert (tmp_path / ".台账.pipeline" / "sent-ledger.jsonl").exists()
    from pipeline.ops.runlock import acquire_run_lock
    from pipeline.ops.sidecar import sidecar_dir
    lock_file = sidecar_dir(register) / "run.lock"
    with acquire_run_lock(lock_file):   # another install is running…
        lock_file.write_text('{"pid": 4242, "started": "2026-11-23 06:30:00", "host": "前台电脑"}', "utf-8")
        busy = cli(tmp_path, register, output=tmp_path / "pc3")   # …on another PC
    assert busy.returncode == 3 and not (tmp_path / "pc3" / DAY).exists()
    assert "电脑 前台电脑 上的另一份安装" in busy.stderr


# --- 3e. a server that trickles -----------------------------------------------------

@contextmanager
def trickling_server(interval: float = 0.2, tls=None):
    """A raw TCP server on 127.0.0.1 that greets one byte at a time, forever (over TLS
    when ``tls`` is a server SSLContext)."""
    port = free_port()
    loop = asyncio.new_event_loop()

    async def greet(reader, writer):
        try:
            while True:
                for byte in b"220-slow.example ESMTP\r\n":
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(interval)
        except (ConnectionError, OSError):
            writer.close()

    server = loop.run_until_complete(asyncio.start_server(greet, "127.0.0.1", port, ssl=tls))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        async def stop():
            server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_a_trickling_server_is_given_up_after_timeout_seconds(tmp_path):
    """Old code: each byte reset smtplib's per-read timeout; the run never ended."""
    reps = [["王强", "wq@example.com", "业务员", "是"], ["李娜", "ln@example.com", "业务员", "是"], BOSS]
    register = minimal_register(tmp_path / "台账.xlsx", [due("C1", "鑫达汽修厂", "王强")], reps=reps)
    with trickling_server() as port:
        started = time.monotonic()
        try:
            done = cli(tmp_path, register, mail=mail_section(port, timeout_seconds=2), timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("the run was still talking to the trickling server after 60 s")
        took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    emails = summary(tmp_path / "out")["emails"]
    assert {e["status"] for e in emails} == {"failed"} and len(emails) == 3
    assert "2 秒内没有完成" in emails[0]["error"]
    assert took < 45
    assert (tmp_path / "out" / DAY / "outbox" / "rep-王强.eml").exists()


def test_the_deadline_also_holds_over_ssl(tmp_path, monkeypatch):
    """Port 465 (SSL) is the default: the watchdog must end a trickle inside TLS too."""
    import shutil
    import ssl
    from email.message import EmailMessage

    from pipeline.config import MailConfig
    from pipeline.mail.smtp import Connection
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))   # the client checks certificates
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    message = EmailMessage()
    message["To"] = "wq@example.com"
    message.set_content("x")
    with trickling_server(tls=tls) as port:
        connection = Connection(MailConfig(host="127.0.0.1", port=port, security="ssl",
                                           from_address="crm@example.com", timeout_seconds=2), None)
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="2 秒内没有完成"):
            connection.send(message, "wq@example.com")
        assert time.monotonic() - started < 10
        connection.close()


# --- 3f. a password pasted into password_env ----------------------------------------

def test_a_password_pasted_into_password_env_is_never_echoed(tmp_path):
    secret = "Tr0ub4dor&3-xyz"
    register = minimal_register(tmp_path / "台账.xlsx", [due("C1", "鑫达汽修厂", "王强")])
    with smtp_server() as server:
        done = cli(tmp_path, register, mail=mail_section(server.port, user="crm@example.com",
                                                         password_env=secret))
    assert done.returncode == 0, done.stderr
    assert server.handler.received == []
    seen = done.stdout + done.stderr + "".join(
        p.read_text("utf-8", errors="replace") for p in (tmp_path / "out").rglob("*")
        if p.is_file() and p.suffix in (".json", ".log", ".txt", ".eml", ".html", ""))
    assert secret not in seen
    assert "password_env 应该是环境变量的名字" in done.stdout
    assert summary(tmp_path / "out")["mail_note"].startswith("config.toml 的 [mail] password_env")


def test_a_password_typed_as_a_number_into_password_env_is_not_echoed_either(tmp_path):
    from pipeline.config import ConfigError, load_config
    config = tmp_path / "config.toml"
    config.write_text("[mail]\npassword_env = 884213579\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert "password_env" in str(refused.value) and "884213579" not in str(refused.value)


def test_no_email_goes_when_its_ledger_line_cannot_be_written(tmp_path):
    """What cannot be recorded is not sent (it would go again tomorrow): here the ledger's
    folder is a file, a real OSError from the file system."""
    from pipeline.mail.send import deliver
    from tests.test_mailer import mail_config, rep_emails
    (tmp_path / "blocked").write_text("a file where the ledger's folder should be", "utf-8")
    with smtp_server() as server:
        results = deliver(rep_emails(), mail_config(server), day=dt.date(2026, 11, 23), outbox=tmp_path / "outbox",
                          ledger=tmp_path / "blocked" / "sent-ledger.jsonl", send=True)
    assert server.handler.received == []
    assert [r.status for r in results] == ["failed"] * 3
    assert all("发送记录" in r.error and r.path.exists() for r in results)


def test_a_register_folder_that_cannot_hold_the_sidecar_is_said(tmp_path):
    """The sidecar's place is taken by a file (a real OSError): the output folder keeps the
    ledger and the run says another install cannot see it."""
    register = minimal_register(tmp_path / "台账.xlsx", [due("C1", "鑫达汽修厂", "王强")])
    (tmp_path / ".台账.pipeline").write_text("in the way", "utf-8")
    done = cli(tmp_path, register)
    assert done.returncode == 0, done.stderr
    assert ".台账.pipeline" in summary(tmp_path / "out")["mail_note"]
    assert {e["status"] for e in summary(tmp_path / "out")["emails"]} == {"outbox"}
