"""One (ALB node, target) pair of the journey: its three flows, where its packet stops, what the browser gets."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..network.evaluate import Check, FlowResult, with_step
from .steps import STEP_INDEX, STEP_OF
from .stops import StepResult, Walk, walk
from .symptoms import Outcome

__all__ = ["PairResult"]


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
