"""Sending the morning emails through a real SMTP server (issue #5), and the outbox."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from pipeline.config import Config, MailConfig
from pipeline.mail.compose import Email, owner_email, rep_email
from pipeline.mail.password import find_password
from pipeline.mail.send import deliver, delivery_summary, failed_deliveries, read_ledger, send_decision
from tests.mail_fixtures import CUSTOMERS, TODAY, build_state
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

FROM = "crm@shop.example"
HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def mail_config(server=None, **overrides) -> MailConfig:
    base = MailConfig(host=server.host if server else "", port=server.port if server else 465,
                      security="none", from_address=FROM, from_name="宏发汽配·客户跟进",
                      retries=2, retry_backoff_seconds=1.5, timeout_seconds=5)
    return replace(base, **overrides)


def rep_emails(day: date = TODAY) -> list[Email]:
    state = replace(build_state(), today=day)
    return [rep_email(d, state, Config()) for d in state.days if d.role == "业务员"]


def run(emails, mail, tmp_path: Path, *, day=TODAY, send=True, sleeps=None, **kw):
    return deliver(emails, mail, day=day, outbox=tmp_path / day.isoformat() / "outbox",
                   ledger=tmp_path / "mail_ledger.jsonl", send=send,
                   sleep=(sleeps.append if sleeps is not None else _no_sleep), **kw)


def _no_sleep(seconds):
    raise AssertionError(f"unexpected back-off of {seconds}s")


def parts(message):
    """(plain text, html) of a received multipart/alternative message."""
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


def test_message_structure_and_chinese_headers(tmp_path):
    emails = rep_emails()
    with smtp_server() as server:
        results = run(emails, mail_config(server), tmp_path)
    assert [r.status for r in results] == ["sent"] * 3
    message = server.handler.to("wangqiang@shop.example")[0]
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text, html = parts(message)
    assert not HTML_TAG.search(text)
    assert "宏达汽修厂" in text
    # yagmail would have turned the HTML's newlines into <br>: it arrives as rendered.
    assert html.replace("\r\n", "\n") == emails[0].html
    assert str(message["Subject"]) == "【今日跟进】王强 · 11月23日 · 3位客户（另有2位待明天）"
    assert message["From"].addresses[0].display_name == "宏发汽配·客户跟进"
    assert message["From"].addresses[0].addr_spec == FROM
    assert message["To"].addresses[0].display_name == "王强"
    raw = message.as_bytes(policy=policy.SMTP)
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0].lower(), "headers must be RFC 2047 encoded"


def test_each_rep_gets_only_their_customers(tmp_path):
    with smtp_server() as server:
        run(rep_emails(), mail_config(server), tmp_path)
    for rep, address in (("王强", "wangqiang@shop.example"), ("李娜", "lina@shop.example"),
                         ("陈刚", "chengang@shop.example")):
        (message,) = server.handler.to(address)
        body = "".join(parts(message))
        mine = {name for name, owner, *_ in CUSTOMERS.values() if owner == rep}
        others = {name for name, owner, *_ in CUSTOMERS.values() if owner != rep}
        assert all(name in body for name in mine)
        assert not [name for name in others if name in body]


def test_login_required_server(tmp_path):
    with smtp_server(login=("crm-user", "s3cret")) as server:
        results = run(rep_emails(), mail_config(server, user="crm-user"), tmp_path, password="s3cret")
    assert [r.status for r in results] == ["sent"] * 3
    assert len(server.handler.received) == 3
    assert server.handler.received[0].mail_from == FROM


def test_wrong_password_fails_every_email_without_retrying(tmp_path):
    with smtp_server(login=("crm-user", "s3cret")) as server:
        results = run(rep_emails(), mail_config(server, user="crm-user"), tmp_path, password="nope")
    assert [r.status for r in results] == ["failed"] * 3
    assert all("535" in r.error for r in results)
    assert all(r.path.exists() and r.path.with_suffix(".html").exists() for r in results)
    assert server.handler.received == []
    assert read_ledger(tmp_path / "mail_ledger.jsonl") == set()


def test_message_ids_differ_between_days_and_people(tmp_path):
    """yagmail's trap: one Message-ID per recipient + subject.  Same people, same subjects,
    two days: every message still gets its own id."""
    tomorrow = TODAY + timedelta(days=1)
    same_again = [replace(e, key=e.key.replace(TODAY.isoformat(), tomorrow.isoformat()))
                  for e in rep_emails(TODAY)]
    with smtp_server() as server:
        run(rep_emails(TODAY), mail_config(server), tmp_path, day=TODAY)
        run(same_again, mail_config(server), tmp_path, day=tomorrow)
    ids = [r.message["Message-ID"] for r in server.handler.received]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert all(i.endswith("@shop.example>") for i in ids)
    monday, tuesday = server.handler.to("wangqiang@shop.example")
    assert monday["Subject"] == tuesday["Subject"]


def test_refused_recipient_does_not_stop_the_others(tmp_path):
    emails = rep_emails()
    with smtp_server(reject={"lina@shop.example"}) as server:
        results = run(emails, mail_config(server), tmp_path)
    assert [(r.to, r.status) for r in results] == [
        ("wangqiang@shop.example", "sent"), ("lina@shop.example", "failed"),
        ("chengang@shop.example", "sent")]
    failed = results[1]
    assert failed.error.startswith("550")
    assert failed.path.name == "rep-李娜.eml" and failed.path.exists()
    kept = BytesParser(policy=policy.default).parsebytes(failed.path.read_bytes())
    assert "鑫源汽配" in kept.get_body(("plain",)).get_content()
    assert {r.rcpt_tos[0] for r in server.handler.received} == {
        "wangqiang@shop.example", "chengang@shop.example"}

    # ...and the run reports it: summary.json, the terminal, the 主管's summary.
    summary = delivery_summary(results)
    assert summary["sent"] == 2 and summary["failed"] == 1
    assert summary["failures"][0]["to"] == "lina@shop.example"
    facts = {"failed_deliveries": failed_deliveries(results, emails)}
    assert facts["failed_deliveries"] == [
        {"to": "lina@shop.example", "name": "李娜", "error": failed.error}]
    state = build_state()
    owner = owner_email(state.days[3], state, [], facts, Config())
    assert "1封邮件未送达" in owner.subject
    assert "李娜" in owner.text and "550" in owner.text


def test_second_run_the_same_day_sends_nothing_unless_resend(tmp_path):
    with smtp_server() as server:
        first = run(rep_emails(), mail_config(server), tmp_path)
        second = run(rep_emails(), mail_config(server), tmp_path)
        assert len(server.handler.received) == 3
        again = run(rep_emails(), mail_config(server), tmp_path, resend=True)
    assert [r.status for r in first] == ["sent"] * 3
    assert [r.status for r in second] == ["already_sent"] * 3
    assert [r.status for r in again] == ["sent"] * 3
    assert len(server.handler.received) == 6
    assert read_ledger(tmp_path / "mail_ledger.jsonl") == {
        "2026-11-23/rep/王强", "2026-11-23/rep/李娜", "2026-11-23/rep/陈刚"}


def test_a_refused_email_is_sent_on_the_next_run(tmp_path):
    with smtp_server(reject={"lina@shop.example"}) as server:
        run(rep_emails(), mail_config(server), tmp_path)
        server.handler.reject.clear()
        second = run(rep_emails(), mail_config(server), tmp_path)
    assert [r.status for r in second] == ["already_sent", "sent", "already_sent"]


def test_a_torn_ledger_line_is_ignored(tmp_path):
    ledger = tmp_path / "mail_ledger.jsonl"
    ledger.write_text('{"key": "2026-11-23/rep/王强", "to": "w"}\n{"key": "2026-11-23/rep/李', "utf-8")
    assert read_ledger(ledger) == {"2026-11-23/rep/王强"}


def test_temporary_refusal_is_retried_with_back_off(tmp_path):
    sleeps = []
    with smtp_server(tempfail={"lina@shop.example": 2}) as server:
        results = run(rep_emails(), mail_config(server), tmp_path, sleeps=sleeps)
    assert [r.status for r in results] == ["sent"] * 3
    assert sleeps == [1.5, 3.0]
    assert len(server.handler.to("lina@shop.example")) == 1


def test_dropped_connection_is_reopened(tmp_path):
    sleeps = []
    with smtp_server(hangups=1) as server:
        results = run(rep_emails(), mail_config(server), tmp_path, sleeps=sleeps)
    assert [r.status for r in results] == ["sent"] * 3
    assert sleeps == [1.5]
    assert sorted(r.rcpt_tos[0] for r in server.handler.received) == [
        "chengang@shop.example", "lina@shop.example", "wangqiang@shop.example"]
    assert len(server.handler.sessions) == 2


def test_temporary_refusal_that_lasts_ends_in_the_outbox(tmp_path):
    sleeps = []
    with smtp_server(tempfail={"lina@shop.example": 99}) as server:
        results = run(rep_emails(), mail_config(server), tmp_path, sleeps=sleeps)
    assert sleeps == [1.5, 3.0]
    assert [r.status for r in results] == ["sent", "failed", "sent"]
    assert results[1].error.startswith("451")
    assert results[1].path.exists()


def test_unreachable_server_gives_up_after_retries(tmp_path):
    with smtp_server() as server:
        mail = mail_config(server)
    sleeps = []   # the server is gone: nothing listens on its port now
    results = run(rep_emails(), mail, tmp_path, sleeps=sleeps)
    assert [r.status for r in results] == ["failed"] * 3
    assert sleeps == [1.5, 3.0], "back off for the first email only, then stop trying"
    assert all(r.path.exists() for r in results)
    assert "ConnectionRefusedError" in results[0].error


def test_no_sending_writes_the_outbox(tmp_path):
    state = build_state()
    emails = rep_emails() + [owner_email(state.days[3], state, [], {}, Config())]
    results = run(emails, mail_config(), tmp_path, send=False)
    assert [r.status for r in results] == ["outbox"] * 4
    outbox = tmp_path / "2026-11-23" / "outbox"
    assert sorted(p.name for p in outbox.iterdir()) == sorted(
        f"{n}.{ext}" for n in ("rep-王强", "rep-李娜", "rep-陈刚", "owner-张总")
        for ext in ("eml", "html"))
    message = BytesParser(policy=policy.default).parsebytes((outbox / "rep-王强.eml").read_bytes())
    assert message.get_content_type() == "multipart/alternative"
    assert str(message["Subject"]).startswith("【今日跟进】王强")
    assert (outbox / "rep-王强.html").read_text("utf-8") == emails[0].html
    assert read_ledger(tmp_path / "mail_ledger.jsonl") == set()


def test_a_rep_without_address_fails_alone(tmp_path):
    emails = rep_emails()
    emails[0] = replace(emails[0], to="")
    with smtp_server() as server:
        results = run(emails, mail_config(server), tmp_path)
    assert [r.status for r in results] == ["failed", "sent", "sent"]
    assert "王强" in results[0].error


@pytest.mark.parametrize("mail, working_day, dry_run, password, send, says", [
    (MailConfig(host="smtp.x", from_address=FROM), True, False, None, True, ""),
    (MailConfig(host="smtp.x", from_address=FROM), True, True, None, False, "--dry-run"),
    (MailConfig(host="", from_address=FROM), True, False, None, False, "[mail] host"),
    (MailConfig(host="smtp.x"), True, False, None, False, "from_address"),
    (MailConfig(host="smtp.x", user="u", from_address=FROM), True, False, None, False, "SHOP_MAIL_PASSWORD"),
    (MailConfig(host="smtp.x", user="u", from_address=FROM), True, False, "pw", True, ""),
    (MailConfig(host="smtp.x", from_address=FROM), False, False, None, False, "send_on_days_off"),
    (MailConfig(host="smtp.x", from_address=FROM, send_on_days_off=True), False, False, None, True, ""),
])
def test_send_decision(mail, working_day, dry_run, password, send, says, tmp_path):
    decided, line = send_decision(mail, working_day=working_day, dry_run=dry_run,
                                  password=password, outbox=tmp_path / "outbox")
    assert decided is send
    assert (says in line) if says else line == ""
    assert "\n" not in line


class _MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend holding its entries in memory (keyring's plug-in interface)."""
    priority = 1

    def __init__(self, entries):
        super().__init__()
        self.entries = entries

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        self.entries.pop((service, username), None)


@pytest.fixture
def system_keyring():
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


def test_password_from_environment_first(system_keyring):
    system_keyring(_MemoryKeyring({("smtp.x", "u"): "from-keyring"}))
    mail = MailConfig(host="smtp.x", user="u", password_env="MY_PW")
    assert find_password(mail, {"MY_PW": "from-env"}) == "from-env"
    assert find_password(mail, {"MY_PW": ""}) == "from-keyring"
    assert find_password(replace(mail, keyring_service="shop-mail"), {}) is None


def test_password_from_keyring_service(system_keyring):
    system_keyring(_MemoryKeyring({("shop-mail", "u"): "pw"}))
    assert find_password(MailConfig(host="smtp.x", user="u", keyring_service="shop-mail"), {}) == "pw"


def test_no_keyring_backend_means_no_password(system_keyring):
    system_keyring(keyring.backends.fail.Keyring())
    assert find_password(MailConfig(host="smtp.x", user="u"), {}) is None
