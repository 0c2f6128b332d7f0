"""No traceback on any input: malformed files, odd command lines and odd what-ifs end in a TierlabError.

The committed corpus (tests/fuzz/corpus, written by make_corpus.py) holds 580 malformed topology
files and 330 argument lists; the test adds what git cannot hold (a FIFO, a symlink loop, a folder,
/dev/zero, an unreadable file) and hypothesis mutates the seed further. Everything runs in this
process (the loader, ``tierlab.cli.main(argv)``, every what-if), each call under a 5 s alarm, with
tracemalloc watching the peak; a small sample runs through the real ``tierlab`` executable.
The counts are printed in pytest's terminal summary (tests/fuzz/conftest.py). Hypothesis runs a
fixed set of examples in the suite; TIERLAB_FUZZ_EXAMPLES=5000 explores new ones at random.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import os
import resource
import signal
import subprocess
import sys
import tarfile
import time
import tracemalloc
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.cli import main
from tierlab.course.scenarios import apply_whatif
from tierlab.network.readfile import read_yaml_text
from tierlab.network.topology import Instance

pytestmark = pytest.mark.fuzz

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
SEED = tl.load("seed")
SEED_TEXT = tl.data_path("topologies", "seed.yaml").read_text()
LIMIT_S = 5.0
PEAK_BYTES = 500 * 1024 * 1024

#: What each part saw, printed at the end of the run (conftest.py).
COUNTS: dict[str, Counter[str]] = {}


class Hung(BaseException):  # not an Exception: nothing under test may swallow it
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Hung(f"no answer after {HANG_S} s")


#: A call that blocks (a FIFO read, a lock) uses no CPU: a wall-clock alarm ends it as a finding.
HANG_S = 60.0


class Runner:
    """Calls ``fn``; a TierlabError or a return is fine, anything else is a finding. Each call may use at
    most 5 s of CPU (process time, so a machine shared with other jobs does not make it flaky) and may
    not block for a minute."""

    def __init__(self, part: str) -> None:
        self.counts = COUNTS.setdefault(part, Counter())
        self.failures: list[str] = []
        self.slowest = 0.0
        self.slowest_label = ""

    def __call__(self, label: str, fn: Callable[[], Any]) -> Any:
        old = signal.signal(signal.SIGALRM, _alarm)
        start = time.process_time()
        result = None
        try:
            signal.setitimer(signal.ITIMER_REAL, HANG_S)
            try:
                result = fn()
                self.counts["ok"] += 1
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except tl.TierlabError as exc:
            str(exc).encode("utf-8")  # the message prints anywhere (no lone surrogates)
            self.counts["TierlabError"] += 1
        except Hung:
            self.counts["hung"] += 1
            self.failures.append(f"{label}: no answer after {HANG_S} s")
        except Exception:  # noqa: BLE001 - a traceback is exactly what this test hunts
            self.counts["traceback"] += 1
            self.failures.append(f"{label}:\n{traceback.format_exc(limit=6)}")
        finally:
            signal.signal(signal.SIGALRM, old)
            spent = time.process_time() - start
            if spent > self.slowest:
                self.slowest, self.slowest_label = spent, label
        if spent > LIMIT_S:
            self.failures.append(f"{label}: {spent:.1f} s of CPU")
        return result

    def check(self) -> None:
        self.counts["slowest CPU ms"] = max(self.counts["slowest CPU ms"], round(self.slowest * 1000))
        assert not self.failures, f"{len(self.failures)} finding(s):\n" + "\n".join(self.failures[:5])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The corpus on disk, plus the special files git cannot hold."""
    root = tmp_path_factory.mktemp("fuzz")
    with tarfile.open(CORPUS / "topologies.tar.gz") as tar:
        tar.extractall(root, filter="data")
    special = root / "special"
    special.mkdir()
    os.mkfifo(special / "fifo.yaml")
    (special / "loop.yaml").symlink_to(special / "loop.yaml")
    (special / "folder.yaml").mkdir()
    (special / "zero.yaml").symlink_to("/dev/zero")
    (special / "dangling.yaml").symlink_to(special / "nowhere.yaml")
    locked = special / "locked.yaml"
    locked.write_text(SEED_TEXT)
    locked.chmod(0)  # root reads it anyway; anyone else gets "permission denied"
    (special / "big.yaml").write_bytes(b"# " + b"x" * (6 * 1024 * 1024))
    out = sorted(root.glob("*.yaml")) + sorted(special.iterdir())
    assert len(out) >= 500
    return out


