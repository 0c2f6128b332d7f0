"""Notebook 07's answers: every seed checkpoint off, stateful vs stateless, ephemeral shares, the
seed table's imprecisions. Each test states a law or a fact the evaluator must back."""

import pytest
from hypothesis import given, strategies as st

import tierlab as tl
from tierlab import lessons

SEED = tl.load("seed")


def test_scenario_file_is_valid_and_covers_the_seed_table():
    name, items = lessons.load_checkpoint_scenarios()
    assert name == "seed"
    assert [s["checkpoint"] for s in items] == list(range(1, 12))


def test_a_bad_scenario_file_names_the_key_path(tmp_path, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "bad.yaml").write_text(
        "topology: seed\nscenarios:\n  - {checkpoint: 1, rule: x, component: y, direction: inbound, code: C,"
        " step: s, pairs_broken: 1, status: null, symptom: s}\n")
    monkeypatch.setenv("TIERLAB_DATA", str(tmp_path))
    with pytest.raises(tl.ScenarioError, match=r"bad.yaml at scenarios\[0\]: missing key 'lesson'"):
        lessons.load_checkpoint_scenarios("bad")


def test_every_checkpoint_off_breaks_as_the_scenario_file_says_and_switching_on_fixes_it():
    df = lessons.checkpoints_off()
    assert len(df) == 11
    assert df["as_expected"].all(), df[~df["as_expected"]][["checkpoint", "blocked_at", "reason"]]
    assert df["fixed"].all()
    assert (~df["blocked_at"].eq("")).all()
    assert df["reason"].str.contains("would allow it").all()  # the switched-off rule is named
    # in front of the ALB a timeout, behind it an HTTP error
    front = df[df["checkpoint"].isin([1, 3])]
    assert (front["browser_sees"] == "timeout").all()
    assert (df[~df["checkpoint"].isin([1, 3])]["browser_sees"] == "HTTP 504").all()


def test_as_expected_can_be_false_on_another_topology():
    """The scenario file describes `seed`; on the seed as written several rows must disagree."""
    df = lessons.checkpoints_off(tl.load("seed-as-written")).set_index("checkpoint")
    assert set(df.index[~df["as_expected"]]) == {4, 6, 7, 9}
    # the seed's un-scoped 1024-65535 "reply" rules also admit 5432, so 6 and 9 off break nothing new
    assert (df.loc[[6, 9], "blocked_at"] == "").all()


def test_rules_off_says_when_a_rule_is_on_no_path():
    written = tl.load("seed-as-written")
    df = lessons.rules_off(written, ["nacl-private-db-in-110"])
    row = df.iloc[0]
    base = tl.journey(written).success_share
    assert row["success_share"] == pytest.approx(base, abs=1e-4)
    assert row["blocked_at"] == "" and "changes nothing" in row["reason"]
    # while a rule on the path is blamed for the new block it causes, not for the old ones
    df = lessons.rules_off(written, ["nacl-private-app-in-100"])
    assert df.iloc[0]["blocked_at"] == "nacl-private-app" and "10.0.1.10" in df.iloc[0]["reason"]
    assert df.iloc[0]["success_share"] == 0


def test_the_seeds_inbound_ephemeral_rule_also_admits_5432():
    """On seed-as-written the un-scoped inbound 1024-65535 rule makes #100 redundant: a fact, not a bug."""
    written = tl.load("seed-as-written")
    assert lessons.rules_off(written, ["nacl-private-db-in-100"]).iloc[0]["blocked_at"] == ""
    both = lessons.rules_off(written.switch_off("nacl-private-db-in-110"), ["nacl-private-db-in-100"])
    assert both.iloc[0]["blocked_at"] == "nacl-private-db"


def test_replies_pass_security_groups_statefully_but_need_a_rule_on_each_nacl():
    df = lessons.reply_path(SEED)
    sg = df[df["kind"] == "sg"]
    nacl = df[df["kind"] == "nacl"]
    assert (sg["verdict"] == "stateful").all() and not sg["needed"].any()
    # one outbound on the responder's subnet, one inbound on the requester's; both needed
    assert set(zip(nacl["component"], nacl["direction"])) == {("nacl-private-db", "outbound"),
                                                              ("nacl-private-app", "inbound")}
    assert nacl["needed"].all()


def test_the_alb_leg_reply_needs_both_nacls_too():
    df = lessons.reply_path(SEED, leg_of="alb-receive")
    nacl = df[df["kind"] == "nacl"]
    assert set(nacl["direction"]) == {"outbound", "inbound"} and nacl["needed"].all()


def test_ephemeral_coverage_shares_by_sender():
    df = lessons.ephemeral_coverage("49152-65535").set_index("os")
    assert df.loc["windows", "share"] == 1.0 and df.loc["macos", "verdict"] == "allow"
    assert df.loc["linux", "verdict"] == "partial"
    assert df.loc["linux", "share"] == pytest.approx((60999 - 49152 + 1) / (60999 - 32768 + 1), abs=1e-4)
    assert df.loc["elb", "share"] == pytest.approx(16384 / 64512, abs=1e-4)
    assert lessons.ephemeral_coverage("1024-65535")["share"].eq(1.0).all()
    assert lessons.ephemeral_coverage("80")["verdict"].eq("deny").all()


@given(lo=st.integers(1024, 65535), width=st.integers(0, 64511))
def test_ephemeral_share_matches_the_evaluators_block_share(lo, width):
    """The share a table promises is the share the journey really lets through."""
    hi = min(65535, lo + width)
    topo = SEED.change_rule("nacl-public-out-110", ports=f"{lo}-{hi}")
    cov = lessons.ephemeral_coverage(f"{lo}-{hi}").set_index("os")
    tr = tl.journey(topo, os="linux")
    assert tr.success_share == pytest.approx(cov.loc["linux", "share"], abs=1e-4)


def test_ephemeral_by_os_windows_rule_fails_linux_only():
    df = lessons.ephemeral_by_os(SEED.change_rule("nacl-public-out-110", ports="49152-65535")).set_index("os")
    assert not df.loc["linux", "ok"] and df.loc["windows", "ok"] and df.loc["macos", "ok"]
    assert df.loc["linux", "blocked_at"] == "nacl-public outbound"
    assert 0 < df.loc["linux", "share_passing"] < 1


def test_step_order_flags_exactly_the_seeds_11_before_12():
    df = lessons.step_order()
    flagged = df[df["out_of_seed_order"]]
    assert list(flagged["step"]) == ["app-nacl-out"]
    pos = dict(zip(df["step"], df["position"]))
    assert pos["web-sg-out"] < pos["app-nacl-out"]


def test_seed_table_issues_are_backed_by_evidence():
    df = lessons.seed_table_issues().set_index("issue")
    assert len(df) == 4 and df["reason"].str.len().min() > 10
    assert "[7, 10]" in df.loc["checkpoints 7 and 10 sit on no path", "evidence"]
    assert "no change" in df.loc["the seed puts reply rules inbound", "evidence"]
    missing = df.loc["the table misses reply rules AWS needs", "evidence"]
    for rid in ("nacl-public-out-110", "nacl-private-app-in-110", "nacl-private-app-in-111"):
        assert rid in missing
    assert "web-sg-out (seed 12), app-nacl-out (seed 11)" in df.loc["step 11 before step 12", "evidence"]
