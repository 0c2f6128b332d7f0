"""Shared by the real-packet tests (tests/linux) and their conftest: skip-or-fail, and what the
host looks like (namespaces, links, nftables tables, processes) for the cleanliness checks."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tierlab.linux import list_namespaces, skip_reason


def need_netns() -> None:
    """Skip with the one-line reason where namespaces cannot be built; under CI, fail instead."""
    reason = skip_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the real-packet tests, but: {reason}")
    pytest.skip(reason)


def _ours_or_orphaned() -> list[str]:
    """tierlab's namespaces that belong to this process or to a process that is gone (another
    test run on the machine at the same time keeps its own)."""
    import json

    from tierlab.linux.netns import REGISTRY

    out = []
    for ns in list_namespaces():
        try:
            owner = int(json.loads((REGISTRY / f"{ns.split('-')[0]}.json").read_text())["owner"])
        except (OSError, ValueError, KeyError):
            owner = None
        if owner is None or owner == os.getpid() or not Path(f"/proc/{owner}").exists():
            out.append(ns)
    return out


def snapshot() -> dict[str, object]:
    """The host's own view of what a lab could leak: tierlab's namespaces, links with the names
    the lab gives its veths (igw, eth0, e<N>, g<N>), nftables tables named tierlab*. Other links and
    tables (Docker's, another helper's) come and go on their own and are not compared."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    names = sorted(l.split(":")[1].strip().split("@")[0] for l in links.splitlines())
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    return {"namespaces": _ours_or_orphaned(),
            "links": [n for n in names if re.fullmatch(r"igw|eth0|[eg]\d+", n)],
            "tables": sorted(t for t in tables.splitlines() if "tierlab" in t)}


def procs_mentioning(word: str) -> list[int]:
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if word.encode() in (p / "cmdline").read_bytes():
                    pids.append(int(p.name))
            except OSError:
                pass
    return pids




def listen_queues(lab, key: str) -> dict[int, int]:
    """Port -> listen backlog of every TCP listener in one of a lab's namespaces (``ss -ltn``'s Send-Q)."""
    from tierlab.linux.netns import run_in

    out = {}
    for line in run_in(lab.ns(key), ["ss", "-ltnH"]).splitlines():
        parts = line.split()
        out[int(parts[3].rsplit(":", 1)[1])] = int(parts[2])
    return out
