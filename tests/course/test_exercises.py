"""Workshop exercises: every check fails on the unsolved state and passes on the solution; the
assert helpers return True or raise CheckFailed saying what is still wrong; the files are valid."""

import pytest

import tierlab as tl
from tierlab.course import exercises as E

FILES = E.exercise_files()
EXERCISES = E.load_exercises()
SOLUTIONS = E.load_solutions()
SEED = tl.load("seed")


def test_at_least_the_six_required_exercises_exist():
    ids = {e.id for e in EXERCISES}
    assert {"server3-db", "second-alb-node", "standby-failover", "linux-ephemeral", "close-5432",
            "port-80-nacl"} <= ids
    assert len(FILES) == len(EXERCISES) >= 6


def test_every_exercise_has_a_solution_and_no_solution_is_orphaned():
    assert set(SOLUTIONS) == {e.id for e in E.load_exercises(None)}  # every notebook's, not only the workshop's
    assert all(s.notes.strip() for s in SOLUTIONS.values())


def test_prompts_do_not_carry_their_solutions():
    for path in E.exercise_files(None):
        text = path.read_text()
        assert "solution" not in text.lower().replace("solutions.yaml", "")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_check_fails_on_the_unsolved_state(path):
    ex = E._exercise(path)
    with pytest.raises(tl.CheckFailed) as info:
        ex.check(E.unsolved(ex))
    assert len(info.value.message) > 20  # says what is still wrong
    g = ex.grade(E.unsolved(ex))
    assert not g.passed and g.message == info.value.message


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_check_passes_on_the_solution(path):
    ex = E._exercise(path)
    assert ex.check(E.solved(ex)) is True
    assert ex.grade(E.solved(ex)).passed


def test_a_half_fix_still_fails_and_names_what_is_left():
    ex = E.load_exercise("second-alb-node")
    half = ex.start().add_nacl_rule("nacl-private-app", "inbound", number=101, action="allow", ports=3000,
                                    cidr="10.0.11.0/24")
    with pytest.raises(tl.CheckFailed, match="nacl-private-app outbound"):
        ex.check(half)


def test_opening_everything_fixes_the_journey_but_fails_least_privilege():
    ex = E.load_exercise("second-alb-node")
    lazy = ex.start().add_nacl_rule("nacl-private-app", "inbound", number=90, action="allow", ports=3000,
                                    cidr="0.0.0.0/0").add_nacl_rule(
        "nacl-private-app", "outbound", number=90, action="allow", ports="1024-65535", cidr="0.0.0.0/0")
    assert E.assert_journey_ok(lazy)
    with pytest.raises(tl.CheckFailed, match="wider than"):
        ex.check(lazy)


def test_opening_3000_from_the_db_subnets_fails_the_scope_check():
    ex = E.load_exercise("second-alb-node")
    solved = E.solved(ex)
    assert ex.check(solved)  # the DB subnets' reply rules (1024-65535) cover 3000 and are left alone
    for number, cidr in ((102, "10.0.5.0/24"), (103, "10.0.6.0/24"), (104, "10.0.4.0/22")):
        opened = solved.add_nacl_rule("nacl-private-app", "inbound", number=number, action="allow", ports=3000,
                                      cidr=cidr)
        assert E.assert_journey_ok(opened)
        with pytest.raises(tl.CheckFailed, match=f"nacl-private-app-in-{number}"):
            ex.check(opened)


def test_a_db_reply_rule_widened_to_the_world_fails_the_scope_check():
    ex = E.load_exercise("second-alb-node")
    widened = E.solved(ex).change_rule("nacl-private-app-in-110", cidr="0.0.0.0/0")
    with pytest.raises(tl.CheckFailed, match="nacl-private-app-in-110"):
        ex.check(widened)


def test_close_5432_by_deleting_the_rule_fails_the_journey():
    ex = E.load_exercise("close-5432")
    with pytest.raises(tl.CheckFailed, match="journey still fails"):
        ex.check(ex.start().switch_off("database-sg-in-5432"))


def test_grade_reports_a_learner_typo_instead_of_raising():
    ex = E.load_exercise("linux-ephemeral")
    g = ex.grade("not a topology")
    assert not g.passed


# ------------------------------------------------------------------ the assert helpers on their own


def test_assert_journey_ok():
    assert E.assert_journey_ok(SEED) is True
    with pytest.raises(tl.CheckFailed, match=r"3 of 6 pair\(s\)"):
        E.assert_journey_ok(SEED.switch_off("nacl-private-app-in-101"))
    assert E.assert_journey_ok(SEED.switch_off("nacl-private-app-in-101"), node="alb-node-az1")


def test_assert_blocked_at():
    broken = SEED.switch_off("database-sg-in-5432")
    assert E.assert_blocked_at(broken, "database-sg", only=True)
    with pytest.raises(tl.CheckFailed, match="it gets through"):
        E.assert_blocked_at(SEED, "database-sg")
    with pytest.raises(tl.CheckFailed, match="but also at"):
        E.assert_blocked_at(broken.switch_off("web-sg-in-3000"), "database-sg", only=True)


