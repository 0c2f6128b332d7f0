"""When the request fails: what the browser gets, and how long the user waits for it.

A blocked journey has no total: the user waits until the packet stops (the steps it reaches) and
then for whoever gives up first (the browser's connect timeout in front of the ALB, the ALB's
connect or idle timeout behind it; a refusal or a 503 comes at once). ``LatencyOutcome`` turns the
journey's outcomes (``Trace.outcomes``) and the latency model's step times into those waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ..request.outcomes import RequestOutcome

__all__ = ["FailureMode", "LatencyOutcome"]


@dataclass(frozen=True, kw_only=True)
class FailureMode:
    """One way requests fail: the status (None: no HTTP answer), the share of all requests that
    meet it, the step where their packet stops, and how long the user waits (ms, from the click)."""

    status: int | None
    kind: str
    share: float
    reached: str
    wait_ms: float
    timeout_ms: float  # the part of the wait spent waiting for a timeout (0: an answer at once)
    words: str  # "504 after 60 s"
    text: str  # what the browser sees, in words
    pairs: tuple[str, ...]
    steps_reached: tuple[str, ...]  # the steps the packet gets to; the waterfall after them never happens


@dataclass(frozen=True, kw_only=True)
class LatencyOutcome:
    """Whether the Create Account request succeeds, and when it fails, how long the user waits.

    ``failed``: no request succeeds (the latency panel shows the wait, not a total);
    ``success_share``: the share that succeeds; ``failures``: each failure mode, most requests
    first; ``status`` and ``wait_ms``: the most common failure's (None when nothing fails).
    """

    success_share: float
    failures: tuple[FailureMode, ...]

    @property
    def failed(self) -> bool:
        return self.success_share <= 0.0

    @property
    def partial(self) -> bool:
        return 0.0 < self.success_share < 1.0 and bool(self.failures)

    @property
    def status(self) -> int | None:
        return self.failures[0].status if self.failures else None

    @property
    def wait_ms(self) -> float | None:
        return self.failures[0].wait_ms if self.failures else None

    @property
    def reached(self) -> str | None:
        """Where the most common failure's packet stops (None when nothing fails)."""
        return self.failures[0].reached if self.failures else None

    def headline(self, total_ms: float) -> str:
        """One line for the latency panel: the mean total when the request gets through, else that
        it fails, what the browser gets and how long the user waits."""
        if not self.failures:
            return f"{total_ms:.0f} ms on average"
        def mode(f: FailureMode) -> str:
            wait = f"{f.wait_ms / 1000:.1f} s" if f.wait_ms >= 1000 else f"{f.wait_ms:.0f} ms"
            return f"the browser gets {f.words}; the user waits {wait} (the packet stops at {f.reached})"

        first, rest = self.failures[0], self.failures[1:]
        if self.failed:
            more = "".join(f"; for {f.share * 100:.0f}% of requests {mode(f)}" for f in rest)
            return f"The request fails: {mode(first)}{more}"
        return (f"{self.success_share * 100:.0f}% succeed in {total_ms:.0f} ms on average; "
                + "; ".join(f"{f.share * 100:.0f}% fail: {mode(f)}" for f in self.failures))

    @classmethod
    def of(cls, outcomes: Sequence[RequestOutcome], step_ms: Mapping[str, float]) -> "LatencyOutcome":
        """From the journey's outcomes and each step's mean time (ms)."""
        ok = sum(o.share for o in outcomes if not o.outcome.failed)
        modes = []
        for o in outcomes:
            if not o.outcome.failed or o.share <= 0:
                continue
            timeout_ms = (o.outcome.wait_s or 0.0) * 1000.0
            until = sum(step_ms.get(s, 0.0) for s in o.steps_reached if s != o.reached)
            modes.append(FailureMode(status=o.outcome.status, kind=o.outcome.kind, share=o.share, reached=o.reached,
                                     wait_ms=until + timeout_ms, timeout_ms=timeout_ms, words=o.outcome.words(),
                                     text=o.outcome.text, pairs=o.pairs, steps_reached=o.steps_reached))
        modes.sort(key=lambda m: -m.share)
        return cls(success_share=min(1.0, ok) if modes else 1.0, failures=tuple(modes))
