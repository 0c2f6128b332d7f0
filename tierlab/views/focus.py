"""Which (ALB node, server) pair a view follows: shared by the diagram and the panels, so the
diagram does not depend on panel logic."""

from __future__ import annotations

from ..errors import TopologyError
from ..request.journey import PairResult, Trace

__all__ = ["focus_pair"]


def focus_pair(trace: Trace, pair: str | None = None) -> PairResult | None:
    """The (ALB node, server) pair whose path is drawn: ``pair`` by name, else the first blocked
    pair the ALB would choose, else the first blocked pair, else the first pair."""
    if not trace.pairs:
        return None
    if pair is not None:
        for p in trace.pairs:
            if p.name == pair:
                return p
        raise TopologyError(f"no (ALB node, server) pair named {pair!r}",
                            "pairs: " + ", ".join(p.name for p in trace.pairs))
    return next((p for p in trace.pairs if not p.ok and p.chosen), None) or next(
        (p for p in trace.pairs if not p.ok), trace.pairs[0])
