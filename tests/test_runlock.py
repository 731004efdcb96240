"""One run at a time: the OS-level run lock, checked across real processes."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.ops.runlock import acquire_run_lock, busy_message, lock_holder

ROOT = Path(__file__).resolve().parent.parent

# A second run.py, as a real process: tries the lock, says what it got, and
# with "hold" keeps it until its stdin closes or it is killed.
OTHER_RUN = textwrap.dedent("""
    import sys
    from pipeline.ops.runlock import acquire_run_lock
    lock = acquire_run_lock(sys.argv[1])
    print("busy" if lock is None else "locked", flush=True)
    if lock is not None and sys.argv[2] == "hold":
        sys.stdin.read()
""")


def other_run(lock_path: Path, mode: str = "try") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", OTHER_RUN, str(lock_path), mode],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def other_run_result(lock_path: Path) -> str:
    process = other_run(lock_path)
    out, _ = process.communicate(timeout=30)
    return out.strip()


def test_a_second_acquire_while_held_gets_none_and_after_release_succeeds(tmp_path):
    path = tmp_path / "output" / "run.lock"
    first = acquire_run_lock(path)
    assert first is not None and first.held
    assert acquire_run_lock(path) is None
    first.release()
    assert not first.held
    again = acquire_run_lock(path)
    assert again is not None
    again.release()


def test_the_with_block_releases_the_lock_even_on_error(tmp_path):
    path = tmp_path / "run.lock"
    with pytest.raises(RuntimeError):
        with acquire_run_lock(path):
            assert acquire_run_lock(path) is None
            raise RuntimeError("the run broke")
    with acquire_run_lock(path) as lock:
        assert lock.held


def test_another_process_is_refused_while_the_lock_is_held(tmp_path):
    path = tmp_path / "run.lock"
    with acquire_run_lock(path):
        assert other_run_result(path) == "busy"
    assert other_run_result(path) == "locked"


def test_a_lock_held_by_another_process_refuses_this_one(tmp_path):
    path = tmp_path / "run.lock"
    holder = other_run(path, "hold")
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert acquire_run_lock(path) is None
        assert lock_holder(path)["pid"] == holder.pid
        assert str(holder.pid) in busy_message(path)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with acquire_run_lock(path) as lock:
        assert lock.held


def test_a_crashed_run_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "run.lock"
    holder = other_run(path, "hold")
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()                   # no clean-up code runs: like a crash or a power-off
    holder.wait(timeout=30)
    holder.stdin.close()
    holder.stdout.close()
    assert path.exists()            # the file stays behind...
    lock = acquire_run_lock(path)   # ...but the lock went with the process
    assert lock is not None
    assert lock_holder(path)["pid"] == os.getpid()
    lock.release()


def test_busy_message_without_holder_details_still_says_a_run_is_in_progress(tmp_path):
    path = tmp_path / "run.lock"
    path.write_text("garbage", encoding="utf-8")
    assert lock_holder(path) is None
    assert "另一个运行正在进行" in busy_message(path)
