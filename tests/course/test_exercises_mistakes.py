"""Notebook 08's workshop exercise (the seed's Mistake 2 on web-sg) and its assert helper:
a wide rule blocks nothing, so only a check of the rule's scope can fail it."""

import pytest

import tierlab as tl
from tierlab.course import exercises as E

SEED = tl.load("seed")
WIDE = SEED.change_rule("web-sg-out-5432", cidr="0.0.0.0/0")


def test_the_wide_rule_blocks_nothing_so_the_journey_checks_alone_would_pass_it():
    assert E.assert_journey_ok(WIDE) and E.assert_journey_ok(WIDE, database="standby")


def test_sg_scoped_fails_on_0_0_0_0_and_names_the_rule():
    with pytest.raises(tl.CheckFailed, match=r"web-sg outbound allows port 5432 to more than database-sg: "
                                             r"web-sg-out-5432 \(tcp 5432 to 0.0.0.0/0\)"):
        E.assert_sg_scoped(WIDE, "web-sg", "outbound", 5432, ["database-sg"])


def test_sg_scoped_passes_on_the_seed_and_ignores_rules_for_other_ports():
    assert E.assert_sg_scoped(SEED, "web-sg", "outbound", 5432, ["database-sg"])
    # web-sg-out-443 goes to 0.0.0.0/0 but does not cover 5432
    assert E.assert_sg_scoped(WIDE, "web-sg", "outbound", 443, ["0.0.0.0/0"])


def test_sg_scoped_accepts_a_cidr_inside_an_allowed_one_and_refuses_a_wider_one():
    db_subnets = WIDE.change_rule("web-sg-out-5432", cidr="10.0.5.0/24")
    assert E.assert_sg_scoped(db_subnets, "web-sg", "outbound", 5432, ["10.0.4.0/22"])
    with pytest.raises(tl.CheckFailed):
        E.assert_sg_scoped(db_subnets.change_rule("web-sg-out-5432", cidr="10.0.0.0/16"), "web-sg", "outbound",
                           5432, ["10.0.4.0/22"])


def test_sg_scoped_ignores_a_switched_off_rule():
    assert E.assert_sg_scoped(WIDE.switch_off("web-sg-out-5432"), "web-sg", "outbound", 5432, ["database-sg"])


def test_sg_scoped_refuses_a_bad_direction_or_group_with_a_clear_error():
    with pytest.raises(tl.TierlabError, match="neither inbound nor outbound"):
        E.assert_sg_scoped(SEED, "web-sg", "egress", 5432, ["database-sg"])
    with pytest.raises(tl.TierlabError):
        E.assert_sg_scoped(SEED, "web-sgg", "outbound", 5432, ["database-sg"])


def test_the_exercise_fails_unsolved_passes_solved_and_fails_when_the_rule_is_deleted():
    ex = E.load_exercise("web-sg-egress-5432")
    with pytest.raises(tl.CheckFailed, match="web-sg-out-5432"):
        ex.check(ex.start())
    assert ex.check(E.solved(ex)) is True
    with pytest.raises(tl.CheckFailed, match="journey still fails"):
        ex.check(ex.start().switch_off("web-sg-out-5432"))


def test_the_reply_rule_exercise_refuses_opening_every_port():
    """linux-ephemeral checks least privilege, as notebook 10 says the checks do: 0-65535 gets every OS through
    but sends replies to ports below 1024 too, and the hint says where the range starts."""
    ex = E.load_exercise("linux-ephemeral")
    every_port = ex.start().change_rule("nacl-public-out-110", ports="0-65535")
    assert E.assert_journey_ok(every_port, os="linux")  # it works: only the scope check can fail it
    with pytest.raises(tl.CheckFailed, match=r"nacl-public outbound admits port 1023") as exc:
        ex.check(every_port)
    assert "start the range at 1024" in exc.value.hint
    for fixed in ("1024-65535", "32768-65535"):
        assert ex.check(ex.start().change_rule("nacl-public-out-110", ports=fixed)) is True
