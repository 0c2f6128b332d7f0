"""The input paths test_fuzz.py does not reach: data files, progress files, the app's fields, more sub-commands.

Same rules as test_fuzz.py (its Runner: a TierlabError or a value is fine, any other exception is a finding,
5 s of CPU per call at most, no blocking), and one more law: a refused change leaves nothing half-done
(the lab keeps its topology and trace, the seed is equal to a fresh copy, nothing is written).

* **Data files** a course author or ``$TIERLAB_DATA`` supplies: the checkpoint scenarios, the egress mistakes,
  the interview questions and puzzles, exercise files of each kind and the solutions, each mutated *in its
  structure* (a value replaced by an odd one, a key dropped or added, an item doubled) so the mutation reaches
  the validators behind the YAML parser, then run through what consumes them (tables, puzzles, the grader).
* **Progress files** (a learner's own, or thirty read by the instructor): random lines and bytes.
* **The lab app's fields**: the rule editor's number, protocol, ports, peer and action text, the diagram's
  click bus and the latency knobs, through the real widgets (Apply button included).
* **Sub-commands** test_fuzz.py leaves out: ``progress``, ``handout`` and ``book`` with odd paths.
* **Time what-ifs**: the latency model and its simulation, health-check, failover and pool timelines, ALB metrics
  of a what-if, and the Auto Scaling timelines, each given odd parameters.

Hypothesis runs a fixed set of examples (derandomized); TIERLAB_FUZZ_EXAMPLES=N explores new ones.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import random
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import Runner

import tierlab as tl
from tierlab.cli import main
from tierlab.course import drills, egress, lessons
from tierlab.course import exercises as E
from tierlab.course import progress as P
from tierlab.views.panels import Lab

pytestmark = pytest.mark.fuzz

DATA = tl.data_path()
EXAMPLES = int(os.environ.get("TIERLAB_FUZZ_EXAMPLES", 0))


def _settings(n: int) -> Any:
    return settings(max_examples=EXAMPLES or n, deadline=None, database=None, derandomize=not EXAMPLES,
                    suppress_health_check=list(HealthCheck))


# --------------------------------------------------------------------------- structural mutation of YAML data

ODD: list[Any] = [None, True, False, 0, -1, 7, 65536, 2**70, -(2**70), 0.5, math.inf, -math.inf, math.nan, "", " ",
                  "x" * 3000, "nan", "seed", "nacl-public", "web-sg", "database-sg-in-5432", "10.0.0.0/33",
                  "0.0.0.0/0", "1024-65535", "65535-1", "all", "inbound", "deny", "journey", "reach", "linux",
                  "switch_off", [], [None], [[]], ["nacl-public-in-100"], {}, {"x": 1}, {"remove": ["x"]},
                  {"switch_off": "nacl-public-in-100"}, {True: 1}, {1: 2}, {"nacl": "nacl-public"}]


def _paths(node: Any, at: tuple = ()) -> Iterator[tuple]:
    yield at
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, at + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, at + (i,))


def _mutate_once(doc: Any, rnd: random.Random) -> Any:
    paths = list(_paths(doc))
    at = rnd.choice(paths)
    if not at:
        return copy.deepcopy(rnd.choice(ODD))
    parent = doc
    for k in at[:-1]:
        parent = parent[k]
    key = at[-1]
    op = rnd.choice(["replace", "replace", "replace", "delete", "add", "double"])
    if op == "replace":
        parent[key] = copy.deepcopy(rnd.choice(ODD))
    elif op == "delete":
        del parent[key]
    elif op == "add" and isinstance(parent, dict):
        parent[rnd.choice(["bogus", "id", "rule", "ask", "expect", "apply", "checks", "kind", True, 3])] = \
            copy.deepcopy(rnd.choice(ODD))
    elif isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))  # an item doubled (a duplicate id, a repeated rule)
    else:
        parent[key] = [parent[key], parent[key]]
    return doc


@st.composite
def mutations(draw: st.DrawFn) -> tuple[int, int]:
    """A seed for the mutator and how many mutations to make (the mutator needs the document first)."""
    return draw(st.integers(0, 2**32 - 1)), draw(st.integers(1, 3))


def _mutated(doc: Any, seed_n: tuple[int, int]) -> str:
    rnd = random.Random(seed_n[0])
    doc = copy.deepcopy(doc)
    for _ in range(seed_n[1]):
        doc = _mutate_once(doc, rnd)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _trimmed(rel: str, key: str, keep: int) -> Any:
    """A data file with its list ``key`` cut to ``keep`` items (the consumers evaluate every item)."""
    doc = yaml.safe_load((DATA / rel).read_text())
    doc[key] = doc[key][:keep]
    return doc


@pytest.fixture(scope="module")
def data_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A $TIERLAB_DATA whose scenarios/ is ours to overwrite; the rest links to the real data."""
    root = tmp_path_factory.mktemp("data")
    for child in DATA.iterdir():
        if child.name == "scenarios":
            shutil.copytree(child, root / "scenarios")
        elif not child.name.startswith("__"):
            (root / child.name).symlink_to(child)
    return root


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


