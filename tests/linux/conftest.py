"""Real-packet tests: Linux as root only; one line and a skip elsewhere, except under CI."""

from __future__ import annotations

import pytest

from netns_support import need_netns, snapshot
from tierlab.linux import skip_reason


@pytest.fixture(scope="module")
def seed_lab():
    """One namespaced seed VPC for a test module (built once, what-ifs applied incrementally)."""
    need_netns()
    import tierlab as tl
    from tierlab import linux

    lab = linux.build(tl.load("seed"))
    yield lab
    lab.close()


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind():
    """Around the whole real-packet suite: the host's namespaces, links and nftables tables are
    the same after as before (the tests that need root skip or fail on their own elsewhere)."""
    if skip_reason() is not None:
        yield
        return
    before = snapshot()
    yield
    after = snapshot()
    assert after == before, f"left behind: {after} (before: {before})"
