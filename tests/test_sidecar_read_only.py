"""A second install that can read the register's sidecar but not write it (a share it may only read,
or a folder the first install's user made) must still see the emails already sent: it used to fall
back to its own output folder's ledger alone and send every email a second time.

The read-only folder is real: a read-only bind mount when the tests run as root (chmod does not
stop root), else chmod 555.
"""
from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline.ops.sidecar import sidecar_dir
from tests.register_builder import minimal_register
from tests.smtp_server import smtp_server
from tests.test_mail_safety import BOSS, cli, due, mail_section, summary


@contextmanager
def read_only(folder: Path):
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    bound = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True, check=False)
    if bound.returncode != 0:
        pytest.skip("root without mount: cannot make a folder read-only")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=False, capture_output=True)


def test_a_second_install_that_cannot_write_the_sidecar_still_sends_nothing_twice(tmp_path):
    register = minimal_register(tmp_path / "台账.xlsx", [due("C1", "鑫达汽修厂", "王强")],
                                reps=[["王强", "wq@example.com", "业务员", "是"], BOSS])
    with smtp_server() as server:
        first = cli(tmp_path, register, output=tmp_path / "pc1", mail=mail_section(server.port))
        assert first.returncode == 0 and len(server.handler.received) == 2, first.stderr
        with read_only(sidecar_dir(register)):
            second = cli(tmp_path, register, output=tmp_path / "pc2", mail=mail_section(server.port))
    assert second.returncode == 0, second.stderr
    assert len(server.handler.received) == 2                       # nothing went twice
    facts = summary(tmp_path / "pc2")
    assert {e["status"] for e in facts["emails"]} == {"already_sent"}
    assert ".台账.pipeline" in facts["mail_note"]                   # and the run says the folder is read-only
