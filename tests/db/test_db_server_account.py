"""The public API other packages (tierlab.linux) use to run a PostgreSQL of their own.

Laws: as root the server account is a dedicated unprivileged one; ``can_run`` is false where a
folder above the program shuts the account out; ``hold_binaries`` gives binaries the account
can run, and a held copy survives every other start's clean-up until it is released.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tierlab import db
from tierlab.db import embedded as emb

root_only = pytest.mark.skipif(getattr(os, "geteuid", lambda: 1)() != 0,
                               reason="only root runs the server as another account")


def _private_install(top: Path) -> db.Binaries:
    """A stand-in install the server account cannot reach (mode 0700 above it); never run."""
    bindir = top / "private" / "pg" / "15" / "bin"
    bindir.mkdir(parents=True)
    os.chmod(top / "private", 0o700)
    for prog in ("postgres", "initdb"):
        (bindir / prog).write_text(f"#!/bin/sh\n# {top.name} {prog}\nexit 1\n")
        os.chmod(bindir / prog, 0o755)
    return db.Binaries(bindir, "env", "0.0")


def test_not_root_means_no_account_and_the_originals():
    if os.geteuid() == 0:
        assert db.server_account() is not None
        return
    assert db.server_account() is None
    held = db.hold_binaries(None, db.find_binaries())
    assert held.holder is None and held.binaries == db.find_binaries()


@root_only
def test_the_account_is_dedicated_and_unprivileged():
    acct = db.server_account()
    assert acct is not None and acct.name == emb.SERVER_ACCOUNT and acct.uid != 0
    assert acct.process_ids() == {"user": acct.uid, "group": acct.gid, "extra_groups": []}


@root_only
def test_can_run_needs_every_folder_above_to_let_the_account_through(tmp_path):
    acct = db.server_account()
    b = _private_install(tmp_path)
    assert not db.can_run(b.postgres, acct)
    assert db.can_run(b.postgres, None)  # root itself can
    os.chmod(tmp_path / "private", 0o755)
    assert db.can_run(b.postgres, acct) == emb._reachable(b.postgres, acct.uid, acct.gid)


@root_only
def test_a_held_copy_survives_clean_up_until_released(tmp_path):
    acct = db.server_account()
    source = _private_install(tmp_path)
    with db.hold_binaries(acct, source) as held:
        copy = held.binaries
        assert copy.bindir != source.bindir and db.can_run(copy.postgres, acct)
        assert copy.postgres.read_bytes() == source.postgres.read_bytes()
        assert held.holder is not None and held.holder.parent == emb.sessions_root()
        db.reap_stale()  # what every other start does first
        assert copy.postgres.exists(), "a copy in use was cleaned away"
    assert held.holder is None
    db.reap_stale()
    assert not copy.postgres.exists(), "a released copy nobody uses stayed in the cache"
