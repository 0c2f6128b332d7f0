"""`tierlab hub` and `make hub` refuse every bad argument before anything is made or started.

A bad argument is one the class cannot run with: a port that is not one or is taken, a class folder that is not a
folder or is someone else's (``--data /`` would have had its mode changed to 0711 and the course written into it),
learners that are none, too many, malformed or someone else's account (``tierlab-pg``), an instructor's database URL
that cannot be one or whose server refuses, a culling time shorter than a minute, options that contradict.

Laws, for each curated bad argument (in a command line that is otherwise valid):

* exit status 2, a message naming the option (``--port``, ...) and a fix (``hint:``, or argparse's usage line);
  no traceback;
* nothing started (no process at all: an audit hook sees every ``subprocess``/``fork``/``exec``), nothing written
  or made (no ``open`` for writing, no ``mkdir`` but the class folder's probe, no ``chmod``), and the class folder
  does not exist afterwards.

``$TIERLAB_HUB_PROXY`` points at nothing, so a command line that passed every check would stop at the proxy (the
control case proves the valid base gets that far, and no further); a bad argument must be refused before, by name.
Hypothesis then mutates the valid base with odd values (1-3 options at once): exit 2, no traceback, nothing started.
A sample runs through the real entry points: ``python -m tierlab.cli hub`` and ``make hub`` (its set-up skipped).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import COUNTS, Runner

from tierlab.cli import main

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[2]
TAG = "fz" + secrets.token_hex(3)
EXAMPLES = int(os.environ.get("TIERLAB_FUZZ_EXAMPLES", 0))

#: What the audit hook records while a command line is tried (None: not watching).
SEEN: list[str] | None = None
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_STARTS = ("subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.exec", "os.system", "os.spawn")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if SEEN is None:
        return
    if event in _STARTS:
        SEEN.append(f"started {event} {str(args)[:120]}")
    elif event in ("os.chmod", "os.chown"):
        SEEN.append(f"{event} {args[0]!r}")
    elif event == "os.mkdir" and ".tierlab-hub-probe-" not in str(args[0]):
        SEEN.append(f"mkdir {args[0]!r}")
    elif event == "open" and isinstance(args[2], int) and args[2] & _WRITE and "__pycache__" not in str(args[0]):
        SEEN.append(f"opened for writing {args[0]!r}")


sys.addaudithook(_hook)  # cannot be removed: it does nothing while SEEN is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty folder to run in (relative --data lands here) and a proxy that is not there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIERLAB_HUB_PROXY", str(tmp_path / "no-proxy-here"))
    yield tmp_path


def _base(place: Path) -> dict[str, str]:
    """A command line every check accepts: two learners of this run's own, a free port, a new class folder."""
    return {"--names": f"{TAG}_a,{TAG}_b", "--port": str(_free_port()), "--data": str(place / "class"),
            "--cull-idle-s": "600"}


