"""The seed's "Create Account" journey, evaluated on a topology.

``journey(topology)`` walks one POST /api/users through every layer for every
(ALB node, target) pair: DNS, the browser's connection to each ALB node, each node's
connection to each API server (also its health check, unless that uses another port), each
server's connection to the database, and every reply. It reports every blocking point at
once, and what the browser sees for each pair: a timeout in front of the ALB, an HTTP 502/503/504 from the ALB behind
it, a 500 from the app when the database refuses.

Steps have stable ids (``STEPS``); each maps to the seed's step number and to a latency
component that the latency model uses.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

from ..errors import TopologyError
from ..network.evaluate import Check, FlowResult, evaluate_flow, with_step
from ..network.rules import EPHEMERAL
from ..network.topology import Endpoint, Topology

__all__ = ["Step", "STEPS", "STEP_IDS", "PairResult", "Trace", "journey", "SEED_CHECKPOINTS", "OSES"]

OSES = ("linux", "windows", "macos")


@dataclass(frozen=True)
class Step:
    id: str
    seed_step: int | None
    title: str
    latency: str  # latency component: client, dns, tls, firewall, alb, node, db, return
    layer: str
    note: str = ""  # what happens at a step with no packet filter


_NOTES = {
    "click": "nothing crosses the network yet: React updates its state and calls fetch()",
    "alb-process": ("the ALB decrypts with the *.myapp.com certificate, then sends the request to a target this "
                    "node considers healthy (round robin, any AZ); its own work is a few ms"),
    "node-process": "the seed's handler checks that name and email are present (and the name's length, the email's form)",
    "db-connect": ("a pooled connection is handed over in well under a millisecond; a new one would cost a TCP "
                   "handshake, a TLS handshake and authentication first"),
    "db-query": ("INSERT ... RETURNING id: the unique index on email rejects a duplicate (SQLSTATE 23505 -> 400), "
                 "the WAL is flushed, and Multi-AZ waits for the standby's acknowledgement"),
    "node-respond": 'Express answers {"success": true, "userId": N, "message": "User created"}',
    "browser-receive": "the browser decrypts the response and React shows 'Account created'",
}


#: The journey, in the order packets meet things. ``seed_step`` is the seed's Section 3 number;
#: steps the seed does not list have none. On the way out of a subnet AWS checks the security
#: group before the NACL, so steps 12 and 11 come in that order.
STEPS: tuple[Step, ...] = (
    Step("click", 1, "User clicks Create Account; React calls POST /api/users", "client", "browser"),
    Step("dns", 2, "DNS: api.myapp.com resolves (alias) to the ALB nodes' addresses", "dns", "dns"),
    Step("connect-alb", 3, "TCP and TLS handshake with an ALB node through the internet gateway", "tls", "edge"),
    Step("alb-nacl-in", 4, "Public NACL, inbound: HTTPS from the browser", "firewall", "alb"),
    Step("alb-sg-in", 5, "alb-public-sg, inbound, and the 443 listener", "firewall", "alb"),
    Step("alb-reply-out", None, "Public NACL, outbound: the ALB's replies to the browser's ephemeral port", "firewall", "alb"),
    Step("alb-process", 6, "ALB terminates TLS and picks a healthy target (round robin, cross-zone)", "alb", "alb"),
    Step("alb-sg-out", None, "alb-public-sg, outbound: to web-sg on 3000", "firewall", "alb"),
    Step("alb-nacl-out", None, "Public NACL, outbound, and the route to the app subnet", "firewall", "alb"),
    Step("app-nacl-in", 7, "App NACL, inbound: 3000 from the ALB node's subnet", "firewall", "app"),
    Step("web-sg-in", 8, "web-sg, inbound: from alb-public-sg on 3000, and the Node.js listener", "firewall", "app"),
    Step("node-process", 9, "Express: authentication, validation, createUser()", "node", "app"),
    Step("db-connect", 10, "A database connection from the pool", "db", "app"),
    Step("web-sg-out", 12, "web-sg, outbound: to database-sg on 5432", "firewall", "app"),
    Step("app-nacl-out", 11, "App NACL, outbound: 5432 to the DB subnet, and the route", "firewall", "app"),
    Step("db-nacl-in", 13, "DB NACL, inbound: 5432 from the app subnets", "firewall", "db"),
    Step("db-sg-in", 14, "database-sg, inbound: from web-sg on 5432, and PostgreSQL's listener", "firewall", "db"),
    Step("db-query", 15, "INSERT INTO users ... RETURNING id (unique check, WAL, Multi-AZ sync)", "db", "db"),
    Step("db-reply", 16, "The result returns: DB NACL outbound, app NACL inbound (ephemeral ports)", "db", "db"),
    Step("node-respond", 17, "Node.js formats {success, userId, message}", "node", "app"),
    Step("alb-receive", 18, "The response returns to the ALB: app NACL outbound, public NACL inbound", "return", "alb"),
    Step("browser-receive", 19, "The browser decrypts the response and React shows 'Account created'", "return", "browser"),
)
STEPS = tuple(replace(s, note=_NOTES.get(s.id, "")) for s in STEPS)
STEP_IDS: tuple[str, ...] = tuple(s.id for s in STEPS)
_STEP = {s.id: s for s in STEPS}
_ORDER = {s.id: i for i, s in enumerate(STEPS)}

#: Which step each check of each flow belongs to: (leg, kind, direction) -> step id.
_FRONT = {
    ("request", "igw", ""): "connect-alb", ("request", "nacl", "inbound"): "alb-nacl-in",
    ("request", "sg", "inbound"): "alb-sg-in", ("request", "listener", ""): "alb-sg-in",
    ("request", "forward", ""): "alb-process", ("reply", "*", "*"): "alb-reply-out",
}
_BACK = {
    ("request", "sg", "outbound"): "alb-sg-out", ("request", "nacl", "outbound"): "alb-nacl-out",
    ("request", "route", ""): "alb-nacl-out", ("request", "nacl", "inbound"): "app-nacl-in",
    ("request", "sg", "inbound"): "web-sg-in", ("request", "listener", ""): "web-sg-in",
    ("reply", "*", "*"): "alb-receive",
}
_DB = {
    ("request", "sg", "outbound"): "web-sg-out", ("request", "nacl", "outbound"): "app-nacl-out",
    ("request", "route", ""): "app-nacl-out", ("request", "nacl", "inbound"): "db-nacl-in",
    ("request", "sg", "inbound"): "db-sg-in", ("request", "listener", ""): "db-sg-in",
    ("reply", "*", "*"): "db-reply",
}

#: The seed's Section 4 table, as the seed wrote it.
SEED_CHECKPOINTS: tuple[tuple[int, str, str, str], ...] = (
    (1, "NACL-Public Inbound", "Allow HTTPS 443", "stateless"),
    (2, "NACL-Public Inbound", "Allow ephemeral reply", "stateless"),
    (3, "ALB Security Group", "0.0.0.0/0 on 443", "stateful"),
    (4, "NACL-App Inbound", "Allow 3000 from ALB subnet", "stateless"),
    (5, "Web-SG Inbound", "alb-public-sg on 3000", "stateful"),
    (6, "NACL-App Outbound", "Allow 5432 to DB subnet", "stateless"),
    (7, "NACL-App Outbound", "Allow ephemeral response", "stateless"),
    (8, "Web-SG Outbound", "database-sg on 5432", "stateful"),
    (9, "NACL-DB Inbound", "Allow 5432 from App subnet", "stateless"),
    (10, "NACL-DB Inbound", "Allow ephemeral response", "stateless"),
    (11, "Database-SG Inbound", "web-sg on 5432", "stateful"),
)


@dataclass(frozen=True)
class PairResult:
    """One (ALB node, target) pair: its three flows and what the browser would see."""

    node: str
    target: str
    database: str
    front: FlowResult
    back: FlowResult
    db: FlowResult
    healthy: bool
    chosen: bool
    status: int | None
    symptom: str
    dns_ok: bool = True

    @property
    def name(self) -> str:
        return f"{self.node}->{self.target}"

    @property
    def share(self) -> float:
        return (1.0 if self.dns_ok else 0.0) * self.front.share * self.back.share * self.db.share

    @property
    def ok(self) -> bool:
        return self.dns_ok and self.front.ok and self.back.ok and self.db.ok

    @cached_property
    def checks(self) -> tuple[Check, ...]:
        """Every check of the pair, in the order the journey meets them."""
        every = (
            with_step(self.front.checks, _FRONT, self.name)
            + with_step(self.back.checks, _BACK, self.name)
            + with_step(self.db.checks, _DB, self.name)
        )
        return tuple(sorted(every, key=lambda c: _ORDER[c.step]))


@dataclass(frozen=True)
class Block:
    """One blocking point: a component, the rule that decided, and the pairs it breaks."""

    component: str
    kind: str
    direction: str
    rule_ids: tuple[str, ...]
    code: str
    step: str
    leg: str
    share: float
    reason: str
    would_allow: tuple[str, ...]
    pairs: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "component": self.component, "kind": self.kind, "direction": self.direction,
            "rule_id": self.rule_ids[0] if self.rule_ids else None, "rule_ids": list(self.rule_ids),
            "code": self.code, "step": self.step, "leg": self.leg, "share_passing": round(self.share, 4),
            "would_allow": list(self.would_allow), "pairs": list(self.pairs), "reason": self.reason,
        }


@dataclass(frozen=True)
class Trace:
    """The journey's answer: per-pair results, every blocking point, and a table of checks."""

    topology: Topology
    os: str
    database: str
    dns: Check
    pairs: tuple[PairResult, ...]
    extra: tuple[Check, ...] = ()  # journey-wide checks besides DNS (e.g. a target group with no targets)

    # ---------------------------------------------------------------- verdicts
    @property
    def ok(self) -> bool:
        return (self.dns.passed and all(c.passed for c in self.extra) and bool(self.pairs)
                and all(p.ok for p in self.pairs))

    @cached_property
    def success_share(self) -> float:
        """Share of Create Account requests that succeed: DNS spreads browsers evenly over the
        ALB nodes; each node spreads its requests evenly over the targets it considers healthy
        (over all of them when none is: the ALB fails open)."""
        if not self.dns.passed or not self.pairs or not all(c.passed for c in self.extra):
            return 0.0
        nodes = list(dict.fromkeys(p.node for p in self.pairs))
        total = 0.0
        for n in nodes:
            mine = [p for p in self.pairs if p.node == n and p.chosen]
            if mine:
                total += sum(p.share for p in mine) / len(mine)
        return total / len(nodes)

    @cached_property
    def checks(self) -> tuple[Check, ...]:
        return (self.dns,) + self.extra + tuple(c for p in self.pairs for c in p.checks)

    @cached_property
    def blocks(self) -> tuple[Block, ...]:
        """Every blocking point, once each, with the pairs it breaks."""
        found: dict[tuple, dict[str, Any]] = {}
        for c in self.checks:
            if c.passed:
                continue
            key = (c.component, c.kind, c.direction, c.rule_ids, c.code, c.leg, c.step)
            entry = found.setdefault(key, {"check": c, "pairs": []})
            if c.pair and c.pair not in entry["pairs"]:
                entry["pairs"].append(c.pair)
        return tuple(
            Block(e["check"].component, e["check"].kind, e["check"].direction, e["check"].rule_ids,
                  e["check"].code or "", e["check"].step, e["check"].leg, e["check"].share, e["check"].reason,
                  e["check"].would_allow, tuple(e["pairs"]))
            for e in found.values()
        )

    def pair(self, node: str, target: str) -> PairResult:
        for p in self.pairs:
            if p.node == node and p.target == target:
                return p
        raise TopologyError(f"no pair {node} -> {target}", "pairs: " + ", ".join(p.name for p in self.pairs))

    # ---------------------------------------------------------------- tables
    def frame(self):
        """Every check as a row (pandas), each with a ``reason``."""
        return self._checks_table(self.checks)

    def checks_frame(self, step: str | None = None, pair: str | None = None):
        """The checks of one step and/or one pair (``"alb-node-az1->node-api-1"``), as ``frame()`` rows."""
        if step is not None and step not in _STEP:
            raise TopologyError(f"no journey step {step!r}", "steps: " + ", ".join(_STEP))
        if pair is not None and pair not in {p.name for p in self.pairs}:
            raise TopologyError(f"no pair {pair!r}", "pairs: " + ", ".join(p.name for p in self.pairs))
        return self._checks_table([c for c in self.checks if (step is None or c.step == step)
                                   and (pair is None or c.pair == pair)])

    @staticmethod
    def _checks_table(checks):
        import pandas as pd

        rows = []
        for c in checks:
            st = _STEP.get(c.step)
            rows.append({
                "step": c.step, "seed_step": st.seed_step if st else None, "pair": c.pair, "leg": c.leg,
                "kind": c.kind, "component": c.component, "direction": c.direction, "packet": c.packet,
                "verdict": c.verdict, "share": c.share, "rule": c.rule, "code": c.code or "",
                "would_allow": ", ".join(c.would_allow), "reason": c.reason,
            })
        df = pd.DataFrame(rows)
        if not df.empty:
            df["seed_step"] = df["seed_step"].astype("Int64")
        return df

    def pairs_frame(self):
        """One row per (ALB node, target): whether it gets through and what the browser sees."""
        import pandas as pd

        return pd.DataFrame([
            {"node": p.node, "target": p.target, "ok": p.ok, "share": round(p.share, 4), "healthy": p.healthy,
             "chosen": p.chosen, "status": p.status, "reason": p.symptom}
            for p in self.pairs
        ])

    def steps_frame(self, pair: str | None = None):
        """One row per journey step for one pair (default: the first), with its checks' verdict."""
        import pandas as pd

        chosen = next((p for p in self.pairs if p.name == pair), self.pairs[0] if self.pairs else None)
        rows = []
        for s in STEPS:
            cs = [c for c in ((self.dns,) + self.extra + (chosen.checks if chosen else ())) if c.step == s.id]
            bad = [c for c in cs if c.blocking]
            verdict = "blocked" if bad else ("pass" if cs else "—")
            if bad:
                reason = bad[0].reason
            elif cs:  # the rule that let it through says most: a NACL or SG decision before a route or listener
                main = [c for c in cs if c.kind in ("nacl", "sg", "dns") and c.verdict == "allow"]
                reason = (main or cs)[0].reason
            else:
                reason = s.note or s.title
            rows.append({"step": s.id, "seed_step": s.seed_step, "title": s.title, "latency": s.latency,
                         "checks": len(cs), "verdict": verdict, "reason": reason})
        df = pd.DataFrame(rows)
        df["seed_step"] = df["seed_step"].astype("Int64")
        return df

    def seed_checkpoints(self):
        """The seed's 11 checkpoints mapped onto the checks this topology really makes."""
        import pandas as pd

        rules = {r.seed_checkpoint: r for r in self.topology.rules() if r.seed_checkpoint}
        rows = []
        for num, layer, text, kind in SEED_CHECKPOINTS:
            r = rules.get(num)
            if r is None:
                rows.append({"checkpoint": num, "layer": layer, "seed_says": text, "kind": kind, "rule": "",
                             "checks": 0, "verdict": "no rule", "reason": "this topology has no rule for it"})
                continue
            cs = [c for c in self.checks if r.id in c.rule_ids or r.id in c.would_allow]
            if not cs:
                why = "no packet of the journey is decided by it"
                if getattr(r, "direction", "") == "inbound" and "ephemeral" in text:
                    why += (": replies leave a subnet outbound, so a reply rule belongs on the outbound list here "
                            "and the inbound list of the requester's subnet")
                elif getattr(r, "direction", "") == "outbound" and "ephemeral" in text:
                    why += f": no reply of the journey goes to {getattr(r, 'cidr', '')} (the replies go elsewhere)"
                verdict, reason = "on no path", f"{r.id} ({r.describe()}): {why}" + ("" if r.enabled else " (and it is switched off)")
            elif all(c.passed for c in cs):
                verdict, reason = "pass", cs[0].reason
            else:
                bad = next(c for c in cs if not c.passed)
                verdict, reason = "blocked", bad.reason
            rows.append({"checkpoint": num, "layer": layer, "seed_says": text, "kind": kind, "rule": r.id,
                         "checks": len(cs), "verdict": verdict, "reason": reason})
        return pd.DataFrame(rows)

    def blocks_frame(self):
        import pandas as pd

        return pd.DataFrame([b.as_dict() for b in self.blocks],
                            columns=["component", "kind", "direction", "rule_id", "rule_ids", "code", "step", "leg",
                                     "share_passing", "would_allow", "pairs", "reason"])

    # ---------------------------------------------------------------- outputs
    def summary(self) -> str:
        t = self.topology
        if self.ok:
            return (f"{t.name}: the Create Account request gets through for every (ALB node, target) pair "
                    f"({len(self.pairs)} pairs, {self.os} client).")
        if not self.pairs and self.extra:
            return f"{t.name}: blocked — " + "; ".join(c.reason for c in self.extra if c.blocking)
        head = (f"{t.name}: blocked — {self.success_share * 100:.0f}% of Create Account requests succeed "
                f"({self.os} client); {len(self.blocks)} blocking point(s):")
        lines = [f"  - [{b.code}] {b.component} {b.direction} {', '.join(b.rule_ids) or ''} at step {b.step} "
                 f"({len(b.pairs)} pair(s)): {b.reason}" for b in self.blocks]
        return "\n".join([head] + lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "topology": self.topology.name, "os": self.os, "database": self.database, "ok": self.ok,
            "success_share": round(self.success_share, 4),
            "blocked": [b.as_dict() for b in self.blocks],
            "pairs": [{"node": p.node, "target": p.target, "ok": p.ok, "share": round(p.share, 4),
                       "healthy": p.healthy, "status": p.status, "symptom": p.symptom} for p in self.pairs],
            "steps": self.frame().drop(columns=["packet"]).astype(object).where(lambda d: d.notna(), None).to_dict("records"),
        }

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.as_dict(), **kw)

    def _repr_html_(self) -> str:
        color = "#2e7d32" if self.ok else "#c62828"
        head = html.escape(self.summary()).replace("\n", "<br>")
        pairs = self.pairs_frame().to_html(index=False, classes="tl-pairs")
        return (f'<div class="tl-trace"><p style="color:{color};font-weight:bold">{head}</p>{pairs}'
                f"<details><summary>every check ({len(self.checks)})</summary>"
                f"{self.frame().to_html(index=False)}</details></div>")

    def __repr__(self) -> str:
        return f"<Trace {self.summary()}>"


