"""The journey's answer: per-pair results, where each pair's packet stops, every blocking point.

``Trace`` holds the verdicts; its tables are built in :mod:`tierlab.request.frames`.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import TopologyError
from ..network.evaluate import Check, FlowResult, with_step
from ..network.topology import Topology
from . import frames
from .steps import STEP_INDEX, STEP_OF, STEPS
from .stops import StepResult, Walk, walk
from .symptoms import Outcome, no_target_outcome

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PairResult", "Block", "Trace", "RequestOutcome"]


@dataclass(frozen=True, kw_only=True)
class PairResult:
    """One (ALB node, target) pair: its three flows, where its packet stops, what the browser gets."""

    node: str
    target: str
    database: str
    front: FlowResult
    back: FlowResult
    db: FlowResult
    healthy: bool
    chosen: bool
    outcome: Outcome
    dns: Check

    @property
    def name(self) -> str:
        return f"{self.node}->{self.target}"

    @property
    def dns_ok(self) -> bool:
        return self.dns.passed

    @property
    def status(self) -> int | None:
        """The HTTP status the browser gets (None: no HTTP answer, e.g. a timeout)."""
        return self.outcome.status

    @property
    def symptom(self) -> str:
        """What the browser sees, in words."""
        return self.outcome.text

    @property
    def share(self) -> float:
        return (1.0 if self.dns_ok else 0.0) * self.front.share * self.back.share * self.db.share

    @property
    def ok(self) -> bool:
        return self.dns_ok and self.front.ok and self.back.ok and self.db.ok

    @cached_property
    def _stepped(self) -> tuple[tuple[str, FlowResult, tuple[Check, ...]], ...]:
        return tuple((name, f, with_step(f.checks, STEP_OF[name], self.name))
                     for name, f in (("front", self.front), ("back", self.back), ("db", self.db)))

    @cached_property
    def checks(self) -> tuple[Check, ...]:
        """Every check of the pair, in the order the journey meets them."""
        every = [c for _, _, checks in self._stepped for c in checks]
        return tuple(sorted(every, key=lambda c: STEP_INDEX[c.step]))

    @cached_property
    def walk(self) -> Walk:
        return walk((self.dns,), self._stepped)

    @property
    def steps(self) -> tuple[StepResult, ...]:
        """Every journey step for this pair: reached or ``not_reached`` after the packet stops."""
        return self.walk.steps

    @property
    def reached(self) -> str:
        """The last step the journey reaches: where the packet stops (the last step when it gets through)."""
        return self.walk.reached

    @property
    def stop(self) -> Check | None:
        """The check that stopped the packet (None: it gets through, at least in part)."""
        return self.walk.stop

    def is_reached(self, check: Check) -> bool:
        """Whether the packet gets to ``check`` (one of ``self.checks``)."""
        flags = self.walk.check_reached[1:]  # the walk starts with the DNS check
        return next((flag for c, flag in zip(self.checks, flags) if c is check), True)

    def leg_reached(self, flow: str, leg: str) -> bool:
        """Whether any packet of ``flow`` (front, back, db) on ``leg`` (request, reply) happens:
        a reply never happens when its request was dropped; draw no arrow for it."""
        mine = [c for c in self.checks if c.leg == leg and c.flow == getattr(self, flow).name]
        return any(self.is_reached(c) for c in mine)


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


@dataclass(frozen=True, kw_only=True)
class RequestOutcome:
    """What a share of all Create Account requests gets: one outcome, the pairs it comes from,
    and the step where their packet stops."""

    outcome: Outcome
    share: float
    reached: str
    pairs: tuple[str, ...]
    steps_reached: tuple[str, ...] = ()  # the steps its packet gets to, in journey order


def _blocks(checks: tuple[Check, ...]) -> tuple[Block, ...]:
    found: dict[tuple[Any, ...], tuple[Check, list[str]]] = {}
    for c in checks:
        if c.passed:
            continue
        key = (c.component, c.kind, c.direction, c.rule_ids, c.code, c.leg, c.step)
        entry = found.setdefault(key, (c, []))
        if c.pair and c.pair not in entry[1]:
            entry[1].append(c.pair)
    return tuple(Block(c.component, c.kind, c.direction, c.rule_ids, c.code or "", c.step, c.leg, c.share,
                       c.reason, c.would_allow, tuple(pairs)) for c, pairs in found.values())


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
    def _weights(self) -> dict[str, float]:
        """Each pair's share of all requests: DNS spreads browsers evenly over the ALB nodes; each
        node spreads its requests evenly over the targets it considers healthy (over all of them
        when none is: the ALB fails open)."""
        nodes = list(dict.fromkeys(p.node for p in self.pairs))
        out: dict[str, float] = {}
        for n in nodes:
            mine = [p for p in self.pairs if p.node == n and p.chosen]
            for p in mine:
                out[p.name] = 1.0 / len(nodes) / len(mine)
        return out

    @cached_property
    def success_share(self) -> float:
        """Share of Create Account requests that succeed."""
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
        """Every blocking point, once each, with the pairs it breaks: the whole infeasible path,
        including points after a pair's first drop."""
        return _blocks(self.checks)

    def pair(self, node: str, target: str) -> PairResult:
        return self.pair_named(f"{node}->{target}")

    def pair_named(self, name: str) -> PairResult:
        for p in self.pairs:
            if p.name == name:
                return p
        raise TopologyError(f"no pair {name}", "pairs: " + ", ".join(p.name for p in self.pairs))

    # ---------------------------------------------------------------- where the packet stops
    @cached_property
    def _journey_walk(self) -> Walk:
        """The journey without a pair (no targets): DNS and the journey-wide checks."""
        return walk((self.dns,) + self.extra, ())

    def steps_for(self, pair: str | PairResult | None = None) -> tuple[StepResult, ...]:
        """Every journey step for ``pair`` (a name or a PairResult; default: the first pair), each
        reached or ``not_reached``: after the packet stops, no step passes."""
        if isinstance(pair, PairResult):
            return pair.steps
        if pair is not None:
            return self.pair_named(pair).steps
        return self.pairs[0].steps if self.pairs else self._journey_walk.steps

    def reached_for(self, pair: str | PairResult | None = None) -> str:
        """The last step reached on ``pair``'s journey (see ``steps_for``)."""
        if isinstance(pair, PairResult):
            return pair.reached
        if pair is not None:
            return self.pair_named(pair).reached
        return self.pairs[0].reached if self.pairs else self._journey_walk.reached

    def reached_checks(self) -> tuple[tuple[Check, bool], ...]:
        """Every check of ``checks`` with whether the packet gets to it, in the same order."""
        if not self.pairs:
            return tuple(zip(self.checks, self._journey_walk.check_reached))
        flags = [True] * (1 + len(self.extra))  # DNS is met first, by every browser
        for p in self.pairs:
            flags += p.walk.check_reached[1:]
        return tuple(zip(self.checks, flags))

    @cached_property
    def outcomes(self) -> tuple[RequestOutcome, ...]:
        """What all Create Account requests get, grouped: each outcome with its share of requests
        (weighted as ``success_share`` weights them), the pairs it comes from and where they stop.
        Failures first, most requests first; the shares add up to 1."""
        if not self.pairs:
            bad = next((c for c in (self.dns,) + self.extra if c.blocking), None)
            out = no_target_outcome(bad) if bad is not None and bad is not self.dns else Outcome(
                kind="dns", status=None, wait_s=0.0, share_failing=1.0, text=bad.reason if bad else "no pair")
            walked = self._journey_walk
            return (RequestOutcome(outcome=out, share=1.0, reached=walked.reached, pairs=(),
                                   steps_reached=tuple(s.id for s in walked.steps if s.reached)),)
        groups: dict[tuple[Any, ...], dict[str, Any]] = {}
        ok = Outcome(kind="ok", status=200, wait_s=None, text='browser: 200 {"success": true, ...}')
        for p in self.pairs:
            w = self._weights.get(p.name, 0.0)
            if self.dns.passed and p.share > 0 and w > 0:
                g = groups.setdefault(("ok",), {"o": ok, "share": 0.0, "reached": STEPS[-1].id, "pairs": [],
                                                "steps": tuple(s.id for s in STEPS)})
                g["share"] += w * p.share
                g["pairs"].append(p.name)
            fail = w * (1.0 - p.share) if self.dns.passed else w
            if fail > 0 and p.outcome.failed:
                o = p.outcome
                g = groups.setdefault((o.kind, o.status, o.wait_s, p.reached),
                                      {"o": o, "share": 0.0, "reached": p.reached, "pairs": [],
                                       "steps": tuple(s.id for s in p.steps if s.reached)})
                g["share"] += fail
                g["pairs"].append(p.name)
        res = [RequestOutcome(outcome=g["o"], share=g["share"], reached=g["reached"], pairs=tuple(g["pairs"]),
                              steps_reached=g["steps"])
               for g in groups.values()]
        return tuple(sorted(res, key=lambda r: (not r.outcome.failed, -r.share)))

    # ---------------------------------------------------------------- tables
    def frame(self) -> pd.DataFrame:
        """Every check as a row (pandas), each with a ``reason``; after a pair's packet stops, its
        rows say ``not_reached`` and keep what they would decide in ``would_verdict``."""
        return frames.checks_table(self.reached_checks())

    def checks_frame(self, step: str | None = None, pair: str | None = None) -> pd.DataFrame:
        """The checks of one step and/or one pair (``"alb-node-az1->node-api-1"``), as ``frame()`` rows."""
        if step is not None and step not in STEP_INDEX:
            raise TopologyError(f"no journey step {step!r}", "steps: " + ", ".join(STEP_INDEX))
        if pair is not None and pair not in {p.name for p in self.pairs}:
            raise TopologyError(f"no pair {pair!r}", "pairs: " + ", ".join(p.name for p in self.pairs))
        return frames.checks_table([(c, r) for c, r in self.reached_checks()
                                    if (step is None or c.step == step) and (pair is None or c.pair == pair)])

    def pairs_frame(self) -> pd.DataFrame:
        """One row per (ALB node, target): whether it gets through, where it stops, what the browser sees."""
        return frames.pairs_table(self.pairs)

    def steps_frame(self, pair: str | None = None) -> pd.DataFrame:
        """One row per journey step for one pair (default: the first): its verdict, ``not_reached``
        after the packet stops (``would_verdict`` keeps what it would decide)."""
        chosen = next((p for p in self.pairs if p.name == pair), None)
        return frames.steps_table(self.steps_for(chosen))

    def seed_checkpoints(self) -> pd.DataFrame:
        """The seed's 11 checkpoints mapped onto the checks this topology really makes."""
        return frames.seed_checkpoints_table(self.topology, self.reached_checks())

    def blocks_frame(self) -> pd.DataFrame:
        return frames.blocks_table(self.blocks)

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
        """The ``--json`` object (the README documents its schema)."""
        return {
            "topology": self.topology.name, "os": self.os, "database": self.database, "ok": self.ok,
            "success_share": round(self.success_share, 4),
            "blocked": [b.as_dict() for b in self.blocks],
            "pairs": [{"node": p.node, "target": p.target, "ok": p.ok, "share": round(p.share, 4),
                       "healthy": p.healthy, "status": p.status, "wait_s": p.outcome.wait_s, "reached": p.reached,
                       "symptom": p.symptom} for p in self.pairs],
            "steps": frames.json_rows(self.frame()),
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
