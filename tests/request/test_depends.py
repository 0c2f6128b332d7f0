"""A journey on an imported topology says which verdicts depend on what the import assumed, and only
those an assumption can change (views say only what happens): flagged exactly where it can change the
verdict, nothing flagged where no assumption could."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import tierlab as tl
from tierlab.cli import main
from tierlab.network.assumptions import EVERYTHING

CORPUS = Path(__file__).resolve().parents[2] / "data" / "terraform"
REPORTING = "main.tf: aws_vpc_security_group_ingress_rule.db_from_reporting (cidr_ipv4)"


@pytest.fixture(scope="module")
def unknown_values():
    return tl.from_terraform(CORPUS / "unknown-values")


@pytest.fixture
def without_db_rule(tmp_path):
    """unknown-values without the database group's rule from the servers: the servers' 5432 is denied,
    and the rule left out for the reporting host (its address is known only after apply) could allow it."""
    shutil.copytree(CORPUS / "unknown-values", tmp_path / "ledger")
    tf = tmp_path / "ledger" / "main.tf"
    text = re.sub(r'resource "aws_vpc_security_group_ingress_rule" "db_from_app" \{.*?\n\}\n', "", tf.read_text(),
                  flags=re.S)
    tf.write_text(text)
    return tmp_path / "ledger"


def flagged(trace):
    return [(c, d) for c, d in zip(trace.checks, trace.depends) if d]


def test_an_import_with_an_assumption_that_can_change_a_verdict_flags_exactly_those_verdicts(without_db_rule):
    imp = tl.from_terraform(without_db_rule)
    trace = tl.journey(imp.topology)
    hits = flagged(trace)
    assert hits, "the denied 5432 could be allowed by the rule left out"
    for c, deps in hits:  # SGs only allow: only the group's denials of 5432 inbound can change
        assert deps == (REPORTING,)
        assert (c.kind, c.component, c.direction, c.verdict, c.step) == ("sg", "ledger-db", "inbound", "deny", "db-sg-in")
    denied = [c for c in trace.checks if c.kind == "sg" and c.component == "ledger-db" and not c.passed]
    assert len(hits) == len(denied) == len(trace.pairs)
    # the tcp 22 and 9100 rules left out of the app group can change nothing here
    assert all(d == () or d == (REPORTING,) for d in trace.depends)
    assert all(trace.pair_depends(p) == (REPORTING,) for p in trace.pairs)
    df = trace.frame()
    assert list(df.loc[df["depends_on"] != "", "step"].unique()) == ["db-sg-in"]
    assert set(trace.pairs_frame()["depends_on"]) == {REPORTING}
    text = trace.summary()
    assert "Verdicts that depend on an assumption of the import (1 of 3)" in text and REPORTING in text
    assert "app_ssh_office" not in text and "app_metrics" not in text


def test_a_flagged_verdict_really_changes_with_some_value_and_an_unflagged_one_never(without_db_rule):
    """The law both ways, with real values the unknown address could take: the reporting host's /32 at each
    server's address (it would admit that server), a host elsewhere, and the widest peer."""
    topo = tl.from_terraform(without_db_rule).topology
    trace = tl.journey(topo)
    servers = [i for i in topo.instances if i.name in topo.alb.targets]
    changed: set[int] = set()
    for peer in [f"{s.ip}/32" for s in servers] + ["10.40.200.7/32", "0.0.0.0/0"]:
        alt = tl.journey(topo.add_sg_rule("ledger-db", "inbound", ports=5432, cidr=peer))
        assert len(alt.checks) == len(trace.checks)
        changed |= {i for i, (a, b) in enumerate(zip(trace.checks, alt.checks)) if a.verdict != b.verdict}
    flags = {i for i, d in enumerate(trace.depends) if d}
    assert changed == flags


def test_assumptions_that_cannot_change_a_verdict_flag_nothing(unknown_values):
    """unknown-values as written: three rules left out (22 and 9100 on the servers, 5432 from a host), every
    packet of the journey already allowed: nothing is flagged, and the summary says why."""
    topo = unknown_values.topology
    assert len(topo.assumptions) == 3 and all(a.rule is not None for a in topo.assumptions)
    for os_name in tl.OSES:
        trace = tl.journey(topo, os=os_name)
        assert trace.ok and not flagged(trace)
        assert set(trace.frame()["depends_on"]) == {""} and set(trace.pairs_frame()["depends_on"]) == {""}
        assert "No verdict of this journey depends on the import's 3 assumption(s)" in trace.summary()
    # a what-if that blocks the servers' port 3000 is still no business of the 22/9100 rules left out
    rule = next(r.id for r in topo.rules() if r.id.startswith("ledger-app-in-3000"))
    assert not flagged(tl.journey(topo.without_rule(rule)))


@pytest.mark.parametrize("name", ["three-tier", "broken-nacl", "port-mismatch"])
def test_an_import_without_such_an_assumption_flags_nothing_and_shows_no_column(name):
    imp = tl.from_terraform(CORPUS / name)
    assert not any(n.affects_verdicts for n in imp.notes) and imp.topology.assumptions == ()
    trace = tl.journey(imp.topology)
    assert not flagged(trace)
    assert "depends_on" not in trace.frame().columns and "depends_on" not in trace.pairs_frame().columns
    assert "assumption" not in trace.summary() and "assumptions" not in trace.as_dict()


def test_the_course_topologies_carry_no_assumptions():
    trace = tl.journey(tl.load("seed"))
    assert tl.load("seed").assumptions == () and "depends_on" not in trace.frame().columns


def test_an_association_known_only_after_apply_flags_the_route_checks_it_can_change():
    """plan-data-source.json: public subnet b's association reads a data source at apply, so the subnet uses the
    main route table; the node there has no way out (NO_ROUTE_TO_DESTINATION): that verdict depends on it, and
    a check that meets neither route table (a security group, a NACL) does not."""
    imp = tl.from_terraform(CORPUS / "plan-modules" / "plan-data-source.json")
    topo = imp.topology
    a = next(a for a in topo.assumptions if "public_b" in a.where)
    assert EVERYTHING not in a.objects and {"public", "main-route-table"} <= set(a.objects)
    trace = tl.journey(topo)
    no_route = [d for c, d in zip(trace.checks, trace.depends) if c.code == "NO_ROUTE_TO_DESTINATION"]
    assert no_route and all(a.where in d for d in no_route)
    for c, d in zip(trace.checks, trace.depends):
        if a.where in d:
            assert c.kind == "route" and c.component in ("public", "main-route-table")
    nacl_block = [d for c, d in zip(trace.checks, trace.depends) if c.code == "SUBNET_ACL_RESTRICTION"]
    assert nacl_block and not any(nacl_block)


def test_the_command_line_names_the_assumption_beside_the_verdict(without_db_rule, capsys):
    code = main(["journey", "-t", str(without_db_rule)])
    out = capsys.readouterr().out
    assert code == 1 and "depends_on" in out and REPORTING in out
    assert "aws_vpc_security_group_ingress_rule.db_from_reporting" in next(
        line for line in out.splitlines() if " db-sg-in " in line and " deny " in line)
    code = main(["journey", "-t", str(without_db_rule), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert [a["where"] for a in doc["assumptions"] if a["pairs"]] == [REPORTING]
    assert all(p["depends_on"] == [REPORTING] for p in doc["pairs"])
    assert {r["step"] for r in doc["steps"] if r["depends_on"]} == {"db-sg-in"}
