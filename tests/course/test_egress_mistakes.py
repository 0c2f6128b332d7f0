"""Every egress mistake's recorded answer and symptom is what the evaluator says (data/scenarios/egress-mistakes.yaml)."""

from __future__ import annotations

import pytest

import tierlab as tl
from tierlab.course import egress

MISTAKES = egress.load_mistakes()


def test_the_file_covers_each_mistake_the_issue_teaches():
    assert {m.id for m in MISTAKES} >= {"one-nat-zone-down", "no-nat-route", "public-nacl-no-nat-ports",
                                        "s3-nacl-no-prefix-list", "endpoint-sg-no-443", "private-dns-off-no-nat"}
    assert all(m.symptom and m.fix for m in MISTAKES)


@pytest.mark.parametrize("m", MISTAKES, ids=[m.id for m in MISTAKES])
def test_each_mistake_gets_the_recorded_answer(m):
    got = egress.answer(m)
    for key, want in m.expect.items():
        if key == "share":
            assert got[key] == pytest.approx(float(want), abs=1e-3), (m.id, got)
        else:
            assert got[key] == want, (m.id, key, got)


def test_each_mistake_is_a_mistake_of_seed_vpc_which_itself_works():
    base = tl.load("seed-vpc")
    for m in MISTAKES:
        assert tl.can_reach(base, m.source, m.destination, m.port).ok, m.id


def test_the_table_agrees_everywhere():
    t = egress.mistakes()
    assert t["agrees"].all() and t["reason"].str.len().gt(0).all()


def test_a_bad_patch_is_a_scenario_error_naming_the_entry(tmp_path, monkeypatch):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "topologies").mkdir()
    (tmp_path / "topologies" / "seed-vpc.yaml").write_text(tl.data_path("topologies", "seed-vpc.yaml").read_text())
    (tmp_path / "scenarios" / "bad.yaml").write_text(
        "topology: seed-vpc\nmistakes:\n  - {id: x, mistake: y, patch: [[nat_gateways.nat-az1.subnet, private-db-az1]],"
        " ask: {source: node-api-1, destination: internet}, expect: {reaches: false}, symptom: s, fix: f}\n")
    monkeypatch.setenv("TIERLAB_DATA", str(tmp_path))
    with pytest.raises(tl.ScenarioError, match=r"mistakes\[0\].patch"):
        egress.load_mistakes("bad")
