"""The exercises of notebooks 01 (edge) and 02 (DNS) live in the one exercise system: the same files, the
same calls as the workshop's. Every check fails on the unsolved state (and plausible wrong tries) with a
message and passes on the solution from data/exercises/solutions.yaml."""

import pytest

import tierlab as tl
from tierlab.course import exercises as E

SEED = tl.load("seed")
REQS = tl.edge.page_loads(SEED, pages=200, duration_s=4 * 3600, seed=1)

# What a learner has before solving: the notebook's `answer = None`, and plausible wrong tries.
WRONG = {
    "edge-ttl-for-95": [None, 60, 3600, 7],
    "edge-private-again": [None, tl.edge.what_if(SEED, bucket_public=True), tl.load("seed"), {}, {"default_ttl_s": 60},
                           {"nope": 1}],
    "edge-deploy-no-stale": [None, tl.edge.simulate(SEED, REQS, deploy_at_s=5400, strategy="same-names"),
                             tl.edge.simulate(SEED, REQS, deploy_at_s=5400, strategy="invalidate")],
    "dns-remaining-ttl": [None, 60, 35],
    "dns-follow-failover": [None, tl.dns.hard_coded("10.0.5.42"), tl.dns.SEED_BROWSER],
    "dns-apex-fix": [None, [], [["dns.records[0].type", "A"]]],
}


def test_the_notebooks_exercises_are_files_in_data_exercises_with_solutions():
    assert {"01-edge", "02-dns", E.WORKSHOP} <= set(E.notebooks())
    ids = [e.id for nb in ("01-edge", "02-dns") for e in E.load_exercises(nb)]
    assert sorted(ids) == sorted(WRONG)
    assert all(e.kind == "value" and e.notebook in ("01-edge", "02-dns") for e in E.load_exercises("01-edge"))
    assert set(WRONG) <= set(E.load_solutions())
    assert not tl.data_path("practice").exists() and not hasattr(tl, "practice")


def test_every_id_of_every_notebook_is_unique_and_loads_by_id():
    every = E.load_exercises(None)
    assert len({e.id for e in every}) == len(every)
    for eid in WRONG:
        assert E.load_exercise(eid).id == eid


@pytest.mark.parametrize("exercise_id", sorted(WRONG))
def test_check_passes_on_the_solution(exercise_id):
    ex = E.load_exercise(exercise_id)
    assert ex.check(E.solved(ex)) is True
    assert ex.grade(E.solved(ex)).passed and "PASS" in ex.grade(E.solved(ex))._repr_html_()


@pytest.mark.parametrize("exercise_id, wrong", [(k, w) for k, ws in WRONG.items() for w in ws])
def test_check_fails_on_the_unsolved_state_with_a_message(exercise_id, wrong):
    ex = E.load_exercise(exercise_id)
    with pytest.raises(tl.CheckFailed) as err:
        ex.check(wrong)
    assert err.value.message and err.value.hint
    g = ex.grade(wrong)
    assert not g.passed and g.message == err.value.message and "NOT YET" in g._repr_html_()


def test_unsolved_is_no_answer_yet():
    ex = E.load_exercise("dns-apex-fix")
    assert E.unsolved(ex) is None and ex.grade(None).message == "no answer yet"


def test_ttl_exercise_answer_is_the_smallest_past_095():
    sol = E.solved(E.load_exercise("edge-ttl-for-95"))
    ratios = tl.edge.hit_ratio_by_ttl(SEED, REQS, [60, 300, 900, 1800, 3600]).set_index("ttl_s")["hit_ratio"]
    assert ratios[sol] >= 0.95 and all(ratios[t] < 0.95 for t in ratios.index if t < sol)


def test_unknown_exercise_or_notebook():
    with pytest.raises(tl.TierlabError, match="no exercise 'nope'"):
        E.load_exercise("nope")
    with pytest.raises(tl.TierlabError, match="no exercises for notebook"):
        E.load_exercises("99-x")


def test_overview_of_a_notebook_lists_its_exercises_and_what_to_answer_with():
    frame = E.overview("01-edge")
    assert list(frame["id"]) == ["edge-ttl-for-95", "edge-private-again", "edge-deploy-no-stale"]
    assert list(frame["answer"]) == ["int", "dict of what-if settings", "CacheRun"] and set(frame["starts_from"]) == {"None"}


def test_a_value_exercise_must_use_a_value_check(tmp_path, monkeypatch):
    (tmp_path / "exercises" / "01-x").mkdir(parents=True)
    (tmp_path / "exercises" / "01-x" / "01-y.yaml").write_text(
        "id: x-y\ntitle: X\nprompt: P\nkind: value\nchecks:\n  - {assert: journey_ok}\n")
    monkeypatch.setenv("TIERLAB_DATA", str(tmp_path))
    with pytest.raises(tl.ScenarioError, match=r"01-y.yaml at checks\[0\].assert: a value exercise"):
        E.load_exercises("01-x")