# ---------------------------------------------------------------------------- evaluation


def _dns_check(topo: Topology) -> Check:
    host = topo.api_host
    rec = next((r for r in topo.records if r.name == host and not r.private), None)
    pkt = f"DNS query {host} A"
    if rec is None:
        return Check("dns", "request", "dns", "route53", "", "internet", host, pkt, "deny", 0.0, (),
                     f"no public record for {host}: the browser gets NXDOMAIN and never sends the request",
                     "DNS_RESOLUTION_FAILED", step="dns")
    if rec.alias and rec.target == topo.alb.dns_name:
        ips = ", ".join(str(n.public_ip) for n in topo.alb.nodes)
        return Check("dns", "request", "dns", "route53", "", "internet", host, pkt, "allow", 1.0,
                     (f"record:{rec.name}",),
                     f"{host} is an alias A record for {rec.target}: Route 53 answers with the ALB nodes' "
                     f"addresses {ips} (TTL {rec.ttl_s} s, the ELB's own)", step="dns")
    if rec.type == "CNAME" and rec.target == topo.alb.dns_name:
        return Check("dns", "request", "dns", "route53", "", "internet", host, pkt, "allow", 1.0, (f"record:{rec.name}",),
                     f"{host} is a CNAME to {rec.target}, which resolves to the ALB nodes (one extra lookup)", step="dns")
    return Check("dns", "request", "dns", "route53", "", "internet", host, pkt, "deny", 0.0, (f"record:{rec.name}",),
                 f"{host} points at {rec.target}, not at the load balancer {topo.alb.dns_name}",
                 "DNS_RESOLUTION_FAILED", step="dns")


