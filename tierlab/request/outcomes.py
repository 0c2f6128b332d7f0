"""What all Create Account requests get: the pairs' outcomes grouped and weighted by the share of
requests each pair carries (DNS spreads browsers evenly over the ALB nodes; each node spreads its
requests evenly over the targets it chooses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..network.evaluate import Check
from .pair import PairResult
from .steps import STEPS
from .stops import Walk
from .symptoms import Outcome, no_target_outcome

__all__ = ["RequestOutcome", "group_outcomes", "pair_weights"]


@dataclass(frozen=True, kw_only=True)
class RequestOutcome:
    """What a share of all Create Account requests gets: one outcome, the pairs it comes from,
    and the step where their packet stops."""

    outcome: Outcome
    share: float
    reached: str
    pairs: tuple[str, ...]
    steps_reached: tuple[str, ...] = ()  # the steps its packet gets to, in journey order


def pair_weights(pairs: Sequence[PairResult]) -> dict[str, float]:
    """Each chosen pair's share of all requests: DNS spreads browsers evenly over the ALB nodes; each
    node spreads its requests evenly over the targets it considers healthy (over all of them when
    none is: the ALB fails open). Pairs a node does not choose carry none."""
    nodes = list(dict.fromkeys(p.node for p in pairs))
    out: dict[str, float] = {}
    for n in nodes:
        mine = [p for p in pairs if p.node == n and p.chosen]
        for p in mine:
            out[p.name] = 1.0 / len(nodes) / len(mine)
    return out


def _no_pairs(dns: Check, extra: Sequence[Check], walked: Walk) -> tuple[RequestOutcome, ...]:
    bad = next((c for c in (dns, *extra) if c.blocking), None)
    if bad is not None and bad is not dns:
        out = no_target_outcome(bad)
    else:
        out = Outcome(kind="dns", status=None, wait_s=0.0, share_failing=1.0, text=bad.reason if bad else "no pair")
    return (RequestOutcome(outcome=out, share=1.0, reached=walked.reached, pairs=(),
                           steps_reached=tuple(s.id for s in walked.steps if s.reached)),)


def group_outcomes(pairs: Sequence[PairResult], weights: dict[str, float], dns: Check, extra: Sequence[Check],
                   walked: Walk) -> tuple[RequestOutcome, ...]:
    """Each distinct outcome with its share of all requests; failures first, most requests first."""
    if not pairs:
        return _no_pairs(dns, extra, walked)
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    ok = Outcome(kind="ok", status=200, wait_s=None, text='browser: 200 {"success": true, ...}')
    for p in pairs:
        w = weights.get(p.name, 0.0)
        if dns.passed and p.share > 0 and w > 0:
            g = groups.setdefault(("ok",), {"o": ok, "share": 0.0, "reached": STEPS[-1].id, "pairs": [],
                                            "steps": tuple(s.id for s in STEPS)})
            g["share"] += w * p.share
            g["pairs"].append(p.name)
        fail = w * (1.0 - p.share) if dns.passed else w
        if fail > 0 and p.outcome.failed:
            o = p.outcome
            g = groups.setdefault((o.kind, o.status, o.wait_s, p.reached),
                                  {"o": o, "share": 0.0, "reached": p.reached, "pairs": [],
                                   "steps": tuple(s.id for s in p.steps if s.reached)})
            g["share"] += fail
            g["pairs"].append(p.name)
    res = [RequestOutcome(outcome=g["o"], share=g["share"], reached=g["reached"], pairs=tuple(g["pairs"]),
                          steps_reached=g["steps"]) for g in groups.values()]
    return tuple(sorted(res, key=lambda r: (not r.outcome.failed, -r.share)))
