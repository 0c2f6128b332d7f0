"""RDS Multi-AZ failover over time, and one API server's connection pool across it.

Failover time, TTLs and Multi-AZ come from ``topo.database`` and ``topo.records``; whether the app
reaches the standby comes from the journey (``tierlab.request``), so the two always agree.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError
from ..network.topology import Topology, require_topology
from ..request.journey import journey

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FailoverTimeline", "PoolTimeline", "failover_timeline", "pool_timeline"]


def _standby_verdict(topo: Topology) -> tuple[float, float, str]:
    """(share before, share after failover, why) — from the evaluator, so the two agree."""
    before = journey(topo, database="primary")
    if topo.database.instance("standby") is None:
        return before.success_share, 0.0, "the database has no standby"
    after = journey(topo, database="standby")
    if after.success_share >= before.success_share:
        why = "every API server that reached the primary reaches the standby"
    else:
        old = {(b.component, b.rule_ids, b.step) for b in before.blocks}
        new = [b for b in after.blocks if (b.component, b.rule_ids, b.step) not in old] or list(after.blocks)
        b = new[0]
        rule = ", ".join(b.rule_ids) or b.component
        why = (f"after the failover only {after.success_share * 100:.0f}% of requests succeed: {rule} at {b.step} — "
               f"{b.reason}")
    return before.success_share, after.success_share, why


@dataclass(frozen=True)
class FailoverTimeline:
    topology: str
    t0_s: float
    failover_s: float
    failover_range_s: tuple[int, int]
    ttl_s: float
    reconnect_s: float
    zone_outage_s: float
    duration_s: float
    step_s: float
    multi_az: bool
    share_before: float
    share_after: float
    standby_reason: str
    clients: tuple[str, ...]
    private_name: str = ""
    private_ttl_s: float = 0.0

    def _ttl(self, client: str) -> float:
        # a stub caches a CNAME chain's answer for its lowest TTL: the endpoint's, not the CNAME's
        return min(self.private_ttl_s, self.ttl_s) if client == "private-name" else self.ttl_s

    def recovery_s(self, client: str) -> float | None:
        """When ``client`` can write again (None: never within reach)."""
        if client == "hard-coded-ip":
            return None
        if client == "single-az" or not self.multi_az:
            return self.t0_s + self.zone_outage_s + self.reconnect_s if math.isfinite(self.zone_outage_s) else None
        if self.share_after == 0:
            return None
        return self.t0_s + self.failover_s + self._ttl(client) + self.reconnect_s

    def recovery_window_s(self) -> tuple[float, float]:
        """For a DNS client of a Multi-AZ database: from the failure to writing again, over the
        failover range and where in its TTL the client's cached answer was."""
        lo, hi = self.failover_range_s
        return (lo + self.reconnect_s, hi + self.ttl_s + self.reconnect_s)

    def _row(self, client: str, t: float) -> dict[str, Any]:
        flip = self.t0_s + self.failover_s
        if t < self.t0_s:
            return {"state": "up", "success_share": self.share_before,
                    "reason": "the primary serves; the endpoint's CNAME points at it"}
        if client == "hard-coded-ip":
            if t < flip:
                st, why = "down", "the primary is gone; the app connects to its IP"
            else:
                st, why = "down for good", ("the CNAME flipped to the standby, but this app connects to the old "
                                            "primary's IP: it never recovers until someone edits the config")
            return {"state": st, "success_share": 0.0, "reason": why}
        if client == "single-az" or not self.multi_az:
            end = self.t0_s + self.zone_outage_s
            if t < end:
                return {"state": "down", "success_share": 0.0,
                        "reason": "single-AZ: no standby to fail over to; down for the whole zone outage"}
            if t < end + self.reconnect_s:
                return {"state": "reconnecting", "success_share": 0.0, "reason": "the zone is back; reconnecting"}
            return {"state": "recovered", "success_share": self.share_before, "reason": "the zone is back"}
        if t < flip:
            return {"state": "failing over", "success_share": 0.0,
                    "reason": f"RDS detects the failure and promotes the standby ({self.failover_range_s[0]}-"
                              f"{self.failover_range_s[1]} s)"}
        ttl = self._ttl(client)
        if t < flip + ttl:
            extra = (f"; {self.private_name} is a CNAME with TTL {self.private_ttl_s:.0f} s, but the answer expires "
                     "with the chain's lowest TTL" if client == "private-name" else "")
            return {"state": "waiting for TTL", "success_share": 0.0,
                    "reason": f"the CNAME points at the standby, but the client's cached answer lives up to "
                              f"{ttl:.0f} s (the endpoint's TTL){extra}"}
        if t < flip + ttl + self.reconnect_s:
            return {"state": "reconnecting", "success_share": 0.0,
                    "reason": "the client re-resolves the endpoint and opens new connections"}
        if self.share_after < self.share_before or self.share_after == 0:
            return {"state": "cannot reach standby" if self.share_after == 0 else "partly recovered",
                    "success_share": self.share_after, "reason": self.standby_reason}
        return {"state": "recovered", "success_share": self.share_after,
                "reason": "the endpoint resolves to the new primary and the app reaches it"}

    def frame(self) -> pd.DataFrame:
        """Per time step and client: the share of Create Account requests that succeed, and why."""
        import pandas as pd

        rows = []
        n = int(round(self.duration_s / self.step_s))
        for client in self.clients:
            for i in range(n + 1):
                t = i * self.step_s
                rows.append({"t_s": t, "client": client, **self._row(client, t)})
        return pd.DataFrame(rows, columns=["t_s", "client", "state", "success_share", "reason"])

    def _repr_html_(self) -> str:
        return (f"<div class='tl-failover'><b>{html.escape(self.topology)}: RDS failover at t={self.t0_s:.0f} s"
                f"</b>{self.summary().to_html(index=False)}</div>")

    def summary(self) -> pd.DataFrame:
        """One row per client: ``recovers_after_s`` after the failure (NaN: never, and ``reason`` says why)."""
        import pandas as pd

        rows = []
        for c in self.clients:
            r = self.recovery_s(c)
            if c in ("dns", "private-name") and self.multi_az:
                lo, hi = self.recovery_window_s()
                reason = (f"failover {self.failover_range_s[0]}-{self.failover_range_s[1]} s + up to the "
                          f"{self.ttl_s:.0f} s TTL + reconnect: {lo:.0f}-{hi:.0f} s"
                          + ("" if self.share_after > 0 else f"; but {self.standby_reason}"))
            elif c == "hard-coded-ip":
                reason = "the old primary's address never serves again"
            else:
                reason = "no standby: down until the zone returns"
            rows.append({"client": c, "recovers_after_s": float("nan") if r is None else r - self.t0_s,
                         "share_after": self._row(c, self.duration_s)["success_share"], "reason": reason})
        return pd.DataFrame(rows)


