"""Where the packet stops: the journey of one pair, step by step, up to its first drop.

Checks are met in journey order, except that a flow's reply leg starts with the server's SYN-ACK,
right after the flow's handshake (``HANDSHAKE``): a reply rule that drops it stops the flow there,
before the steps that need the connection (node-process, db-query), although the reply's checks
are listed at a later step. The packet stops at the first check after which no connection of the
pair can get through: a deny, a refusal, or partial rules whose passing ports no longer overlap.
Partial rules that leave some ports open do not stop it: some connections go on.

Every step after the stop is ``not_reached``, keeping what it would have decided in
``would_verdict``; the stop step itself is ``blocked`` (or ``refused``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Sequence

from ..network.evaluate import Check, FlowResult
from .steps import HANDSHAKE, STEP_INDEX, STEPS, Step

__all__ = ["StepResult", "StepVerdict", "Walk", "walk", "FLOWS"]

StepVerdict = Literal["pass", "blocked", "refused", "partial", "—", "not_reached"]

#: The pair's flows, in the order the journey opens them.
FLOWS: tuple[str, ...] = ("front", "back", "db")


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """One step of one pair's journey: reached or not, its verdict, its checks, and why."""

    step: Step
    verdict: StepVerdict
    would_verdict: StepVerdict  # what the step decides when its packet gets there (== verdict when reached)
    checks: tuple[Check, ...]
    reason: str
    would_reason: str  # the reason it would give when reached (== reason when reached)

    @property
    def reached(self) -> bool:
        return self.verdict != "not_reached"

    @property
    def id(self) -> str:
        return self.step.id


@dataclass(frozen=True)
class Walk:
    """One pair's journey: every step's result, the step where the packet stops (the last step
    when it gets through), the check that stopped it, and which checks were reached."""

    steps: tuple[StepResult, ...]
    reached: str
    stop: Check | None
    check_reached: tuple[bool, ...]  # aligned with the checks the walk was given


def _key(c: Check, flow: str, seq: int) -> tuple[int, int, int]:
    if c.leg == "reply" and flow in HANDSHAKE:
        return (STEP_INDEX[HANDSHAKE[flow]], 1, seq)
    return (STEP_INDEX.get(c.step, 0), 0, seq)


def _would(checks: Sequence[Check]) -> StepVerdict:
    if not checks:
        return "—"
    bad = [c for c in checks if c.blocking]
    if not bad:
        return "pass"
    if any(c.verdict == "refused" for c in bad):
        return "refused"
    if any(c.verdict == "deny" for c in bad):
        return "blocked"
    return "partial"


def _reason(step: Step, checks: Sequence[Check]) -> str:
    bad = [c for c in checks if c.blocking]
    if bad:
        return bad[0].reason
    if checks:  # the rule that let it through says most: a NACL or SG decision before a route or listener
        main = [c for c in checks if c.kind in ("nacl", "sg", "dns") and c.verdict == "allow"]
        return (main or list(checks))[0].reason
    return step.note or step.title


def _stop_words(stop: Check) -> str:
    where = f"{stop.component} {stop.direction}".strip()
    if stop.leg == "reply":
        return (f"the connection never opens: its SYN-ACK is dropped at {where} (step {stop.step}), so nothing "
                "that needs it happens")
    if stop.verdict == "refused":
        return f"the connection is refused at {where} (step {stop.step})"
    return f"the request stops at {where} (step {stop.step})"


def walk(common: Sequence[Check], flows: Sequence[tuple[str, FlowResult | None, Sequence[Check]]]) -> Walk:
    """Walk ``common`` checks (DNS, journey-wide) then each flow's stepped checks, in the order the
    packets meet them, and stop at the first check after which nothing gets through.

    ``flows``: (flow name, its FlowResult, its checks labelled with steps) for front, back, db.
    ``check_reached`` is aligned with ``common`` followed by the flows' checks sorted by step.
    """
    tagged: list[tuple[tuple[int, int, int], str, FlowResult | None, Check]] = []
    seq = 0
    for c in common:
        tagged.append(((STEP_INDEX.get(c.step, 0), 0, seq), "", None, c))
        seq += 1
    for name, result, checks in flows:
        for c in checks:
            tagged.append((_key(c, name, seq), name, result, c))
            seq += 1
    met = sorted(tagged, key=lambda t: t[0])
    prefix: dict[str, list[Check]] = {}
    share: dict[str, float] = {}
    stop_at: tuple[int, int, int] | None = None
    stop: Check | None = None
    for key, name, result, c in met:
        if result is None:
            gone = c.blocking and c.share == 0
        else:
            prefix.setdefault(name, []).append(c)
            if c.share < 1.0 or c.blocking:
                share[name] = replace(result, checks=tuple(prefix[name])).share
            gone = share.get(name, 1.0) <= 0.0
        if gone:
            stop_at, stop = key, c
            break
    stop_flow = next((name for key, name, _, c in tagged if c is stop), "")
    cut = _cut(stop, stop_flow)

    def reached(key: tuple[int, int, int], c: Check) -> bool:
        # a step is reached up to the cut; at the stop step itself, the checks up to the stop
        if stop is None or stop_at is None:
            return True
        if c.step == stop.step:
            return key <= stop_at
        return STEP_INDEX.get(c.step, 0) <= cut

    reached_of = {id(c): reached(key, c) for key, _, _, c in tagged}
    return Walk(_steps(common, flows, reached_of, stop, cut),
                stop.step if stop is not None else STEPS[-1].id, stop,
                tuple(reached_of[id(c)] for c in _ordered(common, flows)))


def _cut(stop: Check | None, flow: str) -> int:
    """The last step index the journey reaches in order (the stop step of a reply-leg drop lies beyond)."""
    if stop is None:
        return len(STEPS) - 1
    if stop.leg == "reply" and flow in HANDSHAKE:
        return STEP_INDEX[HANDSHAKE[flow]]
    return STEP_INDEX[stop.step]


def _ordered(common: Sequence[Check], flows: Sequence[tuple[str, FlowResult | None, Sequence[Check]]]) -> list[Check]:
    every = [c for _, _, checks in flows for c in checks]
    return list(common) + sorted(every, key=lambda c: STEP_INDEX.get(c.step, 0))


def _steps(common: Sequence[Check], flows: Sequence[tuple[str, FlowResult | None, Sequence[Check]]],
           reached_of: dict[int, bool], stop: Check | None, cut: int) -> tuple[StepResult, ...]:
    by_step: dict[str, list[Check]] = {}
    for c in _ordered(common, flows):
        by_step.setdefault(c.step, []).append(c)
    out = []
    for i, s in enumerate(STEPS):
        checks = by_step.get(s.id, [])
        would, why = _would(checks), _reason(s, checks)
        if stop is not None and s.id == stop.step:
            verdict: StepVerdict = "refused" if stop.verdict == "refused" else "blocked"
            mine = [c for c in checks if reached_of[id(c)]]
            reason = next((c.reason for c in mine if c.blocking), why)
        elif i > cut:
            assert stop is not None
            verdict, reason = "not_reached", f"not reached: {_stop_words(stop)}"
        else:
            verdict, reason = would, why
        out.append(StepResult(step=s, verdict=verdict, would_verdict=would, checks=tuple(checks), reason=reason,
                              would_reason=why))
    return tuple(out)
