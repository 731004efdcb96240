"""config.toml: defaults, overrides, and one-line errors naming the key (issue #2)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import Config, ConfigError, load_config

PROJECT = Path(__file__).resolve().parent.parent


def load_text(tmp_path, text: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_the_shipped_config_toml_is_the_defaults():
    shipped = load_config(PROJECT / "config.toml")
    assert replace(shipped, base_dir=Path(".")) == Config()
    assert shipped.resolve("input/x.xlsx") == PROJECT / "input" / "x.xlsx"


@pytest.mark.parametrize("text, check", [
    ("[grading]\na_days = 20\n", lambda c: c.grading.a_days == 20),
    ("[cadence]\nb = 10\n", lambda c: c.cadence.interval("B") == 10),
    ("[churn]\nspend_min_amount = 500\n", lambda c: c.churn.spend_min_amount == 500.0),
    ("[care]\nfestivals = [\"中秋\", \"元旦\"]\n", lambda c: c.care.festivals == ("中秋", "元旦")),
    ("[aliases.customers]\nphone = [\"手机\"]\n", lambda c: c.aliases.customers == {"phone": ("手机",)}),
    ("[locale]\nweekend = [7]\n", lambda c: c.locale.weekend == (7,)),
    ("", lambda c: c == replace(Config(), base_dir=c.base_dir)),
])
def test_overrides(tmp_path, text, check):
    assert check(load_text(tmp_path, text))


# (config.toml, the English line, the Chinese line): each names the key; a misspelt key gets its
# nearest spelling.  Chinese unless the file itself says [locale] language = "en".
BAD = [
    ("[grading]\na_days = 0\n", "[grading] a_days: must be ≥ 1, got 0", "[grading] a_days：必须 ≥ 1，现在是 0"),
    ("[grading]\nfoo = 1\n", "[grading] unknown key: foo", "[grading] 没有这个设置项：foo"),
    ("[grading]\na_day = 1\n", "[grading] unknown key: a_day (did you mean a_days?)", "（是不是 a_days？）"),
    ("[bogus]\nx = 1\n", "[top level] unknown key: bogus", "[最外层] 没有这个设置项：bogus"),
    ("[mial]\nhost = \"x\"\n", "did you mean mail?", "[最外层] 没有这个设置项：mial（是不是 mail？）"),
    ("[mail]\nport = \"465\"\n", "[mail] port: must be a whole number, got '465'", "[mail] port：必须是整数"),
    ("[mail]\nsecurity = \"tls\"\n", "[mail] security: must be \"ssl\", \"starttls\" or \"none\", got 'tls'",
     "[mail] security：只能是"),
    ("[mail]\ntimeout_seconds = 0\n", "[mail] timeout_seconds: must be more than 0, got 0",
     "[mail] timeout_seconds：必须大于 0"),
    ("[mail]\ntimeout_seconds = -5\n", "[mail] timeout_seconds", "[mail] timeout_seconds：必须大于 0"),
    ("[mail]\nretry_backoff_seconds = -1\n", "[mail] retry_backoff_seconds: must be ≥ 0, got -1",
     "[mail] retry_backoff_seconds：必须 ≥ 0，现在是 -1"),
    ("[locale]\ncountry = \"ZZ\"\n", "[locale] country: must be a country code", "[locale] country：必须是节假日库认识的国家代码"),
    ("[aliases.customers]\nphon = [\"手机\"]\n", "[aliases.customers] unknown key: phon (did you mean phone?)",
     "[aliases.customers] 没有这个设置项：phon（是不是 phone？）"),
    ("[aliases.followups]\nphone = [\"手机\"]\n", "[aliases.followups] unknown key: phone",
     "[aliases.followups] 没有这个设置项：phone"),
    ("[aliases]\nsheets = { custmers = [\"客户资料\"] }\n", "[aliases.sheets] unknown key: custmers (did you mean customers?)",
     "[aliases.sheets] 没有这个设置项：custmers（是不是 customers？）"),
    ("[state]\nkey_account_share = 1.5\n", "[state] key_account_share: must be between 0 and 1, got 1.5",
     "[state] key_account_share：必须在 0 和 1 之间"),
    ("[schedule]\ntime = \"6:30\"\n", "[schedule] time: must be a time like \"06:30\", got '6:30'", "[schedule] time："),
    ("[care]\nfestivals = [\"圣诞\"]\n", "[care] festivals: must name festivals", "[care] festivals：只能写程序认识的节日"),
    ("[register]\ncreate_demo_if_missing = \"yes\"\n", "[register] create_demo_if_missing: must be true or false",
     "[register] create_demo_if_missing：只能是 true 或 false"),
    ("grading = 3\n", "[grading] must be a table", "[grading] 应该是一个表"),
    # the sender must be an address the mail library takes, else every email fails to be built
    ("[mail]\nfrom_address = \"shop at qq.com\"\n", "[mail] from_address: must be an email address",
     "[mail] from_address：必须是邮箱地址"),
    ("[mail]\nfrom_address = \"店@shop.cn\"\n", "[mail] from_address: must be an email address",
     "[mail] from_address：必须是邮箱地址"),
    ("[mail]\nuser = \"bot\"\n", "[mail] from_address: empty, and user 'bot' is not an email address",
     "[mail] from_address：没有填写，而 user 'bot' 不是邮箱地址"),
]


@pytest.mark.parametrize("text, english, chinese", BAD)
def test_bad_values_are_one_line_naming_the_key_in_the_shops_language(tmp_path, text, english, chinese):
    with pytest.raises(ConfigError) as error:
        load_text(tmp_path, text)
    assert chinese in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ConfigError) as error:
        load_text(tmp_path, text + '\n[locale]\nlanguage = "en"\n' if not text.startswith("[locale]")
                  else text.replace("[locale]\n", '[locale]\nlanguage = "en"\n'))
    assert english in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("text, fragment", [
    ("[locale]\nlanguage = \"fr\"\n", "[locale] language：只能是 \"zh\" 或 \"en\"，现在是 'fr'"),   # no valid language: Chinese
    ("[grading\n", "不是有效的 TOML"),
])
def test_errors_before_the_language_is_known_are_chinese(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as error:
        load_text(tmp_path, text)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_a_byte_order_mark_at_the_top_is_accepted(tmp_path):
    """Notepad on Windows saves UTF-8 with a BOM (issue 11: it was a TOML error)."""
    path = tmp_path / "config.toml"
    path.write_bytes("\ufeff[grading]\na_days = 20\n".encode("utf-8"))
    assert load_config(path).grading.a_days == 20


@pytest.mark.parametrize("make, fragment", [
    (lambda out: out.write_text("x"), "不是文件夹"),
    (lambda out: (out.parent / "blocker").write_text("x"), "不是文件夹"),
])
def test_an_output_folder_that_is_a_file_is_one_line(tmp_path, capsys, make, fragment):
    from pipeline.cli import main
    out = tmp_path / "out"
    make(out)
    target = out if out.exists() else tmp_path / "blocker" / "out"
    (tmp_path / "config.toml").write_text("[register]\ncreate_demo_if_missing = false\n", encoding="utf-8")
    assert main(["--config", str(tmp_path / "config.toml"), "--output", str(target), "--date", "2026-11-23"],
                environ={}) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0] and "[output] dir" in err[0]


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_config(tmp_path / "nope.toml")


def _writable(folder: Path) -> bool:
    import tempfile
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not Path("/sys/kernel").is_dir() or _writable(Path("/sys/kernel")),
                    reason="needs a folder even root cannot write in (Linux sysfs)")
def test_an_output_folder_that_cannot_be_written_is_one_line(tmp_path, capsys):
    """A real unwritable folder (chmod does not stop root, sysfs does)."""
    from pipeline.cli import main
    (tmp_path / "config.toml").write_text("[register]\ncreate_demo_if_missing = false\n", encoding="utf-8")
    assert main(["--config", str(tmp_path / "config.toml"), "--output", "/sys/kernel", "--date", "2026-11-23"],
                environ={}) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[output] dir" in err[0] and "无法写入" in err[0]


@pytest.mark.parametrize("sender", ["crm@shop.local", "crm@mail.shop.test", "crm@qq.com"])
def test_a_sender_on_an_internal_mail_domain_is_accepted(tmp_path, sender):
    assert load_text(tmp_path, f'[mail]\nfrom_address = "{sender}"\n').mail.from_address == sender
    assert load_text(tmp_path, f'[mail]\nuser = "{sender}"\n').mail.user == sender


@pytest.mark.parametrize("mail", ['user = "bot"\n', 'from_address = "shop at qq.com"\n'])
def test_a_sender_that_is_not_an_address_is_one_line_before_anything_runs(tmp_path, mail):
    """Issue 11 class "config mistakes": a login name without @ (or a malformed from_address) made every
    email fail to build, night after night (the outbox kept only .html files); now exit 2, one line."""
    import subprocess
    import sys
    (tmp_path / "config.toml").write_text(f"[register]\ncreate_demo_if_missing = false\n[mail]\n{mail}",
                                          encoding="utf-8")
    done = subprocess.run([sys.executable, "run.py", "--config", str(tmp_path / "config.toml"), "--register",
                           str(tmp_path / "missing.xlsx"), "--output", str(tmp_path / "out"), "--date",
                           "2026-11-23"], cwd=Path(__file__).parent.parent, capture_output=True, text=True)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "[mail] from_address" in lines[0]
    assert not (tmp_path / "out").exists()