def _packet(c: Check) -> str:
    """Which TCP packet a blocking check drops: the opening SYN, or the server's SYN-ACK reply."""
    return "SYN-ACK (the reply)" if c.leg == "reply" else "SYN"


def _symptom(topo: Topology, front: FlowResult, back: FlowResult, db: FlowResult, healthy: bool,
             fail_open: bool, dns: Check) -> tuple[int | None, str]:
    lb = topo.alb
    if not dns.passed:
        return None, f"browser: {topo.api_host} does not lead to the load balancer, so no request is sent — {dns.reason}"
    if not front.ok:
        c = front.blocking[0]
        if c.kind == "forward":
            return 301, f"ALB: {c.reason}"
        if front.refused and not front.dropped:
            return None, f"browser: connection refused — {c.reason}"
        if front.share > 0:
            return None, (f"browser: {(1 - front.share) * 100:.0f}% of connections time out (the packets are "
                          f"dropped silently at {c.component}); the rest work")
        return None, (f"browser: connection timed out — the {_packet(c)} is dropped silently at {c.component} "
                      f"{c.direction} (in front of the ALB nothing answers, so nothing is refused)")
    if not back.ok:
        c = back.blocking[0]
        hc = lb.health_check
        health = ("every target fails this node's health checks, so the ALB fails open and keeps trying them all"
                  if fail_open else
                  f"this node's health checks fail too, so after {hc.unhealthy_threshold} x {hc.interval_s} s it "
                  "stops choosing this target")
        if back.refused and not back.dropped:
            return 502, f"ALB: 502 Bad Gateway — the target refused the connection on {lb.target_port}; {health}"
        if healthy and back.share > 0:
            return 504, (f"ALB: 504 Gateway Timeout for {(1 - back.share) * 100:.0f}% of this node's connections to "
                         f"the target (their {_packet(c)} is dropped at {c.component} {c.direction}); the rest "
                         "succeed, and health checks pass often enough that the node keeps choosing it")
        return 504, (f"ALB: 504 Gateway Timeout — the node cannot connect to the target within "
                     f"{lb.connect_timeout_s} s (its {_packet(c)} is dropped at {c.component} {c.direction}); {health}")
    if not db.ok:
        c = db.blocking[0]
        if db.refused and not db.dropped:
            return 500, ("app: 500 {\"error\": \"Server error\"} — PostgreSQL refused the connection and Express's "
                         "catch answers 500; the shallow /health check still passes")
        part = (f"{(1 - db.share) * 100:.0f}% of new database connections" if db.share > 0
                else "the database connection")
        return 504, (f"ALB: 504 Gateway Timeout — {part} hangs ({_packet(c)} dropped at {c.component} {c.direction}); "
                     f"node-postgres has no connect timeout by default, so the ALB's {lb.idle_timeout_s} s idle timeout "
                     "ends the request; /health does not touch the database, so the target stays healthy and keeps "
                     "getting its share of requests")
    return 200, 'browser: 200 {"success": true, "userId": 42, "message": "User created"}'


