"""The hub's learner accounts (issue 14): made with useradd, and only the ones a hub made are ever deleted.

The law: at start, a hub removes the ``tierlab-`` accounts that a killed hub left (its mark names a process
that is gone), and nothing else: not an account without the mark (``tierlab-pg``, or anyone's own), not
the accounts of a hub that still runs. Needs root and useradd (it adds accounts to this machine, and
removes them).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tierlab.errors import TierlabError
from tierlab.hub.accounts import MARK, create_account, ours, reap_leftovers, remove_account

pytestmark = [pytest.mark.hub]
PREFIX = "tierlab-"


@pytest.fixture
def made(tmp_path: Path) -> Iterator[list[str]]:
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("needs root and useradd (Debian's passwd package)")
    names: list[str] = []
    yield names
    for name in names:
        subprocess.run(["userdel", name], capture_output=True, timeout=60)


def _useradd(name: str, comment: str, made: list[str]) -> None:
    made.append(name)
    subprocess.run(["useradd", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", "--comment",
                    comment, name], check=True, capture_output=True, timeout=60)


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _ticks(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[19]


def test_only_a_killed_hubs_accounts_are_reaped(made: list[str], tmp_path: Path) -> None:
    tag = secrets.token_hex(3)
    dead = subprocess.Popen(["true"])  # a launcher that is gone: its pid and start time name no live process
    dead_ticks = _ticks(dead.pid)
    dead.wait()
    leftover, unmarked, running = f"{PREFIX}r{tag}_dead", f"{PREFIX}r{tag}_own", f"{PREFIX}r{tag}_live"
    home = tmp_path / "homes" / leftover
    home.mkdir(parents=True)
    _useradd(leftover, f"{MARK} {dead.pid} {dead_ticks} temp", made)
    os.chown(home, pwd.getpwnam(leftover).pw_uid, -1)
    subprocess.run(["usermod", "--home", str(home), leftover], check=True, capture_output=True, timeout=60)
    _useradd(unmarked, "someone's own account", made)
    _useradd(running, f"{MARK} 1 {_ticks(1)} temp", made)  # pid 1 runs: a hub that is still up

    assert ours(pwd.getpwnam(leftover), PREFIX) and not ours(pwd.getpwnam(unmarked), PREFIX)
    gone = reap_leftovers(PREFIX)
    assert leftover in gone and not home.exists() and not _exists(leftover)
    assert _exists(unmarked) and _exists(running)
    if _exists("tierlab-pg"):  # the embedded PostgreSQL's account has no hub mark
        assert not ours(pwd.getpwnam("tierlab-pg"), PREFIX)


def test_create_refuses_an_account_it_did_not_make(made: list[str], tmp_path: Path) -> None:
    tag = secrets.token_hex(3)
    theirs, fresh = f"{PREFIX}c{tag}_theirs", f"{PREFIX}c{tag}_new"
    _useradd(theirs, "not the hub's", made)
    with pytest.raises(TierlabError, match="was not made by tierlab hub"):
        create_account(theirs, tmp_path / theirs, prefix=PREFIX, keep_homes=False)
    made.append(fresh)
    account = create_account(fresh, tmp_path / fresh, prefix=PREFIX, keep_homes=False)
    entry = pwd.getpwnam(fresh)
    assert (entry.pw_uid, entry.pw_gid, entry.pw_dir) == (account.uid, account.gid, str(tmp_path / fresh))
    assert entry.pw_gecos.startswith(MARK) and entry.pw_shell == "/usr/sbin/nologin"
    assert create_account(fresh, tmp_path / fresh, prefix=PREFIX, keep_homes=False) == account  # ours: reused
    remove_account(fresh, account.uid)
    assert not _exists(fresh)


def test_a_killed_hubs_learner_keeps_their_progress_when_the_next_start_reaps_the_account(made: list[str],
                                                                                          tmp_path: Path) -> None:
    """A hub whose launcher was killed never saved progress (its stop never came): the next start reaps the
    account and its temp home, but first copies the progress file to that class folder's progress/, as a stop does."""
    from tierlab.hub.classroom import save_progress_of

    tag = secrets.token_hex(3)
    dead = subprocess.Popen(["true"])
    dead_ticks = _ticks(dead.pid)
    dead.wait()
    name = f"{PREFIX}k{tag}_a"
    home = tmp_path / "class" / "homes" / name
    (home / ".tierlab").mkdir(parents=True)
    (home / ".tierlab" / "progress.jsonl").write_text('{"exercise": "04-sg", "passed": true}\n')
    _useradd(name, f"{MARK} {dead.pid} {dead_ticks} temp", made)
    subprocess.run(["usermod", "--home", str(home), name], check=True, capture_output=True, timeout=60)
    assert name in reap_leftovers(PREFIX, save=save_progress_of)
    assert not home.exists() and not _exists(name)
    kept = tmp_path / "class" / "progress" / f"{name}.jsonl"
    assert kept.read_text() == '{"exercise": "04-sg", "passed": true}\n' and kept.stat().st_mode & 0o777 == 0o600
