"""What the widget panels show and do, without any widget: testable in plain Python.

* :func:`rule_rows` / :func:`rule_groups`: every rule of every security group and network ACL,
  grouped by component, as rows a rule panel draws.
* :func:`parse_edit`: a rule-edit form (strings, as typed) -> ``Topology.change_rule`` fields,
  or a :class:`~tierlab.errors.RuleError` with a message and a hint to show inline.
* :class:`Lab`: the loaded topology, the current what-if and its Trace; toggling or editing a
  rule makes a new frozen Topology and re-evaluates the journey (``tl.journey``); listeners
  (the views) are told.
* :class:`Stepper` and :class:`StepView`: the journey one step at a time (``tl.STEPS``) for one
  (ALB node, server) pair: the packet, the checkpoint, the matching rule, the verdict.

The widgets in :mod:`tierlab.views.widgets` only draw these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

from ..errors import RuleError, TierlabError, TopologyError
from ..network.evaluate import Check, FlowResult
from ..network.limits import printable
from ..request.journey import STEP_IDS, STEPS, PairResult, Step, Trace, journey
from ..network.rules import NACL_RULE_MAX, NACL_RULE_MIN, PROTOCOLS, Direction, NaclRule, SgRule, parse_cidr
from ..network.topology import Topology
from .focus import focus_pair

if TYPE_CHECKING:
    from ..sim.latency import LatencyModel

__all__ = [
    "RuleRow", "rule_rows", "rule_groups", "rule_css_class", "parse_edit", "EditResult", "Lab",
    "STEP_FLOW", "ENCRYPTED", "StepView", "Stepper", "step_view", "focus_pair",
    "LATENCY_KNOBS", "latency_knobs", "latency_verdict", "latency_for", "KNOB_LABELS", "knob_options",
    "reached_index", "outcome", "verdict_line", "step_rows", "block_rows", "component_of",
]


def rule_css_class(rule_id: str) -> str:
    """The stable CSS class of a rule's toggle: ``tl-rule-database-sg-in-5432``."""
    return f"tl-rule-{rule_id}"


@dataclass(frozen=True)
class RuleRow:
    """One rule as a rule panel shows it."""

    rule_id: str
    component: str               # the security group or network ACL that holds it
    kind: Literal["sg", "nacl"]
    direction: str
    number: int | None           # NACL rules only
    action: str                  # SG rules always "allow"
    protocol: str
    ports: str
    peer: str                    # CIDR, or a security group's name
    enabled: bool
    seed_checkpoint: int | None
    description: str

    @property
    def css_class(self) -> str:
        return rule_css_class(self.rule_id)

    @property
    def text(self) -> str:
        way = "from" if self.direction == "inbound" else "to"
        num = f"#{self.number} " if self.number is not None else ""
        return f"{num}{self.action.upper()} {self.protocol} {self.ports} {way} {self.peer}"


def _row(rule: SgRule | NaclRule, component: str) -> RuleRow:
    if isinstance(rule, NaclRule):
        return RuleRow(rule.id, component, "nacl", rule.direction, rule.number, rule.action, rule.protocol,
                       str(rule.ports), str(rule.cidr), rule.enabled, rule.seed_checkpoint, rule.description)
    return RuleRow(rule.id, component, "sg", rule.direction, None, "allow", rule.protocol, str(rule.ports),
                   rule.peer, rule.enabled, rule.seed_checkpoint, rule.description)


def rule_rows(topo: Topology) -> list[RuleRow]:
    """Every rule of every SG and NACL: SGs first, then NACLs; inbound before outbound; by number."""
    rows: list[RuleRow] = []
    for g in topo.security_groups:
        for d in ("inbound", "outbound"):
            rows += [_row(r, g.name) for r in g.rules_in(d, enabled=None)]
    directions: tuple[Direction, ...] = ("inbound", "outbound")
    for n in topo.nacls:
        for d in directions:
            rows += [_row(r, n.name) for r in n.ordered(d, enabled=None)]
    return rows


def rule_groups(topo: Topology) -> dict[str, list[RuleRow]]:
    """``rule_rows`` grouped by component, in topology order (every group, even an empty one)."""
    groups: dict[str, list[RuleRow]] = {g.name: [] for g in topo.security_groups}
    groups.update({n.name: [] for n in topo.nacls})
    for r in rule_rows(topo):
        groups[r.component].append(r)
    return groups


