"""The lab app's what-ifs on real packets: model says / Linux says, side by side.

    m = tl.linux.Mirror(tl.load("seed"))     # the whole stack in namespaces (a few seconds)
    c = m.check(topo.switch_off("database-sg-in-5432"))
    c.frame()      # one row per hop of the followed pair, and the real Create Account
    c.agree        # True: the kernel confirms the evaluator's verdict
    m.close()

Each :meth:`Mirror.check` brings the kernel to the what-if (``Lab.apply``: only the chains that
changed), then asks both judges about the followed (ALB node, server) pair:

* **the three hops** (browser → ALB node, ALB node → server, server → database): the evaluator
  for one client port, and a real SYN from that same port (a disagreement is sent again with a
  longer timeout before it counts, so a busy machine cannot pass for a dropped packet);
* **a real Create Account** from the browser's namespace through that ALB node: the evaluator's
  answer for the (node, server) pair the lab's ALB really chose, beside the status Linux gave;
* **an Auto Scaling group** (one row each, not a question the lab can ask): its members are in the lab
  like fixed servers, its scaling is not.

The lab differs from AWS in its timeouts only (said in every row that waits): the ALB's idle
timeout is 3 s (60 s on AWS), its connect timeout 1 s (10 s on AWS), and the browser gives up
after ``browser_timeout_s``, 5 s (a Linux browser waits 127 s), so the ALB's 504 always comes
before the browser gives up. The API servers open a new database
connection per request (no pool), as the journey's steps assume: a pooled connection opened
before a security-group rule went off would go on working (connection tracking), and the lab
would then show a tracked flow, not the what-if.
"""

from __future__ import annotations

import atexit
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from ..errors import TierlabError
from ..network.topology import Topology
from ..request.journey import Trace, journey
from ..request.pair import PairResult
from . import compile as C
from .differential import _recheck, expected
from .lab import Lab, Probe
from .netns import skip_reason
from .stack import HttpResult

__all__ = ["Mirror", "Comparison", "Row", "unavailable"]


def unavailable() -> str | None:
    """Why the app cannot mirror its toggles on real packets here (one line), or None when it can."""
    reason = skip_reason()
    return None if reason is None else f"Real packets are off: {reason}."


@dataclass(frozen=True)
class Row:
    """One question both judges answered: what the evaluator says, what Linux did, and whether
    they agree (``None``: the lab cannot ask this question, e.g. DNS is not in the lab)."""

    what: str
    model: str
    linux: str
    agree: bool | None
    note: str = ""


@dataclass(frozen=True)
class Comparison:
    """The answer of one :meth:`Mirror.check`: a row per hop and one for the real request."""

    pair: str
    rows: tuple[Row, ...]
    apply_ms: float  # the last rewrite of the kernel's rules for this what-if (nftables, routes)
    http: HttpResult | None
    #: (rule id, packets) of every dropping nftables rule whose counter rose during the check
    drops: tuple[tuple[str, int], ...] = ()

    @property
    def agree(self) -> bool:
        """True when no row disagrees (rows the lab cannot ask do not count)."""
        return all(r.agree is not False for r in self.rows)

    def row(self, what_starts: str) -> Row:
        """The row whose ``what`` starts with ``what_starts`` (e.g. ``"Create Account"``)."""
        for r in self.rows:
            if r.what.startswith(what_starts):
                return r
        raise TierlabError(f"no row {what_starts!r} in this comparison", "rows: " + ", ".join(r.what for r in self.rows))

    def frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{"what": r.what, "model says": r.model, "Linux says": r.linux,
                              "agree": {True: "yes", False: "NO", None: "n/a"}[r.agree], "note": r.note}
                             for r in self.rows], columns=["what", "model says", "Linux says", "agree", "note"])

    def _repr_html_(self) -> str:
        return self.frame().to_html(index=False, escape=True)

    def __repr__(self) -> str:
        return f"<Comparison {self.pair}: {'agree' if self.agree else 'DISAGREE'} ({len(self.rows)} rows)>"


def _drops(topo: Topology, rule_id: str) -> bool:
    """Does this nftables rule (named by its tierlab id) drop what it matches?"""
    if rule_id.endswith(("-star", "-default-drop")) or rule_id.startswith("igw-"):
        return True
    try:
        return getattr(topo.rule(rule_id), "action", "allow") == "deny"
    except TierlabError:
        return False


def _drop_counts(lab: Lab, topo: Topology) -> dict[str, int]:
    """Packets counted so far by each dropping rule, summed over the namespaces (about 40 ms)."""
    df = lab.counters()
    out: dict[str, int] = {}
    for rule, packets in zip(df["rule"], df["packets"]):
        if _drops(topo, str(rule)):
            out[str(rule)] = out.get(str(rule), 0) + int(packets)
    return out


