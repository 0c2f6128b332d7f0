"""The learners' Unix accounts on a hub run as root: ``tierlab-NAME``, made with ``useradd``, gone with ``userdel``.

Every account the hub makes carries a mark in its GECOS comment::

    tierlab hub PID START temp|keep      (PID and START: the launcher's pid and its start time in clock ticks)

so the hub only ever deletes accounts it made (``tierlab-pg``, the embedded PostgreSQL's account, or anyone's own
``tierlab-x`` have no such mark), and it can tell a leftover of a killed run (its launcher is gone) from the accounts
of another hub running right now (its launcher still runs): the first are removed at the next start, the second are
never touched. ``temp``: the run removes the homes too (``keep``: ``tierlab hub --keep-work``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..errors import TierlabError

__all__ = ["MARK", "Account", "create_account", "remove_account", "reap_leftovers", "ours", "end_processes_of",
           "processes_of", "missing_tools", "remove_home", "remove_temp_of"]

MARK = "tierlab hub"
_USERADD_UID_TAKEN, _USERADD_NAME_TAKEN = 4, 9
_USERDEL_MISSING, _USERDEL_BUSY = 6, 8


@dataclass(frozen=True, kw_only=True)
class Account:
    """A learner's Unix account (the admin's is ``tierlab-ADMIN``)."""

    name: str
    uid: int
    gid: int
    home: Path


def missing_tools() -> str:
    """'' when ``useradd`` and ``userdel`` (Debian's passwd package) are here; else which is missing."""
    gone = [t for t in ("useradd", "userdel") if shutil.which(t) is None]
    return f"{' and '.join(gone)} not found (apt-get install passwd)" if gone else ""


def _start_ticks(pid: int) -> str:
    """A process's start time in clock ticks since boot (with the pid, it names one process for good)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def owner_mark(*, keep_homes: bool) -> str:
    """The GECOS comment of the accounts this process makes."""
    pid = os.getpid()
    return f"{MARK} {pid} {_start_ticks(pid)} {'keep' if keep_homes else 'temp'}"


def ours(entry: pwd.struct_passwd, prefix: str) -> bool:
    """An account a tierlab hub made (its name has the prefix and its comment the mark)."""
    comment = entry.pw_gecos.split(",")[0]
    return entry.pw_name.startswith(prefix) and comment.startswith(MARK + " ") and len(comment.split()) == 5


def _owner_alive(entry: pwd.struct_passwd) -> bool:
    _, _, pid, start, _ = entry.pw_gecos.split(",")[0].split()
    return pid.isdigit() and _start_ticks(int(pid)) == start


def _mine(entry: pwd.struct_passwd) -> bool:
    _, _, pid, start, _ = entry.pw_gecos.split(",")[0].split()
    return pid == str(os.getpid()) and start == _start_ticks(os.getpid())


def _lookup(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _free_uid(uid: int | None) -> bool:
    if uid is None:
        return False
    try:
        pwd.getpwuid(uid)
        return False
    except KeyError:
        return True


def create_account(name: str, home: Path, *, prefix: str, keep_homes: bool, uid: int | None = None) -> Account:
    """``useradd`` the account (no login shell, home ``home``, a group of its own, the mark), or reuse ours.

    ``uid``: the one it had last time (so a kept home stays theirs), used when still free; else useradd picks.
    An account of that name that a hub did not make, or that another running hub uses, is a TierlabError.
    """
    entry = _lookup(name)
    if entry is not None:
        if not ours(entry, prefix):
            raise TierlabError(f"the account {name!r} (uid {entry.pw_uid}) exists and was not made by tierlab hub, "
                               "so the hub will not use or delete it",
                               "pick other learner names (--names), or remove that account yourself")
        if _mine(entry):
            return Account(name=name, uid=entry.pw_uid, gid=entry.pw_gid, home=home)
        if _owner_alive(entry):
            pid = entry.pw_gecos.split()[2]
            raise TierlabError(f"the account {name!r} belongs to another tierlab hub that is running (pid {pid})",
                               "stop that hub first, or give this class other names (--names for learners, --admin "
                               "for the instructor's account)")
        remove_account(entry.pw_name, entry.pw_uid)  # a killed run's leftover
    for attempt in (uid if _free_uid(uid) else None, None):
        args = ["useradd", "--user-group", "--no-create-home", "--home-dir", str(home), "--shell",
                "/usr/sbin/nologin", "--comment", owner_mark(keep_homes=keep_homes)]
        if attempt is not None:
            args += ["--uid", str(attempt)]
        r = subprocess.run([*args, name], capture_output=True, text=True, timeout=60)
        if r.returncode == 0:
            made = pwd.getpwnam(name)
            return Account(name=name, uid=made.pw_uid, gid=made.pw_gid, home=home)
        if r.returncode != _USERADD_UID_TAKEN or attempt is None:  # a uid taken meanwhile: let useradd pick one
            raise TierlabError(f"useradd could not create the learner's account {name!r}: {r.stderr.strip()}",
                               "check /etc/passwd is writable and the name is free, or run with --shared-account")
    raise AssertionError("unreachable")


def processes_of(uids: Iterable[int]) -> list[int]:
    """Every live process whose real or effective uid is one of ``uids`` (from /proc/PID/status)."""
    wanted = {int(u) for u in uids}
    out: list[int] = []
    if not wanted:
        return out
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ids = {int(x) for x in fields.get("Uid", "").split()[:2]}
        if ids & wanted and fields.get("State", "").split()[:1] != ["Z"]:
            out.append(int(entry.name))
    return out


def end_processes(find: Callable[[], list[int]], timeout_s: float = 10.0) -> list[int]:
    """SIGTERM, then SIGKILL, the live processes ``find()`` lists, polling it until they are gone or
    ``timeout_s`` passes after each signal; the pids still alive after both (none, normally)."""
    left = find()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout_s
        while left and time.monotonic() < deadline:
            time.sleep(0.1)  # polling /proc until they are gone, bounded by the deadline
            left = find()
        if not left:
            break
    return left


def end_processes_of(uids: Iterable[int], timeout_s: float = 10.0) -> list[int]:
    """SIGTERM, then SIGKILL, every process of ``uids``; the pids still alive after both (none, normally)."""
    uids = list(uids)
    return end_processes(lambda: processes_of(uids), timeout_s)


def remove_account(name: str, uid: int) -> None:
    """End the account's processes, then ``userdel`` it (and its group); its home is the caller's to remove."""
    end_processes_of([uid])
    r = subprocess.run(["userdel", name], capture_output=True, text=True, timeout=60)
    if r.returncode == _USERDEL_BUSY:  # a process started between the two: once more
        end_processes_of([uid])
        r = subprocess.run(["userdel", name], capture_output=True, text=True, timeout=60)
    if r.returncode not in (0, _USERDEL_MISSING):
        raise TierlabError(f"userdel could not remove the learner's account {name!r}: {r.stderr.strip()}",
                           f"remove it by hand: userdel {name}")


def remove_home(home: Path, uid: int) -> None:
    """A learner's home, when it is one the hub made (in a ``homes`` folder, named after the account, theirs)."""
    try:
        st = home.lstat()
    except FileNotFoundError:
        return
    if home.parent.name == "homes" and home.name.startswith("tierlab-") and st.st_uid in (uid, 0) and home.is_dir():
        shutil.rmtree(home)


def remove_temp_of(uids: set[int]) -> None:
    """What the learners' accounts left at the top of /tmp and /dev/shm (their session folders ``tierlab-pg-UID``
    among them), once their processes are gone: a later account with the same uid must not inherit it."""
    if not uids:
        return
    for top in {Path(tempfile.gettempdir()), Path("/dev/shm")}:
        try:
            entries = list(top.iterdir())
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.lstat()
            except OSError:
                continue
            if st.st_uid not in uids:
                continue
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def reap_leftovers(prefix: str, *, save: Callable[[Path], None] | None = None) -> list[str]:
    """Remove the accounts (and their ``temp`` homes) that killed hubs left; the names removed.

    Only accounts with the hub's mark whose launcher is gone: never another hub's that still runs. ``save(home)``
    runs before a home goes (the hub saves the learner's progress file, as its own stop would have)."""
    gone = []
    for entry in pwd.getpwall():
        if not ours(entry, prefix) or _owner_alive(entry):
            continue
        remove_account(entry.pw_name, entry.pw_uid)
        remove_temp_of({entry.pw_uid})
        if entry.pw_gecos.split(",")[0].split()[4] == "temp":
            if save is not None:
                save(Path(entry.pw_dir))
            remove_home(Path(entry.pw_dir), entry.pw_uid)
        gone.append(entry.pw_name)
    return gone
