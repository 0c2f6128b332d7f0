"""A one-page cheat sheet to revise from the night before an interview, generated from the library.

Every figure on it comes from the model, not from a copy: the ephemeral ranges from ``tl.EPHEMERAL``, the
statuses from journeys the evaluator runs, the seed's 11 checkpoints from ``seed_checkpoints()`` and the latency
budget from ``tl.seed_vs_physics``. :func:`content` is that text; :func:`write` draws it with matplotlib as one
A4 page, ``docs/cheatsheet.pdf`` and ``docs/cheatsheet.png``, and stamps both with :func:`digest` (a hash of the
content), so a test can tell that the committed files are up to date by what they say, not by their bytes
(a PDF embeds its creation date)::

    python -m tierlab.course.cheatsheet docs      # regenerate after a change the freshness test reports
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from ..network.loader import load
from ..network.rules import EPHEMERAL, PortRange
from ..request.journey import journey
from ..sim.latency import seed_vs_physics
from .scenarios import apply_whatif

__all__ = ["content", "digest", "figure", "write", "FILES"]

FILES = ("cheatsheet.pdf", "cheatsheet.png")
_TITLE = "tierlab cheat sheet: one Create Account request through a 3-tier AWS app"

_SG_VS_NACL = [
    ("", "security group", "network ACL"),
    ("attached to", "an ENI: instance, ALB node, RDS", "a subnet's border (one NACL per subnet)"),
    ("state", "stateful: replies pass, no rule", "stateless: a reply needs its own rules"),
    ("rules", "ALLOW only; all rules unioned", "numbered ALLOW/DENY; lowest first wins"),
    ("last rule", "(none: unmatched = not allowed)", "* DENY, cannot be removed"),
    ("names", "CIDR, another SG, prefix list", "CIDR only"),
    ("new / default", "no inbound, all outbound", "default: allow all; custom: deny all"),
    ("rule removed", "open connections live until idle", "the next packet is dropped"),
    ("inside a subnet", "checked", "not checked (no border crossed)"),
]


def _status(spec: dict[str, Any], **kw: Any) -> str:
    tr = journey(apply_whatif(load("seed"), spec), **kw)
    seen = [p.status for p in tr.pairs if not p.ok]
    s = max(set(seen), key=seen.count) if seen else 200
    return "timeout" if s is None else str(s)


def _browser_sees() -> list[tuple[str, str, str]]:
    return [
        ("where it fails", "browser sees", "why"),
        ("SYN dropped in front of the ALB", _status({"switch_off": ["nacl-public-in-100"]}),
         "nothing answers; retries, gives up"),
        ("arrives where nothing listens", "refused", "the host's kernel answers RST"),
        ("ALB cannot connect to the target", _status({"switch_off": ["web-sg-in-3000"]}),
         "the ALB's connect timeout (10 s)"),
        ("the app's database query hangs", _status({"switch_off": ["database-sg-in-5432"]}),
         "the ALB's idle timeout (60 s)"),
        ("the target refuses (process down)", "502", "Bad Gateway, at once"),
        ("no registered target", "503", "Service Unavailable"),
        ("the app catches a DB error", "500", "the app's own answer"),
    ]


def _ephemeral() -> list[tuple[str, str, str]]:
    rows = [("sender", "ephemeral range", "a reply rule on 49152-65535 covers")]
    narrow = PortRange(49152, 65535)
    for name, label in (("linux", "Linux"), ("windows", "Windows 2008+"), ("macos", "macOS"),
                        ("elb", "ALB / NAT / Lambda")):
        r = EPHEMERAL[name]
        hit = r.intersect(narrow)
        rows.append((label, f"{r.lo}-{r.hi}", f"{(hit.size if hit else 0) / r.size * 100:.0f}% of connections"))
    return rows


def _checkpoints() -> list[tuple[str, str, str, str]]:
    frame = journey(load("seed")).seed_checkpoints()
    rows = [("#", "seed's layer", "seed says", "rule in seed (tierlab)")]
    for _, r in frame.iterrows():
        rows.append((str(r["checkpoint"]), str(r["layer"]), str(r["seed_says"]), str(r["rule"])))
    return rows


def _latency() -> list[tuple[str, str, str]]:
    frame = seed_vs_physics(load("seed"))
    rows = [("component", "seed's budget", "physics, 30 ms RTT")]
    for _, r in frame.iterrows():
        rows.append((str(r["component"]), f"{r['seed_low_ms']:.0f}-{r['seed_high_ms']:.0f} ms",
                     f"{r['physics_ms']:.0f} ms"))
    return rows


_RULES = [
    "NACL order: DENY #90 before ALLOW #100 wins; the same DENY at #110 never matches.",
    "A reply crosses 2 NACLs: OUT of the responder's subnet, IN to the requester's,",
    "  both on the requester's ephemeral range.",
    "Behind the ALB a drop is an HTTP error from the ALB; in front of it, a timeout.",
    "Refused needs a packet to arrive where nothing listens; firewalls only drop.",
    "An SG rule is not a route: a private subnet needs a NAT gateway or VPC endpoint.",
    "A pooled connection survives an SG rule's removal (tracked) until it goes idle;",
    "  node-postgres closes idle clients after 10 s; new connections are then dropped.",
    "All targets unhealthy: the ALB fails open and routes to all of them.",
    "Multi-AZ failover: 60-120 s and a DNS flip; clients must re-resolve (TTL) and reconnect.",
]


def content() -> dict[str, Any]:
    """Everything the sheet says, computed from the library (the freshness test compares this, not bytes)."""
    return {"title": _TITLE, "sg_vs_nacl": _SG_VS_NACL, "browser_sees": _browser_sees(),
            "ephemeral": _ephemeral(), "checkpoints": _checkpoints(), "latency": _latency(), "rules": _RULES}


def digest(data: dict[str, Any] | None = None) -> str:
    """A short hash of :func:`content`, stamped into both files."""
    text = json.dumps(data if data is not None else content(), sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _block(fig: Any, x: float, y: float, title: str, rows: list, widths: list[int], size: float = 7.2,
           header: bool = True) -> None:
    fig.text(x, y, title, fontsize=10, fontweight="bold", va="top", family="DejaVu Sans")
    lines = []
    for i, row in enumerate(rows):
        cells = [str(c)[:w].ljust(w) for c, w in zip(row, widths)]
        lines.append(" ".join(cells).rstrip())
        if i == 0 and header:
            lines.append("-" * (sum(widths) + len(widths) - 1))
    fig.text(x, y - 0.025, "\n".join(lines), fontsize=size, va="top", family="DejaVu Sans Mono", linespacing=1.3)


def figure(data: dict[str, Any] | None = None) -> Any:
    """The page as a matplotlib Figure (A4 landscape), not attached to pyplot."""
    from matplotlib.figure import Figure

    data = data if data is not None else content()
    fig = Figure(figsize=(11.69, 8.27))
    fig.text(0.03, 0.975, data["title"], fontsize=13, fontweight="bold", va="top")
    fig.text(0.03, 0.945, "generated by tierlab from its model (python -m tierlab.course.cheatsheet docs) · "
             f"content {digest(data)}", fontsize=7, color="#555555", va="top")
    _block(fig, 0.03, 0.905, "Security group vs network ACL", data["sg_vs_nacl"], [15, 35, 40])
    _block(fig, 0.03, 0.665, "What the browser sees, by where it fails", data["browser_sees"], [33, 8, 36])
    _block(fig, 0.03, 0.445, "Ephemeral ports: the reply goes to the requester's range", data["ephemeral"],
           [19, 16, 36])
    _block(fig, 0.03, 0.28, "Rules of thumb", [(r,) for r in data["rules"]], [88], header=False)
    _block(fig, 0.53, 0.905, "The seed's 11 security checkpoints", data["checkpoints"], [3, 20, 27, 25])
    fig.text(0.53, 0.66, "Checkpoint 10: the seed writes it on the DB NACL's inbound list; the replies leave\n"
             "outbound, so in seed it is nacl-private-db-out-100. Checkpoint 4 serves one ALB node\n"
             "(us-east-1a); the other needs its own rule (#101). Replies into the app subnet (#110)\n"
             "and out of the public one (#110) are missing from the seed's table.", fontsize=7.2, va="top")
    _block(fig, 0.53, 0.56, "Latency budget: the seed's ranges vs a model from round trips", data["latency"],
           [10, 15, 20])
    fig.text(0.53, 0.36, "The seed says 300-500 ms; its own ranges add up to 290-570 ms. From the same\n"
             "continent a first request takes ~150 ms, most of it DNS and handshakes;\n"
             "a repeat request (DNS cached, connection kept alive) ~50 ms.\n"
             "Quote p50 / p95 / p99: a range hides the tail users complain about.",
             fontsize=7.2, va="top")
    return fig


def write(folder: str | Path) -> tuple[Path, Path]:
    """Draw the sheet into ``folder`` as cheatsheet.pdf and cheatsheet.png, each stamped with the digest."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = content()
    stamp = digest(data)
    fig = figure(data)
    FigureCanvasAgg(fig)
    from io import BytesIO

    from ..paths import write_whole

    pdf, png = folder / FILES[0], folder / FILES[1]
    # drawn in memory, then written whole (never through a link left where the sheet goes)
    pdf_bytes, png_bytes = BytesIO(), BytesIO()
    fig.savefig(pdf_bytes, format="pdf", metadata={"Title": _TITLE, "Subject": f"tierlab-cheatsheet {stamp}",
                                                   "Creator": "tierlab", "CreationDate": None, "Producer": None})
    fig.savefig(png_bytes, format="png", dpi=110, metadata={"Title": _TITLE, "Description": f"tierlab-cheatsheet {stamp}",
                                                            "Software": "tierlab"})
    write_whole(pdf, pdf_bytes.getvalue(), what="the cheat sheet")
    write_whole(png, png_bytes.getvalue(), what="the cheat sheet picture")
    return pdf, png


def stamp_of(path: str | Path) -> str | None:
    """The digest stamped into a committed PDF or PNG (read from its metadata text), or None."""
    import re

    raw = Path(path).read_bytes().decode("latin-1")
    m = re.search(r"tierlab-cheatsheet ([0-9a-f]{16})", raw)
    return m.group(1) if m else None


if __name__ == "__main__":  # pragma: no cover - the regeneration command
    for written in write(sys.argv[1] if len(sys.argv) > 1 else "docs"):
        print(f"wrote {written}")
