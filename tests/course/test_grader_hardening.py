"""The grader never raises, never hangs and never trusts an answer (issue 10, "The grader").

Laws: ``grade()`` returns a Grade for any answer whatsoever (a corpus of odd answers against every exercise,
then hypothesis mutations); a looping answer ends within the time bound with a message; NaN and infinities
never pass; the untouched reference topology is not a fix; loading an exercise executes nothing.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.course import exercises as E

EVERY = E.load_exercises(None)


class _Raises:
    """An answer whose every dunder raises."""

    def __repr__(self):
        raise RuntimeError("repr")

    def __eq__(self, other):
        raise RuntimeError("eq")

    def __hash__(self):
        raise RuntimeError("hash")

    def __float__(self):
        raise RuntimeError("float")

    def __iter__(self):
        raise RuntimeError("iter")

    def __len__(self):
        raise RuntimeError("len")


def _corpus() -> list:
    import numpy as np
    import pandas as pd

    nested: list = []
    nested.append(nested)  # a list that contains itself
    numbers = [0, -1, 1, 7, 2 ** 63, 10 ** 400, -(10 ** 400), 0.5, -0.0, 1e308, math.nan, math.inf, -math.inf,
               True, False, complex(1, 2), np.float64("nan"), np.int64(60), np.array([1, 2]), np.array([]),
               pd.NA, pd.NaT, pd.Series([1.0]), pd.DataFrame()]
    texts = ["", " ", "60", "nan", "inf", "timeout", "linux", "\ud800", "\x00", "é" * 10_000, "1024-65535",
             "65535-1024", "-", "10.0.2.0/23", "nacl-private-db outbound", b"bytes", bytearray(b"x")]
    shapes = [[], [[]], [None], [["dns.records[0].type"]], [["dns.records[0].type", "A", "extra"]],
              [[1, 2]], [["", ""]], [["dns.records[99].type", "A"]], [["dns", "x"]], [["dns.records[+]", {}]],
              {"a": 1}, set(), frozenset({"linux"}), ("x",), nested, iter([1, 2]), range(3), {1: 2},
              [["dns.records[0]", None]], ["10.0.2.45", "nonsense"], ["windows", "Linux "]]
    callables = [abs, len, lambda *a: None, lambda *a: "0.5", lambda *a: math.nan, lambda *a: 1 / 0,
                 lambda *a: _Raises(), lambda: 1, lambda *a, **k: (_ for _ in ()).throw(SystemExit(3)),
                 type, object]
    objects = [None, object(), _Raises(), Exception("x"), tl, tl.load, Ellipsis, NotImplemented,
               tl.dns.hard_coded("10.0.5.42"), tl.dns.SEED_BROWSER, tl.load("seed"), tl.load("seed-as-written")]
    return numbers + texts + shapes + callables + objects


CORPUS = _corpus()


def _fine(ex, answer, limit_s: float = E.GRADE_TIMEOUT_S + 3) -> E.Grade:
    t0 = time.monotonic()
    g = ex.grade(answer)  # must not raise
    took = time.monotonic() - t0
    assert isinstance(g, E.Grade) and isinstance(g.message, str) and g.message
    assert took < limit_s, f"{ex.id} took {took:.1f} s on {type(answer).__name__}"
    return g


@pytest.mark.fuzz
def test_the_corpus_against_every_exercise_raises_nothing():
    graded = passed = 0
    for ex in EVERY:
        for answer in CORPUS:
            g = _fine(ex, answer)
            graded += 1
            passed += g.passed
    print(f"grader corpus: {graded} grades ({len(CORPUS)} answers x {len(EVERY)} exercises), 0 exceptions, "
          f"{passed} passes")
    assert graded == len(CORPUS) * len(EVERY)


def test_a_sample_of_the_corpus_raises_nothing():  # the fast tier's share of the corpus
    for ex in EVERY:
        for answer in CORPUS[::7]:
            _fine(ex, answer)


answers = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text()
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=5), inner,
                                                                                           max_size=3),
    max_leaves=8)


@pytest.mark.fuzz
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(EVERY) - 1), answer=answers | answers.map(lambda v: (lambda *a, **k: v)))
def test_hypothesis_answers_raise_nothing(index, answer):
    g = _fine(EVERY[index], answer)
    if not callable(answer):
        assert not g.passed or EVERY[index].kind == "value"


def test_nan_and_infinities_never_pass():
    share = E.load_exercise("ephemeral-share")
    for bad in (math.nan, math.inf, -math.inf):
        assert not share.grade(lambda ports, os, v=bad: v).passed
    for eid in ("edge-ttl-for-95", "dns-remaining-ttl"):
        for bad in (math.nan, math.inf, -math.inf, 10 ** 400):
            g = E.load_exercise(eid).grade(bad)
            assert not g.passed and ("number" in g.message or "large" in g.message), g.message


def test_a_looping_answer_ends_with_a_message():
    share = E.load_exercise("ephemeral-share")

    def loops(ports, os):
        while True:
            pass

    t0 = time.monotonic()
    g = share.grade(loops, timeout_s=1.0)
    assert time.monotonic() - t0 < 3 and not g.passed and "did not finish within 1 s" in g.message
    assert "loop" in g.hint
    assert share.grade(E.solved(share)).passed  # the grader still works afterwards


def test_the_untouched_reference_is_not_a_fix_and_the_message_says_what_is_expected():
    seed = tl.load("seed")
    for ex in (e for e in E.load_exercises() if e.kind == "topology" and e.start() != seed):
        g = ex.grade(tl.load("seed"))
        assert not g.passed and "reference topology 'seed'" in g.message and "ex.start()" in g.hint, ex.id
        assert ex.grade(E.solved(ex)).passed  # a fix built on ex.start() that equals seed still passes


def test_a_fix_equal_to_the_reference_but_built_on_the_start_passes():
    ex = E.load_exercise("linux-ephemeral")
    fixed = ex.start().change_rule("nacl-public-out-110", ports="1024-65535")
    assert fixed == tl.load("seed") and ex.grade(fixed).passed


def test_loading_every_exercise_executes_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    folder = tmp_path / "exercises" / "01-x"
    folder.mkdir(parents=True)
    code = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('x')\ndef share(p, o):\n    return 1\n"
    (folder / "01-code.yaml").write_text(
        "id: x-code\ntitle: X\nprompt: P\nkind: code\nstarter: |\n" + "".join(f"  {ln}\n" for ln in code.splitlines())
        + "checks:\n  - {assert: function_agrees, reference: ephemeral_share, cases: [[1024-65535, linux]]}\n")
    monkeypatch.setenv("TIERLAB_DATA", str(tmp_path))
    with pytest.raises(tl.ScenarioError, match="starter"):
        E.load_exercises("01-x")
    assert not marker.exists()
    (folder / "01-code.yaml").write_text(
        "id: x-code\ntitle: X\nprompt: P\nkind: code\nstarter: {function: share, args: [p, o], returns: "
        f"\"__import__('pathlib').Path({str(marker)!r}).write_text('x')\"}}\n"
        "checks:\n  - {assert: function_agrees, reference: ephemeral_share, cases: [[1024-65535, linux]]}\n")
    (ex,) = E.load_exercises("01-x")
    fn = ex.starter_function()
    assert isinstance(fn("1024-65535", "linux"), str) and not marker.exists()
    assert not ex.grade(fn).passed and not marker.exists()


def test_the_real_exercises_load_without_running_code(monkeypatch):
    ran = []
    monkeypatch.setattr(E, "_function_from", lambda *a, **k: ran.append(a))
    monkeypatch.setattr("builtins.exec", lambda *a, **k: ran.append(a))
    assert len(E.load_exercises(None)) == len(EVERY) and not ran
    share = E.load_exercise("ephemeral-share")
    assert share.starter_function()("49152-65535", "linux") == 1.0 and "def share(ports, os):" in share.starter_code()


def test_a_bad_starter_is_a_scenario_error_naming_the_key(tmp_path, monkeypatch):
    folder = tmp_path / "exercises" / "01-x"
    folder.mkdir(parents=True)
    (folder / "01-code.yaml").write_text(
        "id: x-code\ntitle: X\nprompt: P\nkind: code\nstarter: {function: 'not a name', args: [p], returns: 1}\n"
        "checks:\n  - {assert: function_agrees, reference: ephemeral_share, cases: [[1024-65535, linux]]}\n")
    monkeypatch.setenv("TIERLAB_DATA", str(tmp_path))
    with pytest.raises(tl.ScenarioError, match=r"starter.function"):
        E.load_exercises("01-x")


def test_slips_replay_is_the_one_way_to_reapply_a_slip():
    err = tl.dns.slip("apex-cname")
    assert isinstance(err, tl.TierlabError) and "CNAME" in str(err)
    from tierlab.network import slips

    assert isinstance(slips.replay("server-3-in-az2"), tl.TierlabError)
    fixed = slips.replay("apex-cname", then=[["dns.records[0].type", "A"], ["dns.records[0].alias", True]])
    assert isinstance(fixed, (tl.Topology, tl.TierlabError))
    assert isinstance(slips.replay("apex-cname", then=[["nope[3]", 1]]), tl.TierlabError)
    src = Path(E.__file__).read_text() + Path(tl.dns.__file__).read_text()
    assert src.count("apply_patch(") == 0  # nowhere else re-applies a patch by hand