# ----------------------------------------------------------------------------- editing a rule


def parse_edit(topo: Topology, rule_id: str, *, number: object = None, protocol: object = None,
               ports: object = None, peer: object = None, action: object = None) -> dict[str, object]:
    """Turn a rule-edit form (values as typed; ``None`` = unchanged) into ``change_rule`` fields.

    Raises RuleError with a message naming the rule and field, and a hint, for anything AWS
    would refuse (the panel shows it beside the form)."""
    rule = topo.rule(rule_id)
    out: dict[str, object] = {}
    is_nacl = isinstance(rule, NaclRule)
    if number is not None and str(number).strip() != "":
        if not is_nacl:
            raise RuleError(f"{rule_id}: security-group rules have no number",
                            "security groups union all their rules; only NACL rules are numbered")
        text = str(number).strip()
        # ASCII digits only ("²" and "٣" pass isdigit, and int() refuses the first); -5 is a number, out of range
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", text):
            raise RuleError(f"{rule_id}: rule number {printable(repr(text), 60)} is not a whole number",
                            f"use {NACL_RULE_MIN}-{NACL_RULE_MAX}; lower numbers are checked first")
        n = int(text)
        if not NACL_RULE_MIN <= n <= NACL_RULE_MAX:
            raise RuleError(f"{rule_id}: rule number {n} is outside {NACL_RULE_MIN}-{NACL_RULE_MAX}",
                            "number rules in steps of 10 or 100 so you can insert rules later")
        if n != rule.number:  # type: ignore[union-attr]
            out["number"] = n
    if protocol is not None and str(protocol).strip() != "":
        p = str(protocol).strip().lower()
        if p not in PROTOCOLS:
            raise RuleError(f"{rule_id}: protocol {printable(repr(protocol), 60)} is unknown",
                            "use tcp, udp, icmp or all")
        if p != rule.protocol:
            out["protocol"] = p
    if ports is not None and str(ports).strip() != "":
        from ..network.rules import PortRange

        pr = PortRange.parse(str(ports).strip())
        if pr != rule.ports:
            out["ports"] = pr
    if peer is not None and str(peer).strip() != "":
        text = str(peer).strip()
        shown = printable(repr(text), 60)
        looks_cidr = text[:1].isdigit()
        if looks_cidr and "/" not in text:
            raise RuleError(f"{rule_id}: peer {shown} has no prefix length",
                            f"AWS wants a CIDR block: write {printable(text, 40)}/32 for one address, or the "
                            "subnet's range (e.g. 10.0.2.0/24)")
        if is_nacl:
            net = parse_cidr(text, f"{rule_id} CIDR")
            if net != rule.cidr:  # type: ignore[union-attr]
                out["cidr"] = net
        elif looks_cidr:
            net = parse_cidr(text, f"{rule_id} peer CIDR")
            if net != rule.peer_cidr:  # type: ignore[union-attr]
                out["peer_cidr"] = net
        else:
            name = text.removeprefix("sg:").strip()
            known = [g.name for g in topo.security_groups]
            if name not in known:
                raise RuleError(f"{rule_id}: peer {shown} is neither a CIDR nor a security group",
                                f"write a.b.c.d/n or one of {', '.join(known)}")
            if name != rule.peer_sg:  # type: ignore[union-attr]
                out["peer_sg"] = name
    if action is not None and str(action).strip() != "":
        a = str(action).strip().lower()
        if not is_nacl:
            if a != "allow":
                raise RuleError(f"{rule_id}: a security-group rule cannot {printable(a, 40)}",
                                "security groups only allow; to block, remove or switch off the allow rule, "
                                "or add a DENY to the subnet's network ACL")
        elif a not in ("allow", "deny"):
            raise RuleError(f"{rule_id}: action {printable(repr(action), 60)} is unknown", "use allow or deny")
        elif a != rule.action:  # type: ignore[union-attr]
            out["action"] = a
    return out


