"""Real-packet tests: Linux as root only; one line and a skip elsewhere, except under CI."""

from __future__ import annotations

import os

import pytest

from tierlab.linux import skip_reason


def need_netns() -> None:
    reason = skip_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the real-packet tests, but: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def seed_lab():
    """One namespaced seed VPC for a test module (built once, what-ifs applied incrementally)."""
    need_netns()
    import tierlab as tl
    from tierlab import linux

    lab = linux.build(tl.load("seed"))
    yield lab
    lab.close()
