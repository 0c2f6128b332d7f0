"""The journey's tables (pandas): every check, every step of a pair, every pair, the seed's checkpoints.

Pure functions of the Trace's results; pandas is imported when a table is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..network.evaluate import Check
from ..network.topology import Topology
from .steps import SEED_CHECKPOINTS, step_of
from .stops import StepResult

if TYPE_CHECKING:
    import pandas as pd

    from .trace import Block, PairResult

__all__ = ["checks_table", "steps_table", "pairs_table", "blocks_table", "seed_checkpoints_table", "json_rows",
           "NOT_REACHED"]

NOT_REACHED = "not_reached"

PAIR_COLUMNS = ["node", "target", "ok", "share", "healthy", "chosen", "status", "wait_s", "reached", "reason"]
CHECK_COLUMNS = ["step", "seed_step", "pair", "leg", "kind", "component", "direction", "packet", "verdict",
                 "would_verdict", "share", "rule", "code", "would_allow", "reason"]


def _check_row(c: Check, reached: bool) -> dict[str, Any]:
    st = step_of(c.step)
    reason = c.reason if reached else (f"not reached: the packet stops before this check on this pair; "
                                       f"if it got here: {c.reason}")
    return {
        "step": c.step, "seed_step": st.seed_step if st else None, "pair": c.pair, "leg": c.leg,
        "kind": c.kind, "component": c.component, "direction": c.direction, "packet": c.packet,
        "verdict": c.verdict if reached else NOT_REACHED, "would_verdict": c.verdict, "share": c.share,
        "rule": c.rule, "code": c.code or "", "would_allow": ", ".join(c.would_allow), "reason": reason,
    }


def checks_table(checks: Iterable[tuple[Check, bool]],
                 depends: Sequence[tuple[str, ...]] | None = None) -> pd.DataFrame:
    """One row per (check, reached): ``verdict`` is ``not_reached`` where the packet never got. With
    ``depends`` (an imported topology's assumptions, one tuple per check), a ``depends_on`` column names
    the assumptions each verdict depends on ("" where none can change it)."""
    import pandas as pd

    df = pd.DataFrame([_check_row(c, r) for c, r in checks], columns=CHECK_COLUMNS)
    df["seed_step"] = df["seed_step"].astype("Int64")
    if depends is not None:
        df.insert(CHECK_COLUMNS.index("verdict") + 2, "depends_on", ["; ".join(d) for d in depends])
    return df


def steps_table(steps: Sequence[StepResult]) -> pd.DataFrame:
    """One row per journey step of one pair."""
    import pandas as pd

    df = pd.DataFrame([{"step": r.step.id, "seed_step": r.step.seed_step, "title": r.step.title,
                        "latency": r.step.latency, "checks": len(r.checks), "verdict": r.verdict,
                        "would_verdict": r.would_verdict, "reason": r.reason} for r in steps])
    df["seed_step"] = df["seed_step"].astype("Int64")
    return df


def pairs_table(pairs: Sequence[PairResult], depends: Sequence[tuple[str, ...]] | None = None) -> pd.DataFrame:
    """One row per (ALB node, target): whether it gets through, where it stops, what the browser sees;
    with ``depends``, which assumptions of the import its outcome depends on (``depends_on``)."""
    import pandas as pd

    df = pd.DataFrame([
        {"node": p.node, "target": p.target, "ok": p.ok, "share": round(p.share, 4), "healthy": p.healthy,
         "chosen": p.chosen, "status": p.status, "wait_s": p.outcome.wait_s, "reached": p.reached,
         "reason": p.symptom}
        for p in pairs
    ], columns=PAIR_COLUMNS)
    if depends is not None:
        df.insert(PAIR_COLUMNS.index("status") + 1, "depends_on", ["; ".join(d) for d in depends])
    return df


def blocks_table(blocks: Sequence[Block]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([b.as_dict() for b in blocks],
                        columns=["component", "kind", "direction", "rule_id", "rule_ids", "code", "step", "leg",
                                 "share_passing", "would_allow", "pairs", "reason"])


def json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A checks table as JSON-ready rows (no ``packet``; missing values as None)."""
    records = frame.drop(columns=["packet"]).astype(object).where(lambda d: d.notna(), None).to_dict("records")
    return [{str(k): v for k, v in r.items()} for r in records]


def _unused_why(r: Any, text: str) -> str:
    why = "no packet of the journey is decided by it"
    if getattr(r, "direction", "") == "inbound" and "ephemeral" in text:
        why += (": replies leave a subnet outbound, so a reply rule belongs on the outbound list here "
                "and the inbound list of the requester's subnet")
    elif getattr(r, "direction", "") == "outbound" and "ephemeral" in text:
        why += f": no reply of the journey goes to {getattr(r, 'cidr', '')} (the replies go elsewhere)"
    return f"{r.id} ({r.describe()}): {why}" + ("" if r.enabled else " (and it is switched off)")


def seed_checkpoints_table(topology: Topology, checks: Sequence[tuple[Check, bool]]) -> pd.DataFrame:
    """The seed's 11 checkpoints mapped onto the checks this topology really makes."""
    import pandas as pd

    rules = {r.seed_checkpoint: r for r in topology.rules() if r.seed_checkpoint}
    rows = []
    for num, layer, text, kind in SEED_CHECKPOINTS:
        r = rules.get(num)
        if r is None:
            rows.append({"checkpoint": num, "layer": layer, "seed_says": text, "kind": kind, "rule": "",
                         "checks": 0, "verdict": "no rule", "reason": "this topology has no rule for it"})
            continue
        cs = [(c, reached) for c, reached in checks if r.id in c.rule_ids or r.id in c.would_allow]
        met = [c for c, reached in cs if reached]
        if not cs:
            verdict, reason = "on no path", _unused_why(r, text)
        elif not met:
            verdict, reason = NOT_REACHED, ("not reached: every packet it would decide is stopped earlier; "
                                            f"if one got here: {cs[0][0].reason}")
        elif all(c.passed for c in met):
            verdict, reason = "pass", met[0].reason
        else:
            verdict, reason = "blocked", next(c for c in met if not c.passed).reason
        rows.append({"checkpoint": num, "layer": layer, "seed_says": text, "kind": kind, "rule": r.id,
                     "checks": len(cs), "verdict": verdict, "reason": reason})
    return pd.DataFrame(rows)