CHECKPOINTS = _trimmed("scenarios/checkpoints-off.yaml", "scenarios", 2)
MISTAKES = _trimmed("scenarios/egress-mistakes.yaml", "mistakes", 2)


@_settings(40)
@given(mutations())
def test_a_mutated_scenario_file_gives_its_table_or_a_tierlab_error(data_copy: Path, m: tuple[int, int]) -> None:
    run = Runner("scenario files")
    (data_copy / "scenarios" / "checkpoints-off.yaml").write_text(_mutated(CHECKPOINTS, m))
    (data_copy / "scenarios" / "egress-mistakes.yaml").write_text(_mutated(MISTAKES, m))
    with _env("TIERLAB_DATA", str(data_copy)):
        run("checkpoints_off", lambda: lessons.checkpoints_off())
        run("egress mistakes", lambda: egress.mistakes())
    run.check()


def _questions() -> Any:
    doc = yaml.safe_load((DATA / "interview" / "questions.yaml").read_text())
    plain = [q for q in doc["questions"] if "puzzle" not in q][:2]
    puzzles = [q for q in doc["questions"] if "puzzle" in q]
    doc["questions"] = plain + puzzles[:1] + [q for q in puzzles if q["puzzle"].get("ask") == "reach"][:1]
    return doc


QUESTIONS = _questions()


@_settings(60)
@given(mutations())
def test_a_mutated_question_deck_loads_and_its_puzzles_answer_or_a_tierlab_error(tmp_path_factory: Any,
                                                                                 m: tuple[int, int]) -> None:
    run = Runner("questions")
    f = tmp_path_factory.mktemp("q") / "questions.yaml"
    f.write_text(_mutated(QUESTIONS, m))
    deck = run("load_questions", lambda: drills.load_questions(f))
    for q in deck or ():
        run("question html", lambda: (q.html(), repr(q.reveal()), q.reveal()._repr_html_()))
        if q.puzzle is not None:
            run("puzzle check", lambda: (q.puzzle.describe(), q.puzzle.check()))
    if deck is not None:
        run("deck frame", lambda: deck.frame())
    run.check()


EXERCISE_FILES = [DATA / "exercises" / "05-close-5432.yaml", DATA / "exercises" / "09-ephemeral-share.yaml",
                  DATA / "exercises" / "00-primer" / "01-cidr-size.yaml",
                  DATA / "exercises" / "06-full-journey" / "02-second-node-rule.yaml"]
EXERCISES = [yaml.safe_load(p.read_text()) for p in EXERCISE_FILES]
ANSWERS: list[Any] = [None, 256, "256", "10.0.2.0/24", ["10.0.2.45"], 0.25, tl.load("seed"), math.nan]


@_settings(80)
@given(st.sampled_from(range(len(EXERCISES))), mutations(), st.sampled_from(ANSWERS))
def test_a_mutated_exercise_loads_or_is_refused_and_its_grade_never_raises(tmp_path_factory: Any, which: int,
                                                                           m: tuple[int, int], answer: Any) -> None:
    run = Runner("exercise files")
    f = tmp_path_factory.mktemp("ex") / EXERCISE_FILES[which].name
    f.write_text(_mutated(EXERCISES[which], m))
    ex = run("load exercise", lambda: E._exercise(f))
    if ex is not None:
        run("show", lambda: (repr(ex), ex._repr_html_()))
        run("start", lambda: ex.start() if ex.kind == "topology" else None)
        grade = run("grade", lambda: ex.grade(answer))
        assert grade is None or isinstance(grade, E.Grade)  # grade() promises a Grade for any answer
    run.check()


SOLUTIONS = yaml.safe_load((DATA / "exercises" / "solutions.yaml").read_text())
SOLUTIONS["solutions"] = {k: v for k, v in SOLUTIONS["solutions"].items() if "apply" in v}  # no code, no eval


