"""The input paths neither test_fuzz.py nor test_fuzz_inputs.py reaches: the environment variables tierlab reads,
the files it exports, and the benchmark scripts' arguments.

Same rules as test_fuzz.py (its Runner: a TierlabError or a value is fine, any other exception is a finding, 5 s of
CPU per call at most, no blocking); a command line ends in exit 2 with a one-line message, never a traceback.

* **Environment variables** (every ``os.environ`` read outside the hub): ``TIERLAB_DATA``, ``TIERLAB_DOT``,
  ``TIERLAB_CACHE_DIR`` and ``XDG_CACHE_HOME`` (the Terraform parse cache), ``TIERLAB_PROGRESS``,
  ``TIERLAB_SOLUTIONS``, ``TIERLAB_PG_BIN``, the database's ``TIERLAB_DATABASE_URL``, ``DB_HOST`` and ``DB_PORT``,
  and ``TIERLAB_APP_TOKEN``, each set to odd values: empty, blanks,
  ``~`` of nobody, a FIFO, a folder, a link loop, /dev/zero, very long, not UTF-8. Law: what reads it answers
  or raises a TierlabError (the app server: exit 2), and the parse cache never trusts or writes into a folder
  other accounts may write to.
* **Exports** (``tl.write_terraform``, ``Diagram.save``): odd paths and traps a shared folder can hold: a link
  named ``main.tf`` or ``x.svg`` pointing at another file, a folder or FIFO under the name, someone's own
  ``main.tf``. Law: the file is written whole, or nothing is; no link is followed; a ``main.tf`` tierlab did not
  write is never replaced; no temporary file is left behind.
* **Import calls**: ``tl.from_terraform`` and ``tl.from_aws`` given odd paths (a device, a FIFO, a link loop)
  and odd keywords; /dev/zero once took a kernel down (read until memory ran out).
* **Benchmark arguments**: each script given a count of 0, a negative one, a word, or a list with a word in it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest
from test_fuzz import COUNTS, SEED, Runner

import tierlab as tl
from tierlab.course import exercises as E
from tierlab.course import progress as P
from tierlab.db import embedded, provider
from tierlab.network.importers import terraform as tfimp
from tierlab.views import graphviz_engine, serve

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[2]


def _odd_values(tmp: Path) -> list[str]:
    """Values an environment variable may hold by accident or by malice (no NUL: the environment cannot)."""
    tmp.mkdir()
    fifo, folder, loop, empty = tmp / "fifo", tmp / "folder", tmp / "loop", tmp / "empty"
    os.mkfifo(fifo)
    folder.mkdir()
    (folder / "x").write_text("not what was expected\n")
    loop.symlink_to(loop)
    empty.write_text("")
    return ["", " ", ".", "..", "/", "-", "off", "0", "none", "~", "~nobody-here/x", "relative/path",
            "/dev/null", "/dev/zero", "/proc/self/status", "\udcff\udcfe", "a" * 5000, "a/" * 2000,
            str(fifo), str(folder), str(loop), str(empty), f"{folder}/x", "http://example.com/x", "postgresql://",
            "postgresql://u:p@h:99999/x", "postgresql://[::1/x", "postgresql://u:%zz@h/x", "99999", "-1", "1e3"]


def _app_token() -> Any:
    try:
        return serve.parse_args([])
    except SystemExit as exc:  # a bad token is a usage error, like a bad --token
        assert exc.code == 2, exc.code
        return None


def _dot() -> Any:
    graphviz_engine.find_engine.cache_clear()
    try:
        return graphviz_engine.find_engine()
    finally:
        graphviz_engine.find_engine.cache_clear()


_N = iter(range(10**9))


def _parse_cache() -> Any:
    return tfimp.parse_text(f'variable "v{next(_N)}" {{ default = 1 }}\n')  # a new text: the cache is consulted


def _progress() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "could not record progress": a warning, by design
        P.record("fuzz-env", True)
    return P.progress()


#: Each variable tierlab reads, and what reads it.
CONSUMERS: dict[str, Callable[[], Any]] = {
    "TIERLAB_DATA": lambda: (tl.data_path("topologies", "seed.yaml"), tl.load("seed"), E.load_exercises()),
    "TIERLAB_DOT": _dot,
    "TIERLAB_CACHE_DIR": _parse_cache,
    "XDG_CACHE_HOME": _parse_cache,
    "TIERLAB_PROGRESS": _progress,
    "TIERLAB_SOLUTIONS": E.load_solutions,
    "TIERLAB_PG_BIN": lambda: embedded.find_binaries(),
    "TIERLAB_DATABASE_URL": lambda: provider.url_from_env(),
    "DB_HOST": lambda: provider.url_from_env(),
    "DB_PORT": lambda: provider.url_from_env({**os.environ, "DB_HOST": "localhost"}),
    "TIERLAB_APP_TOKEN": _app_token,
}


def test_every_environment_variable_tierlab_reads_takes_odd_values(tmp_path: Path, monkeypatch: Any) -> None:
    run = Runner("env vars")
    values = _odd_values(tmp_path / "odd")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # where a default (a progress file, a cache) would land
    monkeypatch.delenv("TIERLAB_CACHE_DIR", raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # where a relative value lands
    for var, consume in CONSUMERS.items():
        for value in values:
            with monkeypatch.context() as m:
                m.setenv(var, value)
                if var == "XDG_CACHE_HOME":
                    m.delenv("TIERLAB_CACHE_DIR", raising=False)
                run(f"{var}={value[:30]!r}", consume)
    run.check()


def test_the_parse_cache_neither_trusts_nor_writes_a_folder_others_may_write(tmp_path: Path, monkeypatch: Any) -> None:
    shared = tmp_path / "shared"
    (shared / "hcl").mkdir(parents=True)
    os.chmod(shared / "hcl", 0o777)  # like a cache folder under /tmp
    victim = tmp_path / "victim"
    text = 'variable "planted" { default = 1 }\n'
    monkeypatch.setenv("TIERLAB_CACHE_DIR", "off")
    truth = tfimp.parse_text(text)
    monkeypatch.setenv("TIERLAB_CACHE_DIR", str(shared))
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256(f"{version('python-hcl2')}\0{text}".encode()).hexdigest()
    (shared / "hcl" / f"{digest}.json").write_text('{"resource": [{"planted": true}]}')
    (shared / "hcl" / f"{digest}.{os.getpid()}.tmp").symlink_to(victim)
    doc = tfimp.parse_text(text)
    assert doc == truth and "resource" not in doc  # the file's parse, not the plant
    assert not victim.exists()  # the planted link was not written through

    private = tmp_path / "private"
    monkeypatch.setenv("TIERLAB_CACHE_DIR", str(private))
    assert tfimp.parse_text(text) == doc
    assert oct((private / "hcl").stat().st_mode & 0o777) == "0o700"
    assert [p.suffix for p in (private / "hcl").iterdir()] == [".json"]  # no temporary left behind


def _traps(folder: Path) -> dict[str, Path]:
    """Names under ``folder`` a shared folder may already hold; returns what must stay untouched."""
    folder.mkdir()
    victim = folder / "victim.txt"
    victim.write_text("the learner's own file\n")
    (folder / "linked").mkdir()
    (folder / "linked" / "main.tf").symlink_to(victim)
    (folder / "theirs").mkdir()
    (folder / "theirs" / "main.tf").write_text('resource "aws_vpc" "mine" {}\n')
    (folder / "link.svg").symlink_to(folder / "victim-not-yet.svg")
    (folder / "dir.svg").mkdir()
    os.mkfifo(folder / "fifo.svg")
    (folder / "file").write_text("x")
    return {"victim": victim, "theirs": folder / "theirs" / "main.tf"}


def test_exports_write_whole_files_never_through_a_link_nor_over_someone_elses(tmp_path: Path, monkeypatch: Any
                                                                               ) -> None:
    run = Runner("exports")
    folder = tmp_path / "shared"
    keep = _traps(folder)
    before = {k: p.read_bytes() for k, p in keep.items()}
    monkeypatch.chdir(folder)
    diagram = tl.diagram(SEED)
    odd = ["", " ", ".", "/", "/dev/null", "/proc/self/status", "x\x00y", "\udcff", "a" * 5000, "a/" * 2000,
           "~nobody-here/x", "linked", "theirs", "file", "file/below", "fresh", "fresh", "deeper/still/tf"]
    for p in odd:
        run(f"write_terraform {p[:20]!r}", lambda: tl.write_terraform(SEED, p))
    for name in ["link.svg", "dir.svg", "fifo.svg", "file/x.svg", "none/x.png", "x\x00.svg", "\udcff.dot",
                 "a" * 300 + ".svg", "ok.svg", "ok.dot", "ok.svg", "/proc/self/x.svg", ".svg", "main.tf"]:
        run(f"save {name[:20]!r}", lambda: diagram.save(name))
    assert {k: p.read_bytes() for k, p in keep.items()} == before
    assert not (folder / "victim-not-yet.svg").exists() and (folder / "link.svg").is_symlink()
    written = sorted(folder.rglob("main.tf"))
    for f in written:
        if not f.is_symlink() and f != keep["theirs"]:
            assert f.read_text().endswith("}\n") and ": exported by tierlab" in f.read_text().splitlines()[0], f
    assert (folder / "fresh" / "main.tf").is_file() and (folder / "ok.svg").read_text().rstrip().endswith("</svg>")
    assert not [p for p in folder.rglob("*.tmp")], "a temporary file was left behind"
    run.check()


#: Each benchmark script's counting options, and odd values for them.
BENCH_ARGS = {
    "bench_database.py": ["--requests", "--concurrency", "--pgbench-s", "--runs", "--burst"],
    "bench_hub.py": ["--sizes", "--notebook-learners"],
    "bench_linux.py": ["--requests", "--threads", "--builds"],
}
BENCH_ODD = ["0", "-3", "x", "1e3", "9" * 30, "5,x"]


def test_the_benchmarks_refuse_odd_arguments_with_a_usage_error() -> None:
    """One odd value per option (argparse stops at the first), the values taken in turn: 10 runs, not 60."""
    from collections import Counter

    seen = COUNTS.setdefault("bench args", Counter())
    failures, turn = [], 0
    for script, options in BENCH_ARGS.items():
        for option in options:
            odd = ["-3", "x", "201", "5,x"] if option == "--notebook-learners" else BENCH_ODD
            value = odd[turn % len(odd)]
            turn += 1
            r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), f"{option}={value}"],
                               capture_output=True, text=True, timeout=120, cwd=ROOT)
            seen["exit 2" if r.returncode == 2 else f"exit {r.returncode}"] += 1
            if r.returncode != 2 or "Traceback" in r.stderr or option not in r.stderr:
                failures.append(f"{script} {option}={value}: exit {r.returncode}\n{r.stderr[-500:]}")
    assert not failures, "\n".join(failures[:3])


def test_the_importers_take_any_path_and_keyword_with_a_message(tmp_path: Path, monkeypatch: Any) -> None:
    """``tl.from_terraform`` and ``tl.from_aws`` as a notebook calls them (tests/network/test_fuzz_importers.py
    mutates the files' contents below the safety net): odd paths, devices, FIFOs, link loops, and odd values for
    every keyword. Law: an Imported or a TopologyError; /dev/zero is refused, never read until memory runs out."""
    run = Runner("import calls")
    monkeypatch.chdir(tmp_path)
    os.mkfifo("fifo.tf")
    os.mkfifo("fifo.json")
    Path("loop.tf").symlink_to("loop.tf")
    Path("folder").mkdir()
    Path("empty.tf").write_text("")
    Path("deep.json").write_text("[" * 100_000)
    Path("binary.tf").write_bytes(b"\xff\xfe\x00resource")
    Path("vars.tfvars").write_text('x = "y"\n')
    tf, aws = ROOT / "data" / "terraform" / "broken-nacl", ROOT / "data" / "aws" / "seed"
    paths: list[Any] = ["", ".", "/", "/dev/null", "/dev/zero", "/proc/self/status", "x\x00y", "\udcff", "a" * 5000,
                        "a/" * 2000, "~nobody-here/x", "fifo.tf", "fifo.json", "loop.tf", "folder", "empty.tf",
                        "deep.json", "binary.tf", 5, None, ["x"], b"bytes"]
    for p in paths:
        run(f"from_terraform({p!r:.30})", lambda: tl.from_terraform(p))
        run(f"from_aws({p!r:.30})", lambda: tl.from_aws(p))
    odd: list[Any] = [None, 5, "x", "", "\x00", ["x"], [5], ["fifo.tf"], ["/dev/zero"], ["loop.tf"], {"a": 1},
                      {5: object()}, {"x": float("nan")}, ["a" * 5000], [b"x"], ("vars.tfvars",), "vars.tfvars",
                      {"": ""}, True]
    for key in ("var_files", "variables", "lb", "database", "name"):
        for v in odd:
            run(f"from_terraform({key}={v!r:.30})", lambda: tl.from_terraform(tf, **{key: v}))
    for key in ("lb", "database", "name", "bogus"):
        for v in odd:
            run(f"from_aws({key}={v!r:.30})", lambda: tl.from_aws(aws, **{key: v}))
    run.check()
