"""A wrong answer is told what is wrong with it, by name, and what to write instead.

Laws: an answer of the right type but the wrong kind (a word where a status goes, a rule id where a component
goes, a typo'd rule id, an empty string, a count beyond what exists) gets a message that names the answer and
says what a right one looks like, never "is not the answer" alone and never an exception's class; the right
answer still passes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tierlab as tl
from tierlab.course import exercises as E

EVERY = {e.id: e for e in E.load_exercises(None)}


def _by_check(name: str) -> list[E.Exercise]:
    return [e for e in EVERY.values() if any(c.get("assert") == name for c in e.checks)]


def _fails_with(ex: E.Exercise, answer, *needles: str) -> E.Grade:
    g = ex.grade(answer)
    assert not g.passed, f"{ex.id} passed {answer!r}"
    text = f"{g.message} {g.hint}"
    assert not re.search(r"\b\w+Error\b|Traceback", text), text
    for n in needles:
        assert n in text, f"{ex.id} on {answer!r}: {n!r} not in {text!r}"
    return g


@pytest.mark.parametrize("answer", ["hello", "", "nacl-private-db-in-100", "10.0.1.0", 7, -5, 600])
def test_a_status_answer_that_is_no_status_is_told_so(answer):
    exercises = _by_check("browser_sees")
    assert exercises
    for ex in exercises:
        _fails_with(ex, answer, "neither an HTTP status nor 'timeout'", "100 to 599")


@pytest.mark.parametrize("answer", [7, -1, 2.5, 10 ** 6])
def test_a_count_of_pairs_outside_the_journey_says_how_many_there_are(answer):
    exercises = _by_check("pairs_broken")
    assert exercises
    for ex in exercises:
        _fails_with(ex, answer, "cannot be a number of pairs: the journey has 6", "from 0 to 6")


def test_a_component_answer_names_the_mistake():
    exercises = _by_check("blocked_component")
    assert exercises
    for ex in exercises:
        _fails_with(ex, "", "empty answer names no component")
        _fails_with(ex, "nacl-private-db-in-100", "is a rule, not a component", "(nacl-private-db)")
        _fails_with(ex, "nacl-private-db-in-star", "is a rule, not a component", "(nacl-private-db)")
        _fails_with(ex, "nacl-privat-db", "no component named 'nacl-privat-db'", "did you mean 'nacl-private-db'?")
        _fails_with(ex, "nacl-private-db sideways", "'sideways' is not a direction", "inbound")


def test_a_rule_answer_that_names_no_rule_gets_the_nearest_id():
    exercises = _by_check("deciding_rule") + _by_check("flowlog_rule")
    assert len(exercises) >= 4
    for ex in exercises:
        _fails_with(ex, "", "empty answer names no rule", "rules_frame()")
        _fails_with(ex, "nacl-private-db-in-10O", "no rule 'nacl-private-db-in-10O' in this topology",
                    "did you mean 'nacl-private-db-in-100'?")
        _fails_with(ex, "10.0.1.0", "no rule '10.0.1.0'", "rules_frame()")


def test_an_alarm_list_with_something_other_than_names_is_told_so():
    ex = _by_check("alarms_fired")[0]
    _fails_with(ex, [["alb-5xx"]], "is not an alarm name", "as text")
    _fails_with(ex, [""], "no default alarm named ''", "the alarms are")


def test_a_learners_function_that_raises_is_reported_once_by_class_and_message():
    ex = EVERY["ephemeral-share"]
    g = ex.grade(lambda *a: 1 / 0)  # the learner's own exception is named by class and message, once each
    assert not g.passed
    assert g.message.count("ZeroDivisionError") == 3 and g.message.count("division by zero") == 3


@pytest.mark.parametrize("patch, needle", [
    ([["dns.records[99].type", "A"]], "dns.records has 3 item(s): [99] is past the end"),
    ([["dns.recrods[0].type", "A"]], "dns has no key 'recrods'"),
    ([["dns.records[0].type.x", "A"]], "dns.records[0].type is not a mapping"),
    ([["", "A"]], "a path is text"),
])
def test_a_patch_that_does_not_apply_names_the_missing_part(patch, needle):
    _fails_with(EVERY["dns-apex-fix"], patch, "the patch does not apply: step 1", needle)


def test_the_right_answers_still_pass():
    for ex in EVERY.values():
        if E.load_solutions().get(ex.id) is None:
            continue
        answer = E.solved(ex)
        if answer is not None:
            assert ex.grade(answer).passed, ex.id


def test_a_refused_connection_is_graded_as_refused_not_as_a_timeout(tmp_path):
    """With no 443 listener the ALB's node answers the SYN with RST: the browser sees "connection refused" at
    once, which the primer teaches apart from a timeout; the grader must agree with the journey."""
    seed = (Path(E.data_path("topologies", "seed.yaml"))).read_text()
    line = '    - {port: 443, protocol: HTTPS, action: forward, certificate: "*.myapp.com (ACM)"}\n'
    assert line in seed
    f = tmp_path / "no-443.yaml"
    f.write_text(seed.replace(line, ""))
    assert {p.outcome.kind for p in tl.journey(tl.load(str(f))).pairs} == {"refused"}
    assert E.check_browser_sees("refused", topology=str(f))
    assert E.check_browser_sees("Connection refused", topology=str(f))
    with pytest.raises(tl.CheckFailed, match="does not see 'timeout'"):
        E.check_browser_sees("timeout", topology=str(f))


def test_a_timeout_is_still_a_timeout_and_refused_is_a_wrong_answer_there():
    off = {"switch_off": ["nacl-public-in-100"]}  # the primer's dropped SYN
    assert E.check_browser_sees("timed out", whatif=off)
    with pytest.raises(tl.CheckFailed, match="does not see 'refused'"):
        E.check_browser_sees("refused", whatif=off)


@pytest.mark.parametrize("direction", ["outbound", "out", "egress", "OUTBOUND"])
def test_a_direction_may_be_written_as_the_console_or_the_api_writes_it(direction):
    ex = EVERY["primer-stateless-reply"]  # stopped at nacl-private-db outbound
    assert ex.grade(f"nacl-private-db {direction}").passed
    _fails_with(ex, "nacl-private-db ingress", "stops it, but not inbound", "reply leaves the responder's subnet")


@pytest.mark.parametrize("typo, says", [
    ("primer-cidr-sise", "did you mean 'primer-cidr-size'?"),  # not a workshop exercise: the hint knows it too
    ("", "overview(None) lists all"),
    (4, "an exercise id is text, got int 4"),
])
def test_an_exercise_id_that_names_none_gets_the_nearest_id_of_the_whole_course(typo, says):
    with pytest.raises(tl.ScenarioError) as exc:
        E.load_exercise(typo)
    assert says in str(exc.value)