@_settings(40)
@given(mutations())
def test_mutated_solutions_load_or_are_refused_and_apply_only_as_data(tmp_path_factory: Any,
                                                                      m: tuple[int, int]) -> None:
    run = Runner("solutions")
    f = tmp_path_factory.mktemp("s") / "solutions.yaml"
    f.write_text(_mutated(SOLUTIONS, m))
    with _env(E.SOLUTIONS_ENV, str(f)):
        sols = run("load_solutions", E.load_solutions) or {}
        for eid, sol in list(sols.items())[:3]:
            ex = run("exercise", lambda: E.load_exercise(eid))
            if ex is not None and ex.kind == "topology" and not sol.code and not sol.value:
                run("solved", lambda: E.solved(ex, sol))
    run.check()


# --------------------------------------------------------------------------- progress files

_line = st.one_of(
    st.text(max_size=40),
    st.builds(lambda d: json.dumps(d), st.dictionaries(
        st.sampled_from(["learner", "exercise", "passed", "attempt", "time", "x"]),
        st.one_of(st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(), st.text(max_size=8),
                  st.lists(st.integers(), max_size=2)), max_size=6)),
)


@_settings(40)
@given(st.lists(_line, max_size=8), st.binary(max_size=30))
def test_any_progress_file_reads_as_records_or_a_tierlab_error(tmp_path_factory: Any, lines: list[str],
                                                               tail: bytes) -> None:
    run = Runner("progress files")
    home = tmp_path_factory.mktemp("home")
    f = home / ".tierlab" / "progress.jsonl"
    f.parent.mkdir()
    f.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n" + tail)
    handed = home.parent / f"{home.name}.jsonl"
    shutil.copy(f, handed)
    for source in (home, handed):
        p = run("class_progress", lambda: P.class_progress([source]))
        if p is not None:
            run("tables", lambda: (p.table(), p.per_exercise(), p.summary(), repr(p)))
    run("record", lambda: P.record("close-5432", True, path=f))
    run("cli", lambda: _cli(["progress", str(home), str(handed)]))
    run.check()


def _cli_out(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code in (0, 2), (argv, code, err.getvalue())
    assert "Traceback" not in out.getvalue() + err.getvalue()
    return code, out.getvalue()


def _plant_progress(root: Path, kind: str, data: bytes) -> Path:
    """A source the instructor might be handed: a home or a file, holding ``data`` or something worse."""
    home = root / kind
    folder = home / ".tierlab"
    folder.mkdir(parents=True)
    f = folder / "progress.jsonl"
    if kind == "bytes":
        f.write_bytes(data)
    elif kind == "file-bytes":  # an export handed in, as a file
        (root / "handed.jsonl").write_bytes(data)
        return root / "handed.jsonl"
    elif kind == "huge":
        with open(f, "wb") as out:
            out.truncate(P.MAX_BYTES + 1)
    elif kind == "big-junk":  # under the limit, one bad line after another
        f.write_bytes((data or b"{") * (2**20 // max(len(data), 1)))
    elif kind == "a-folder":
        f.mkdir()
    elif kind == "tierlab-is-a-file":
        folder.rmdir()
        folder.write_bytes(data)
    elif kind in ("link-loop", "link-dangling", "link-zero", "link-dir", "link-fifo"):
        os.mkfifo(root / "fifo") if kind == "link-fifo" else None
        target = {"link-loop": f, "link-dangling": root / "gone", "link-zero": Path("/dev/zero"),
                  "link-dir": root, "link-fifo": root / "fifo"}[kind]
        f.symlink_to(target)
    elif kind == "file-link-zero":  # a handed-in file that is a link: followed, then refused as a device
        (root / "z.jsonl").symlink_to("/dev/zero")
        return root / "z.jsonl"
    return home


PLANTS = ["bytes", "file-bytes", "huge", "big-junk", "a-folder", "tierlab-is-a-file", "link-loop", "link-dangling",
          "link-zero", "link-dir", "link-fifo", "file-link-zero"]


@_settings(30)
@given(st.sampled_from(PLANTS), st.binary(max_size=200), st.integers(0, 3))
def test_the_progress_command_answers_any_source_in_80_columns_and_changes_no_file(
        tmp_path_factory: Any, kind: str, data: bytes, good: int) -> None:
    """Binary files, huge ones, folders where a file belongs, links of every kind, alone or beside good homes:
    an exit status of 0 or 2 with a message, never a traceback or a hang; every line of the table at most 80
    characters; no file is changed (bytes and all)."""
    run = Runner("progress command")
    root = tmp_path_factory.mktemp("class")
    bad = _plant_progress(root, kind, data)
    homes = []
    for i in range(good):
        f = root / f"learner-{i}" / ".tierlab" / "progress.jsonl"
        f.parent.mkdir(parents=True)
        f.write_text(json.dumps({"exercise": "close-5432", "passed": bool(i % 2), "attempt": 1}) + "\n")
        homes.append(f.parent.parent)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()
              and p.stat().st_size < 2**21}
    for argv in (["progress", str(bad), *map(str, homes)], ["progress", *map(str, homes), str(bad), "--json"]):
        res = run(" ".join(argv)[:60], lambda: _cli_out(argv))
        if res is not None and res[0] == 0 and "--json" not in argv:
            assert max(map(len, res[1].splitlines()), default=0) <= 80, res[1]
        elif res is not None and res[0] == 0:
            json.loads(res[1])
    assert {p: p.read_bytes() for p in before} == before
    run.check()


# --------------------------------------------------------------------------- the lab app's fields

SEED = tl.load("seed")
SEED_COPY = copy.deepcopy(SEED)
RULE_IDS = [r.id for r in SEED.rules()]
field_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "100", "0", "-5", "32767", "\u00b2", "\u0663", "9" * 5000, "1e3", "tcp", "TCP", "udp",
                     "icmp", "all", "sctp", "443", "0-65535", "1024-65535", "65535-1", "70000", "0", "*", "-1",
                     "10.0.2.0/24", "10.0.2.1/24", "10.0.2.0", "10.0.2.0/33", "0.0.0.0/0", "sg:web-sg", "web-sg",
                     "sg:", "db-sg", "allow", "deny", "DENY", "maybe", "\udcff", "\x00"]))