def _argv(options: dict[str, str | None], extra: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    argv = ["hub"]
    for k, v in options.items():
        argv += [k] if v is None else [k, v]
    return argv + list(extra)


def _try(argv: list[str], place: Path) -> tuple[int, str, list[str]]:
    """main(argv) in this process, watched: (exit status, what it printed, what it started or wrote)."""
    global SEEN
    before = sorted(os.listdir(place))
    out, err = io.StringIO(), io.StringIO()
    SEEN = []
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        seen, SEEN = SEEN, None
    text = out.getvalue() + err.getvalue()
    after = sorted(os.listdir(place))
    if after != before:
        seen.append(f"left in the folder: {sorted(set(after) - set(before))}")
    return code, text, seen


def _in_use() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def _bad(place: Path, dead_port: int, busy_port: int) -> list[tuple[str, str | None, list[str]]]:
    """(option, bad value, extra argv): each alone in the otherwise valid command line."""
    foreign = place / "someones"
    foreign.mkdir(exist_ok=True)
    (foreign / "thesis.tex").write_text("x")
    a_file = place / "a-file"
    a_file.write_text("x")
    loop = place / "loop"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    db = f"postgresql://admin:pw@127.0.0.1:{dead_port}/postgres"
    bad: dict[str, list[str]] = {
        "--learners": ["0", "-1", "1000", "x", "", "1.5", "1e3", "99999999999999999999", "\udcff", "5"],  # 5: with --names
        "--names": ["", ",", " , ", "a b", "pg", "instructor", "tierlab-pg", "a" * 25, "ada,ada", "ADA,ada", "a\x00b",
                    "\udcff", "-x", "\u00e9", "../x", "a;rm -rf /", ",".join(f"n{i}" for i in range(1000)), "x" * 5000],
        "--port": ["0", "-1", "65536", "99999999999999999999", "x", "", "80.5", str(busy_port)],
        "--data": ["", " ", "/", "/tmp", "/etc", "/dev/null", "/dev/null/x", "/proc/self/status", "/proc/tierlab-x",
                   "/sys/tierlab-x", str(a_file), str(a_file / "x"), str(foreign), "/root/tierlab-x", "a" * 5000,
                   "a/" * 2100, "x\x00y", str(loop), str(loop / "x"), "~"],
        "--db-url": ["", " ", "nonsense", "http://x", "postgresql://", "postgresql:///postgres", "postgresql://h:99999/x",
                     "postgresql://127.0.0.1:x/y", db, db + "?foo=1", db + "?connect_timeout=1", db + "?sslmode=bogus",
                     db + "?autocommit=1", "postgresql://\udcff@127.0.0.1/x", "postgresql://a@127.0.0.1:0/x", "x\x00y"],
        "--cull-idle-s": ["0", "-1", "59", "x", "", "1e9", "nan", "-99999999999999999999"],
        "--admin": ["", "pg", "a b", "Admin!", "a" * 25, f"{TAG}_a", "\udcff", "x\x00y"],
    }
    cases: list[tuple[str, str | None, list[str]]] = [(k, v, []) for k, vs in bad.items() for v in vs]
    cases += [("--keep-work", "--keep-work=1", []), ("--shared-account", "--shared-account=no", []),
              ("--bogus", None, ["--bogus"]), ("--port", None, ["--port"]), ("--names", None, ["--names"]),
              ("--data", None, ["--data"]), ("--learners", None, ["--learners"])]
    return cases


def test_every_bad_hub_argument_is_refused_by_name_before_anything_starts(place: Path) -> None:
    run = Runner("hub arguments")
    with _in_use() as busy, socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = closed.getsockname()[1]  # bound, never listening: a refused connection at once
        code, text, seen = _try(_argv(_base(place)), place)  # the control: only the missing proxy stops it
        assert code == 2 and "configurable-http-proxy" in text and not seen, (code, text, seen)
        findings = []
        for option, value, extra in _bad(place, dead, busy.getsockname()[1]):
            options: dict[str, str | None] = _base(place)
            if value is not None and value.startswith("--"):
                options[value] = None  # a flag given a value: --keep-work=1
                argv = _argv(options)
            elif value is None:
                argv = _argv(options, extra)
            else:
                if option == "--learners" and value != "5":  # 5 is fine alone: the case is --learners with --names
                    del options["--names"]
                options[option] = value
                argv = _argv(options)
            label = f"{option} {value!r}"[:80]
            result = run(label, lambda: _try(argv, place))
            if result is None:
                continue
            code, text, seen = result
            said = text.encode("utf-8", "backslashreplace").decode()
            if code != 2 or "Traceback" in text:
                findings.append(f"{label}: exit {code}\n{said[-600:]}")
            elif option not in said or not ("hint:" in said or "usage:" in said):
                findings.append(f"{label}: the message names no option or fix:\n{said[-600:]}")
            if seen:
                findings.append(f"{label}: {seen[:3]}")
            run.counts[f"refused {option}"] += 1
    run.check()
    assert not findings, f"{len(findings)} finding(s):\n" + "\n".join(findings[:8])
    assert not os.path.lexists(place / "class")


ODD = st.one_of(st.text(max_size=12), st.integers(-(2**40), 2**40).map(str), st.sampled_from(
    ["", "0", "-1", "65536", "/", ".", "..", "~", "\udcff", "x\x00", ",", "pg", "postgresql://", "nan", "--port",
     "a" * 300, "/dev/null", "/proc/self"]))
OPTIONS = ["--learners", "--names", "--port", "--data", "--db-url", "--cull-idle-s", "--admin"]


@settings(max_examples=EXAMPLES or 60, deadline=None, database=None, derandomize=not EXAMPLES,
          suppress_health_check=list(HealthCheck))
@given(st.dictionaries(st.sampled_from(OPTIONS), ODD, min_size=1, max_size=3))
def test_odd_values_end_in_exit_2_with_nothing_started(tmp_path_factory: pytest.TempPathFactory,
                                                      changes: dict[str, str]) -> None:
    place = tmp_path_factory.mktemp("hubfuzz")
    old_cwd, old_proxy = os.getcwd(), os.environ.get("TIERLAB_HUB_PROXY")
    os.chdir(place)
    os.environ["TIERLAB_HUB_PROXY"] = str(place / "no-proxy-here")
    try:
        options: dict[str, str | None] = _base(place)
        if "--learners" in changes and "--names" not in changes:
            del options["--names"]
        options.update(changes)
        if "://" in changes.get("--db-url", ""):
            options["--db-url"] = "postgresql://a@127.0.0.1:1/x"  # never a host name to resolve or a real server
        run = Runner("hub odd values")
        result = run(str(changes)[:80], lambda: _try(_argv(options), place))
        run.check()
        code, text, seen = result
        assert code == 2 and "Traceback" not in text and text.strip(), (changes, code, text[-800:])
        assert not seen, (changes, seen)
    finally:
        os.chdir(old_cwd)
        if old_proxy is None:
            os.environ.pop("TIERLAB_HUB_PROXY", None)
        else:
            os.environ["TIERLAB_HUB_PROXY"] = old_proxy


def test_the_real_entry_points_refuse_bad_arguments(place: Path) -> None:
    """``python -m tierlab.cli hub`` and ``make hub`` (set-up skipped with ``-o setup-hub``): exit 2, the option
    named, no traceback, no class folder made."""
    data = str(place / "class")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "TIERLAB_HUB_PROXY": str(place / "no-proxy-here")}
    port = str(_free_port())
    cli = [sys.executable, "-m", "tierlab.cli", "hub", "--names", f"{TAG}_a", "--data", data, "--port", port]
    runs = [(cli + ["--port", "99999"], "--port"), (cli + ["--port", "x"], "--port"), (cli + ["--data", "/"], "--data"),
            (cli + ["--names", ","], "--names"), (cli + ["--learners", "3"], "--learners"),
            (cli + ["--cull-idle-s", "5"], "--cull-idle-s"), (cli + ["--db-url", "http://x"], "--db-url")]
    make = ["make", "--no-print-directory", "-s", "-C", str(ROOT), "-o", "setup-hub", "hub",
            f"PY={sys.executable}"]
    if Path("/usr/bin/make").exists() or Path("/bin/make").exists():
        runs += [(make + ["HUB_PORT=99999", f"HUB_ARGS=--data {data}"], "--port"),
                 (make + ["HUB_PORT=abc"], "--port"), (make + [f"HUB_ARGS=--names pg --data {data}"], "--names"),
                 (make + [f"HUB_PORT={port}", "HUB_ARGS=--data /"], "--data")]
    procs = [(argv, want, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=place))
             for argv, want in runs]
    seen = COUNTS.setdefault("hub entry points", Counter())
    for argv, want, p in procs:
        out, err = p.communicate(timeout=120)
        text = (out + err).decode("utf-8", "replace")
        assert p.returncode == 2, (argv, p.returncode, text[-1500:])
        if argv[0] == "make":  # make exits 2 for any failed recipe: the recipe's own status is in its last line
            assert "] Error 2" in text, (argv, text[-1500:])
        assert want in text and "Traceback" not in text, (argv, text[-1500:])
        seen[argv[0].rsplit("/", 1)[-1]] += 1
    assert not os.path.lexists(data)
