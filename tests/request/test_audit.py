"""tl.audit: findings carry evaluator evidence and a fix that is a what-if; the laws of the fixes hold."""

from __future__ import annotations

from pathlib import Path

import pytest

import tierlab as tl

CORPUS = Path(__file__).resolve().parents[2] / "data" / "terraform"


@pytest.fixture(scope="module")
def audits():
    out = {"seed": tl.audit(tl.load("seed"))}
    for name in ("port-mismatch", "public-targets", "broken-nacl", "three-tier"):
        out[name] = tl.audit(tl.from_terraform(CORPUS / name))
    return out


def _ids(a) -> set[str]:
    return {f.id for f in a.findings}


def test_the_seed_has_no_critical_or_high_finding_and_a_blind_health_check(audits):
    a = audits["seed"]
    assert not [f for f in a.findings if f.severity in ("critical", "high")]
    assert "health-check-blind" in _ids(a)
    df = a.frame()
    assert list(df.columns[:5]) == ["id", "severity", "finding", "object", "evidence"] and df["reason"].str.len().min() > 20


def test_ports_open_to_the_internet_or_the_vpc_name_their_control(audits):
    a = audits["port-mismatch"]
    ssh = a.finding("open-22-internet:notes-bastion-in-22")
    assert ssh.severity == "critical" and ssh.control == "EC2.13" and "public address" in ssh.evidence
    db = a.finding("open-5432-vpc:notes-db-in-5432")
    assert db.severity == "medium" and "6 of 6 subnets" in db.evidence
    fixed = a.fixed(db.id)
    assert fixed.rule("notes-db-in-5432").peer_sg == "notes-app"
    assert a.finding("single-az-db").control == "RDS.5"


def test_a_reply_range_that_fits_only_some_oses_is_found_and_its_fix_evaluated(audits):
    f = audits["public-targets"].finding("reply-range:os")
    assert f.severity == "high" and "linux 42%" in f.evidence and "windows 100%" in f.evidence
    fixed = audits["public-targets"].fixed(f.id)
    assert all(tl.journey(fixed, os=os).ok for os in tl.OSES)


def test_shadowed_entries_default_group_and_public_targets(audits):
    a = audits["public-targets"]
    ids = _ids(a)
    assert "shadowed:nacl-public-in-200" in ids
    assert a.finding("default-sg:in-use").control == "EC2.2"
    assert a.finding("public-target:web-1").control == "EC2.9"
    assert "single-nat" in _ids(audits["broken-nacl"]) and "single-nat" not in ids  # one NAT per zone there


def test_reachability_only_findings_exist(audits):
    a = audits["port-mismatch"]
    f = a.finding("unused-rule:notes-app-in-3000")
    assert f.reachability_only and "no member listens" in f.evidence
    assert any(f.id.startswith("by-accident:") for f in audits["public-targets"].findings)


@pytest.mark.parametrize("name", ["seed", "port-mismatch", "public-targets", "broken-nacl", "three-tier"])
def test_deleting_a_rule_no_flow_uses_changes_no_journey(audits, name):
    a = audits[name]
    for f in a.findings:
        if f.id.startswith("unused-rule:"):
            for os in tl.OSES:
                before, after = tl.journey(a.topology, os=os), tl.journey(f.what_if, os=os)
                assert (before.ok, before.success_share) == (after.ok, after.success_share), f.id


def test_import_notes_that_may_change_a_verdict_are_info_findings(audits):
    a = audits["public-targets"]
    assert any(f.severity == "info" and "prefix list" in f.evidence for f in a.findings)  # the S3 CIDRs are assumed


def test_every_finding_of_the_largest_project_has_evidence_and_a_reason():
    """The speed of this audit is measured by benchmarks/bench_import.py; here only what it answers."""
    frame = tl.audit(tl.from_terraform(CORPUS / "three-tier")).frame()
    assert len(frame) > 0
    assert (frame["evidence"].str.len() > 0).all() and (frame["reason"].str.len() > 0).all()


def test_cli_audit(capsys):
    from tierlab.cli import main

    assert main(["audit", str(CORPUS / "port-mismatch")]) == 1  # a critical finding
    out = capsys.readouterr().out
    assert "EC2.13" in out and "RDS.5" in out
    assert main(["audit", "seed"]) == 0