def failover_timeline(topo: Topology, *, t0_s: float = 30.0, failover_s: float | None = None,
                      duration_s: float = 300.0, reconnect_s: float = 1.0, zone_outage_s: float | None = None,
                      step_s: float = 1.0,
                      clients: tuple[str, ...] = ("dns", "hard-coded-ip", "single-az")) -> FailoverTimeline:
    """The primary's AZ fails at ``t0_s``. ``dns``: the app uses the endpoint (Multi-AZ if the
    topology says so); ``hard-coded-ip``: the app uses the primary's address; ``single-az``: the
    same database without a standby. Failover time, TTL and Multi-AZ come from ``topo.database``;
    whether the app reaches the standby comes from ``journey(topo, database='standby')``.
    ``private-name`` (optional): the app uses the private CNAME to the endpoint from ``topo.records``
    (the seed's db.myapp.internal, TTL 300 s)."""
    topo = require_topology(topo, "failover_timeline")
    db = topo.database
    lo, hi = db.failover_s
    fo = (lo + hi) / 2 if failover_s is None else failover_s
    for name, v in (("t0_s", t0_s), ("failover_s", fo), ("duration_s", duration_s), ("reconnect_s", reconnect_s),
                    ("step_s", step_s)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ParameterError(f"{name}={v!r} must be a time in seconds >= 0", "e.g. t0_s=30, failover_s=90")
    if step_s <= 0:
        raise ParameterError("step_s must be > 0", "e.g. step_s=1")
    if duration_s / step_s > 100_000:
        raise ParameterError(f"a timeline of {duration_s:g} s in {step_s:g} s steps is too long to draw",
                   "keep duration_s / step_s under 100,000")
    known = ("dns", "hard-coded-ip", "single-az", "private-name")
    bad = [c for c in clients if c not in known]
    if bad:
        raise ParameterError(f"unknown client(s) {', '.join(bad)}", "use " + ", ".join(known))
    zo = (math.inf if zone_outage_s is None else float(zone_outage_s))
    if zo < 0:
        raise ParameterError(f"zone_outage_s={zone_outage_s} is negative", "a time in seconds, or None (longer than the chart)")
    private = next((r for r in topo.records if r.private and r.target == db.endpoint), None)
    if "private-name" in clients and private is None:
        raise ParameterError(f"no private DNS record points at {db.endpoint}", "drop 'private-name' from clients, or add "
                   "a private CNAME (the seed's db.myapp.internal) to the topology")
    before, after, why = _standby_verdict(topo)
    return FailoverTimeline(topo.name, float(t0_s), float(fo), (lo, hi), float(db.endpoint_ttl_s), float(reconnect_s),
                            zo, float(duration_s), float(step_s), db.multi_az, before, after, why, tuple(clients),
                            private.name if private else "", float(private.ttl_s) if private else 0.0)


# ============================================================================ the pool across a failover


@dataclass(frozen=True)
class PoolTimeline:
    topology: str
    server: str
    pre_ping: bool
    pool_size: int
    requests_per_s: float
    idle_timeout_s: float | None
    t0_s: float
    ready_s: float | None        # when a new connection reaches the new primary (None: never)
    duration_s: float
    reach_reason: str

    @cached_property
    def _rows(self) -> tuple[dict[str, Any], ...]:
        # each connection: [generation, last_used_s]; generation 0 = the old primary
        conns: list[list[float]] = [[0, 0.0] for _ in range(self.pool_size)]
        rows: list[dict[str, Any]] = []
        gap = 1.0 / self.requests_per_s
        k = 0
        while True:
            t = k * gap
            if t > self.duration_s:
                break
            k += 1
            if self.idle_timeout_s is not None:
                conns = [c for c in conns if t - c[1] <= self.idle_timeout_s]
            failed_over = t >= self.t0_s
            reachable = (not failed_over) or (self.ready_s is not None and t >= self.ready_s)
            pings, outcome, reason = 0, "", ""
            while True:
                idle = sorted(conns, key=lambda c: -c[1])  # LIFO: the most recently used first
                c = idle[0] if idle else None
                if c is not None:
                    stale = failed_over and c[0] == 0
                    if not stale:
                        c[1] = t
                        outcome, reason = "ok", "a pooled connection to the current primary"
                        break
                    if self.pre_ping:
                        pings += 1
                        conns.remove(c)
                        continue  # the ping failed: drop it, try the next one
                    conns.remove(c)
                    outcome, reason = "failed", ("a stale pooled connection to the old primary: the query fails "
                                                 "(connection terminated) and the pool drops it")
                    break
                if reachable:
                    conns.append([1 if failed_over else 0, t])
                    outcome, reason = "ok", ("opened a new connection to the new primary" if failed_over
                                             else "opened a new connection")
                    break
                outcome, reason = "failed", (f"no connection: {self.reach_reason}" if (self.ready_s is None and failed_over
                                                                                     and t >= self.t0_s) else
                                             "no connection: the database is failing over")
                break
            if pings:
                reason = f"pre-ping found {pings} dead connection(s) and dropped them; " + reason
            stale_n = sum(1 for c in conns if failed_over and c[0] == 0)
            rows.append({"t_s": t, "outcome": outcome, "stale": stale_n, "open": len(conns),
                         "after_recovery": self.ready_s is not None and t >= self.ready_s,
                         "pre_pings_failed": pings, "reason": reason})
        return tuple(rows)

    def frame(self) -> pd.DataFrame:
        """One row per request: ok or failed, the pool's stale and open connections, and why."""
        import pandas as pd

        df = pd.DataFrame(list(self._rows), columns=["t_s", "outcome", "stale", "open", "after_recovery",
                                                     "pre_pings_failed", "reason"])
        df["failed_total"] = (df["outcome"] == "failed").cumsum()
        return df

    @property
    def failed_after_recovery(self) -> int:
        """Requests that failed although the database was back: the stale connections."""
        return sum(1 for r in self._rows if r["after_recovery"] and r["outcome"] == "failed")

    @property
    def failed_total(self) -> int:
        return sum(1 for r in self._rows if r["outcome"] == "failed")

    def _repr_html_(self) -> str:
        return f"<div class='tl-pool'><b>{html.escape(self.summary())}</b></div>"

    def summary(self) -> str:
        pp = "with pre-ping" if self.pre_ping else "without pre-ping"
        if self.ready_s is None:
            return f"{self.server}, {pp}: the new primary is never reachable ({self.reach_reason})"
        return (f"{self.server}, {pp}: {self.failed_total} request(s) failed, {self.failed_after_recovery} of them after "
                f"the database was back at t={self.ready_s:.0f} s (stale pooled connections fail once each unless "
                "checked before use)")


def pool_timeline(topo: Topology, *, pre_ping: bool = False, pool_size: int = 10, requests_per_s: float = 0.05,
                  idle_timeout_s: float | None = None, t0_s: float = 30.0, failover_s: float | None = None,
                  duration_s: float = 400.0, server: str | None = None) -> PoolTimeline:
    """One API server's pool across an RDS failover: connections to the old primary are stale;
    without pre-ping each fails one request, with pre-ping it is replaced unseen; the pool refills.

    ``pool_size`` defaults to the seed's DB_POOL_SIZE=10; ``requests_per_s`` is one server's
    traffic (a quiet sign-up form uses a few stale connections during the outage, so some
    survive it); ``idle_timeout_s`` closes idle connections (node-postgres defaults to 10 s;
    None keeps them). Failover time and TTL come from ``topo.database``; whether this server
    reaches the standby comes from the evaluator.
    """
    topo = require_topology(topo, "pool_timeline")
    if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
        raise ParameterError(f"pool_size={pool_size!r} must be a whole number >= 1", "the seed's DB_POOL_SIZE is 10")
    for name, v in (("requests_per_s", requests_per_s), ("t0_s", t0_s), ("duration_s", duration_s)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ParameterError(f"{name}={v!r} must be a number >= 0", "e.g. requests_per_s=0.05, t0_s=30")
    if requests_per_s <= 0:
        raise ParameterError("requests_per_s must be > 0", "e.g. 0.05 (one sign-up every 20 s)")
    if duration_s * requests_per_s > 200_000:
        raise ParameterError("more than 200,000 requests in the timeline", "shorten duration_s or lower requests_per_s")
    if idle_timeout_s is not None and idle_timeout_s < 0:
        raise ParameterError(f"idle_timeout_s={idle_timeout_s} is negative", "seconds, or None to keep idle connections")
    targets = topo.alb.targets
    srv = server or targets[0]
    if srv not in targets:
        raise ParameterError(f"{srv!r} is not an API server of this topology", "one of " + ", ".join(targets))
    db = topo.database
    fo = (db.failover_s[0] + db.failover_s[1]) / 2 if failover_s is None else float(failover_s)
    if db.instance("standby") is None or not db.multi_az:
        ready, why = None, "single-AZ: no standby to fail over to"
    else:
        tr = journey(topo, database="standby")
        mine = [p for p in tr.pairs if p.target == srv]
        if mine and all(p.db.ok for p in mine):
            ready, why = t0_s + fo + db.endpoint_ttl_s, "the standby is reachable"
        else:
            b = mine[0].db.blocking[0] if mine and mine[0].db.blocking else None
            ready = None
            why = f"{srv} cannot reach the standby: {b.reason}" if b else f"{srv} cannot reach the standby"
    return PoolTimeline(topo.name, srv, bool(pre_ping), pool_size, float(requests_per_s), idle_timeout_s, float(t0_s),
                        ready, float(duration_s), why)
