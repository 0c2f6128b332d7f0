"""Real packets: a topology rebuilt in Linux network namespaces, a second judge for the evaluator.

    import tierlab as tl
    with tl.linux.build(tl.load("seed")) as lab:
        lab.connect("internet", "alb-node-az1", 443).kind      # 'connected'

Linux as root only (``tl.linux.skip_reason()`` says in one line why not elsewhere). Nothing
touches the host's own network: see :mod:`tierlab.linux.netns`.
"""

from __future__ import annotations

from . import differential
from ..network.topology import Topology
from .compile import LIMITS, unmirrored
from .lab import OUTCOMES, Lab, Outcome, Probe, build
from .mirror import Comparison, Mirror, unavailable
from .netns import list_namespaces, reap_stale, skip_reason

__all__ = ["differential", "limits_frame", "LIMITS", "OUTCOMES", "Lab", "Outcome", "Probe", "build", "list_namespaces", "reap_stale", "skip_reason",
           "Mirror", "Comparison", "unavailable"]


def limits_frame(topo: Topology | None = None):
    """Where Linux cannot say what AWS does, one row each (what, and how the lab handles it); given a
    topology, also what of it the lab leaves out (an Auto Scaling group's own behaviour)."""
    import pandas as pd

    rows = LIMITS + (unmirrored(topo) if topo is not None else ())
    return pd.DataFrame([{"what": k, "reason": v} for k, v in rows], columns=["what", "reason"])
