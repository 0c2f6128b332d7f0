"""Exercises of notebooks 01 (edge) and 02 (DNS): prompts as data, checks as code, solutions apart.

    tl.practice.exercises("01-edge")                # the prompts (data/practice/01-edge.yaml)
    tl.practice.check("edge-ttl-for-95", 3600)      # True, or raises CheckFailed saying what is still wrong
    tl.explain(tl.practice.check, "edge-ttl-for-95", None)   # in a notebook: show the message, don't stop

Solutions live in ``data/practice/solutions/`` as Python expressions, so a workshop can hand out the
prompts alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from . import dns, edge
from .errors import CheckFailed, ScenarioError, TierlabError
from .loader import apply_patch, load, load_dict, read_yaml
from .paths import data_path
from .topology import Topology

__all__ = ["Exercise", "exercises", "exercises_frame", "check", "solution", "CHECKS", "NOTEBOOKS"]

NOTEBOOKS = ("01-edge", "02-dns")
STREAM = dict(pages=200, duration_s=4 * 3600, seed=1)


def _seed() -> Topology:
    return load("seed")


def _reqs(topo: Topology):
    return edge.page_loads(topo, **STREAM)  # type: ignore[arg-type]


def _is(answer: Any, kind: type | tuple[type, ...], what: str) -> None:
    if answer is None:
        raise CheckFailed("no answer yet", f"replace None with {what}")
    if not isinstance(answer, kind) or isinstance(answer, bool):
        raise CheckFailed(f"expected {what}, got {type(answer).__name__} {answer!r:.60}", f"answer with {what}")


def _ttl_for_95(answer: Any) -> bool:
    _is(answer, (int, float), "a number of seconds")
    topo = _seed()
    frame = edge.hit_ratio_by_ttl(topo, _reqs(topo), [60, 300, 900, 1800, 3600])
    ratio = dict(zip(frame["ttl_s"], frame["hit_ratio"]))
    if answer not in ratio:
        raise CheckFailed(f"{answer} s is not one of the candidates", "pick among 60, 300, 900, 1800 and 3600")
    if ratio[answer] < 0.95:
        raise CheckFailed(f"with TTL {answer} s the hit ratio is {ratio[answer]:.3f}, below 0.95",
                          "try a longer TTL: tl.edge.hit_ratio_by_ttl(...) shows them all")
    shorter = [t for t in ratio if t < answer and ratio[t] >= 0.95]
    if shorter:
        raise CheckFailed(f"{answer} s reaches 0.95, but a shorter TTL does too",
                          "a shorter TTL shows a new release sooner: find the smallest")
    return True


def _private_again(answer: Any) -> bool:
    _is(answer, Topology, "a Topology (a what-if of `public`)")
    direct = edge.fetch(answer, via="direct")
    if direct.ok:
        raise CheckFailed(f"a direct request to {direct.url} still gets 200", direct.reason)
    if not edge.fetch(answer, via="cloudfront").ok:
        raise CheckFailed("CloudFront no longer serves the site", "keep origin_access as OAI or OAC")
    return True


def _deploy_no_stale(answer: Any) -> bool:
    _is(answer, edge.CacheRun, "the CacheRun of tl.edge.simulate(...)")
    topo = _seed()
    reqs = _reqs(topo)
    if answer.deploy_at_s != 5400 or answer.requests != len(reqs):
        raise CheckFailed(f"this run has {answer.requests} requests and a deploy at {answer.deploy_at_s}",
                          "simulate the notebook's stream (reqs) with deploy_at_s=5400")
    if answer.stale_responses:
        raise CheckFailed(f"{answer.stale_responses} responses still served an old release",
                          "old copies linger under their TTL: new names or an invalidation remove them")
    inv = edge.simulate(topo, reqs, deploy_at_s=5400, strategy="invalidate")
    if answer.origin_kb >= inv.origin_kb:
        raise CheckFailed(f"{answer.origin_kb} kB came from S3, not fewer than invalidating /* ({inv.origin_kb} kB)",
                          "give hashed assets long TTLs so only the small index.html is fetched often")
    return True


def _remaining_ttl(answer: Any) -> bool:
    _is(answer, (int, float), "a number of seconds")
    topo = _seed()
    frame = dns.stale_frame(topo, "api.myapp.com", dns.move_alb(topo), change_at_s=45, cached_at_s=10,
                            clients=[dns.RESOLVER])
    right = float(frame["stale_for_s"].iloc[0])
    if not math.isclose(float(answer), right):
        ttl = dns.resolve(topo, "api.myapp.com").ttl_s
        hint = ("that is the whole TTL: part of it had already passed" if math.isclose(float(answer), ttl) else
                "read the TTL from tl.dns.resolve(topo, 'api.myapp.com') and subtract the copy's age at the change")
        raise CheckFailed(f"{answer} s is not how long the old answer stays cached", hint)
    return True


def _follow_failover(answer: Any) -> bool:
    _is(answer, dns.Client, "a tl.dns.Client")
    topo = _seed()
    t = dns.timeline(topo, "db.myapp.internal", lookups_s=range(0, 400), client=answer, where="vpc",
                     change=dns.failover(topo), change_at_s=100)
    if math.isinf(t.stale_for_s):
        raise CheckFailed(f"{answer.name} never follows the failover", "a hard-coded address never re-resolves")
    if t.stale_for_s > 10:
        raise CheckFailed(f"{answer.name} keeps the old primary's address {t.stale_for_s:.0f} s after the failover",
                          "hold the answer no longer than its TTL (hold_s=None honours it)")
    return True


def _apex_fix(answer: Any) -> bool:
    _is(answer, (list, tuple), "a list of [path, value] pairs")
    if not all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], str) for p in answer):
        raise CheckFailed("each item must be a [path, value] pair", "e.g. ['dns.records[0].type', 'A']")
    topo = load("seed-as-written")
    diff = next(d for d in topo.differences if d.id == "apex-cname")
    raw = read_yaml(data_path("topologies", "seed-as-written.yaml"))
    try:
        patched = apply_patch(apply_patch(raw, diff.patch), answer)
    except (KeyError, IndexError, TypeError) as exc:
        raise CheckFailed(f"the patch does not apply: {exc!r}", "paths look like 'dns.records[0].type'") from None
    try:
        fixed = load_dict(patched, file="seed-as-written+apex-cname+your patch")
    except TierlabError as exc:
        raise CheckFailed(f"it still does not load: {exc.message}", exc.hint) from None
    rec = next((r for r in fixed.records if r.name == "myapp.com"), None)
    if rec is None or fixed.edge is None or rec.target != fixed.edge.domain:
        raise CheckFailed("myapp.com no longer points at the CloudFront distribution",
                          "keep the target d1234.cloudfront.net; change the record's kind")
    return True


CHECKS: dict[str, Callable[[Any], bool]] = {
    "edge-ttl-for-95": _ttl_for_95, "edge-private-again": _private_again, "edge-deploy-no-stale": _deploy_no_stale,
    "dns-remaining-ttl": _remaining_ttl, "dns-follow-failover": _follow_failover, "dns-apex-fix": _apex_fix,
}


@dataclass(frozen=True)
class Exercise:
    id: str
    notebook: str
    title: str
    prompt: str
    answer_type: str

    def check(self, answer: Any) -> bool:
        return CHECKS[self.id](answer)


def exercises(notebook: str | None = None) -> tuple[Exercise, ...]:
    """The exercises of one notebook (``01-edge``, ``02-dns``) or of both, read from ``data/practice``."""
    names = NOTEBOOKS if notebook is None else (notebook,)
    out: list[Exercise] = []
    for nb in names:
        if nb not in NOTEBOOKS:
            raise TierlabError(f"no exercises for notebook {nb!r}", f"known: {', '.join(NOTEBOOKS)}")
        path = data_path("practice", f"{nb}.yaml")
        raw = read_yaml(path)
        items = (raw or {}).get("exercises")
        if not isinstance(items, list):
            raise ScenarioError("needs a list under 'exercises'", "see data/practice/01-edge.yaml", file=path.name)
        for i, e in enumerate(items):
            missing = {"id", "title", "prompt", "answer_type"} - set(e or {})
            if missing:
                raise ScenarioError(f"missing {', '.join(sorted(missing))}", "every exercise needs them",
                                    file=path.name, path=f"exercises[{i}]")
            if e["id"] not in CHECKS:
                raise ScenarioError(f"no check for exercise {e['id']!r}", "add one to tierlab/practice.py CHECKS",
                                    file=path.name, path=f"exercises[{i}].id")
            out.append(Exercise(str(e["id"]), nb, str(e["title"]), str(e["prompt"]).strip(), str(e["answer_type"])))
    return tuple(out)


def exercises_frame(notebook: str | None = None):
    import pandas as pd

    return pd.DataFrame([{"id": e.id, "title": e.title, "answer": e.answer_type, "prompt": e.prompt}
                         for e in exercises(notebook)])


def check(exercise_id: str, answer: Any) -> bool:
    """True if ``answer`` solves the exercise; otherwise CheckFailed saying exactly what is still wrong."""
    if exercise_id not in CHECKS:
        raise TierlabError(f"no exercise {exercise_id!r}", f"known: {', '.join(CHECKS)}")
    return CHECKS[exercise_id](answer)


def solution(exercise_id: str) -> Any:
    """The instructor's answer (evaluated from ``data/practice/solutions``). For instructors and tests."""
    import tierlab

    for nb in NOTEBOOKS:
        path = data_path("practice", "solutions", f"{nb}.yaml")
        sols = (read_yaml(path) or {}).get("solutions") or {}
        if exercise_id in sols:
            topo = _seed()
            env = {"tl": tierlab, "topo": topo, "reqs": _reqs(topo)}
            return eval(str(sols[exercise_id]["code"]), env)  # noqa: S307 - our own data file
    raise TierlabError(f"no solution for {exercise_id!r}", "see data/practice/solutions/")
