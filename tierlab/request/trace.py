"""The journey's answer: per-pair results, where each pair's packet stops, every blocking point.

``Trace`` holds the verdicts; its tables are built in :mod:`tierlab.request.frames`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import TopologyError
from ..network.evaluate import Check
from ..network.topology import Topology
from . import frames, report
from .outcomes import RequestOutcome, group_outcomes, pair_weights
from .pair import PairResult
from .steps import STEP_INDEX
from .stops import StepResult, Walk, walk

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Block", "Trace", "PairResult", "RequestOutcome"]


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
        return pair_weights(self.pairs)

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
    def depends(self) -> tuple[tuple[str, ...], ...]:
        """For each of ``checks``: the import's assumptions (file: resource (attribute)) its verdict depends
        on, only where the assumption can change it (see :mod:`.depends`); all empty for a course topology."""
        if not self.topology.assumptions:
            return tuple(() for _ in self.checks)
        from .depends import check_depends

        return check_depends(self)

    def pair_depends(self, pair: PairResult) -> tuple[str, ...]:
        """The assumptions ``pair``'s outcome depends on: those of any of its checks (and of DNS)."""
        start = 1 + len(self.extra)
        out: list[str] = list(self.depends[0])
        for p in self.pairs:
            if p is pair:
                for d in self.depends[start:start + len(p.checks)]:
                    out += d
                break
            start += len(p.checks)
        return tuple(dict.fromkeys(out))

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
        return group_outcomes(self.pairs, self._weights, self.dns, self.extra, self._journey_walk)

    # ---------------------------------------------------------------- tables
    def frame(self) -> pd.DataFrame:
        """Every check as a row (pandas), each with a ``reason``; after a pair's packet stops, its
        rows say ``not_reached`` and keep what they would decide in ``would_verdict``."""
        return frames.checks_table(self.reached_checks(), self._depends_column())

    def _depends_column(self) -> tuple[tuple[str, ...], ...] | None:
        """The ``depends_on`` column: only on a topology an import made with assumptions."""
        return self.depends if self.topology.assumptions else None

    def checks_frame(self, step: str | None = None, pair: str | None = None) -> pd.DataFrame:
        """The checks of one step and/or one pair (``"alb-node-az1->node-api-1"``), as ``frame()`` rows."""
        if step is not None and step not in STEP_INDEX:
            raise TopologyError(f"no journey step {step!r}", "steps: " + ", ".join(STEP_INDEX))
        if pair is not None and pair not in {p.name for p in self.pairs}:
            raise TopologyError(f"no pair {pair!r}", "pairs: " + ", ".join(p.name for p in self.pairs))
        deps = self._depends_column()
        keep = [i for i, (c, _) in enumerate(self.reached_checks())
                if (step is None or c.step == step) and (pair is None or c.pair == pair)]
        rows = self.reached_checks()
        return frames.checks_table([rows[i] for i in keep], [deps[i] for i in keep] if deps is not None else None)

    def pairs_frame(self) -> pd.DataFrame:
        """One row per (ALB node, target): whether it gets through, where it stops, what the browser sees."""
        return frames.pairs_table(self.pairs, [self.pair_depends(p) for p in self.pairs]
                                  if self.topology.assumptions else None)

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
        """The verdict in words: gets through, or the share that succeeds and every blocking point."""
        return report.summary(self)

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` object (the README documents its schema)."""
        return report.as_dict(self)

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.as_dict(), **kw)

    def _repr_html_(self) -> str:
        return report.trace_html(self)

    def __repr__(self) -> str:
        return f"<Trace {self.summary()}>"