def test_assert_can_and_cannot_reach():
    assert E.assert_can_reach(SEED, "node-api-1", "rds-primary", 5432)
    assert E.assert_cannot_reach(SEED, "internet", "rds-primary", 5432)
    with pytest.raises(tl.CheckFailed, match="can still reach"):
        E.assert_cannot_reach(SEED, "node-api-1", "rds-primary", 5432)
    with pytest.raises(tl.CheckFailed, match="still cannot reach"):
        E.assert_can_reach(SEED, "internet", "rds-primary", 5432)


def test_assert_least_privilege():
    servers = ["node-api-1", "node-api-2", "node-api-3"]
    assert E.assert_least_privilege(SEED, "rds-primary", 5432, servers)
    wide = SEED.change_rule("database-sg-in-5432", cidr="0.0.0.0/0")
    with pytest.raises(tl.CheckFailed, match="any-host-in-private-app-az1"):
        E.assert_least_privilege(wide, "rds-primary", 5432, servers)


def test_assert_nacl_scoped():
    assert E.assert_nacl_scoped(SEED, "nacl-private-db", "inbound", 5432, ["10.0.2.0/23"])
    with pytest.raises(tl.CheckFailed, match="nacl-private-db-in-100"):
        E.assert_nacl_scoped(SEED, "nacl-private-db", "inbound", 5432, ["10.0.2.0/24"])


def test_assert_nacl_scoped_leaves_only_whole_ephemeral_reply_rules_alone():
    public = ["10.0.1.0/24", "10.0.11.0/24"]
    db = ["10.0.5.0/24", "10.0.6.0/24"]
    # seed's app NACL: 3000 from the public subnets, and replies 1024-65535 from the DB subnets (#110, #111)
    with pytest.raises(tl.CheckFailed, match="nacl-private-app-in-110"):
        E.assert_nacl_scoped(SEED, "nacl-private-app", "inbound", 3000, public)
    assert E.assert_nacl_scoped(SEED, "nacl-private-app", "inbound", 3000, public, replies_from=db)
    narrowed = SEED.change_rule("nacl-private-app-in-110", ports="2000-65535")  # not the reply shape any more
    with pytest.raises(tl.CheckFailed, match="nacl-private-app-in-110"):
        E.assert_nacl_scoped(narrowed, "nacl-private-app", "inbound", 3000, public, replies_from=db)


def test_assert_function_agrees():
    assert E.assert_function_agrees(E.ephemeral_share, "ephemeral_share", [["49152-65535", "linux"]])

    def boom(ports, os):
        raise KeyError(os)

    with pytest.raises(tl.CheckFailed, match="raised KeyError"):
        E.assert_function_agrees(boom, "ephemeral_share", [["80", "linux"]])


def test_ephemeral_share_agrees_with_the_lesson_table():
    df = tl.lessons.ephemeral_coverage("40000-65535").set_index("os")
    for os in ("linux", "windows", "macos"):
        assert E.ephemeral_share("40000-65535", os) == df.loc[os, "share"]


# ------------------------------------------------------------------ bad files


def _ex(tmp_path, monkeypatch, body):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "01-x.yaml").write_text(body)
    (tmp_path / "topologies").symlink_to(tl.data_path("topologies"))
    monkeypatch.setenv("TIERLAB_DATA", str(tmp_path))


def test_an_unknown_assert_is_a_scenario_error(tmp_path, monkeypatch):
    _ex(tmp_path, monkeypatch, "id: x\ntitle: X\nprompt: P\nchecks:\n  - {assert: journey_fine}\n")
    with pytest.raises(tl.ScenarioError, match=r"01-x.yaml at checks\[0\].assert: unknown assert"):
        E.load_exercises()


def test_bad_assert_arguments_are_a_scenario_error(tmp_path, monkeypatch):
    _ex(tmp_path, monkeypatch, "id: x\ntitle: X\nprompt: P\nchecks:\n  - {assert: can_reach, src: internet}\n")
    with pytest.raises(tl.ScenarioError, match=r"checks\[0\]: bad arguments for can_reach"):
        E.load_exercises()


def test_a_bad_start_rule_is_a_scenario_error(tmp_path, monkeypatch):
    _ex(tmp_path, monkeypatch, "id: x\ntitle: X\nprompt: P\nstart: {remove: [nope]}\nchecks:\n  - {assert: journey_ok}\n")
    with pytest.raises(tl.ScenarioError, match=r"at start: no rule with id 'nope'"):
        E.load_exercises()


def test_grade_lists_each_failing_check():
    ex = E.load_exercise("server3-db")
    g = ex.grade(ex.start())
    assert len(g.failures) == 2 and g._repr_html_().count("<li>") == 2
    assert ex.grade(E.solved(ex)).failures == ()


def test_a_check_naming_an_unknown_component_is_a_scenario_error(tmp_path, monkeypatch):
    _ex(tmp_path, monkeypatch, "id: x\ntitle: X\nprompt: P\nchecks:\n"
        "  - {assert: nacl_scoped, nacl: nacl-nope, direction: inbound, port: 80, within: [10.0.0.0/16]}\n")
    with pytest.raises(tl.ScenarioError, match=r"01-x.yaml at checks\[0\]: .*nacl-nope"):
        E.load_exercises()