@_settings(150)
@given(st.sampled_from(RULE_IDS + ["nope", ""]), st.lists(field_text, min_size=5, max_size=5))
def test_an_edit_form_applies_whole_or_leaves_the_lab_as_it_was(rule_id: str, form: list[str]) -> None:
    run = Runner("edit form")
    lab = Lab(SEED)
    before = (lab.topology, lab.trace)
    number, protocol, ports, peer, action = form
    res = run("Lab.edit", lambda: lab.edit(rule_id, number=number, protocol=protocol, ports=ports, peer=peer,
                                           action=action))
    assert res is not None, "Lab.edit returns an EditResult, it never raises"
    if not res.ok or res.message == "nothing to change":
        assert (lab.topology, lab.trace) == before and lab.topology is before[0]
    else:
        assert lab.trace.topology is lab.topology and res.rule_id in {r.id for r in lab.topology.rules()}
    run("Lab.toggle", lambda: lab.toggle(rule_id, bool(len(number) % 2)))
    run.check()


@pytest.fixture(scope="module")
def app() -> Any:
    return tl.lab_app("seed")


@_settings(60)
@given(st.sampled_from(RULE_IDS), st.lists(field_text, min_size=5, max_size=5), st.text(max_size=20),
       st.dictionaries(st.sampled_from(["rtt_ms", "tls_version", "dns_cache", "keep_alive", "pool", "multi_az",
                                        "app_ms", "bogus"]),
                       st.one_of(st.none(), st.booleans(), st.floats(), st.integers(-10, 10**6), st.text(max_size=6),
                                 st.sampled_from(["1.2", "1.3", "browser", "miss", "on", "off", "topology"])),
                       max_size=3))
def test_the_apps_widgets_take_any_typed_text_without_a_traceback(app: Any, rule_id: str, form: list[str],
                                                                  click: str, knobs: dict[str, Any]) -> None:
    run = Runner("app widgets")
    r = app.rules

    def edit() -> None:
        r.pick.value = rule_id
        for w, v in zip((r.f_number, r.f_ports, r.f_peer), (form[0], form[2], form[3])):
            if not w.disabled:
                w.value = v
        r.apply_button.click()

    run("rule form", edit)
    run("diagram click", lambda: setattr(app.open_bus, "value", click))
    if app.latency is not None:
        run("latency knobs", lambda: app.latency.set(**knobs))
    run("reset", lambda: r.reset_button.click())
    assert app.out.outputs == ()
    assert app.lab.topology == SEED_COPY  # reset brings back the loaded topology
    run.check()


