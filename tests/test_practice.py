"""Exercises of notebooks 01 and 02: every check fails on the unsolved state and passes on the solution."""

import pytest

import tierlab as tl
from tierlab import practice

SEED = tl.load("seed")
REQS = tl.edge.page_loads(SEED, pages=200, duration_s=4 * 3600, seed=1)

# What a learner has before solving: the notebook's `answer = None`, and a plausible wrong try.
UNSOLVED = {
    "edge-ttl-for-95": [None, 60, 3600, 7],
    "edge-private-again": [None, tl.edge.what_if(SEED, bucket_public=True)],
    "edge-deploy-no-stale": [None, tl.edge.simulate(SEED, REQS, deploy_at_s=5400, strategy="same-names"),
                             tl.edge.simulate(SEED, REQS, deploy_at_s=5400, strategy="invalidate")],
    "dns-remaining-ttl": [None, 60, 35],
    "dns-follow-failover": [None, tl.dns.hard_coded("10.0.5.42"), tl.dns.SEED_BROWSER],
    "dns-apex-fix": [None, [], [["dns.records[0].type", "A"]]],
}


def test_every_exercise_file_is_valid_and_has_a_check_and_a_solution():
    ids = [e.id for e in practice.exercises()]
    assert sorted(ids) == sorted(practice.CHECKS) == sorted(UNSOLVED)
    for e in practice.exercises():
        assert e.prompt and e.title
        practice.solution(e.id)  # evaluates


@pytest.mark.parametrize("exercise_id", sorted(UNSOLVED))
def test_check_passes_on_the_solution(exercise_id):
    assert practice.check(exercise_id, practice.solution(exercise_id)) is True


@pytest.mark.parametrize("exercise_id, wrong", [(k, w) for k, ws in UNSOLVED.items() for w in ws])
def test_check_fails_on_the_unsolved_state_with_a_message(exercise_id, wrong):
    with pytest.raises(tl.CheckFailed) as err:
        practice.check(exercise_id, wrong)
    assert err.value.message and err.value.hint


def test_ttl_exercise_answer_is_the_smallest_past_095():
    sol = practice.solution("edge-ttl-for-95")
    ratios = tl.edge.hit_ratio_by_ttl(SEED, REQS, [60, 300, 900, 1800, 3600]).set_index("ttl_s")["hit_ratio"]
    assert ratios[sol] >= 0.95 and all(ratios[t] < 0.95 for t in ratios.index if t < sol)


def test_unknown_exercise_or_notebook():
    with pytest.raises(tl.TierlabError, match="no exercise"):
        practice.check("nope", 1)
    with pytest.raises(tl.TierlabError, match="no exercises"):
        practice.exercises("99-x")
