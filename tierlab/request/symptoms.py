"""What the browser actually gets for one (ALB node, target) pair, and after how long.

The client talks to the ALB, so a drop behind the ALB reaches the browser as an HTTP error from
the ALB (502 when the target refuses, 504 when it does not answer in time, 503 with no targets),
not as a timeout; a drop in front of the ALB is a browser timeout; "connection refused" needs a
packet to arrive where nothing listens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..network.evaluate import Check, FlowResult
from ..network.topology import Topology

__all__ = ["Outcome", "OutcomeKind", "CONNECT_TIMEOUT_S", "outcome_of", "no_target_outcome"]

OutcomeKind = Literal["ok", "dns", "timeout", "refused", "redirect", "alb", "app"]

#: How long the client's OS keeps retrying a SYN nobody answers before the browser gives up
#: (Chromium's own connect-job limit, 4 min, is longer, so the OS decides):
#: Linux ``net.ipv4.tcp_syn_retries=6`` with a 1 s initial RTO: 1+2+4+8+16+32+64 = 127 s;
#: Windows ``TcpMaxConnectRetransmissions=2`` with a 3 s initial RTO: 3+6+12 = 21 s;
#: macOS ``net.inet.tcp.keepinit=75000`` ms: 75 s.
CONNECT_TIMEOUT_S: dict[str, float] = {"linux": 127.0, "windows": 21.0, "macos": 75.0}


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What the browser gets: an HTTP status (None: no HTTP answer at all), how long after the
    packet stopped it learns so (``wait_s``: None when the request gets through), and why."""

    kind: OutcomeKind
    status: int | None
    wait_s: float | None
    text: str
    share_failing: float = 0.0  # share of this pair's requests that meet the failure (the rest succeed)

    @property
    def failed(self) -> bool:
        return self.kind != "ok"

    @property
    def who(self) -> str:
        """Who answers: the browser itself (timeout, refused, DNS), the ALB, or the app."""
        return {"ok": "app", "dns": "browser", "timeout": "browser", "refused": "browser", "redirect": "ALB",
                "alb": "ALB", "app": "app"}[self.kind]

    def words(self) -> str:
        """``"504 after 60 s"``, ``"timeout after 127 s"``, ``"200"``: for a label or a table cell."""
        if not self.failed:
            return "200"
        what = str(self.status) if self.status is not None else {"dns": "DNS error", "timeout": "timeout",
                                                                   "refused": "connection refused"}[self.kind]
        if not self.wait_s:
            return f"{what} at once"
        return f"{what} after {self.wait_s:g} s"


def _packet(c: Check) -> str:
    """Which TCP packet a blocking check drops: the opening SYN, or the server's SYN-ACK reply."""
    return "SYN-ACK (the reply)" if c.leg == "reply" else "SYN"


def _front(topo: Topology, front: FlowResult, os: str) -> Outcome:
    c = front.blocking[0]
    wait = CONNECT_TIMEOUT_S.get(os, CONNECT_TIMEOUT_S["linux"])
    if c.kind == "forward":
        return Outcome(kind="redirect", status=301, wait_s=0.0, text=f"ALB: {c.reason}", share_failing=1.0)
    if front.refused and not front.dropped:
        return Outcome(kind="refused", status=None, wait_s=0.0, text=f"browser: connection refused — {c.reason}",
                       share_failing=1.0)
    if front.share > 0:
        return Outcome(kind="timeout", status=None, wait_s=wait, share_failing=1 - front.share,
                       text=(f"browser: {(1 - front.share) * 100:.0f}% of connections time out (the packets are "
                             f"dropped silently at {c.component}); the rest work"))
    return Outcome(kind="timeout", status=None, wait_s=wait, share_failing=1.0,
                   text=(f"browser: connection timed out — the {_packet(c)} is dropped silently at {c.component} "
                         f"{c.direction} (in front of the ALB nothing answers, so nothing is refused)"))


def _back(topo: Topology, back: FlowResult, healthy: bool, fail_open: bool) -> Outcome:
    lb = topo.alb
    c = back.blocking[0]
    hc = lb.health_check
    health = ("every target fails this node's health checks, so the ALB fails open and keeps trying them all"
              if fail_open else
              f"this node's health checks fail too, so after {hc.unhealthy_threshold} x {hc.interval_s} s it "
              "stops choosing this target")
    if back.refused and not back.dropped:
        return Outcome(kind="alb", status=502, wait_s=0.0, share_failing=1.0,
                       text=f"ALB: 502 Bad Gateway — the target refused the connection on {lb.target_port}; {health}")
    wait = float(lb.connect_timeout_s)
    if healthy and back.share > 0:
        return Outcome(kind="alb", status=504, wait_s=wait, share_failing=1 - back.share,
                       text=(f"ALB: 504 Gateway Timeout for {(1 - back.share) * 100:.0f}% of this node's connections "
                             f"to the target (their {_packet(c)} is dropped at {c.component} {c.direction}); the rest "
                             "succeed, and health checks pass often enough that the node keeps choosing it"))
    return Outcome(kind="alb", status=504, wait_s=wait, share_failing=1 - back.share,
                   text=(f"ALB: 504 Gateway Timeout — the node cannot connect to the target within "
                         f"{lb.connect_timeout_s} s (its {_packet(c)} is dropped at {c.component} {c.direction}); "
                         f"{health}"))


def _db(topo: Topology, db: FlowResult) -> Outcome:
    lb = topo.alb
    c = db.blocking[0]
    if db.refused and not db.dropped:
        return Outcome(kind="app", status=500, wait_s=0.0, share_failing=1.0,
                       text=("app: 500 {\"error\": \"Server error\"} — PostgreSQL refused the connection and "
                             "Express's catch answers 500; the shallow /health check still passes"))
    part = (f"{(1 - db.share) * 100:.0f}% of new database connections" if db.share > 0
            else "the database connection")
    return Outcome(kind="alb", status=504, wait_s=float(lb.idle_timeout_s), share_failing=1 - db.share,
                   text=(f"ALB: 504 Gateway Timeout — {part} hangs ({_packet(c)} dropped at {c.component} "
                         f"{c.direction}); node-postgres has no connect timeout by default, so the ALB's "
                         f"{lb.idle_timeout_s} s idle timeout ends the request; /health does not touch the database, "
                         "so the target stays healthy and keeps getting its share of requests"))


def outcome_of(topo: Topology, *, dns: Check, front: FlowResult, back: FlowResult, db: FlowResult, healthy: bool,
               fail_open: bool, os: str) -> Outcome:
    """What the browser gets through one (ALB node, target) pair: the first flow that fails decides."""
    if not dns.passed:
        return Outcome(kind="dns", status=None, wait_s=0.0, share_failing=1.0,
                       text=(f"browser: {topo.api_host} does not lead to the load balancer, so no request is sent "
                             f"— {dns.reason}"))
    if not front.ok:
        return _front(topo, front, os)
    if not back.ok:
        return _back(topo, back, healthy, fail_open)
    if not db.ok:
        return _db(topo, db)
    return Outcome(kind="ok", status=200, wait_s=None,
                   text='browser: 200 {"success": true, "userId": 42, "message": "User created"}')


def no_target_outcome(check: Check) -> Outcome:
    """The ALB's answer when its target group has no registered targets: 503 at once."""
    return Outcome(kind="alb", status=503, wait_s=0.0, share_failing=1.0, text=f"ALB: 503 Service Unavailable — "
                   f"{check.reason}")