def test_the_seed_is_untouched_by_every_refused_what_if() -> None:
    """Frozen values: after the what-if and widget fuzz above, the seed equals a copy taken before."""
    assert SEED == SEED_COPY and tl.load("seed") == SEED_COPY


# --------------------------------------------------------------------------- more sub-commands

def _cli(argv: list[str]) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code in (0, 1, 2), code
    assert "Traceback" not in out.getvalue() + err.getvalue()
    return code


ODD_PATHS = ["", ".", "..", "/", "/dev/null", "/dev/zero", "/proc/self/status", "x\x00y", "\udcff", "a" * 5000,
             "a/" * 2000, "~nobody-here/x", "-", "--", "nonexistent/deeper/still"]


def test_progress_handout_and_book_answer_any_path_with_a_message(tmp_path: Path, monkeypatch: Any) -> None:
    """Run in an empty folder: a path the command may write to lands there (and is then checked)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    run = Runner("more sub-commands")
    paths = ODD_PATHS + ["full", "fifo", str(tmp_path / "fifo")]
    for p in paths:
        run(f"progress {p[:20]!r}", lambda: _cli(["progress", p]))
        if p not in ("", ".", "..", "/", "-", "--", "full"):  # those exist and are not empty: refused below
            continue
        run(f"handout {p[:20]!r}", lambda: _cli(["handout", p]))
        run(f"handout --force {p[:20]!r}", lambda: _cli(["handout", p, "--force"]))
        run(f"book --force {p[:20]!r}", lambda: _cli(["book", p, "--force"]))
    for p in ["/dev/null", "/dev/zero", "/proc/self/status", "x\x00y", "a" * 5000]:  # all refused: nothing written
        run(f"handout into {p[:20]!r}", lambda: _cli(["handout", f"{p}/x" if p.startswith("/") else p]))
    run(".", lambda: _cli(["handout", "ok", "--hub", "ftp://x", "--repo", "\udcff"]))
    assert (tmp_path / "full" / "keep.txt").read_text() == "x" and sorted(os.listdir(tmp_path / "full")) == [
        "keep.txt"]
    run.check()



# --------------------------------------------------------------------------- time what-ifs (sim)

SIM_ODD = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=6),
                    st.sampled_from(["1.3", "crash", "deep", "node-api-1", "us-east-1a", "\udcff", "all"]),
                    st.lists(st.integers(), max_size=2), st.just({}))


def _sim_calls() -> dict[str, tuple[Any, list[str]]]:
    from tierlab.sim import metrics, simulation

    vpc = tl.load("seed-vpc")
    return {
        "latency_model": (lambda **k: tl.latency_model(SEED, "physics", **k),
                          ["rtt_ms", "tls_version", "dns_cache", "keep_alive", "pool", "multi_az", "app_ms"]),
        "simulate": (lambda **k: simulation.compare(tl.latency_model(SEED), tl.latency_model(SEED, "seed"), **k),
                     ["n", "seed"]),
        "health": (lambda **k: tl.health_check_timeline(SEED, **k), ["failure", "failed", "check", "duration_s"]),
        "failover": (lambda **k: tl.failover_timeline(SEED, **k), ["t0_s", "failover_s", "duration_s"]),
        "pool": (lambda **k: tl.pool_timeline(SEED, **k), ["pre_ping", "pool_size", "requests_per_s"]),
        "whatif_metrics": (lambda **k: metrics.whatif_metrics(SEED, SEED.switch_off("database-sg-in-5432"), **k),
                           ["at_s", "duration_s", "requests_per_s"]),
        "zone_outage": (lambda **k: tl.zone_outage_timeline(vpc, **k), ["az", "t0_s"]),
        "rolling_deploy": (lambda **k: tl.rolling_deploy_timeline(vpc, **k), ["t0_s", "batch", "version"]),
        "instance_failure": (lambda **k: tl.instance_failure_timeline(vpc, **k), ["instance", "failure", "t0_s"]),
    }


SIM_CALLS = _sim_calls()


@_settings(120)
@given(st.sampled_from(sorted(SIM_CALLS)), st.data())
def test_every_time_what_if_refuses_odd_parameters_with_a_tierlab_error(name: str, data: Any) -> None:
    run = Runner("time what-ifs")
    fn, keys = SIM_CALLS[name]
    kwargs = data.draw(st.dictionaries(st.sampled_from(keys), SIM_ODD, min_size=1, max_size=2))
    run(name, lambda: fn(**kwargs))
    run.check()