@pytest.fixture(scope="module", autouse=True)
def memory_peak() -> Any:
    """The process's peak RSS may grow by less than 500 MB over the whole module."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    yield
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    COUNTS.setdefault("memory", Counter()).update({"peak RSS MB": after // 2**20,
                                                   "peak RSS growth MB": (after - before) // 2**20})
    assert after - before < PEAK_BYTES


HOSTILE = ["alias-bomb", "deep-list", "deep-map", "digits-5000", "huge-list", "many-subnets", "many-sg-rules",
           "long-line", "recursive-anchor", "binary"]


def test_hostile_files_stay_under_500_mb_of_python_allocations(files: list[Path]) -> None:
    """tracemalloc over the files built to exhaust memory (the rest: the RSS check of the module)."""
    run = Runner("hostile")
    chosen = [f for f in files if f.stem in HOSTILE] + [f for f in files if f.parent.name == "special"]
    tracemalloc.start()
    try:
        for f in chosen:
            run(f.name, lambda: tl.load(f))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    run.counts["peak MB (tracemalloc)"] = round(peak / 2**20)
    run.check()
    readable = 1 if os.geteuid() == 0 else 0  # root reads locked.yaml (a valid seed) anyway
    assert peak < PEAK_BYTES and run.counts["TierlabError"] == len(chosen) - readable


def test_the_loader_ends_every_file_in_a_topology_or_a_tierlab_error(files: list[Path]) -> None:
    run = Runner("loader")
    for f in files:
        run(f.name, lambda: tl.load(f))
    run("an empty name", lambda: tl.load(""))
    run("a NUL in the name", lambda: tl.load("se\x00ed"))
    run("not a name", lambda: tl.load(42))  # type: ignore[arg-type]
    run.check()
    assert run.counts["TierlabError"] >= 500


def _cli(argv: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code in (0, 1, 2), code
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    out.getvalue().encode("utf-8")  # printable: no lone surrogates reach stdout (stderr escapes them itself)
    return code


def test_every_cli_sub_command_ends_in_a_message_and_an_exit_code(files: list[Path]) -> None:
    run = Runner("cli")
    args = json.loads((CORPUS / "args.json").read_text())
    codes: Counter[int] = Counter()
    for argv in args:
        codes[run(" ".join(argv)[:80], lambda: _cli(argv))] += 1
    by_command = [["check"], ["rules", "-t"], ["journey", "-t"], ["reach", "node-api-1", "rds-primary", "5432", "-t"],
                  ["journey", "--json", "-t"], ["audit"]]
    sample = files[::4] + [f for f in files if f.parent.name == "special"]  # the loader test reads them all
    for i, f in enumerate(sample):
        cmd = by_command[i % len(by_command)]
        codes[run(f"{cmd[0]} {f.name}", lambda: _cli(cmd + [str(f)]))] += 1
    codes[run("check all", lambda: _cli(["check"] + [str(f) for f in files[:60]]))] += 1
    run.counts.update({f"exit {k}": v for k, v in codes.items() if k is not None})
    run.check()
    assert len(args) + len(sample) >= 400


def test_check_reports_every_file_not_only_the_first_bad_one(files: list[Path], capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    special = [f for f in files if f.parent.name == "special"]
    seed = str(tl.data_path("topologies", "seed.yaml"))
    assert main(["check", *map(str, special), seed]) == 2
    seen = capsys.readouterr()
    assert all(f.name in seen.err + seen.out for f in special) and "OK — topology 'seed'" in seen.out


# --------------------------------------------------------------------------- what-ifs

values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=30),
    st.sampled_from(["web-sg", "database-sg", "nacl-public", "inbound", "outbound", "allow", "deny", "tcp", "all",
                     "10.0.2.0/24", "10.0.2.0", "0.0.0.0/0", "rt-public", "443", "1024-65535", "\udcff", "",
                     "web-sg-in-3000", "nacl-public-in-100", "node-api-4", "private-app-az1", "10.0.2.46"]),
    st.lists(st.integers(-5, 70000), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
KEYS = ["remove", "switch_off", "switch_on", "change", "add_nacl", "add_sg", "without_route", "bogus", True]
SPEC_KEYS = ["nacl", "group", "direction", "number", "action", "ports", "cidr", "protocol", "sg", "description",
             "rule_id", "table", "destination", "enabled", "peer_sg"]
entries = st.dictionaries(st.sampled_from(SPEC_KEYS), values, max_size=6)
specs = st.one_of(
    values,
    st.dictionaries(st.sampled_from(KEYS), st.one_of(values, st.lists(st.one_of(values, entries), max_size=3),
                                                     st.dictionaries(st.sampled_from(["web-sg-in-3000", "x"]), entries,
                                                                     max_size=2)), max_size=3),
)


def _whatif_calls(v: list[Any]) -> list[tuple[str, Callable[[], Any]]]:
    a, b, c, d, e = v
    return [
        ("apply_whatif", lambda: apply_whatif(SEED, a)),
        ("switch_off", lambda: SEED.switch_off(a)),
        ("switch_on", lambda: SEED.switch_on(a, b)),
        ("without_rule", lambda: SEED.without_rule(a)),
        ("change_rule", lambda: SEED.change_rule("nacl-public-in-100", **{str(b)[:10] or "x": c})),
        ("change_rule sg", lambda: SEED.change_rule("web-sg-in-3000", ports=a, cidr=b)),
        ("change_rule nacl", lambda: SEED.change_rule("nacl-public-in-100", number=a, action=b, cidr=c)),
        ("add_sg_rule", lambda: SEED.add_sg_rule(a, b, ports=c, cidr=d, protocol=e)),
        ("add_sg_rule peer", lambda: SEED.add_sg_rule("web-sg", "inbound", ports=a, sg=b, rule_id=c)),
        ("add_nacl_rule", lambda: SEED.add_nacl_rule(a, b, number=c, action=d, ports=e, cidr="10.0.0.0/16")),
        ("add_nacl_rule 2", lambda: SEED.add_nacl_rule("nacl-public", "inbound", number=a, action="allow", ports=b,
                                                       cidr=c, protocol=d)),
        ("without_route", lambda: SEED.without_route(a, b)),
        ("with_health_check", lambda: SEED.with_health_check(**{str(a)[:12] or "x": b})),
        ("with_health_check 2", lambda: SEED.with_health_check(interval_s=a, timeout_s=b, port=c)),
        ("with_instance", lambda: SEED.with_instance(Instance(name=a, ip=b, subnet=c, sgs=d, listens=e))),
        ("with_instance 2", lambda: SEED.with_instance(Instance(
            name="node-api-4", ip=ipaddress.IPv4Address("10.0.2.46"), subnet="private-app-az1", sgs=("web-sg",),
            listens=(a,), os=b))),
        ("edge.what_if", lambda: tl.edge.what_if(SEED, **{str(a)[:12] or "x": b})),
        ("edge.what_if 2", lambda: tl.edge.what_if(SEED, default_ttl_s=a, origin_access=b, bucket_public=c)),
        ("dns.move_alb", lambda: tl.dns.move_alb(SEED, a)),
        ("dns.failover", lambda: tl.dns.failover(a)),
        ("can_reach", lambda: tl.can_reach(SEED, a, b, c)),
        ("can_reach 2", lambda: tl.can_reach(SEED, "node-api-1", "rds-primary", a, protocol=b, os=c)),
        ("endpoint", lambda: SEED.endpoint(a)),
        ("rule", lambda: SEED.rule(a)),
        ("subnet", lambda: SEED.subnet(a)),
        ("load", lambda: tl.load(a)),
        ("load_dict", lambda: tl.load_dict(a)),
    ]


@settings(max_examples=int(os.environ.get("TIERLAB_FUZZ_EXAMPLES", 120)), deadline=None, database=None,
          derandomize=not os.environ.get("TIERLAB_FUZZ_EXAMPLES"), suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(values, specs), min_size=5, max_size=5))
def test_every_what_if_refuses_odd_values_with_a_tierlab_error(v: list[Any]) -> None:
    run = Runner("what-ifs")
    for label, call in _whatif_calls(v):
        run(label, call)
    run.check()


# --------------------------------------------------------------------------- mutations of the seed

@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    text = SEED_TEXT
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(st.text(max_size=6), st.sampled_from(
            ["\n", "  ", ":", "- ", "[", "]", "{", "}", "&a ", "*a", "!!", "#", "'", '"', "\t", "\\", "0", "-1"])))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        else:
            text = text[:at] + piece + text[at + len(piece):]
    return text


@settings(max_examples=int(os.environ.get("TIERLAB_FUZZ_EXAMPLES", 150)), deadline=None, database=None,
          derandomize=not os.environ.get("TIERLAB_FUZZ_EXAMPLES"), suppress_health_check=list(HealthCheck))
@given(mutated_text())
def test_a_mutated_seed_loads_or_is_refused_with_a_message(text: str) -> None:
    run = Runner("mutations")
    run("mutated seed", lambda: tl.load_dict(read_yaml_text(text, "mutated.yaml"), file="mutated.yaml"))
    run.check()


# --------------------------------------------------------------------------- a sample through real processes

def test_a_sample_through_the_real_executable(files: list[Path]) -> None:
    exe = Path(sys.executable).parent / "tierlab"
    named = {f.name: f for f in files}
    picks = ["alias-bomb.yaml", "deep-list.yaml", "nul-bytes.yaml", "latin-1.yaml", "digits-5000.yaml",
             "fifo.yaml", "zero.yaml", "loop.yaml"]
    argvs = [["check", str(named[p])] for p in picks if p in named]
    argvs += [["journey", "--off", "\udcff"], ["reach", "node-api-1", "rds-primary", "0"]]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    start = time.perf_counter()
    procs = [subprocess.Popen([str(exe), *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for a in argvs]
    seen = COUNTS.setdefault("subprocess", Counter())
    for argv, p in zip(argvs, procs):
        out, err = p.communicate(timeout=60)
        text = (out + err).decode("utf-8", "replace")
        assert p.returncode == 2, (argv, text[-2000:])
        assert "Traceback" not in text and text.strip(), (argv, text[-2000:])
        seen[f"exit {p.returncode}"] += 1
    seen["wall ms"] = round((time.perf_counter() - start) * 1000)
    assert len(argvs) >= 10