def _forward_check(topo: Topology, port: int) -> Check | None:
    """Does the HTTPS listener forward to the target group (or only redirect)?"""
    lb = topo.alb
    listener = next((l for l in lb.listeners if l.port == port), None)
    if listener is None:  # the flow's listener check refuses the connection
        return None
    pkt = f"POST /api/users on listener {port}"
    if listener.action != "forward":
        return Check("alb", "request", "forward", lb.name, "", "internet", lb.name, pkt, "deny", 0.0,
                     (f"listener:{port}",),
                     f"the {port} listener only redirects (to {listener.redirect_port}), so every POST gets a 301 and "
                     "never reaches a server: a listener must forward to the target group",
                     "ELBV2_LISTENER_REQUIRES_TG_ACCEPT")
    return Check("alb", "request", "forward", lb.name, "", "internet", lb.name, pkt, "allow", 1.0, (f"listener:{port}",),
                 f"the {port} listener forwards to {lb.target_group} on port {lb.target_port}")


def journey(topology: Topology, *, os: str = "linux", database: Literal["primary", "standby"] = "primary") -> Trace:
    """Evaluate the Create Account journey for every (ALB node, target) pair.

    ``os`` is the internet user's OS (it sets the ephemeral port range the NACLs must admit);
    ``database`` picks the instance the endpoint points at (``standby`` = after a failover).
    """
    if os not in EPHEMERAL or os == "elb":
        raise TopologyError(f"unknown client OS {os!r}", f"use one of {', '.join(OSES)}")
    topo = topology
    db_inst = topo.database.instance(database)
    if db_inst is None:
        raise TopologyError(f"the database has no {database} instance",
                            "a single-AZ database has only a primary; use database='primary'")
    dns = _dns_check(topo)
    client = Endpoint("internet", "internet", topo.client_ip, None, (), (), EPHEMERAL[os], f"internet user ({os})")
    db_ep = topo.endpoint(db_inst.name)
    lb = topo.alb
    port_in = 443  # the seed's API is HTTPS: the browser always calls https://api.myapp.com
    forward = _forward_check(topo, port_in)
    fronts = {}
    for n in lb.nodes:
        f = evaluate_flow(topo, client, topo.endpoint(n.name), port_in, name=f"internet->{n.name}",
                          purpose="HTTPS from the browser")
        fronts[n.name] = replace(f, checks=f.checks + (replace(forward, flow=f.name),)) if forward is not None else f
    extra: tuple[Check, ...] = ()
    if not lb.targets:
        extra = (Check("alb", "request", "forward", lb.target_group, "", lb.name, lb.target_group,
                       f"POST /api/users to {lb.target_group}", "deny", 0.0, (f"target-group:{lb.target_group}",),
                       f"the target group {lb.target_group} has no registered targets: the ALB answers "
                       "503 Service Unavailable", "ELBV2_LISTENER_HAS_NO_TG", step="alb-process"),)
    dbs = {t: evaluate_flow(topo, topo.endpoint(t), db_ep, topo.database.port, name=f"{t}->{db_inst.name}",
                            purpose="PostgreSQL") for t in lb.targets}
    pairs: list[PairResult] = []
    for n in lb.nodes:
        node_ep = topo.endpoint(n.name)
        hc_port = lb.health_check.port
        backs = {t: evaluate_flow(topo, node_ep, topo.endpoint(t), lb.target_port, name=f"{n.name}->{t}",
                                  purpose="requests" + (" and health checks" if hc_port == lb.target_port else "")
                                  + " from the ALB") for t in lb.targets}
        checks_of = backs if hc_port == lb.target_port else {
            t: evaluate_flow(topo, node_ep, topo.endpoint(t), hc_port, name=f"{n.name}->{t}:health",
                             purpose="health checks from the ALB") for t in lb.targets}
        healthy = {t: b.share >= 0.5 and not b.refused for t, b in checks_of.items()}
        fail_open = not any(healthy.values())
        for t in lb.targets:
            chosen = healthy[t] or fail_open
            status, symptom = _symptom(topo, fronts[n.name], backs[t], dbs[t], healthy[t], fail_open, dns)
            pairs.append(PairResult(n.name, t, db_inst.name, fronts[n.name], backs[t], dbs[t], healthy[t], chosen,
                                    status, symptom, dns.passed))
    return Trace(topo, os, database, dns, tuple(pairs), extra)
