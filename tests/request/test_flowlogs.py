"""VPC Flow Logs: agreement with the evaluator, AWS's own examples as golden cases, what is never logged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import tierlab as tl
from tierlab.course.scenarios import apply_whatif
from tierlab.errors import ParameterError
from tierlab.network.evaluate import FlowResult
from tierlab.network.reachability import probe_hosts
from tierlab.request import flowlogs as fl

SEED = tl.load("seed")
#: AWS's default-format record grammar, from its own examples (flow-logs-records-examples).
LINE = re.compile(r"^2 \d{12} eni-[0-9a-f]{17} (\d{1,3}\.){3}\d{1,3} (\d{1,3}\.){3}\d{1,3} \d+ \d+ \d+ \d+ \d+ "
                  r"\d{10} \d{10} (ACCEPT|REJECT) OK$")


def _scenario_topologies() -> list[tuple[str, tl.Topology]]:
    """Every what-if in the scenario files (data/scenarios/*.yaml: ``scenarios`` switch a rule off or apply a
    what-if; ``mistakes`` patch a topology and may take zones down), and the topologies they start from."""
    out = [("seed", SEED), ("seed-as-written", tl.load("seed-as-written"))]
    for path in sorted(Path(tl.data_path("scenarios")).glob("*.yaml")):
        doc = tl.read_yaml(path)
        name = doc.get("topology", "seed")
        base = tl.load(name)
        out.append((name, base))
        for i, sc in enumerate(doc.get("scenarios") or []):
            spec = sc.get("whatif") or {"switch_off": [sc["rule"]]}
            out.append((f"{path.stem}[{i}]", apply_whatif(base, spec)))
    from tierlab.course import egress  # files of `mistakes:` (patches of seed-vpc), e.g. egress-mistakes.yaml

    out += [(f"egress-mistakes[{m.id}]", m.topology) for m in egress.load_mistakes()]
    return out


def _outbound(topo: tl.Topology) -> list[FlowResult]:
    """Each server's connection out to the internet on 443 (through a NAT gateway where one is routed)."""
    return [tl.can_reach(topo, i.name, "internet", 443).flow for i in topo.instances]


SCENARIOS = _scenario_topologies()


def _first_drop(f: FlowResult, port: int, nat_port: int | None = None):
    """The evaluator's first check (in packet order) that stops the connection from ``port``."""
    return next((c for c in f.checks if not fl._passes(c, port, nat_port)), None)


@pytest.mark.parametrize("name,topo", SCENARIOS, ids=[n for n, _ in SCENARIOS])
def test_records_agree_with_the_evaluator_on_every_check(name, topo):
    """For every flow of every journey (every client OS, primary and standby) under every what-if of the
    scenario files: a connection's records end in a REJECT exactly when the evaluator's first drop is an
    SG or NACL, on the ENI of that check and the packet it drops; otherwise every record is ACCEPT, and an
    unbroken connection shows request and reply on each ENI in the VPC.

    This is necessary, not sufficient: the records are derived from the evaluator's verdicts, so they
    will agree with them; the golden cases below (AWS's own examples) check them against AWS."""
    for os_ in ("linux", "windows"):
        for database in ("primary", "standby"):
            tr = tl.journey(topo, os=os_, database=database)
            flows = {f.name: f for p in tr.pairs for f in (p.front, p.back, p.db)}
            flows.update({f.name: f for f in _outbound(topo)})
            ctx = fl._Ctx(fl.ACCOUNT_ID, fl.EPOCH_S, 60, 127.0, tuple(e for e in fl._enis(topo) if e.label.startswith("NAT")))
            for f in flows.values():
                ports = fl._representative_ports(f)
                for port, nat_port in ports:
                    recs = fl.connection_records(f, port, ctx, nat_port)
                    drop = _first_drop(f, port, nat_port)
                    rejects = [r for r in recs if r.action == "REJECT"]
                    if drop is not None and drop.kind in ("sg", "nacl"):
                        assert rejects == [recs[-1]], (name, f.name, port, [r.line() for r in recs])
                        r = recs[-1]
                        assert r.leg == drop.leg and r.rule_ids == drop.rule_ids, (f.name, r, drop)
                        owner = f.src if (drop.direction == "outbound") == (drop.leg == "request") else f.dst
                        assert r.endpoint == (getattr(drop, "at", "") or owner.name)
                    else:
                        assert not rejects, (name, f.name, port)
                    if drop is None:
                        in_vpc = [e for e in (f.src, f.dst) if e.subnet is not None]
                        nat = next((c.at for c in f.checks if getattr(c, "at", "")), "")
                        assert len(recs) == 2 * len(in_vpc) + (4 if nat else 0)
                        recs = [r for r in recs if r.endpoint != nat]
                        assert {(r.endpoint, r.leg) for r in recs} == {(e.name, leg) for e in in_vpc
                                                                        for leg in ("request", "reply")}


def test_partial_nacl_shows_an_accepted_and_a_rejected_connection():
    """A NACL that admits only part of the client's range: one connection passes, one is REJECTed on its
    reply (the evaluator's partial share), each from a port inside the range."""
    topo = SEED.change_rule("nacl-public-out-110", ports="49152-65535")  # Linux clients use 32768-60999
    reach = tl.journey(topo).pairs[0].front
    log = fl.flow_records(reach)
    sports = {r.srcport for r in log.records if r.leg == "request"}
    assert len(sports) == 2 and all(32768 <= p <= 60999 for p in sports)
    bad = [r for r in log.records if r.action == "REJECT"]
    assert len(bad) == 1 and bad[0].leg == "reply" and bad[0].dstport < 49152
    assert bad[0].rule_ids == ("nacl-public-outbound-*",) or bad[0].rule_ids[0].startswith("nacl-public")


def test_the_text_form_is_the_default_format_one_line_per_record():
    log = tl.flowlogs.flow_logs(tl.journey(SEED))
    lines = log.text().splitlines()
    assert len(lines) == len(log) > 0
    assert all(LINE.match(x) for x in lines), [x for x in lines if not LINE.match(x)][:2]
    df = log.frame()
    assert list(df.columns) == list(fl.COLUMNS)
    assert (df["reason"].str.len() > 0).all()
    back = fl.parse(log.text())
    assert back[list(fl.COLUMNS[:-1])].astype(str).values.tolist() == df[list(fl.COLUMNS[:-1])].astype(str).values.tolist()


def test_records_repeat_and_eni_ids_survive_a_what_if():
    a = fl.flow_logs(tl.journey(SEED)).text()
    assert a == fl.flow_logs(tl.journey(tl.load("seed"))).text()
    broken = SEED.switch_off("web-sg-in-3000")
    enis = set(fl.interfaces(SEED)["interface_id"])
    assert enis == set(fl.interfaces(broken)["interface_id"])
    assert {r.interface_id for r in fl.flow_logs(tl.journey(broken)).records} <= enis


def test_no_records_for_the_internet_and_none_after_a_drop_in_front_of_the_alb():
    """The browser has no ENI; a SYN dropped at the public NACL reaches nothing behind it: only REJECTs on
    the ALB nodes' ENIs, and the servers, still health-checked, log only the ALB's flows."""
    tr = tl.journey(SEED.switch_off("nacl-public-in-100"))
    log = fl.flow_logs(tr)
    fronts = [r for r in log.records if r.flow.startswith("internet->")]
    assert fronts and all(r.action == "REJECT" and r.direction == "ingress" for r in fronts)
    assert {r.endpoint for r in fronts} == {n.name for n in SEED.alb.nodes}
    assert not [r for r in log.records if r.flow.endswith("rds-primary") or "rds" in r.flow]


# ---------------------------------------------------------------------------- golden: AWS's own examples


def _ping_topology(nacl_out_icmp: bool, sg_in_icmp: bool = True) -> tl.Topology:
    t = SEED.add_nacl_rule("nacl-public", "inbound", number=120, action="allow", ports="0-65535",
                           cidr="0.0.0.0/0", protocol="icmp")
    if sg_in_icmp:
        t = t.add_sg_rule("alb-public-sg", "inbound", ports="0-65535", cidr="0.0.0.0/0", protocol="icmp")
    if nacl_out_icmp:
        t = t.add_nacl_rule("nacl-public", "outbound", number=120, action="allow", ports="0-65535",
                            cidr="0.0.0.0/0", protocol="icmp")
    return t


def test_golden_aws_ping_accepted_in_and_its_reply_rejected_by_the_nacl():
    """AWS's example ("Security group and network ACL rules"): a ping from a home computer; the SG allows
    ICMP in, the NACL allows ICMP in but not out. Two records on the instance's ENI:
    ``2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 ... ACCEPT OK`` and
    ``2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 ... REJECT OK``."""
    node = SEED.alb.nodes[0]
    log = fl.flow_records(tl.can_reach(_ping_topology(nacl_out_icmp=False), "internet", node.name, 0, protocol="icmp"))
    assert [(r.srcaddr, r.dstaddr, r.srcport, r.dstport, r.protocol, r.packets, r.bytes, r.action, r.log_status)
            for r in log.records] == [
        (str(SEED.client_ip), str(node.ip), 0, 0, 1, 4, 336, "ACCEPT", "OK"),
        (str(node.ip), str(SEED.client_ip), 0, 0, 1, 4, 336, "REJECT", "OK"),
    ]
    assert len({r.interface_id for r in log.records}) == 1
    assert log.records[1].rule_ids == ("nacl-public-outbound-*",) or "nacl-public" in log.records[1].reason


def test_golden_aws_ping_both_accepted_when_the_nacl_allows_icmp_out():
    """AWS: "If your network ACL permits outbound ICMP traffic, the flow log displays two ACCEPT records"."""
    node = SEED.alb.nodes[0]
    log = fl.flow_records(tl.can_reach(_ping_topology(nacl_out_icmp=True), "internet", node.name, 0, protocol="icmp"))
    assert [r.action for r in log.records] == ["ACCEPT", "ACCEPT"]


def test_golden_aws_ping_single_reject_when_the_sg_denies_icmp_in():
    """AWS: "If your security group denies inbound ICMP traffic, the flow log displays a single REJECT
    record, because the traffic was not permitted to reach your instance"."""
    node = SEED.alb.nodes[0]
    t = _ping_topology(nacl_out_icmp=True, sg_in_icmp=False)
    log = fl.flow_records(tl.can_reach(t, "internet", node.name, 0, protocol="icmp"))
    assert [r.action for r in log.records] == ["REJECT"]
    assert log.records[0].dstaddr == str(node.ip) and log.records[0].direction == "ingress"


def test_golden_aws_ssh_accepted_and_rdp_rejected():
    """AWS's "Accepted and rejected traffic" examples: SSH (TCP 22) from 20641 ACCEPTed on the destination's
    ENI (``... 20641 22 6 20 4249 ... ACCEPT OK``); RDP (TCP 3389) from 49761 REJECTed
    (``... 49761 3389 6 20 4249 ... REJECT OK``)."""
    # two servers in one subnet, as AWS's 172.31.16.139 -> 172.31.16.21 (no NACL between them)
    t = SEED.add_sg_rule("web-sg", "inbound", ports=22, cidr="10.0.3.0/24", rule_id="web-sg-in-22-admin")
    t = t.add_sg_rule("web-sg", "outbound", ports=22, cidr="10.0.3.0/24", rule_id="web-sg-out-22-admin")
    ssh = fl.flow_records(tl.can_reach(t, "node-api-3", "node-api-2", 22), src_port=40641)
    dst = [r for r in ssh.records if r.endpoint == "node-api-2" and r.leg == "request"]
    assert len(dst) == 1 and (dst[0].srcport, dst[0].dstport, dst[0].protocol, dst[0].action) == (40641, 22, 6, "ACCEPT")
    assert dst[0].interface_id == fl.interface_id(t.endpoint("node-api-2"))
    assert "web-sg-in-22-admin" in dst[0].rule_ids
    assert all(r.action == "ACCEPT" for r in ssh.records) and len(ssh.records) == 4
    probe = next(p for p in probe_hosts(t) if p.subnet == "private-app-az2")  # a host with no SG of its own
    win = fl.flow_records(tl.can_reach(t, probe, "node-api-2", 3389), src_port=49761)
    rej = [r for r in win.records if r.action == "REJECT"]
    assert len(rej) == 1 and (rej[0].srcport, rej[0].dstport, rej[0].protocol) == (49761, 3389, 6)
    assert rej[0].endpoint == "node-api-2" and rej[0].direction == "ingress"
    assert rej[0].line().endswith("REJECT OK")


@pytest.mark.parametrize("dst,port,proto,key", [
    ("10.0.0.2", 53, "udp", "amazon-dns"),
    ("169.254.169.253", 53, "udp", "amazon-dns"),
    ("169.254.169.254", 80, "tcp", "metadata"),
    ("169.254.169.123", 123, "udp", "time-sync"),
    ("255.255.255.255", 67, "udp", "dhcp"),
    ("10.0.2.1", 0, "icmp", "vpc-router"),
    ("169.254.169.250", 1688, "tcp", "windows-activation"),
])
def test_golden_aws_never_logged(dst, port, proto, key):
    """AWS's list of traffic flow logs never capture ("Flow log limitations")."""
    logged, why = fl.is_logged(SEED, dst, port, proto)
    assert not logged and why == fl.NEVER_LOGGED[key]


def test_your_own_dns_server_is_logged_and_so_is_an_ordinary_address():
    assert fl.is_logged(SEED, "10.0.2.53", 53)[0]
    assert fl.is_logged(SEED, "8.8.8.8", 53)[0]


def test_never_logged_lists_what_the_servers_really_send():
    df = fl.never_logged(SEED)
    assert not df["logged"].any()
    assert set(df["source"]) == {i.name for i in SEED.instances}
    assert df["what"].str.contains(SEED.database.endpoint, regex=False).any()


def test_bad_input_is_a_tierlab_error():
    with pytest.raises(ParameterError):
        fl.flow_records(tl.can_reach(SEED, "internet", SEED.alb.nodes[0].name, 443), src_port=80)
    with pytest.raises(ParameterError):
        fl.flow_logs(tl.journey(SEED), aggregation_s=30)
    with pytest.raises(ParameterError):
        fl.parse("2 123 eni-1 too few")
    with pytest.raises(ParameterError):
        fl.is_logged(SEED, "not-an-ip", 53)


# ---------------------------------------------------------------------------- diagnosis from the records alone

SCENARIO_RULES = [s["rule"] for s in tl.read_yaml(tl.data_path("scenarios", "checkpoints-off.yaml"))["scenarios"]]


@pytest.mark.parametrize("rule", SCENARIO_RULES)
def test_diagnose_finds_each_checkpoint_from_the_text_alone(rule):
    """Handed only the log's text (no reason column) and the topology, ``diagnose`` names the switched-off
    rule: as the missing SG rule, or as the NACL rule that now decides and the one that would allow it."""
    topo = SEED.switch_off(rule)
    text = fl.flow_logs(tl.journey(topo)).text()
    assert "accepted:" not in text and "drops it" not in text  # no reasons leak into the records
    d = fl.diagnose(text, topo)
    assert len(d) > 0 and (d["reason"].str.len() > 0).all()
    named = set(d["rule_id"]) | {rid for why in d["reason"] for rid in SCENARIO_RULES if f"rule {rid} would" in why}
    assert rule in named, d[["endpoint", "kind", "rule_id", "reason"]].to_string()
    blocks = {rid for b in tl.journey(topo).blocks for rid in (*b.rule_ids, *b.would_allow)}
    assert set(d[d["kind"].isin(["sg", "nacl"]) & d["rule_id"].str.contains("-")]["rule_id"]) <= blocks | {rule}


def test_diagnose_a_reply_blames_only_the_nacl():
    """A REJECTed reply: SGs are stateful, so the only candidate is the NACL on the reply's own ports."""
    topo = SEED.switch_off("nacl-private-db-out-100")
    d = fl.diagnose(fl.flow_logs(tl.journey(topo)), topo)
    assert set(d["kind"]) == {"nacl"} and set(d["rule_id"]) == {"nacl-private-db-out-star"}
    assert d["reason"].str.contains("nacl-private-db-out-100 would allow").all()


def test_diagnose_takes_a_frame_or_text_and_refuses_other_tables():
    topo = SEED.switch_off("web-sg-in-3000")
    log = fl.flow_logs(tl.journey(topo))
    a = fl.diagnose(log.frame(), topo)
    b = fl.diagnose(fl.parse(log.text()), topo)
    assert a.equals(b) and set(a["rule_id"]) == {"web-sg-in-3000"}
    import pandas as pd
    with pytest.raises(ParameterError):
        fl.diagnose(pd.DataFrame({"x": [1]}), topo)


def test_with_no_target_the_browsers_still_reach_the_alb_nodes():
    from dataclasses import replace

    empty = replace(SEED, alb=replace(SEED.alb, targets=()))
    log = fl.flow_logs(tl.journey(empty))
    assert {r.endpoint for r in log.records} == {n.name for n in SEED.alb.nodes}
    assert all(r.action == "ACCEPT" for r in log.records)


# ---------------------------------------------------------------------------- through a NAT gateway

VPC = tl.load("seed-vpc")


def test_an_outbound_flow_is_logged_on_the_server_and_on_the_nat_as_aws_shows():
    """AWS's NAT example: on the NAT gateway's ENI the server's packet shows the NAT's private address as
    dstaddr, the NAT's own packet to the internet its private address as srcaddr and a port of its own; the
    server's ENI shows the real remote address both ways. Six records, all ACCEPT."""
    r = tl.can_reach(VPC, "node-api-1", "internet", 443)
    log = fl.flow_records(r, topo=VPC)
    nat = VPC.nat_gateways[0]
    server, remote = str(VPC.endpoint("node-api-1").ip), str(r.flow.dst.ip)
    rows = [(r.endpoint, r.direction, r.srcaddr, r.dstaddr, r.action) for r in log.records]
    assert rows == [
        ("node-api-1", "egress", server, remote, "ACCEPT"),
        (nat.name, "ingress", server, str(nat.private_ip), "ACCEPT"),
        (nat.name, "egress", str(nat.private_ip), remote, "ACCEPT"),
        (nat.name, "ingress", remote, str(nat.private_ip), "ACCEPT"),
        (nat.name, "egress", str(nat.private_ip), server, "ACCEPT"),
        ("node-api-1", "ingress", remote, server, "ACCEPT"),
    ]
    nat_out = log.records[2]
    assert 1024 <= nat_out.srcport <= 65535 and nat_out.dstport == 443
    assert log.records[3].dstport == nat_out.srcport  # the reply comes back to the NAT's own port
    assert fl.interface_id(VPC.endpoint("node-api-1")) == log.records[0].interface_id
    assert log.records[1].interface_id in set(fl.interfaces(VPC)["interface_id"])


def test_a_public_nacl_without_the_nat_ports_rejects_the_reply_at_the_nat():
    """The public NACL admits replies only on the servers' range 32768-60999, not the NAT's 1024-65535: a
    connection whose NAT port falls outside is REJECTed coming back into the NAT's ENI, one inside passes."""
    rule = next(x for x in VPC.nacl("nacl-public").rules if x.direction == "inbound" and x.ports.lo == 1024
                and x.cidr.prefixlen == 0)
    t = VPC.change_rule(rule.id, ports="32768-60999")
    log = fl.flow_records(tl.can_reach(t, "node-api-1", "internet", 443), topo=t)
    rejected = [r for r in log.records if r.action == "REJECT"]
    assert len(rejected) == 1 and rejected[0].endpoint == VPC.nat_gateways[0].name
    assert rejected[0].direction == "ingress" and not 32768 <= rejected[0].dstport <= 60999
    accepted_nat_ports = {r.dstport for r in log.records if r.endpoint == rejected[0].endpoint
                          and r.direction == "ingress" and r.leg == "reply" and r.action == "ACCEPT"}
    assert accepted_nat_ports and all(32768 <= p <= 60999 for p in accepted_nat_ports)
    d = fl.diagnose(log.text(), t)
    assert set(d["kind"]) == {"nacl"} and d["rule_id"].iloc[0].startswith("nacl-public-in")


def test_without_the_topology_a_nat_flow_shows_only_its_two_ends():
    log = fl.flow_records(tl.can_reach(VPC, "node-api-1", "internet", 443))
    assert [(r.endpoint, r.leg) for r in log.records] == [("node-api-1", "request"), ("node-api-1", "reply")]
