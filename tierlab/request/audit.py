"""An audit of a topology (the seed, a what-if, or an imported Terraform project).

    a = tl.audit(topo)          # or tl.audit(tl.from_terraform("infra/"))
    a.frame()                   # one row per finding: severity, object, evidence, fix, control
    a.fixed("db-port-internet:...")   # the finding's fix as a what-if topology

Static scanners read rules; this audit asks the evaluator. Each finding carries evidence from
a flow, a journey or a what-if, and where the fix is a change tierlab can model, the fix *is*
a what-if (a new frozen Topology) whose effect was evaluated. Findings that only
reachability can make: a rule no flow ever uses, a port open in a group that nothing can reach
(or can), a path that works only because a rule meant for something else covers it, a reply
range that only some client operating systems fit, a health check that stays green while the
database path is broken. Where a finding matches a control of AWS Security Hub's
foundational security best practices, the control is named (ids and titles as in AWS's
Security Hub control reference).
"""

from __future__ import annotations

import html
import ipaddress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal, cast

from ..errors import TierlabError
from ..network.evaluate import evaluate_flow
from ..network.reachability import INTERNET_HOST, probe_hosts
from ..network.rules import EPHEMERAL, NaclRule, PortRange, SgRule
from ..network.topology import DbInstance, Endpoint, Topology
from .journey import OSES, journey

if TYPE_CHECKING:
    import pandas as pd

    from ..network.evaluate import FlowResult
    from ..network.importers.report import ImportNote

__all__ = ["Finding", "Audit", "audit", "CONTROLS", "SEVERITIES"]

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")

#: Security Hub controls (AWS Foundational Security Best Practices) the findings map to.
CONTROLS = {
    "EC2.2": "VPC default security groups should not allow inbound or outbound traffic",
    "EC2.9": "Amazon EC2 instances should not have a public IPv4 address",
    "EC2.13": "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22",
    "EC2.14": "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 3389",
    "EC2.18": "Security groups should only allow unrestricted incoming traffic for authorized ports",
    "EC2.19": "Security groups should not allow unrestricted access to ports with high risk",
    "EC2.21": "Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389",
    "RDS.5": "RDS DB instances should be configured with multiple Availability Zones",
}
#: EC2.19's high-risk ports (AWS's control reference lists them).
HIGH_RISK_PORTS = (20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500,
                   5601, 8080, 8088, 8888, 9200, 9300)
ADMIN_PORTS = (22, 3389)
DB_PORTS = (1433, 1521, 3306, 5432, 6379, 27017)
WORLD = ipaddress.IPv4Network("0.0.0.0/0")


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One finding: what, where, the evaluator's evidence, and the fix (a what-if when modelled)."""

    id: str
    severity: Severity
    title: str
    object: str
    evidence: str
    fix: str
    control: str = ""
    what_if: Topology | None = None
    fix_effect: str = ""
    reachability_only: bool = False

    @property
    def control_title(self) -> str:
        return CONTROLS.get(self.control, "")


