"""The pictures of notebook 00-primer: address blocks, the TCP handshake, stateful against stateless filtering.

Each function draws on a matplotlib ``ax`` (made when not given) and returns it; the facts drawn come from
the library (``ipaddress`` for the blocks, ``tl.EPHEMERAL`` for the ports), not from the picture.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Sequence

from ..network.rules import EPHEMERAL

__all__ = ["cidr_frame", "cidr_chart", "handshake_chart", "filtering_chart", "STATUS_CLASSES"]

#: What the first digit of an HTTP status says, and the ones this course meets.
STATUS_CLASSES = (
    ("2xx", "it worked", "200 OK"),
    ("3xx", "go elsewhere", "301 (port 80 redirects to 443)"),
    ("4xx", "the request is wrong", "400 (email already exists)"),
    ("5xx", "the server side failed", "500 app error, 502 bad gateway, 503 no target, 504 gateway timeout"),
    ("none", "no HTTP answer at all", "a timeout: nothing answered the connection"),
)


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=size)[1]


def cidr_frame(cidrs: Sequence[str]) -> Any:
    """One row per block: its first and last address and how many addresses it covers."""
    import pandas as pd

    rows = []
    for c in cidrs:
        n = ipaddress.ip_network(c)
        rows.append({"cidr": c, "first": str(n[0]), "last": str(n[-1]), "addresses": n.num_addresses,
                     "fixed_bits": n.prefixlen, "free_bits": 32 - n.prefixlen})
    return pd.DataFrame(rows)


def cidr_chart(cidrs: Sequence[str] = ("10.0.0.0/16", "10.0.1.0/24", "10.0.2.0/23", "10.0.2.0/24", "10.0.3.0/24",
                                       "10.0.5.0/24"),
               window: str = "10.0.0.0/21", ax: Any = None) -> Any:
    """Each block as a bar on the address line of ``window`` (a /16 runs off the edge: it is 32 times wider)."""
    ax = _axes(ax, (9, 2.8))
    win = ipaddress.ip_network(window)
    lo, hi = int(win[0]), int(win[-1]) + 1
    for row, c in enumerate(cidrs):
        n = ipaddress.ip_network(c)
        a, b = max(int(n[0]), lo), min(int(n[-1]) + 1, hi)
        colour = "#90a4ae" if n.prefixlen < 20 else ("#ff8f00" if n.prefixlen == 23 else "#1565c0")
        ax.broken_barh([(a - lo, b - a)], (row - 0.35, 0.7), color=colour)
        more = " (continues to 10.0.255.255)" if int(n[-1]) + 1 > hi else ""
        ax.text(a - lo + 8, row, f"{c}: {n.num_addresses:,} addresses{more}", va="center", fontsize=8,
                color="white" if b - a > 900 else "black")
    ticks = list(range(0, hi - lo + 1, 256))
    ax.set_xticks(ticks, [str(ipaddress.ip_address(lo + t)) for t in ticks], fontsize=7, rotation=30)
    ax.set_yticks([])
    ax.set_xlim(0, hi - lo)
    ax.set_ylim(len(cidrs) - 0.5, -0.5)
    ax.set_title(f"address blocks on the line from {win[0]} to {win[-1]}", fontsize=9)
    return ax


def handshake_chart(ax: Any = None, *, os: str = "linux") -> Any:
    """Three columns: a handshake that works, a SYN a firewall drops (timeout), a SYN refused (RST)."""
    ax = _axes(ax, (10, 3.6))
    eph = EPHEMERAL[os]
    port = (eph.lo + eph.hi) // 2
    cases = [("works", [("SYN", 1), ("SYN-ACK", -1), ("ACK", 1)], None),
             ("SYN dropped by a firewall", [("SYN", 1), ("SYN (retry)", 1), ("SYN (retry)", 1)], "timeout"),
             ("refused: nothing listens", [("SYN", 1), ("RST", -1)], "connection refused")]
    for k, (title, arrows, ending) in enumerate(cases):
        x0, x1 = k * 3.4, k * 3.4 + 2.4
        for x, who in ((x0, f"client\nport {port}"), (x1, "server\nport 443")):
            ax.plot([x, x], [0, -5], color="#607d8b", lw=1)
            ax.text(x, 0.3, who, ha="center", fontsize=7.5)
        for i, (label, way) in enumerate(arrows):
            y = -0.8 - 1.2 * i
            a, b = (x0, x1) if way > 0 else (x1, x0)
            dropped = ending == "timeout"
            end = (a + b) / 2 if dropped else b
            ax.annotate("", xy=(end, y - 0.4), xytext=(a, y),
                        arrowprops={"arrowstyle": "->", "color": "#c62828" if label == "RST" or dropped else
                                    ("#2e7d32" if way < 0 else "#1565c0")})
            ax.text((a + end) / 2, y - 0.05, label, ha="center", fontsize=7)
            if dropped:
                ax.text(end, y - 0.4, "x", color="#c62828", fontsize=11, ha="center", va="center")
        ax.text((x0 + x1) / 2, 1.05, title, ha="center", fontsize=8.5, fontweight="bold")
        if ending:
            ax.text((x0 + x1) / 2, -4.7, f"client sees: {ending}", ha="center", fontsize=8, color="#c62828")
    ax.set_xlim(-0.6, 9.6)
    ax.set_ylim(-5.1, 1.5)
    ax.axis("off")
    return ax


def filtering_chart(ax: Any = None) -> Any:
    """The reply to an allowed request: a stateful filter lets it out on its own; a stateless one needs a rule."""
    ax = _axes(ax, (10, 3.2))
    for k, (title, note, colour) in enumerate((
            ("stateful (security group)", "reply matches a tracked connection: passes, no rule", "#2e7d32"),
            ("stateless (network ACL)", "reply is a new packet: needs an OUTBOUND rule\n"
                                        "for the client's ephemeral ports, or it is dropped", "#c62828"))):
        x0 = k * 5.2
        ax.add_patch(__import__("matplotlib.patches", fromlist=["FancyBboxPatch"]).FancyBboxPatch(
            (x0 + 1.6, -2.2), 1.2, 2.6, boxstyle="round,pad=0.05", fc="#eceff1", ec="#607d8b"))
        ax.text(x0 + 2.2, 0.6, "filter", ha="center", fontsize=8)
        ax.text(x0 + 0.2, -0.4, "client", fontsize=8)
        ax.text(x0 + 4.0, -0.4, "server", fontsize=8)
        ax.annotate("", xy=(x0 + 4.0, -0.6), xytext=(x0 + 0.6, -0.6),
                    arrowprops={"arrowstyle": "->", "color": "#1565c0"})
        ax.text(x0 + 2.2, -0.45, "request to 443: inbound rule allows", ha="center", fontsize=6.5, color="#1565c0")
        ax.annotate("", xy=(x0 + 0.6, -1.6), xytext=(x0 + 4.0, -1.6),
                    arrowprops={"arrowstyle": "->", "color": colour, "linestyle": "-" if k == 0 else "--"})
        ax.text(x0 + 2.2, -1.45, "reply to the client's ephemeral port", ha="center", fontsize=6.5, color=colour)
        ax.text(x0 + 2.2, -2.75, note, ha="center", va="top", fontsize=7, color=colour)
        ax.text(x0 + 2.2, 1.1, title, ha="center", fontsize=9, fontweight="bold")
    ax.set_xlim(-0.2, 10.2)
    ax.set_ylim(-3.8, 1.5)
    ax.axis("off")
    return ax