def _http_words(r: HttpResult) -> str:
    if r.status is None:
        return f"{r.error} after {r.elapsed_ms / 1000:.1f} s"
    return f"{r.status} after {r.elapsed_ms / 1000:.1f} s" + (f" (over {r.tls})" if r.tls else "")


def _groups(topo: Topology) -> list[Row]:
    """A row per Auto Scaling group, that the lab cannot ask (``agree`` None): its members are in the lab as
    fixed servers, its scaling is the model's alone (:func:`tierlab.linux.compile.unmirrored`)."""
    return [Row(f"Auto Scaling group {g.name}", f"{g.desired} members (min {g.min_size}, max {g.max_size}), "
                f"{g.health_check_type} health checks", f"{len(g.instances)} namespaces, fixed", None,
                "Linux holds the group's current members like fixed servers; its launches, replacements and "
                "draining are the model's timeline only (tl.auto_scaling_timeline; a lab without services takes a "
                "time of it: lab.apply(timeline.topology_at(t)))") for g in topo.auto_scaling_groups]


class Mirror:
    """The app's topology in Linux namespaces with its services, kept in step with every what-if.

    Linux as root only: :func:`unavailable` says in one line why not elsewhere (building one
    there raises :class:`~tierlab.errors.TierlabError` with the same reason).
    """

    def __init__(self, topo: Topology, *, browser_timeout_s: float = 5.0, idle_timeout_s: float = 3.0,
                 hop_timeout_s: float = 0.3, recheck_timeout_s: float = 1.5) -> None:
        reason = unavailable()
        if reason:
            raise TierlabError(reason, "run the app as root on Linux (make app as root), or use the model alone")
        self.browser_timeout_s = browser_timeout_s
        self.hop_timeout_s = hop_timeout_s
        self.recheck_timeout_s = recheck_timeout_s
        self._lock = threading.Lock()  # one check at a time: a toggle during a slow request waits
        if browser_timeout_s <= idle_timeout_s + 1:
            raise TierlabError(f"browser_timeout_s={browser_timeout_s} would end before the ALB's idle timeout "
                               f"({idle_timeout_s} s) answers 504", "give the browser at least a second more")
        self.lab: Lab | None = Lab(topo, services=True, pooled=False, settings={"idle_timeout_s": idle_timeout_s})
        self._n = 0
        self.last_apply_ms = 0.0
        atexit.register(self.close)

    @property
    def settings(self) -> dict[str, float]:
        """The lab's shortened timeouts (s), beside AWS's."""
        lab = self._need()
        assert lab.stack is not None
        return {**lab.stack.settings, "browser_timeout_s": self.browser_timeout_s}

    def _need(self) -> Lab:
        if self.lab is None:
            raise TierlabError("this mirror is closed", "make a new one: tl.linux.Mirror(topo)")
        return self.lab

    def apply(self, topo: Topology) -> float:
        """Bring the kernel to ``topo`` without probing; :meth:`check` does this too. Returns the
        ms the last rewrite of the kernel's rules took (this one, unless nothing changed)."""
        with self._lock:
            return self._apply(self._need(), topo)

    def _apply(self, lab: Lab, topo: Topology) -> float:
        if topo != lab.topo or not self.last_apply_ms:
            self.last_apply_ms = lab.apply(topo)
        return self.last_apply_ms

    def check(self, topo: Topology, pair: str | None = None, *, os: str = "linux", trace: Trace | None = None,
              request: bool = True) -> Comparison:
        """Apply ``topo`` to the kernel and compare both judges on ``pair`` (``"node->server"``;
        None: the first pair the evaluator finds blocked, else the first). ``request=False``
        leaves out the real Create Account (the hops take well under a second)."""
        with self._lock:
            lab = self._need()
            apply_ms = self._apply(lab, topo)
            trace = trace if trace is not None else journey(topo, os=os)
            p = self._pair(trace, pair)
            before = _drop_counts(lab, topo)
            rows = list(self._hops(lab, topo, p, os))
            http = None
            if request:
                row, http = self._request(lab, topo, trace, p, os)
                rows.append(row)
            rows += _groups(topo)
            after = _drop_counts(lab, topo)
            drops = tuple((r, n - before.get(r, 0)) for r, n in sorted(after.items(), key=lambda kv: -kv[1])
                          if n > before.get(r, 0))
            return Comparison(p.name, tuple(rows), apply_ms, http, drops)

    @staticmethod
    def _pair(trace: Trace, name: str | None) -> PairResult:
        if not trace.pairs:
            raise TierlabError(f"{trace.topology.name}: the ALB has no (node, server) pair to probe",
                               "register targets with the load balancer")
        if name is not None:
            for p in trace.pairs:
                if p.name == name:
                    return p
            raise TierlabError(f"no (ALB node, server) pair named {name!r}",
                               "pairs: " + ", ".join(p.name for p in trace.pairs))
        return next((p for p in trace.pairs if not p.ok), trace.pairs[0])

    def _hops(self, lab: Lab, topo: Topology, p: PairResult, os: str) -> list[Row]:
        lb, db = topo.alb, topo.database
        port443 = next((l.port for l in lb.listeners if l.action == "forward"), lb.listeners[0].port)
        hops = [("internet", p.node, port443, "browser"), (p.node, p.target, lb.target_port, p.node),
                (p.target, p.database, db.port, p.target)]
        probes = []
        for src, dst, port, _ in hops:
            eph = C.EPHEMERAL.get(os, C.EPHEMERAL["linux"]) if src == "internet" else lab.plan.host(src).ephemeral
            probes.append(Probe(src, dst, port, lab.free_port(src, dst, port, eph.lo, eph.hi)))
        got = lab.probe(probes, timeout_s=self.hop_timeout_s)
        rows = []
        for (src, dst, port, who), o in zip(hops, got):
            want = expected(topo, src, dst, port, o.probe.src_port, o.nat_port)
            kernel = o.kind
            if kernel != want:  # again, same client port, longer waits: a busy machine is not a drop
                kernel, want = _recheck(lab, topo, o, self.recheck_timeout_s, want)
            rows.append(Row(f"{who} → {dst}:{port}", want, kernel, want == kernel,
                            f"one SYN from client port {o.probe.src_port}"))
        return rows

    def _request(self, lab: Lab, topo: Topology, trace: Trace, p: PairResult, os: str) -> tuple[Row, HttpResult]:
        stack = lab.stack
        assert stack is not None
        self._n += 1
        email = f"app-{self._n}-{secrets.token_hex(3)}@example.com"
        port443 = next((l.port for l in topo.alb.listeners if l.action == "forward"), 443)
        eph = C.EPHEMERAL.get(os, C.EPHEMERAL["linux"])  # the learner's browser's OS picks the client port
        sport = lab.free_port("internet", p.node, port443, eph.lo, eph.hi)
        r = stack.create_account("App User", email, node=p.node, port=port443, timeout_s=self.browser_timeout_s,
                                 src_port=sport)
        served = r.headers.get("x-tierlab-target", "")
        by_addr = {f"{topo.endpoint(t).ip}:{topo.alb.target_port}": t for t in topo.alb.targets}
        target = by_addr.get(served, p.target)  # the ALB chose it (round robin over healthy targets)
        model = next((q for q in trace.pairs if q.node == p.node and q.target == target), p)
        what = f"Create Account via {p.node}" + (f" (served by {target})" if served else "")
        o = model.outcome
        if o.kind == "dns":
            return Row(what, o.words(), _http_words(r), None, "DNS is not in the lab: the request went to the node's "
                       "address directly"), r
        got = r.status if r.status is not None else ("timeout" if r.error == "timed out" else r.error)
        want: Any = o.status if o.status is not None else {"timeout": "timeout", "refused": "connection refused"}.get(
            o.kind, o.kind)
        ok = got == want or (0 < o.share_failing < 1 and got == 200)  # a partial range: some requests pass
        note = self._wait_note(o.kind, o.status)
        if 0 < o.share_failing < 1:
            note = f"{o.share_failing * 100:.0f}% of requests fail on AWS (a rule covers part of the ports); " + note
        return Row(what, f"{o.words()} (AWS)", _http_words(r), ok, note.strip("; ")), r

    def _wait_note(self, kind: str, status: int | None) -> str:
        s = self.settings
        if kind == "timeout":
            return f"the lab's browser gives up after {self.browser_timeout_s:g} s (a Linux browser: 127 s)"
        if status == 504:
            return (f"the lab's ALB: connect timeout {s['connect_timeout_s']:g} s (AWS: 10 s), "
                    f"idle timeout {s['idle_timeout_s']:g} s (AWS: 60 s)")
        return ""

    def counters(self, rule_id: str | None = None) -> Any:
        """The nftables counters (see :meth:`Lab.counters`)."""
        return self._need().counters(rule_id)

    def close(self) -> None:
        """Stop the services and remove the namespaces (also at interpreter exit). Idempotent."""
        lab, self.lab = self.lab, None
        if lab is not None:
            lab.close()
        atexit.unregister(self.close)

    def __enter__(self) -> "Mirror":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<tierlab.linux.Mirror {self.lab.id if self.lab else 'closed'}>"