@dataclass(frozen=True)
class Audit:
    """Findings, most severe first; ``frame()`` is the table, ``fixed(id)`` the what-if of one fix."""

    topology: Topology
    findings: tuple[Finding, ...]

    def frame(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame([{
            "id": f.id, "severity": f.severity, "finding": f.title, "object": f.object, "evidence": f.evidence,
            "fix": f.fix, "fix_is_what_if": f.what_if is not None, "fix_effect": f.fix_effect,
            "control": f.control, "reachability_only": f.reachability_only,
            "reason": f"{f.title}: {f.evidence}"} for f in self.findings],
            columns=["id", "severity", "finding", "object", "evidence", "fix", "fix_is_what_if", "fix_effect",
                     "control", "reachability_only", "reason"])

    def finding(self, fid: str) -> Finding:
        for f in self.findings:
            if f.id == fid:
                return f
        raise TierlabError(f"no finding {fid!r} in this audit", "ids: " + ", ".join(f.id for f in self.findings))

    def fixed(self, *ids: str) -> Topology:
        """The topology with the fixes of these findings applied (each a what-if; applied in turn)."""
        topo = self.topology
        for fid in ids:
            f = self.finding(fid)
            if f.what_if is None:
                raise TierlabError(f"finding {fid} has no modelled fix", f"what to do: {f.fix}")
            topo = _reapply(topo, self.topology, f.what_if)
        return topo

    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    def summary(self) -> str:
        c = self.counts()
        parts = ", ".join(f"{n} {s}" for s, n in c.items() if n)
        return f"{self.topology.name}: {len(self.findings)} findings ({parts or 'none'})"

    def _repr_html_(self) -> str:
        table: str = self.frame().drop(columns=["reason"]).to_html(index=False)
        return f"<p><b>{html.escape(self.summary())}</b></p>" + table

    def __repr__(self) -> str:
        return f"<Audit {self.summary()}>"


def _reapply(current: Topology, base: Topology, fixed: Topology) -> Topology:
    """Apply the difference ``base -> fixed`` to ``current`` (section by section)."""
    out = current
    for field in ("security_groups", "nacls", "instances"):
        if getattr(fixed, field) != getattr(base, field):
            old = {x.name: x for x in getattr(base, field)}
            cur = {x.name: x for x in getattr(out, field)}
            for x in getattr(fixed, field):
                if old.get(x.name) != x:
                    cur[x.name] = x
            out = replace(out, **{field: tuple(cur.values())})  # type: ignore[arg-type]
    if fixed.database != base.database:
        out = replace(out, database=fixed.database)
    if fixed.route_tables != base.route_tables:
        out = replace(out, route_tables=fixed.route_tables)
    if fixed.alb != base.alb:
        out = replace(out, alb=fixed.alb)
    return out


# ---------------------------------------------------------------------------- helpers


class _Ctx:
    """What the checks share: the journeys per client OS, rule use, endpoints by group."""

    def __init__(self, topo: Topology, extras: dict[str, Any]) -> None:
        self.topo = topo
        self.extras = extras
        self.traces = {os: journey(topo, os=os) for os in OSES}
        self.trace = self.traces["linux"]
        self.used: set[str] = set()
        for tr in self.traces.values():
            for c in tr.checks:
                if c.passed:
                    self.used.update(c.rule_ids)
        self.members: dict[str, list[Endpoint]] = {}
        for ep in topo.endpoints:
            for g in ep.sgs:
                self.members.setdefault(g, []).append(ep)
        self.internet = Endpoint(name="internet", kind="internet", ip=topo.client_ip, subnet=None, sgs=(), listens=(),
                                 ephemeral=EPHEMERAL["linux"], label="internet")

    def journey_unchanged(self, what_if: Topology) -> str:
        before = self.trace
        after = journey(what_if)
        if after.ok == before.ok and abs(after.success_share - before.success_share) < 1e-9:
            return f"the Create Account journey is unchanged ({before.success_share * 100:.0f}% succeed)"
        return (f"the Create Account journey changes: {before.success_share * 100:.0f}% -> "
                f"{after.success_share * 100:.0f}% succeed")

    def free_number(self, nacl: str, direction: str, below: int) -> int | None:
        taken = {r.number for r in self.topo.nacl(nacl).rules if r.direction == direction}
        for n in range(below - 1, 0, -1):
            if n not in taken:
                return n
        return None


def _owner(topo: Topology, rule: SgRule | NaclRule) -> str:
    return topo.owner_of(rule.id)


def _covers(rule: SgRule, port: int) -> bool:
    return rule.protocol == "all" or (rule.protocol == "tcp" and rule.ports.contains(port))


# ---------------------------------------------------------------------------- the checks


def _open_ports(ctx: _Ctx) -> list[Finding]:
    """Database, SSH and RDP ports open to the internet or to the whole VPC; the evaluator says
    whether anything outside can really get there."""
    topo, out = ctx.topo, []
    db_port = topo.database.port
    risky = sorted(set(ADMIN_PORTS + DB_PORTS + (db_port,)))
    for g in topo.security_groups:
        for r in g.rules_in("inbound"):
            if r.peer_cidr is None:
                continue
            world = r.peer_cidr.prefixlen == 0
            vpc_wide = not world and (r.peer_cidr == topo.vpc_cidr or topo.vpc_cidr.subnet_of(r.peer_cidr))
            if not (world or vpc_wide):
                continue
            ports = [p for p in risky if _covers(r, p)]
            if not ports:
                if world and r.protocol == "all":
                    ports = [0]
                else:
                    continue
            port = ports[0]
            members = ctx.members.get(g.name, [])
            what = "SSH" if port == 22 else "RDP" if port == 3389 else "a database port" if port in DB_PORTS or port == db_port \
                else "every port"
            control = ("EC2.13" if port == 22 else "EC2.14" if port == 3389 else "EC2.19") if world else ""
            public = [m.name for m in members if m.name in set(ctx.extras.get("public_instances") or [])
                      and m.subnet is not None and topo.is_public(m.subnet)]
            sev: Severity
            if world and public:
                sev = "critical"
                evidence = (f"the files give {', '.join(public)} a public address in a public subnet, so in AWS the "
                            f"internet reaches it on {port}; tierlab's model gives instances no public address, so "
                            "this path is not traced by the evaluator")
            elif world:
                reach = [(m, evaluate_flow(topo, ctx.internet, m, port or 443)) for m in members]
                ok = [m.name for m, f in reach if f.ok]
                if ok:
                    sev = "critical"
                    evidence = f"the evaluator finds a path from the internet to {', '.join(ok)} on {port}"
                else:
                    sev = "high"
                    stop = next((f.blocking[0] for _, f in reach if f.blocking), None)
                    evidence = ("the rule admits the whole internet, but no path reaches its members today"
                                + (f" ({stop.reason})" if stop else " (nothing uses this group)")
                                + ": one route or NACL change from exposure")
            else:
                probes = [p for p in probe_hosts(topo) for m in members[:1]
                          if evaluate_flow(topo, p, m, port or 443).ok]
                sev = "medium"
                if not members:
                    evidence = "no ENI uses this group yet"
                elif probes:
                    evidence = (f"a new host in {len(probes)} of {len(topo.subnets)} subnets can open {port} on "
                                f"{members[0].name}: anything launched there would get in")
                else:
                    f0 = evaluate_flow(topo, probe_hosts(topo)[0], members[0], port or 443)
                    evidence = (f"the rule admits every VPC address; today no new host gets through "
                                f"({f0.blocking[0].reason if f0.blocking else 'nothing listens'}), but the rule does not stop it")
            fix_topo, fix = _narrow(ctx, g.name, r, port)
            out.append(Finding(
                id=f"open-{port}-{'internet' if world else 'vpc'}:{r.id}", severity=sev,
                title=f"{what} ({port}) open to {'the internet' if world else 'the whole VPC'}", object=f"{g.name} {r.id}",
                evidence=evidence, fix=fix, control=control, what_if=fix_topo,
                fix_effect=ctx.journey_unchanged(fix_topo) if fix_topo is not None else "",
                reachability_only=False))
    return out


def _narrow(ctx: _Ctx, group: str, rule: SgRule, port: int) -> tuple[Topology | None, str]:
    topo = ctx.topo
    if port in DB_PORTS or port == topo.database.port:
        clients = sorted({g for t in topo.servers() for g in t.sgs if g != group})
        if clients and group in topo.database.sgs:
            return (topo.change_rule(rule.id, peer_sg=clients[0]),
                    f"admit {port} only from the servers' group: change {rule.id} to sg {clients[0]}")
    return (topo.without_rule(rule.id),
            f"delete {rule.id}" + (" (reach servers through Session Manager, no inbound port needed)"
                                   if port in ADMIN_PORTS else ""))


def _nacl_admin(ctx: _Ctx) -> list[Finding]:
    out = []
    for n in ctx.topo.nacls:
        for r in n.ordered("inbound"):
            if r.action != "allow" or r.cidr.prefixlen != 0 or r.description.startswith("AWS default NACL"):
                continue
            hit = [p for p in ADMIN_PORTS if r.protocol in ("tcp", "all") and r.port_span().contains(p)]
            if not hit:
                continue
            dec = [p for p in hit]
            num = ctx.free_number(n.name, "inbound", r.number)
            fix_topo = None
            fix = f"narrow {r.id} to a known CIDR, or put a DENY for {dec[0]} from 0.0.0.0/0 before it"
            if num is not None:
                fix_topo = ctx.topo.add_nacl_rule(n.name, "inbound", number=num, action="deny", ports=dec[0],
                                                  cidr="0.0.0.0/0", description=f"audit: no {dec[0]} from the internet")
                fix = f"add inbound #{num} DENY tcp {dec[0]} from 0.0.0.0/0 to {n.name} (before #{r.number})"
            out.append(Finding(
                id=f"nacl-admin:{r.id}", severity="medium", title=f"network ACL admits {'/'.join(map(str, dec))} from the internet",
                object=f"{n.name} #{r.number}", evidence=f"{r.describe()} is the first match for tcp {dec[0]} from any "
                f"address (the NACL is stateless and guards every ENI of its subnets)", fix=fix, control="EC2.21",
                what_if=fix_topo, fix_effect=ctx.journey_unchanged(fix_topo) if fix_topo is not None else ""))
    return out


def _unused_sg_rules(ctx: _Ctx) -> list[Finding]:
    """SG rules no flow ever uses: reachability from every peer the rule names to every member."""
    topo, out = ctx.topo, []
    probes = probe_hosts(topo)
    for g in topo.security_groups:
        members = ctx.members.get(g.name, [])
        if not members:
            continue
        for r in g.rules:
            if not r.enabled or r.id in ctx.used or r.description.startswith("AWS default"):
                continue
            flows = _flows_of(ctx, g.name, r, members, probes)
            if flows is None:
                continue
            passing = [f for f in flows if f.ok]
            needed = [f for f in passing if _decided_only_by(f, r)]
            if needed:
                continue
            if not flows:
                why = ("no member listens on its ports" if r.direction == "inbound"
                       else "nothing it names listens on its ports")
            elif passing:
                why = (f"{len(passing)} flow(s) it covers pass, but other rules allow them too "
                       f"({passing[0].name})")
            else:
                stop = flows[0].blocking[0]
                why = f"every flow it covers is dropped elsewhere ({len(flows)} flows; e.g. {flows[0].name}: {stop.reason})"
            fix_topo = topo.without_rule(r.id)
            out.append(Finding(
                id=f"unused-rule:{r.id}", severity="low", title="security-group rule no flow uses", object=f"{g.name} {r.id}",
                evidence=f"{r.describe()}: {why}", fix=f"delete {r.id}", what_if=fix_topo,
                fix_effect=ctx.journey_unchanged(fix_topo), reachability_only=True))
    return out


def _decided_only_by(flow: "FlowResult", rule: SgRule) -> bool:
    for c in flow.checks:
        if c.kind == "sg" and c.verdict == "allow" and rule.id in c.rule_ids:
            return bool(c.rule_ids == (rule.id,))
    return False


def _flows_of(ctx: _Ctx, group: str, r: SgRule, members: list[Endpoint],
              probes: Iterable[Endpoint]) -> "list[FlowResult] | None":
    topo = ctx.topo
    everyone = [ctx.internet] + [e for e in topo.endpoints if e.kind != "internet"] + list(probes)

    def peer_ok(ep: Endpoint) -> bool:
        if r.peer_sg is not None:
            return r.peer_sg in ep.sgs
        if r.peer_cidr is not None:
            return ep.ip in r.peer_cidr
        return any(ep.ip in c for c in r.prefix_cidrs)

    if r.peer_cidr is not None and not r.peer_cidr.overlaps(topo.vpc_cidr) and not ctx.internet.ip in r.peer_cidr:
        addr = r.peer_cidr.network_address + (1 if r.peer_cidr.prefixlen < 31 else 0)
        everyone.append(Endpoint(name=f"host-{addr}", kind="internet", ip=addr, subnet=None, sgs=(), listens=(),
                                 ephemeral=EPHEMERAL["linux"], label=f"{addr} (outside)"))
    flows = []
    proto = "tcp" if r.protocol == "all" else r.protocol
    if proto == "icmp":
        return None
    if r.direction == "inbound":
        for m in members:
            for port in [p for p in m.listens if r.ports.contains(p)] or ([] if r.protocol != "all" else []):
                for s in everyone:
                    if s.name != m.name and peer_ok(s):
                        flows.append(evaluate_flow(topo, s, m, port, protocol=proto))
    else:
        dests = [e for e in everyone if e.kind != "internet" and e.kind != "address" and peer_ok(e)]
        for m in members:
            if r.peer_cidr is not None and INTERNET_HOST in r.peer_cidr:  # the internet first: what the rule is for
                host = Endpoint(name="internet", kind="internet", ip=INTERNET_HOST, subnet=None, sgs=(), listens=(),
                                ephemeral=EPHEMERAL["linux"], label="a host on the internet")
                for port in ([443] if r.ports.contains(443) else [r.ports.lo] if r.ports.size <= 16 else []):
                    flows.append(evaluate_flow(topo, m, host, port, protocol=proto))
            for d in dests:
                for port in [p for p in d.listens if r.ports.contains(p)]:
                    if d.name != m.name:
                        flows.append(evaluate_flow(topo, m, d, port, protocol=proto))
    return flows[:200]


def _shadowed(ctx: _Ctx) -> list[Finding]:
    out = []
    for n in ctx.topo.nacls:
        for d in ("inbound", "outbound"):
            rules = n.ordered(d)
            for i, r in enumerate(rules):
                for e in rules[:i]:
                    if (e.protocol in ("all", r.protocol) and r.cidr.subnet_of(e.cidr)
                            and e.port_span().covers(r.port_span())):
                        differ = e.action != r.action
                        fix_topo, fix = ctx.topo.without_rule(r.id), f"delete {r.id}"
                        if differ:
                            num = ctx.free_number(n.name, d, e.number)
                            if num is not None:
                                fix_topo = ctx.topo.change_rule(r.id, number=num)
                                fix = f"renumber #{r.number} to #{num}, before #{e.number}, if it was meant to apply"
                        out.append(Finding(
                            id=f"shadowed:{r.id}", severity="medium" if differ else "low",
                            title=f"NACL entry shadowed by an earlier one{' (it never applies)' if differ else ' (redundant)'}",
                            object=f"{n.name} {d} #{r.number}",
                            evidence=f"{e.describe()} matches every packet {r.describe()} would (lowest number first, "
                                     f"first match wins), so #{r.number} is never reached",
                            fix=fix, what_if=fix_topo, fix_effect=ctx.journey_unchanged(fix_topo)))
                        break
    return out


def _os_shares(ctx: _Ctx) -> list[Finding]:
    shares = {os: tr.success_share for os, tr in ctx.traces.items()}
    if len(set(round(s, 6) for s in shares.values())) <= 1:
        return []
    worst = min(shares, key=shares.get)  # type: ignore[arg-type]
    tr = ctx.traces[worst]
    block = next((b for b in tr.blocks if b.kind == "nacl" and 0 < b.share < 1), None) or (tr.blocks[0] if tr.blocks else None)
    text = ", ".join(f"{os} {s * 100:.0f}%" for os, s in shares.items())
    fix_topo, fix = None, "widen the reply rule to 1024-65535 (every client OS, ELB and NAT)"
    if block is not None and block.kind == "nacl":
        nacl = ctx.topo.nacl(block.component)
        eph = EPHEMERAL[worst]
        direction = cast(Literal["inbound", "outbound"], block.direction)
        cand = [r for r in nacl.ordered(direction) if r.action == "allow" and r.port_span().intersect(eph)
                and not r.port_span().covers(eph) and r.cidr.prefixlen == 0]
        if cand:
            fix_topo = ctx.topo.change_rule(cand[0].id, ports="1024-65535")
            fix = f"change {cand[0].id} ({cand[0].ports}) to 1024-65535"
    effect = ""
    if fix_topo is not None:
        after = {os: journey(fix_topo, os=os).success_share for os in OSES}
        effect = "after the fix: " + ", ".join(f"{os} {s * 100:.0f}%" for os, s in after.items())
    return [Finding(id="reply-range:os", severity="high", title="reply ports fit only some client operating systems",
                    object=block.component if block else ctx.topo.name,
                    evidence=f"Create Account success by client OS: {text}" + (f"; {block.reason}" if block else ""),
                    fix=fix, what_if=fix_topo, fix_effect=effect, reachability_only=True)]


def _default_sg(ctx: _Ctx) -> list[Finding]:
    topo = ctx.topo
    users = ctx.members.get("default", [])
    if "default" not in {g.name for g in topo.security_groups} or not users:
        return []
    rules = topo.security_group("default").rules
    inst = [u.name for u in users if u.kind == "server"]
    fix_topo = None
    if inst:
        fix_topo = replace(topo, instances=tuple(replace(i, sgs=tuple(g for g in i.sgs if g != "default") or i.sgs)
                                                   for i in topo.instances))
    return [Finding(
        id="default-sg:in-use", severity="medium" if rules else "low", title="the VPC's default security group is in use",
        object=", ".join(u.name for u in users),
        evidence=(f"{len(users)} ENI(s) carry it; it has {len(rules)} rule(s)"
                  + (f": {rules[0].describe()} lets every member reach every other on every port" if rules else "")),
        fix="give each ENI its own group and leave the default group empty (Terraform: aws_default_security_group with no rules)",
        control="EC2.2", what_if=fix_topo, fix_effect=ctx.journey_unchanged(fix_topo) if fix_topo else "")]


def _single_az_db(ctx: _Ctx) -> list[Finding]:
    topo = ctx.topo
    db = topo.database
    if db.multi_az:
        return []
    prim = db.instance("primary")
    other = next((s for s in db.subnet_group if prim is not None and topo.subnet(s).az != topo.subnet(prim.subnet).az), None)
    fix_topo, effect = None, ""
    if prim is not None and other is not None:
        sub = topo.subnet(other)
        taken = {e.ip for e in topo.endpoints}
        ip = next(sub.cidr.network_address + k for k in range(42, sub.cidr.num_addresses - 1)
                  if sub.cidr.network_address + k not in taken)
        fix_topo = replace(topo, database=replace(db, multi_az=True, instances=db.instances + (
            DbInstance(f"{db.name}-standby", "standby", ip, other),)))
        after = journey(fix_topo, database="standby")
        now = ctx.trace.success_share
        if after.success_share >= now:
            effect = (f"after a failover to the new standby in {other}, {after.success_share * 100:.0f}% of requests "
                      f"succeed, as with the primary today")
        else:
            new_blocks = [b for b in after.blocks if b.reason not in {x.reason for x in ctx.trace.blocks}]
            effect = (f"after a failover to the new standby in {other}, only {after.success_share * 100:.0f}% succeed "
                      f"(against {now * 100:.0f}% today): the rules must admit the standby's subnet too"
                      + (f" — {new_blocks[0].reason}" if new_blocks else ""))
    return [Finding(
        id="single-az-db", severity="medium", title="the database runs in one Availability Zone", object=db.name,
        evidence=f"multi_az is false: an outage of {topo.subnet(prim.subnet).az if prim else 'its zone'} stops every request "
                 "that needs the database (no standby to fail over to)",
        fix="set multi_az = true (RDS keeps a synchronous standby in another zone of the subnet group)",
        control="RDS.5", what_if=fix_topo, fix_effect=effect)]


def _single_nat(ctx: _Ctx) -> list[Finding]:
    topo = ctx.topo
    if topo.nat_gateways:  # in the model: judge by where each private route table's 0.0.0.0/0 points
        return _cross_zone_nat(topo)
    nats = ctx.extras.get("nat_gateways") or []
    if not nats:
        return []
    nat_azs = {topo.subnet(n["subnet"]).az for n in nats if n.get("subnet") in {s.name for s in topo.subnets}}
    private_azs = {s.az for s in topo.subnets if not topo.is_public(s.name)}
    if len(nat_azs) >= len(private_azs) or len(private_azs) < 2:
        return []
    return [Finding(
        id="single-nat", severity="medium", title="private subnets in several zones share one zone's NAT gateway",
        object=", ".join(n["name"] for n in nats),
        evidence=f"NAT gateways in {', '.join(sorted(nat_azs))}; private subnets in {', '.join(sorted(private_azs))}: an outage "
                 "of the NAT's zone cuts every private subnet's egress (and cross-zone traffic costs extra)",
        fix="one NAT gateway per zone, each zone's private route table pointing at its own")]


def _cross_zone_nat(topo: Topology) -> list[Finding]:
    """Subnets whose default route leads to another zone's NAT gateway (the model knows the routes)."""
    nat_az = {n.name: topo.subnet(n.subnet).az for n in topo.nat_gateways}
    crossing = []
    for s in topo.subnets:
        route = topo.routes_of(s.route_table).lookup(ipaddress.IPv4Address("198.51.100.20"))
        if route is not None and route.target in nat_az and nat_az[route.target] != s.az:
            crossing.append((s, route.target))
    if not crossing:
        return []
    what = "; ".join(f"{s.name} ({s.az}) -> {nat} ({nat_az[nat]})" for s, nat in crossing)
    lost = [s.name for s, _ in crossing]
    fixed: Topology | None = topo
    for s, _ in crossing:  # each table to its own zone's NAT, where the table serves one zone and that NAT exists
        own = next((n for n, az in nat_az.items() if az == s.az), None)
        one_zone = len({x.az for x in topo.subnets if x.route_table == s.route_table}) == 1
        fixed = fixed.with_route(s.route_table, "0.0.0.0/0", own) if fixed is not None and own and one_zone else None
    return [Finding(
        id="single-nat", severity="medium", title="private subnets send their internet traffic to another zone's NAT gateway",
        object=", ".join(sorted({nat for _, nat in crossing})),
        evidence=f"{what}: an outage of the NAT's zone cuts these subnets' egress although their own zone is up "
                 f"(with {nat_az[crossing[0][1]]} down: {', '.join(lost)} lose the internet), and every GB pays inter-AZ "
                 "data transfer on top of NAT processing",
        fix="a NAT gateway in each zone, each zone's private route table pointing 0.0.0.0/0 at its own",
        what_if=fixed, fix_effect="each subnet leaves through its own zone's NAT gateway" if fixed else "")]


def _public_targets(ctx: _Ctx) -> list[Finding]:
    topo, out = ctx.topo, []
    public_ip = set(ctx.extras.get("public_instances") or [])
    for t in topo.servers():
        if not topo.is_public(t.subnet):
            continue
        has_ip = t.name in public_ip
        open_world = [r.id for g in t.sgs for r in topo.security_group(g).rules_in("inbound")
                      if r.peer_cidr is not None and r.peer_cidr.prefixlen == 0]
        out.append(Finding(
            id=f"public-target:{t.name}", severity="medium" if has_ip else "low",
            title="a load-balancer target sits in a public subnet" + (" with a public address" if has_ip else ""),
            object=t.name,
            evidence=(f"{t.subnet} routes 0.0.0.0/0 to {topo.internet_gateway}"
                      + ("; the files give it a public IPv4 address" if has_ip else "")
                      + (f"; rules open to 0.0.0.0/0 on it: {', '.join(open_world)}" if open_world else "")
                      + ". tierlab models no public addresses on instances, so only the path through the load "
                        "balancer is evaluated"),
            fix="move targets to private subnets (the load balancer reaches them by private address)",
            control="EC2.9" if has_ip else ""))
    return out


def _health_check_blind(ctx: _Ctx) -> list[Finding]:
    topo = ctx.topo
    if not ctx.trace.ok:
        return []
    db_in = [r for g in topo.database.sgs for r in topo.security_group(g).rules_in("inbound")]
    if not db_in:
        return []
    broken = topo.switch_off(*[r.id for r in db_in])
    tr = journey(broken)
    if not tr.pairs or not all(p.healthy for p in tr.pairs):
        return []
    statuses = sorted({p.status for p in tr.pairs if p.status is not None})
    return [Finding(
        id="health-check-blind", severity="medium", title="health checks cannot notice a broken database path",
        object=f"{topo.alb.target_group} {topo.alb.health_check.protocol} {topo.alb.health_check.path}",
        evidence=f"what-if: with {', '.join(r.id for r in db_in)} switched off, every target stays healthy while "
                 f"requests end in {', '.join(map(str, statuses))} ({tr.success_share * 100:.0f}% succeed): the check never "
                 "touches the database, so the ALB keeps sending traffic to servers that cannot serve it",
        fix="a deep health check that runs a query (mind: then a database outage marks every target unhealthy and "
            "the ALB fails open), and an alarm on HTTPCode_ELB_5XX_Count", reachability_only=True)]


def _by_accident(ctx: _Ctx) -> list[Finding]:
    """Request packets that pass only because a rule meant for replies (a wide port range) covers them."""
    out, seen = [], set()
    topo = ctx.topo
    for c in ctx.trace.checks:
        if c.kind != "nacl" or c.leg != "request" or c.verdict != "allow" or not c.rule_ids:
            continue
        rule = topo.rule(c.rule_ids[0])
        if (not isinstance(rule, NaclRule) or rule.protocol not in ("tcp", "udp") or rule.ports.lo < 1024
                or rule.ports.size < 1000 or c.ports is None or c.ports.size != 1):
            continue
        if rule.id in seen:
            continue
        seen.add(rule.id)
        port = c.ports.lo
        peer = c.src if c.direction == "inbound" else c.dst
        peer_ep = topo.endpoint(peer)
        sub = topo.subnet_of_ip(peer_ep.ip)
        num = ctx.free_number(rule.nacl, rule.direction, rule.number)
        fix_topo, fix = None, f"add a rule for tcp {port} before {rule.id}"
        if num is not None and sub is not None:
            fix_topo = topo.add_nacl_rule(rule.nacl, rule.direction, number=num, action="allow", ports=port,
                                          cidr=str(sub.cidr), description=f"audit: {port} on purpose")
            fix = f"add {rule.direction} #{num} ALLOW tcp {port} {'from' if rule.direction == 'inbound' else 'to'} {sub.cidr}"
        out.append(Finding(
            id=f"by-accident:{rule.id}", severity="low", title="a path that works only by accident", object=f"{rule.nacl} #{rule.number}",
            evidence=f"the request to port {port} ({c.flow}) passes only because {rule.describe()} — a range meant for "
                     "reply ports — covers it: narrowing that rule to the clients' ephemeral range would cut it",
            fix=fix, what_if=fix_topo, fix_effect=ctx.journey_unchanged(fix_topo) if fix_topo is not None else "",
            reachability_only=True))
    return out


def _import_notes(notes: "Iterable[ImportNote]") -> list[Finding]:
    out = []
    for i, n in enumerate(notes):
        if n.affects_verdicts:
            out.append(Finding(
                id=f"import:{i}", severity="info", title=f"import: {n.status}", object=f"{n.file}:{n.resource}".strip(":"),
                evidence=n.message + (f" (assumed: {n.assumption})" if n.assumption else ""),
                fix="see the import notes; where the model cannot express it, verdicts that depend on it are not evaluated"))
    return out


CHECKS: tuple[Callable[[_Ctx], list[Finding]], ...] = (
    _open_ports, _nacl_admin, _os_shares, _default_sg, _single_az_db, _single_nat, _public_targets,
    _health_check_blind, _unused_sg_rules, _shadowed, _by_accident,
)


def audit(target: Any) -> Audit:
    """Audit a Topology, or an imported project (``tl.from_terraform(...)``, ``tl.from_aws(...)``)."""
    if isinstance(target, Topology):
        topo, extras, notes = target, {}, ()
    elif hasattr(target, "topology") and isinstance(target.topology, Topology):
        topo, extras, notes = target.topology, (target.tiers or {}).get("extras", {}), target.notes
    else:
        raise TierlabError(f"cannot audit a {type(target).__name__}",
                           "pass a Topology (tl.load('seed')) or an import (tl.from_terraform('infra/'))")
    ctx = _Ctx(topo, extras)
    findings: list[Finding] = []
    for check in CHECKS:
        findings.extend(check(ctx))
    findings.extend(_import_notes(notes))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: order[f.severity])
    return Audit(topo, tuple(findings))
