"""Interview drills: the question file is valid, every puzzle's stated answer is what the evaluator
says, and a bad entry is a ScenarioError naming the file and key path."""

import textwrap

import pytest

import tierlab as tl
from tierlab.course import drills

DECK = drills.load_questions()
PUZZLES = [q for q in DECK if q.puzzle]


def test_the_question_file_is_valid_and_covers_the_must_ask_questions():
    ids = {q.id for q in DECK}
    for must in ("create-account", "timeout-vs-refused", "sg-vs-nacl", "ephemeral-port", "apex-alias",
                 "multi-az-failover"):
        assert must in ids
    assert all(q.answer.strip() and q.tags for q in DECK)
    assert len(PUZZLES) >= 6


@pytest.mark.parametrize("q", PUZZLES, ids=[q.id for q in PUZZLES])
def test_every_puzzle_answer_is_what_the_evaluator_says(q):
    assert q.puzzle.check() == []
    assert q.puzzle.expect  # never an empty (vacuous) expectation


@pytest.mark.parametrize("q", PUZZLES, ids=[q.id for q in PUZZLES])
def test_a_wrong_stated_answer_is_caught(q):
    """The comparison can fail: flip the stated ``ok`` and the evaluator disagrees."""
    ans = q.puzzle.evaluate()
    assert ans.mismatches({"ok": not ans.facts["ok"]})


def test_puzzles_are_what_ifs_not_mutations():
    before = tl.journey(tl.load("seed")).ok
    for q in PUZZLES:
        q.puzzle.evaluate()
    assert tl.journey(tl.load("seed")).ok == before


def test_compare_marks_a_prediction():
    p = DECK["puzzle-db-reply"].puzzle
    df = p.evaluate().compare({"ok": False, "component": "web-sg"})
    assert list(df["right"]) == [True, False]
    assert (df["reason"].str.len() > 10).all()


def test_answers_are_hidden_until_revealed():
    q = DECK["sg-vs-nacl"]
    assert "<details>" in q._repr_html_() and "<details open>" in q.reveal()._repr_html_()
    assert "stateful" not in repr(q) and "stateful" in repr(q.reveal())
    assert "<details>" in DECK.only("dns")._repr_html_()
    assert set(DECK.only("dns").frame()["id"]) == {q.id for q in DECK if "dns" in q.tags}


def _write(tmp_path, body):
    p = tmp_path / "q.yaml"
    p.write_text(textwrap.dedent(body))
    return p


@pytest.mark.parametrize("body, where", [
    ("""\
     questions:
       - {id: a, question: Q, answer: A., tags: [x], colour: red}
     """, r"q.yaml at questions\[0\].colour: unknown key"),
    ("""\
     questions:
       - {id: a, question: Q, tags: [x]}
     """, r"questions\[0\]: missing key 'answer'"),
    ("""\
     questions:
       - {id: a, question: Q, answer: A., tags: [x]}
       - {id: a, question: Q2, answer: A., tags: [x]}
     """, r"questions\[1\].id: duplicate id"),
    ("""\
     questions:
       - id: a
         question: Q
         answer: A.
         tags: [x]
         puzzle: {topology: seed, off: [web-sg-in-3000], ask: journey, expect: {ok: false}}
     """, r"questions\[0\].puzzle: a key reads as False"),
    ("""\
     questions:
       - id: a
         question: Q
         answer: A.
         tags: [x]
         puzzle: {topology: seed, switch_off: [no-such-rule], ask: journey, expect: {ok: false}}
     """, r"questions\[0\].puzzle: no rule with id 'no-such-rule'"),
    ("""\
     questions:
       - id: a
         question: Q
         answer: A.
         tags: [x]
         puzzle: {topology: seed, ask: journey, expect: {okay: false}}
     """, r"questions\[0\].puzzle.expect.okay: unknown key"),
    ("""\
     questions:
       - id: a
         question: Q
         answer: A.
         tags: [x]
         puzzle: {topology: seeds, ask: journey, expect: {ok: true}}
     """, r"questions\[0\].puzzle.topology: no topology named 'seeds'"),
    ("""\
     questions:
       - id: a
         question: Q
         answer: A.
         tags: [x]
         puzzle: {topology: seed, ask: reach, src: internet, expect: {ok: true}}
     """, r"questions\[0\].puzzle.dst"),
], ids=["unknown-key", "missing-answer", "duplicate-id", "yaml-off-is-false", "unknown-rule", "bad-expect-key",
        "unknown-topology", "reach-without-dst"])
def test_a_bad_entry_names_the_file_and_key_path(tmp_path, body, where):
    with pytest.raises(tl.ScenarioError, match=where):
        drills.load_questions(_write(tmp_path, body))


def test_a_named_topology_is_shared_until_its_file_changes(tmp_path, monkeypatch):
    import os
    import shutil

    from tierlab.course.scenarios import topology_for

    (tmp_path / "topologies").mkdir()
    f = tmp_path / "topologies" / "mine.yaml"
    shutil.copy(tl.data_path("topologies", "seed.yaml"), f)
    monkeypatch.setenv("TIERLAB_DATA", str(tmp_path))
    first = topology_for("mine")
    assert topology_for("mine") is first
    f.write_text(f.read_text().replace("name: seed\n", "name: mine-edited\n"))
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    again = topology_for("mine")
    assert again is not first and again.name == "mine-edited"
