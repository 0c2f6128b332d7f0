"""The journey's answer in words: the summary, the ``--json`` object, the notebook's HTML."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from . import frames

if TYPE_CHECKING:
    from .trace import Trace

__all__ = ["summary", "browser_lines", "assumption_lines", "as_dict", "trace_html"]


def summary(trace: Trace) -> str:
    """Gets through for every pair; else the share that succeeds and every blocking point; on an imported
    topology, which verdicts depend on what the import assumed."""
    return "\n".join([_verdict(trace)] + assumption_lines(trace))


def _verdict(trace: Trace) -> str:
    t = trace.topology
    if trace.ok:
        return (f"{t.name}: the Create Account request gets through for every (ALB node, target) pair "
                f"({len(trace.pairs)} pairs, {trace.os} client).")
    if not trace.pairs and trace.extra:
        head = f"{t.name}: blocked — " + "; ".join(c.reason for c in trace.extra if c.blocking)
        return "\n".join([head] + browser_lines(trace))
    head = (f"{t.name}: blocked — {trace.success_share * 100:.0f}% of Create Account requests succeed "
            f"({trace.os} client); {len(trace.blocks)} blocking point(s):")
    lines = [f"  - [{b.code}] {b.component} {b.direction} {', '.join(b.rule_ids) or ''} at step {b.step} "
             f"({len(b.pairs)} pair(s)): {b.reason}" for b in trace.blocks]
    return "\n".join([head] + lines + browser_lines(trace))


def _flagged(trace: Trace) -> dict[str, tuple[list[str], list[str]]]:
    """Per assumption (its ``where``): the steps and the pairs whose verdicts depend on it."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for c, deps in zip(trace.checks, trace.depends):
        for w in deps:
            steps, pairs = out.setdefault(w, ([], []))
            if c.step and c.step not in steps:
                steps.append(c.step)
    for p in trace.pairs:
        for w in trace.pair_depends(p):
            out.setdefault(w, ([], []))[1].append(p.name)
    return out


def assumption_lines(trace: Trace) -> list[str]:
    """On an imported topology with assumptions: each one a verdict depends on, and where; or that none
    of them can change a verdict of this journey. Nothing for a course topology."""
    assumed = trace.topology.assumptions
    if not assumed:
        return []
    flagged = _flagged(trace)
    if not flagged:
        return [f"No verdict of this journey depends on the import's {len(assumed)} assumption(s) "
                "(none of them can change one)."]
    lines = [f"Verdicts that depend on an assumption of the import ({len(flagged)} of {len(assumed)}):"]
    for a in dict((a.where, a) for a in assumed).values():
        if a.where not in flagged:
            continue
        steps, pairs = flagged[a.where]
        lines.append(f"  - {a.where} ({a.message}): the verdicts at step(s) {', '.join(steps) or '(journey-wide)'}"
                     + (f", so the outcome of {len(pairs)} of {len(trace.pairs)} pair(s)" if pairs else ""))
    return lines


def browser_lines(trace: Trace) -> list[str]:
    """What the browser gets, as ``trace.outcomes`` groups it (the HTTP status, a timeout or a refused
    connection, after how long, for which share of requests): the learner's symptom, not the cause."""
    lines = ["What the browser gets:"]
    for o in trace.outcomes:
        lines.append(f"  - {o.share * 100:.0f}% of requests: {o.outcome.words()} — {o.outcome.text}")
    return lines


def as_dict(trace: Trace) -> dict[str, Any]:
    """The ``--json`` object: ``blocked`` lists every blocking point; each pair says where it stops
    (``reached``) and what the browser gets after how long; ``steps`` after a stop are ``not_reached``."""
    return {
        "topology": trace.topology.name, "os": trace.os, "database": trace.database, "ok": trace.ok,
        "success_share": round(trace.success_share, 4),
        "blocked": [b.as_dict() for b in trace.blocks],
        "pairs": [{"node": p.node, "target": p.target, "ok": p.ok, "share": round(p.share, 4),
                   "healthy": p.healthy, "status": p.status, "wait_s": p.outcome.wait_s, "reached": p.reached,
                   "symptom": p.symptom,
                   **({"depends_on": list(trace.pair_depends(p))} if trace.topology.assumptions else {})}
                  for p in trace.pairs],
        "steps": frames.json_rows(trace.frame()),
        **({"assumptions": [{"where": a.where, "message": a.message, "assumed": a.assumed,
                             "pairs": [p.name for p in trace.pairs if a.where in trace.pair_depends(p)]}
                            for a in trace.topology.assumptions]} if trace.topology.assumptions else {}),
    }


def trace_html(trace: Trace) -> str:
    color = "#2e7d32" if trace.ok else "#c62828"
    head = html.escape(summary(trace)).replace("\n", "<br>")
    pairs = trace.pairs_frame().to_html(index=False, classes="tl-pairs")
    return (f'<div class="tl-trace"><p style="color:{color};font-weight:bold">{head}</p>{pairs}'
            f"<details><summary>every check ({len(trace.checks)})</summary>"
            f"{trace.frame().to_html(index=False)}</details></div>")