@dataclass(frozen=True)
class EditResult:
    """What an edit did: ``ok`` and the new rule id, or the message and hint to show inline."""

    ok: bool
    rule_id: str
    message: str = ""
    hint: str = ""

    @property
    def text(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


# ----------------------------------------------------------------------------- the lab state


class Lab:
    """The loaded topology, the current what-if, and its Trace. Every change re-evaluates.

    Not a widget: the panels hold one ``Lab`` and redraw when it tells them (``on_change``).
    """

    def __init__(self, topology: Topology | str = "seed", *, os: str = "linux",
                 database: Literal["primary", "standby"] = "primary") -> None:
        if isinstance(topology, str):
            from ..network.loader import load

            topology = load(topology)
        self.base: Topology = topology
        self.topology: Topology = topology
        self.os = os
        self.database: Literal["primary", "standby"] = database
        self.trace: Trace = journey(topology, os=os, database=database)
        self._listeners: list[Callable[["Lab"], None]] = []

    # -- observers
    def on_change(self, fn: Callable[["Lab"], None]) -> None:
        self._listeners.append(fn)

    def _set(self, topo: Topology) -> None:
        trace = journey(topo, os=self.os, database=self.database)  # evaluate first: no half-written state
        self.topology, self.trace = topo, trace
        for fn in list(self._listeners):
            fn(self)

    # -- changes
    def toggle(self, rule_id: str, enabled: bool) -> Trace:
        """Switch a rule on or off (a new frozen topology) and re-evaluate."""
        rule = self.topology.rule(rule_id)
        if rule.enabled != enabled:
            self._set(self.topology.change_rule(rule_id, enabled=enabled))
        return self.trace

    def edit(self, rule_id: str, **form: object) -> EditResult:
        """Apply a rule-edit form; on bad input nothing changes and the result carries the message."""
        try:
            changes = parse_edit(self.topology, rule_id, **form)
            if not changes:
                return EditResult(True, rule_id, "nothing to change")
            topo = self.topology.change_rule(rule_id, **changes)
        except TierlabError as exc:
            return EditResult(False, rule_id, exc.message, exc.hint)
        old = self.topology.rule(rule_id)
        new_id = rule_id
        if isinstance(old, NaclRule) and "number" in changes:
            new_id = NaclRule(nacl=old.nacl, number=int(changes["number"]), direction=old.direction, action=old.action, protocol=old.protocol,  # type: ignore[call-overload]
                              ports=old.ports, cidr=old.cidr).id
        self._set(topo)
        return EditResult(True, new_id, f"{new_id}: " + ", ".join(f"{k} = {v}" for k, v in changes.items()))

    def set_database(self, database: Literal["primary", "standby"]) -> Trace:
        self.database = database
        self._set(self.topology)
        return self.trace

    def reset(self) -> Trace:
        """Back to the loaded topology."""
        self._set(self.base)
        return self.trace

    @property
    def changed_rules(self) -> list[str]:
        """Ids of rules that differ from the loaded topology (new, changed or switched)."""
        base = {r.id: r for r in self.base.rules()}
        return [r.id for r in self.topology.rules() if base.get(r.id) != r]


# ----------------------------------------------------------------------------- the journey stepper


#: Which flow and leg each step's packet belongs to. ``front`` = browser -> ALB node,
#: ``back`` = ALB node -> server, ``db`` = server -> database, ``dns`` = the DNS query.
#: (A test checks this against every check the journey labels with a step.)
STEP_FLOW: dict[str, tuple[str, str]] = {
    "click": ("front", "request"), "dns": ("dns", "request"), "connect-alb": ("front", "request"),
    "alb-nacl-in": ("front", "request"), "alb-sg-in": ("front", "request"),
    "alb-reply-out": ("front", "reply"), "alb-process": ("front", "request"),
    "alb-sg-out": ("back", "request"), "alb-nacl-out": ("back", "request"), "app-nacl-in": ("back", "request"),
    "web-sg-in": ("back", "request"), "node-process": ("back", "request"), "db-connect": ("db", "request"),
    "web-sg-out": ("db", "request"), "app-nacl-out": ("db", "request"), "db-nacl-in": ("db", "request"),
    "db-sg-in": ("db", "request"), "db-query": ("db", "request"), "db-reply": ("db", "reply"),
    "node-respond": ("back", "reply"), "alb-receive": ("back", "reply"), "browser-receive": ("front", "reply"),
}

#: Whether each flow's bytes are encrypted on the wire, and why (the seed: the ALB terminates
#: TLS and forwards plain HTTP on 3000; the app connects to RDS with DB_SSL=true; DNS is clear).
ENCRYPTED: dict[str, tuple[bool, str]] = {
    "dns": (False, "plain DNS over UDP 53"),
    "front": (True, "HTTPS: TLS between the browser and the ALB"),
    "back": (False, "plain HTTP: the ALB terminated TLS"),
    "db": (True, "PostgreSQL over TLS (DB_SSL=true)"),
}


@dataclass(frozen=True)
class StepView:
    """One step of the journey as the stepper shows it."""

    index: int
    step: Step
    pair: str
    flow: str
    leg: str
    src: str
    dst: str
    src_address: str
    dst_address: str
    protocol: str
    encrypted: bool
    encryption: str
    checkpoint: str
    rule: str
    verdict: str
    reason: str
    checks: tuple[Check, ...] = field(default=(), repr=False)

    @property
    def packet(self) -> str:
        lock = "encrypted" if self.encrypted else "not encrypted"
        return f"{self.protocol} {self.src_address} -> {self.dst_address} ({lock})"


def _flow_of(p: PairResult, flow: str) -> FlowResult:
    return {"front": p.front, "back": p.back, "db": p.db}[flow]


def step_view(trace: Trace, index: int, pair: PairResult) -> StepView:
    """The packet, checkpoint, matching rule and verdict at step ``index`` on ``pair``'s path.

    Verdicts and rules come from the Trace's checks for that step; nothing is decided here."""
    if not 0 <= index < len(STEPS):
        raise TierlabError(f"no step number {index}", f"steps run 0-{len(STEPS) - 1}")
    s = STEPS[index]
    flow, leg = STEP_FLOW[s.id]
    if flow == "dns":
        checks: tuple[Check, ...] = (trace.dns,)
        client = trace.topology.client_ip
        src, dst = "internet", "route53"
        src_addr, dst_addr, proto = f"{client}:ephemeral", "recursive resolver:53 (which asks Route 53)", "udp"
    else:
        f = _flow_of(pair, flow)
        checks = tuple(c for c in pair.checks if c.step == s.id)
        eph = f"{f.src.ip}:{f.ephemeral}"
        svc = f"{f.dst.ip}:{f.port}"
        if leg == "request":
            src, dst, src_addr, dst_addr = f.src.name, f.dst.name, eph, svc
        else:
            src, dst, src_addr, dst_addr = f.dst.name, f.src.name, svc, eph
        proto = f.protocol
    enc, why = ENCRYPTED[flow]
    bad = [c for c in checks if c.blocking]
    if index > STEP_IDS.index(pair.reached):  # after the packet stopped: nothing here happens
        return StepView(index, s, pair.name, flow, leg, src, dst, src_addr, dst_addr, proto, enc, why,
                        "not reached", "", "not reached",
                        f"not reached: the request stops at {pair.reached}", checks)
    if bad:
        verdict, decider = ("refused" if bad[0].verdict == "refused" else "blocked"), bad[0]
    elif checks:
        verdict, decider = "pass", next((c for c in checks if c.rule_ids), checks[-1])
    else:
        verdict, decider = "—", None
    checkpoint = ", ".join(dict.fromkeys(
        f"{c.component} {c.direction}".strip() + (f" ({c.kind})" if c.kind in ("listener", "route", "igw") else "")
        for c in checks)) or "no checkpoint at this step"
    if decider is None:
        rule = ""
    elif decider.blocking:
        rule = decider.rule or ("no rule allows it" if decider.kind == "sg" else "")
        if decider.would_allow:
            rule += ("; " if rule else "") + "switched off: " + ", ".join(decider.would_allow)
    else:
        rule = ", ".join(r for c in checks for r in c.rule_ids) or ("stateful: reply to an allowed flow"
                                                                  if any(c.verdict == "stateful" for c in checks)
                                                                  else "")
    reason = decider.reason if decider is not None else s.title
    return StepView(index, s, pair.name, flow, leg, src, dst, src_addr, dst_addr, proto, enc, why, checkpoint,
                    rule, verdict, reason, checks)


class Stepper:
    """Walk the journey a step at a time for one (ALB node, server) pair of a Lab's Trace."""

    def __init__(self, lab: Lab, pair: str | None = None) -> None:
        self.lab = lab
        self.index = 0
        self.pair_name = pair  # None: the first blocked pair, else the first pair

    @property
    def pair(self) -> PairResult:
        p = focus_pair(self.lab.trace, self.pair_name)
        if p is None:
            raise TierlabError("the journey has no (ALB node, server) pair", "the ALB needs nodes and targets")
        return p

    @property
    def last(self) -> int:
        """The last step the packet reaches on this pair: the block, or the journey's end."""
        return reached_index(self.lab.trace, self.pair)

    @property
    def ended(self) -> bool:
        """At the last reached step: the journey is over (delivered, or stopped by a block)."""
        return self.index >= self.last

    def goto(self, index: int) -> StepView:
        self.index = max(0, min(self.last, int(index)))
        return self.current

    def step(self) -> StepView:
        return self.goto(self.index + 1)

    def back(self) -> StepView:
        return self.goto(self.index - 1)

    def reset(self) -> StepView:
        return self.goto(0)

    @property
    def at_end(self) -> bool:
        return self.index >= self.last

    @property
    def current(self) -> StepView:
        return step_view(self.lab.trace, self.index, self.pair)

    def views(self) -> list[StepView]:
        return [step_view(self.lab.trace, i, self.pair) for i in range(len(STEPS))]

    def frame(self):
        """Every step as the stepper shows it, one row each (pandas): the packet, whether it is
        encrypted, the checkpoint, the rule and the verdict, with a ``reason``."""
        import pandas as pd

        return pd.DataFrame([{
            "step": v.step.id, "seed_step": v.step.seed_step, "leg": v.leg, "src": v.src, "dst": v.dst,
            "src_address": v.src_address, "dst_address": v.dst_address, "protocol": v.protocol,
            "encrypted": v.encrypted, "checkpoint": v.checkpoint, "rule": v.rule, "verdict": v.verdict,
            "reason": v.reason} for v in self.views()]).astype({"seed_step": "Int64"})


# ----------------------------------------------------------------------------- any flow, a hop at a time


@dataclass(frozen=True)
class FlowStep:
    """One check of a flow as :class:`FlowStepper` shows it: where the packet is and what decided."""

    index: int          # 0-based
    total: int          # how many steps the packet really reaches
    leg: str            # request or reply
    where: str          # the component (an SG, a NACL, a route table, a NAT gateway, the listener ...)
    direction: str
    packet: str
    verdict: str
    reason: str
    last: bool          # the packet goes no further (the block, or the reply home)

    def text(self) -> str:
        head = f"{self.index + 1}/{self.total} [{self.leg}] {self.where}{' ' + self.direction if self.direction else ''}"
        return f"{head}: {self.verdict} · {self.packet}\n  {self.reason}"


class FlowStepper:
    """Walk one flow (``tl.can_reach(...)``, e.g. a server out through its NAT gateway to the internet and back) a
    check at a time, in packet order. Steps end where the packet ends: at the first check that drops it (nothing
    after a drop happens, so nothing after it is shown as passed), or when the reply is home."""

    def __init__(self, flow: Any) -> None:
        f = getattr(flow, "flow", flow)
        if not isinstance(f, FlowResult):
            raise TierlabError(f"cannot step through a {type(flow).__name__}",
                               "pass a reachability answer: FlowStepper(tl.can_reach(topo, 'node-api-1', 'internet'))")
        self.flow = f
        reached: list[Check] = []
        for c in f.checks:
            reached.append(c)
            if c.blocking and c.share == 0:
                break
        self._checks = tuple(reached)
        self.index = 0

    @property
    def last(self) -> int:
        return len(self._checks) - 1

    def goto(self, index: int) -> FlowStep:
        self.index = max(0, min(self.last, int(index)))
        return self.current

    def step(self) -> FlowStep:
        return self.goto(self.index + 1)

    def back(self) -> FlowStep:
        return self.goto(self.index - 1)

    @property
    def current(self) -> FlowStep:
        return self._view(self.index)

    def _view(self, i: int) -> FlowStep:
        c = self._checks[i]
        return FlowStep(index=i, total=len(self._checks), leg=c.leg, where=c.component, direction=c.direction or "",
                        packet=c.packet, verdict=c.verdict, reason=c.reason, last=i == self.last)

    def views(self) -> list[FlowStep]:
        return [self._view(i) for i in range(len(self._checks))]

    def frame(self):
        """The steps the packet reaches, one row each (pandas), with a ``reason``."""
        import pandas as pd

        return pd.DataFrame([{"step": v.index + 1, "leg": v.leg, "where": v.where, "direction": v.direction,
                              "packet": v.packet, "verdict": v.verdict, "reason": v.reason} for v in self.views()])

    def __repr__(self) -> str:
        return self.current.text()


# ----------------------------------------------------------------------------- the latency panel

#: The knobs the latency panel offers (ranges and choices come from ``tierlab.sim.latency.CONTROLS``).
LATENCY_KNOBS: tuple[str, ...] = ("rtt_ms", "tls_version", "dns_cache", "keep_alive", "pool", "multi_az")


def latency_knobs() -> dict[str, dict]:
    """Each knob's control spec (min/max/step or options, description), in panel order."""
    from ..sim.latency import CONTROLS

    return {k: dict(CONTROLS[k]) for k in LATENCY_KNOBS}


def latency_verdict(total_ms: float, band_ms: tuple[float, float] | None = None) -> str:
    """Where a total lands against the seed's claim (300-500 ms from click to confirmation)."""
    from ..sim.latency import SEED_CLAIM_MS

    lo, hi = band_ms or SEED_CLAIM_MS
    if total_ms < lo:
        return f"{total_ms:.0f} ms: {lo - total_ms:.0f} ms faster than the seed's {lo:.0f}-{hi:.0f} ms"
    if total_ms > hi:
        return f"{total_ms:.0f} ms: {total_ms - hi:.0f} ms slower than the seed's {lo:.0f}-{hi:.0f} ms"
    return f"{total_ms:.0f} ms: inside the seed's {lo:.0f}-{hi:.0f} ms"


def latency_for(topo: Topology, preset: str = "physics", **knobs: Any) -> LatencyModel:
    """The latency model for the panel's settings (``seed`` takes none: its knobs are ignored)."""
    from ..sim.latency import latency_model

    if preset == "seed":
        return latency_model(topo, "seed")
    return latency_model(topo, preset, **knobs)


# ----------------------------------------------------------------------------- what the app says


def reached_index(trace: Trace, pair: PairResult) -> int:
    """Index (in ``STEPS``) of the last step the request reaches on ``pair`` (``pair.reached``:
    where the packet stops, or the journey's last step when it gets through)."""
    return STEP_IDS.index(pair.reached)


def outcome(pair: PairResult) -> str:
    """What the browser gets on ``pair`` and after how long, in a few words
    (``"504 Gateway Timeout after 60 s"``, ``"connection timed out after 127 s"``)."""
    o = pair.outcome
    if not o.failed:
        return "200: 'Account created'"
    head = o.text.split(" — ")[0]
    what = head.partition(": ")[2] or head
    if o.status is None and o.kind == "timeout":
        what = "no answer: connection timed out"
    when = f" after {o.wait_s:g} s" if o.wait_s else " at once"
    return what + when


def verdict_line(trace: Trace, pair: str | None = None) -> tuple[bool, str]:
    """The app's one-line verdict for the followed pair: (ok, text)."""
    p = focus_pair(trace, pair)
    if trace.ok or p is None:
        if p is None:
            return False, f"{trace.topology.name}: the ALB has no (node, server) pair to send the request to"
        return True, (f"Gets through: the browser gets {outcome(p)} "
                      f"(all {len(trace.pairs)} ALB node → server pairs)")
    i = reached_index(trace, p)
    step = STEPS[i]
    if p.ok:
        return False, (f"{p.name} gets through, but {trace.success_share * 100:.0f}% of requests succeed "
                       "overall: pick a blocked pair")
    bad = next((c for c in p.checks + (trace.dns,) + tuple(trace.extra) if c.step == step.id and c.blocking), None)
    where = f"{bad.component} {bad.direction}".strip() if bad is not None else step.id
    return False, (f"Blocked at {where} (step {i + 1} of {len(STEPS)}): the browser gets {outcome(p)}; "
                   f"{trace.success_share * 100:.0f}% of requests succeed")


def step_rows(trace: Trace, pair: PairResult):
    """The trace table for one pair (pandas): one row per step up to where the request stops, then
    the steps it never reaches, marked "not reached" (never "pass"). No missing values."""
    import pandas as pd

    last = reached_index(trace, pair)
    rows = []
    for i, s in enumerate(STEPS):
        v = step_view(trace, i, pair)
        reached = i <= last
        rows.append({
            "#": str(i + 1), "seed": str(s.seed_step) if s.seed_step else "", "step": s.title,
            "verdict": (v.verdict if v.verdict != "—" else "no check") if reached else "not reached",
            "why": (v.reason if reached else "the request stopped at step " f"{last + 1}"),
            "rule": v.rule if reached else "",
        })
    return pd.DataFrame(rows)


def block_rows(trace: Trace):
    """Every blocking point once (pandas): where, the deciding rule, the switched-off rule that
    would allow it, how many (ALB node, server) pairs it breaks, and why. Identical reasons are
    one row with a count."""
    import pandas as pd

    rows: dict[tuple, dict] = {}
    for b in trace.blocks:
        where = f"{b.component} {b.direction}".strip()
        key = (where, b.rule_ids, b.would_allow, b.step)
        r = rows.setdefault(key, {"where": where, "step": b.step, "rule": ", ".join(b.rule_ids),
                                  "switched off": ", ".join(b.would_allow), "pairs": 0, "why": b.reason})
        r["pairs"] += len(b.pairs) or 1
    return pd.DataFrame(list(rows.values()), columns=["where", "step", "rule", "switched off", "pairs", "why"])


def component_of(topo: Topology, name: str) -> str:
    """A security group or network ACL by name, as a click on the diagram names it."""
    known = list(rule_groups(topo))
    if name not in known:
        raise TopologyError(f"no security group or network ACL named {name!r}", "components: " + ", ".join(known))
    return name


# ----------------------------------------------------------------------------- latency knobs, in words

#: What each latency knob is called on screen (the model's names are Python names).
KNOB_LABELS: dict[str, str] = {
    "rtt_ms": "Round trip to the region (ms)",
    "tls_version": "TLS version",
    "dns_cache": "DNS answer from",
    "keep_alive": "Reuse the HTTPS connection",
    "pool": "Database connection pool",
    "multi_az": "Multi-AZ standby",
    "app_ms": "App's own work (ms)",
    "tls_resumption": "TLS session resumption",
    "pool_pre_ping": "Pre-ping pooled connections",
}

_OPTION_WORDS = {True: "on", False: "off", None: "as the topology says", "browser": "the browser's cache",
                 "resolver": "the resolver's cache", "miss": "Route 53 (no cache)", "mixed": "a mix of all three"}


def knob_options(name: str) -> list[tuple[str, str]]:
    """A picker's (label, value) pairs with *string* values (a widget's ``None`` means "nothing
    chosen", so ``None`` travels as ``"topology"``); :func:`knob_value` turns one back."""
    spec = latency_knobs()[name] if name in LATENCY_KNOBS else {}
    from ..sim.latency import CONTROLS

    opts = (spec or CONTROLS[name]).get("options", ())
    return [(_OPTION_WORDS.get(o, str(o)), _KEY.get(o, str(o)) if not isinstance(o, str) else o) for o in opts]


_KEY: dict[object, str] = {None: "topology", True: "on", False: "off"}
_UNKEY = {"topology": None, "on": True, "off": False}


def knob_value(name: str, key: str) -> object:
    """The model's value for a picker's string value (``"topology"`` -> None, ``"on"`` -> True)."""
    from ..sim.latency import CONTROLS

    opts = CONTROLS[name].get("options", ())
    if key in _UNKEY and _UNKEY[key] in opts and not (isinstance(_UNKEY[key], bool) and key in opts):
        return _UNKEY[key]
    return key


def knob_key(name: str, value: object) -> str:
    """A picker's string value for the model's value."""
    return value if isinstance(value, str) else _KEY.get(value, str(value))
