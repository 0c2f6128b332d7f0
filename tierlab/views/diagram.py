"""The architecture diagram: Topology + Trace -> a Graphviz picture with the journey on it.

Building and rendering are separate steps::

    d = tl.diagram(tl.journey(topo), step="db-sg-in")   # builds DOT source; nothing runs yet
    d                                                    # a notebook shows it (_repr_svg_)
    d.save("seed.svg"); d.save("seed.png")               # lays it out and writes a file

Left to right in tiers, as the seed's Section 1 reads top to bottom: the internet user; the AWS
edge (CloudFront, its S3 origin, Route 53); the VPC with one cluster per AZ and, inside each,
the public, private-app and private-db subnets; the internet gateway, the ALB nodes, the API
servers, RDS primary and standby.

The overlay comes from the Trace only (the diagram never decides a verdict). Colours are
Okabe and Ito's colour-blind-safe set, and each meaning has a second cue besides colour:
request hops blue and solid with a filled arrow; reply hops green, dashed, with a hollow arrow;
a blocked hop vermillion and thick with a bar (``tee``) arrow and a numbered badge. Each blocked
component is named once, in the key above the picture, with the rule that decided (an explicit
DENY, the NACL's ``*`` rule, or "no rule allows it" for a security group), the switched-off rule
that would allow it and how many (ALB node, server) pairs it breaks. The current step is amber
and thick; on a blocked hop it is an amber halo around the vermillion line.

Text is laid out with DejaVu Sans (installed with Debian and most Linux desktops; graphviz-pure
carries its exact metrics), so labels fit their boxes; the SVG names a fallback stack.

Every node, edge and cluster has a stable Graphviz ``id`` made of letters, digits and
underscores (``hop_node_api_1__rds_primary``, ``reply_rds_primary__node_api_1``,
``cluster_private_db_az1``), so tests and browser tests can find them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Callable, Iterable, Literal

from . import graphviz_engine
from ..errors import TierlabError, TopologyError
from ..paths import write_whole
from ..network.evaluate import Check
from ..request.journey import STEP_IDS, Trace
from .focus import focus_pair
from ..network.rules import safe_id
from ..network.topology import Topology

__all__ = ["Diagram", "diagram", "COLORS", "hop_id", "reply_id", "step_elements", "block_label", "focus_pair"]

#: The overlay's colours: Okabe & Ito's colour-blind-safe palette (SVG writes them in lower case, as here).
COLORS = {
    "request": "#0072b2",   # blue, solid, filled arrow: the request's way in
    "reply": "#009e73",     # bluish green, dashed, hollow arrow: the reply's way back
    "blocked": "#d55e00",   # vermillion, thick, bar arrow and a numbered badge: a hop a rule stops
    "current": "#e69f00",   # amber, thick (a halo on a blocked hop): the step the stepper is on
    "idle": "#8c8c8c",      # grey, thin: hops of other (ALB node, server) pairs that pass
    "static": "#8c8c8c",    # dotted: the static site from CloudFront (not part of the API journey)
}
#: How each leg is drawn besides its colour (the second cue for colour-blind readers).
LINE = {"request": ("solid", "normal"), "reply": ("dashed", "empty")}
_FILL = {"public": "#e8f5e9", "app": "#e3f2fd", "db": "#f3e5f5"}
#: Laid out with DejaVu Sans (exact metrics in graphviz-pure and Graphviz); the SVG names this stack.
FONT = "DejaVu Sans"
FONT_STACK = "DejaVu Sans, Verdana, Bitstream Vera Sans, sans-serif"
_FONT = FONT

Leg = Literal["request", "reply", "static", "sync"]


def hop_id(src: str, dst: str) -> str:
    """The id of a request hop between two named things (ids of the node names, joined by ``__``)."""
    return f"hop_{safe_id(src)}__{safe_id(dst)}"


def reply_id(src: str, dst: str) -> str:
    """The id of a reply hop; ``src`` is the responder."""
    return f"reply_{safe_id(src)}__{safe_id(dst)}"


# ----------------------------------------------------------------------------- what is drawn


@dataclass(frozen=True)
class Hop:
    """One drawn edge: where from and to, which leg, and the checks the Trace made on it."""

    id: str
    src: str            # node ids
    dst: str
    leg: Leg
    checks: tuple[Check, ...] = ()
    on_path: bool = False  # part of the focus pair's path
    note: str = ""         # label for a passing hop on the path (ports, protocol)
    reached: bool = True   # some packet really gets here (False: the journey stopped before it)

    @property
    def evaluated(self) -> bool:
        return bool(self.checks)

    @property
    def blocking(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.blocking)

    @property
    def blocked(self) -> bool:
        return bool(self.blocking)


def block_label(check: Check) -> str:
    """A short label for a blocked hop: the deciding rule, and the switched-off rule that would allow."""
    where = f"{check.component} {check.direction}".strip()
    if check.kind == "sg":
        head = f"BLOCKED {where}: no rule allows it"
    elif check.kind == "nacl":
        rules = ", ".join(
            f"{r} (* DENY)" if r.endswith("-star") else f"{r} (DENY)" for r in check.rule_ids
        ) or "DENY"
        head = f"BLOCKED {where}: {rules}"
        if check.verdict == "partial":
            head += f"\n{check.share * 100:.0f}% of connections pass"
    elif check.kind in ("route", "igw"):
        head = f"BLOCKED {where}: no route"
    elif check.kind == "listener":
        head = f"REFUSED at {check.component}: nothing listens"
    elif check.kind == "dns":
        head = "BLOCKED DNS: no answer for the ALB"
    else:  # pragma: no cover - every kind is listed above
        head = f"BLOCKED {where}"
    if check.would_allow:
        head += "\nswitched off: " + ", ".join(check.would_allow)
    return head


@dataclass(frozen=True)
class BlockGroup:
    """One blocked component as the key names it: its badge number, its label, how many
    (ALB node, server) pairs it breaks, and the hops that carry its badge."""

    number: int
    label: str
    pairs: int
    hops: tuple[str, ...]

    @property
    def text(self) -> str:
        n = f"{self.pairs} pair{'s' if self.pairs != 1 else ''}" if self.pairs else "every request"
        return f"{self.label.replace(chr(10), '; ')} ({n})"


def block_groups(hops: Iterable[Hop], trace: Trace | None = None) -> tuple[BlockGroup, ...]:
    """Blocked hops grouped by what blocks them (one label per component and rule), numbered in
    the order the journey meets them; ``pairs`` counts the (ALB node, server) pairs of ``trace``
    that meet the same block."""
    found: dict[str, tuple[list[str], set[str]]] = {}
    for h in hops:
        for c in h.blocking:
            ids, pairs = found.setdefault(block_label(c), ([], set()))
            if h.id not in ids:
                ids.append(h.id)
    for c, reached in (trace.reached_checks() if trace is not None else ()):
        if reached and c.blocking and c.pair and block_label(c) in found:
            found[block_label(c)][1].add(c.pair)
    return tuple(BlockGroup(i, label, len(pairs), tuple(ids)) for i, (label, (ids, pairs)) in
                 enumerate(found.items(), start=1))


def step_elements(step: str, node: str, target: str, db: str, igw: str | None) -> tuple[str, ...]:
    """The ids the diagram highlights for a journey step on the path node -> target -> db."""
    if step not in STEP_IDS:
        raise TierlabError(f"no journey step {step!r}", f"steps: {', '.join(STEP_IDS)}")
    front = (hop_id("internet", igw), hop_id(igw, node)) if igw else (hop_id("internet", node),)
    table: dict[str, tuple[str, ...]] = {
        "click": ("internet",),
        "dns": (hop_id("internet", "route53"),),
        "connect-alb": front,
        "alb-nacl-in": front[-1:],
        "alb-sg-in": front[-1:],
        "alb-reply-out": (reply_id(node, "internet"),),
        "alb-process": (safe_id(node),),
        "alb-sg-out": (hop_id(node, target),),
        "alb-nacl-out": (hop_id(node, target),),
        "app-nacl-in": (hop_id(node, target),),
        "web-sg-in": (hop_id(node, target),),
        "node-process": (safe_id(target),),
        "db-connect": (hop_id(target, db),),
        "web-sg-out": (hop_id(target, db),),
        "app-nacl-out": (hop_id(target, db),),
        "db-nacl-in": (hop_id(target, db),),
        "db-sg-in": (hop_id(target, db),),
        "db-query": (safe_id(db),),
        "db-reply": (reply_id(db, target),),
        "node-respond": (safe_id(target),),
        "alb-receive": (reply_id(target, node),),
        "browser-receive": (reply_id(node, "internet"), "internet"),
    }
    return table[step]


# ----------------------------------------------------------------------------- the diagram object


@dataclass(frozen=True)
class Diagram:
    """A built diagram: DOT source plus what it shows. Rendering happens on demand."""

    source: str
    topology: str
    step: str | None = None
    pair: str | None = None
    node_ids: tuple[str, ...] = ()
    hops: tuple[Hop, ...] = field(default=(), repr=False)
    current: tuple[str, ...] = ()
    #: element id -> the security group or network ACL whose rules a click on it opens
    opens: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    #: the key's blocked components, numbered as their badges: (number, label, pairs, hop ids)
    blocked_groups: tuple["BlockGroup", ...] = field(default=(), repr=False)

    def __repr__(self) -> str:
        step = f", step {self.step}" if self.step else ""
        return (f"<Diagram {self.topology}: {len(self.node_ids)} nodes, {len(self.hops)} hops, "
                f"{len(self.blocked_ids)} blocked{step}>")

    @property
    def edge_ids(self) -> tuple[str, ...]:
        return tuple(h.id for h in self.hops)

    @property
    def blocked_ids(self) -> tuple[str, ...]:
        return tuple(h.id for h in self.hops if h.blocked)

    def hop(self, hop_id_: str) -> Hop:
        for h in self.hops:
            if h.id == hop_id_:
                return h
        raise TierlabError(f"the diagram has no hop {hop_id_!r}", "hops: " + ", ".join(self.edge_ids))

    @property
    def engine(self) -> graphviz_engine.Engine:
        return graphviz_engine.find_engine()

    @cached_property
    def _svg(self) -> str:
        return _layout(self.source)

    def svg(self) -> str:
        """Lay out and return the SVG text (once; later calls reuse it)."""
        return self._svg

    def png(self) -> bytes:
        return graphviz_engine.render(self.source, "png")

    def _repr_svg_(self) -> str:
        return self.svg()

    def save(self, path: str | Path) -> Path:
        """Write ``.svg``, ``.png`` or ``.dot`` (by the file's suffix); returns the path."""
        p = Path(path)
        suffix = p.suffix.lower().lstrip(".")
        if suffix == "svg":
            data: str | bytes = self.svg()
        elif suffix == "png":
            data = self.png()
        elif suffix in ("dot", "gv"):
            data = self.source
        else:
            raise TierlabError(f"cannot save a diagram as {p.name!r}", "name the file .svg, .png or .dot")
        return write_whole(p, data, what="diagram file")  # whole or not at all, never through a link


# ----------------------------------------------------------------------------- building


@lru_cache(maxsize=64)
def _layout(source: str) -> str:
    """Lay out DOT source as SVG text. The same source always gives the same picture, so a rule
    switched off and on again is drawn from memory instead of a new layout process."""
    svg = graphviz_engine.render(source, "svg").decode("utf-8")
    return svg.replace(f'font-family="{FONT}"', f'font-family="{FONT_STACK}"')


def _q(text: object) -> str:
    """A DOT double-quoted string: ``\\n`` ends a centred line, ``\\r`` a left-justified one."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\l")
    return f'"{s}"'


def _attrs(**kw: object) -> str:
    items = [f"{k}={_q(v)}" for k, v in kw.items() if v is not None and v != ""]
    return f" [{', '.join(items)}]" if items else ""


class _Dot:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1

    def add(self, line: str) -> None:
        self.lines.append("  " * self.depth + line)

    def open(self, name: str, **attrs: object) -> None:
        self.add(f"subgraph {name} {{")
        self.depth += 1
        for k, v in attrs.items():
            self.add(f"{k}={_q(v)};")

    def close(self) -> None:
        self.depth -= 1
        self.add("}")


def diagram(subject: Trace | Topology, *, step: str | None = None, pair: str | None = None) -> Diagram:
    """Build the diagram of a topology, with a Trace's journey on it when given a Trace.

    ``step`` (a ``tl.STEP_IDS`` id) highlights that step's hop or node on the path of ``pair``
    (``"alb-node-az1->node-api-1"``; default: the first blocked pair, else the first pair).
    """
    trace = subject if isinstance(subject, Trace) else None
    topo = subject.topology if isinstance(subject, Trace) else subject
    if not isinstance(topo, Topology):
        raise TierlabError(f"cannot draw a {type(subject).__name__}", "pass tl.journey(topo) or a topology")
    igw = topo.internet_gateway
    igw_id = safe_id(igw) if igw else None

    # --- which pair's path is drawn, and which database instance the journey goes to
    fp = focus_pair(trace, pair) if trace is not None else None
    if trace is not None:
        db_name = fp.database if fp else (topo.database.instance(trace.database) or topo.database.instances[0]).name
    else:
        prim = topo.database.instance("primary") or topo.database.instances[0]
        db_name = prim.name
    if fp is not None:
        path_node, path_target = fp.node, fp.target
    else:
        path_node = topo.alb.nodes[0].name if topo.alb.nodes else ""
        path_target = topo.alb.targets[0] if topo.alb.targets else ""
        if pair is not None and trace is None:
            path_node, _, path_target = pair.partition("->")

    # --- hops and the checks the Trace made on each
    hops: dict[str, Hop] = {}

    def put(hid: str, src: str, dst: str, leg: Leg, checks: Iterable[Check] = (), on_path: bool = False,
            note: str = "", reached: bool = True) -> None:
        old = hops.get(hid)
        if old is None:
            hops[hid] = Hop(hid, src, dst, leg, tuple(checks), on_path, note, reached)
        else:
            hops[hid] = Hop(hid, src, dst, leg, old.checks + tuple(checks), old.on_path or on_path,
                            old.note or note, old.reached or reached)

    front_port = 443 if 443 in topo.alb.listen_ports or not topo.alb.listen_ports else topo.alb.listen_ports[0]
    put(hop_id("internet", "route53"), "internet", "route53", "request",
        (trace.dns,) if trace is not None else (), trace is not None, "DNS")
    if topo.edge is not None:
        put(hop_id("internet", "cloudfront"), "internet", "cloudfront", "static", note="static site")
        put(hop_id("cloudfront", "s3_origin"), "cloudfront", "s3_origin", "static", note="origin fetch")
    pairs = trace.pairs if trace is not None else ()
    drawn = trace is not None  # a topology alone has no journey to draw, only its parts

    def seen(of: Iterable, flow: str, leg: str) -> tuple[bool, list[Check]]:
        """Whether any of these pairs' packets on ``flow``/``leg`` happen, and the checks they reach
        (a check after the packet stopped is never drawn: the picture shows only what happens)."""
        found: dict[tuple, Check] = {}
        happens = False
        for p in of:
            name = getattr(p, flow).name
            for c in p.checks:
                if c.flow == name and c.leg == leg and id(c) in reached_of(p):
                    happens = True
                    found.setdefault((c.kind, c.component, c.direction, c.rule_ids, c.verdict, c.code), c)
        return happens, list(found.values())

    reached_ids: dict[str, set[int]] = {}

    def reached_of(p) -> set[int]:
        """The checks of ``p`` its packets get to (``p.is_reached``, once per pair)."""
        if p.name not in reached_ids:
            reached_ids[p.name] = {id(c) for c in p.checks if p.is_reached(c)}
        return reached_ids[p.name]

    focus = [fp] if fp is not None else []
    for n in topo.alb.nodes:
        on = drawn and n.name == path_node
        mine = [p for p in pairs if p.node == n.name]
        went, req = seen(mine, "front", "request")
        if igw:
            put(hop_id("internet", igw), "internet", igw_id, "request",  # type: ignore[arg-type]
                [c for c in req if c.kind == "igw"], on, f"{front_port} TLS", went or not drawn)
            put(hop_id(igw, n.name), igw_id, safe_id(n.name), "request",  # type: ignore[arg-type]
                [c for c in req if c.kind != "igw"], on, "", went or not drawn)
        else:
            put(hop_id("internet", n.name), "internet", safe_id(n.name), "request", req, on, f"{front_port} TLS",
                went or not drawn)
        back_on, rep = seen(focus if on else mine, "front", "reply")
        if (on and back_on) or any(c.blocking for c in seen(mine, "front", "reply")[1]):
            put(reply_id(n.name, "internet"), safe_id(n.name), "internet", "reply", seen(mine, "front", "reply")[1],
                on and back_on)
    for n in topo.alb.nodes:
        for t in topo.alb.targets:
            on = drawn and n.name == path_node and t == path_target
            mine = [p for p in pairs if p.node == n.name and p.target == t]
            went, req = seen(mine, "back", "request")
            put(hop_id(n.name, t), safe_id(n.name), safe_id(t), "request", req, on, f":{topo.alb.target_port} HTTP",
                went or not drawn)
            back_on, rep = seen(mine, "back", "reply")
            if (on and back_on) or any(c.blocking for c in rep):
                put(reply_id(t, n.name), safe_id(t), safe_id(n.name), "reply", rep, on and back_on)
    for t in topo.alb.targets:
        on = drawn and t == path_target
        mine = [p for p in pairs if p.target == t]
        went, req = seen(mine, "db", "request")
        put(hop_id(t, db_name), safe_id(t), safe_id(db_name), "request", req, on, f":{topo.database.port} TLS",
            went or not drawn)
        _any, rep = seen(mine, "db", "reply")
        back_on = seen(focus, "db", "reply")[0] if on else False
        if (on and back_on) or any(c.blocking for c in rep):
            put(reply_id(db_name, t), safe_id(db_name), safe_id(t), "reply", rep, on and back_on)
    sync_prim = topo.database.instance("primary")
    stby = topo.database.instance("standby")
    if sync_prim is not None and stby is not None:
        put(f"sync_{sync_prim.safe_id}__{stby.safe_id}", sync_prim.safe_id, stby.safe_id, "sync", note="sync replication")

    current: tuple[str, ...] = ()
    if step is not None:
        current = step_elements(step, path_node, path_target, db_name, igw)

    groups = block_groups(hops.values(), trace)
    source, node_ids = _dot(topo, trace, list(hops.values()), current, db_name, groups)
    return Diagram(source, topo.name, step, fp.name if fp else (f"{path_node}->{path_target}" if path_node else None),
                   node_ids, tuple(hops.values()), current, _opens(topo), groups)


def _opens(topo: Topology) -> dict[str, str]:
    """Which component's rules a click on a drawn element opens: a server, ALB node or database
    opens its (first) security group, a subnet its network ACL."""
    out: dict[str, str] = {}
    for n in topo.alb.nodes:
        if topo.alb.sgs:
            out[n.safe_id] = topo.alb.sgs[0]
    for i in topo.instances:
        if i.sgs:
            out[i.safe_id] = i.sgs[0]
    for db in topo.database.instances:
        if topo.database.sgs:
            out[db.safe_id] = topo.database.sgs[0]
    for s in topo.subnets:
        out[f"cluster_{s.safe_id}"] = s.nacl
    return out


def _node_label(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


def _html(text: object) -> str:
    """Text for a Graphviz HTML-like label."""
    import html as _h

    return _h.escape(str(text), quote=True)


def _badge(number: int) -> str:
    """A blocked hop's numbered badge (an HTML-like label: white on vermillion)."""
    return (f'<<table border="0" cellborder="0" cellpadding="1" bgcolor="{COLORS["blocked"]}"><tr><td>'
            f'<font face="{FONT}" color="white" point-size="11"><b> {number} </b></font></td></tr></table>>')


def _key(title: str, trace: Trace | None, groups: tuple[BlockGroup, ...]) -> str:
    """The graph's label: the verdict, the key to colours and line styles, and one line per
    blocked component (its badge number, rule, and the pairs it breaks)."""
    rows = [f'<tr><td align="left" ><font point-size="13"><b>{_html(title)}</b></font></td></tr>']
    if trace is not None:
        rows.append(
            '<tr><td align="left" ><font point-size="11">'
            f'<font color="{COLORS["request"]}">&#8212;&#9658; request (solid)</font>   '
            f'<font color="{COLORS["reply"]}">- - &#9655; reply (dashed)</font>   '
            f'<font color="{COLORS["blocked"]}">&#8212;| blocked (badge = line below)</font>   '
            f'<font color="#9a6700">&#9552; current step (amber, a halo on a blocked hop)</font>'
            '</font></td></tr>')
    for g in groups:  # one line per blocked component, led by its badge number (one cell: stays aligned)
        rows.append(f'<tr><td align="left"><font point-size="11" color="{COLORS["blocked"]}"><b>[{g.number}]</b></font>'
                    f'<font point-size="11" color="#6b2200"> {_html(g.text)}</font></td></tr>')
    return f'<<table border="0" cellborder="0" cellspacing="2" cellpadding="1">{"".join(rows)}</table>>'


def _dot(topo: Topology, trace: Trace | None, hops: list[Hop], current: tuple[str, ...], db_name: str,
         groups: tuple[BlockGroup, ...] = ()) -> tuple[str, tuple[str, ...]]:
    d = _Dot()
    node_ids: list[str] = []
    badge = {h: g.number for g in groups for h in g.hops}

    def node(nid: str, label: str, **attrs: object) -> None:
        node_ids.append(nid)
        cls = "tl_node tl_current" if nid in current else "tl_node"
        extra: dict[str, object] = {}
        if nid in current:
            extra = {"color": COLORS["current"], "penwidth": "4", "fillcolor": "#fff3d6", "style": "filled,bold"}
        merged = {**attrs, **extra}
        d.add(f"{nid}{_attrs(id=nid, label=label, **{'class': cls}, **merged)}")

    title = topo.name
    if trace is not None:
        title += ": the request gets through" if trace.ok else (
            f": blocked, {trace.success_share * 100:.0f}% of requests succeed")
    d.lines.insert(0, "digraph tierlab {")
    # mclimit: (almost) no crossing-minimisation passes, so the columns keep the order they are
    # declared in (the AZs sorted by name): otherwise a blocked hop's badge or a reply not drawn lets
    # the layout swap the AZ columns between two clicks (1b left of 1a)
    d.add("graph" + _attrs(id="tierlab", rankdir="TB", newrank="true", mclimit="0.01", nodesep="0.15", ranksep="0.35",
                           fontname=_FONT, fontsize="11", labelloc="t", labeljust="l", pad="0.05", size="9.3,30"))
    d.add(f"graph [label={_key(title, trace, groups)}];")
    d.add("node" + _attrs(shape="box", style="rounded,filled", fillcolor="white", fontname=_FONT,
                          fontsize="12", margin="0.1,0.05", height="0.4"))
    d.add("edge" + _attrs(fontname=_FONT, fontsize="11", arrowsize="0.8"))

    # --- the internet
    d.open("cluster_internet", id="cluster_internet", label="Internet", style="rounded", color="#b0bec5")
    node("internet", _node_label("Internet users", "(browser)", str(topo.client_ip)), shape="box",
         fillcolor="#fafafa")
    d.close()

    # --- the AWS edge
    d.open("cluster_aws_edge", id="cluster_aws_edge", label="AWS edge", style="rounded,dashed",
           color="#ff9900")
    if topo.edge is not None:
        e = topo.edge
        node("cloudfront", _node_label("CloudFront", e.domain, f"TTL {e.default_ttl_s} s"))
        node("s3_origin", _node_label("S3 origin", e.bucket, "private" if not e.bucket_public else "PUBLIC"),
             shape="cylinder")
    node("route53", _node_label("Route 53", topo.api_host))
    d.close()

    # --- the VPC: internet gateway, then one cluster per AZ with its subnets in tier order
    d.open("cluster_vpc", id="cluster_vpc", label=f"VPC {topo.vpc_cidr} ({topo.region})", style="rounded",
           color="#37474f", penwidth="1.5")
    if topo.internet_gateway:
        node(safe_id(topo.internet_gateway), _node_label("Internet gateway", topo.internet_gateway),
             shape="box", fillcolor="#eceff1")
    _vpc_wide(topo, node)
    asg_of = {m: g.name for g in topo.auto_scaling_groups for m in g.instances}
    tier_order = {"public": 0, "app": 1, "db": 2}
    anchors: dict[str, str] = {}
    for az in _az_columns(topo):
        subnets = sorted((s for s in topo.subnets if s.az == az), key=lambda s: tier_order.get(s.tier, 3))
        if not subnets:
            continue
        down = az in topo.zones_down
        if down:
            d.open(f"cluster_az_{safe_id(az)}", id=f"cluster_az_{safe_id(az)}", label=f"AZ {az}: DOWN",
                   style="rounded,dashed,filled", color=COLORS["blocked"], fillcolor="#eeeeee")
        else:
            d.open(f"cluster_az_{safe_id(az)}", id=f"cluster_az_{safe_id(az)}", label=f"AZ {az}",
                   style="rounded,dashed", color="#607d8b")
        for s in subnets:
            sid = f"cluster_{s.safe_id}"
            d.open(sid, id=sid, label=f"{s.name} {s.cidr}\nNACL {s.nacl}", style="rounded,filled",
                   fillcolor=_FILL.get(s.tier, "#fafafa"), color="#90a4ae", fontsize="10")
            members = 0
            before = len(node_ids)
            for n in topo.alb.nodes:
                if n.subnet == s.name:
                    node(n.safe_id, _node_label("ALB node", str(n.ip), f"[{', '.join(topo.alb.sgs)}]"),
                         fillcolor="#fff8e1")
                    members += 1
            for i in topo.instances:
                if i.subnet == s.name:
                    ports = ",".join(str(p) for p in i.listens)
                    extra = (f"ASG {asg_of[i.name]}",) if i.name in asg_of else ()
                    node(i.safe_id, _node_label(i.label or i.name, f"{i.ip}:{ports}", f"[{', '.join(i.sgs)}]", *extra))
                    members += 1
            gateways = _subnet_gateways(topo, s.name, node)
            members += len(gateways)
            for db in topo.database.instances:
                if db.subnet == s.name:
                    active = db.name == db_name
                    node(db.safe_id, _node_label(f"RDS {db.role}", f"{db.ip}:{topo.database.port}",
                                                 f"[{', '.join(topo.database.sgs)}]"),
                         shape="cylinder", fillcolor="white" if active else "#eeeeee",
                         fontcolor="black" if active else "#757575")
                    members += 1
            if members == 0:  # an empty cluster is not drawn: keep the subnet visible
                node(f"empty_{s.safe_id}", "(empty)", shape="plaintext", fillcolor="none", fontcolor="#9e9e9e")
            anchors[s.name] = node_ids[before]
            for gw in gateways:  # NAT gateways and endpoint ENIs sit below the subnet's first node
                if gw != node_ids[before]:
                    d.add(f"{node_ids[before]} -> {gw}" + _attrs(id=f"order_{node_ids[before]}__{gw}", style="invis",
                                                                 weight="0.1"))
            d.close()
        d.close()
    d.close()

    # --- keep each AZ's subnets in tier order (public, app, db) even where no hop joins them
    for az in _az_columns(topo):
        prev = None
        for s in sorted((s for s in topo.subnets if s.az == az), key=lambda s: tier_order.get(s.tier, 3)):
            first = anchors.get(s.name)
            if prev is not None and first is not None:
                d.add(f"{prev} -> {first}" + _attrs(id=f"order_{prev}__{first}", style="invis", weight="0.1"))
            prev = first or prev
    # --- edges (a reply is drawn as a backward edge from the requester, so it runs beside its request)
    for h in hops:
        style = _edge_style(h, h.id in current, badge.get(h.id))
        if h.leg == "reply":
            d.add(f"{h.dst} -> {h.src}{_attrs(**style, dir='back')}{_label(badge.get(h.id))}")
        else:
            d.add(f"{h.src} -> {h.dst}{_attrs(**style)}{_label(badge.get(h.id))}")
    d.lines.append("}")
    return "\n".join(d.lines) + "\n", tuple(node_ids)


def _vpc_wide(topo: Topology, node: Callable[..., None]) -> None:
    """What belongs to the VPC rather than to a subnet: gateway endpoints and Auto Scaling groups."""
    for e in topo.vpc_endpoints:
        if e.type == "gateway":
            pl = next((p for p in topo.prefix_lists if p.name == e.prefix_list), None)
            cidrs = ", ".join(str(c) for c in pl.cidrs) if pl else e.prefix_list
            node(f"vpce_{safe_id(e.name)}", _node_label(f"{e.service.upper()} gateway endpoint", e.name,
                                                         f"route to {e.prefix_list} ({cidrs})",
                                                         "in " + ", ".join(e.route_tables)),
                 fillcolor="#f1f8e9")
    for g in topo.auto_scaling_groups:
        node(f"asg_{safe_id(g.name)}", _node_label(f"Auto Scaling group {g.name}",
                                                   f"desired {g.desired} (min {g.min_size}, max {g.max_size})",
                                                   f"{g.health_check_type} health checks, grace {g.grace_period_s} s"),
             fillcolor="#ede7f6", style="rounded,filled,dashed")


def _subnet_gateways(topo: Topology, subnet: str, node: Callable[..., None]) -> tuple[str, ...]:
    """The NAT gateways and interface endpoint ENIs in one subnet, drawn as nodes; their node ids."""
    drawn: list[str] = []
    for nat in topo.nat_gateways:
        if nat.subnet == subnet:
            up = topo.is_up(subnet)
            drawn.append(f"nat_{safe_id(nat.name)}")
            node(drawn[-1], _node_label("NAT gateway", nat.name, f"EIP {nat.elastic_ip}",
                                        "no SG" if up else "DOWN with its zone"),
                 fillcolor="#e0f2f1" if up else "#eeeeee", fontcolor="black" if up else "#757575")
    enis = [(e, eni) for e in topo.vpc_endpoints if e.type == "interface" for eni in e.enis if eni.subnet == subnet]
    if enis:
        sgs = sorted({g for e, _ in enis for g in e.sgs})
        drawn.append(f"vpce_enis_{safe_id(subnet)}")
        node(drawn[-1], _node_label("Interface endpoints", ", ".join(e.service for e, _ in enis),
                                    ", ".join(str(eni.ip) for _, eni in enis), f"[{', '.join(sgs)}]"),
             fillcolor="#f1f8e9")
    return tuple(drawn)


def _az_columns(topo: Topology) -> list[str]:
    """The AZs that hold a subnet, sorted by name: the diagram's columns, left to right."""
    return sorted({s.az for s in topo.subnets})


def _label(number: int | None) -> str:
    """The badge of a blocked edge as an extra attribute list (HTML-like labels cannot be quoted)."""
    return f" [label={_badge(number)}]" if number is not None else ""


def _edge_style(h: Hop, is_current: bool, number: int | None = None) -> dict[str, object]:
    cls = ["tl_hop", f"tl_{h.leg}"]
    a: dict[str, object] = {"id": h.id}
    style, arrow = LINE.get(h.leg, ("solid", "normal"))
    if h.leg == "static":
        a.update(color=COLORS["static"], style="dotted", label=h.note, fontcolor="#666666")
    elif h.leg == "sync":
        a.update(color=COLORS["static"], style="dotted", dir="both", label=h.note, fontcolor="#666666",
                 constraint="false")
    elif h.blocked:
        cls.append("tl_blocked")
        a.update(color=COLORS["blocked"], style=style, penwidth="3", tooltip=h.blocking[0].reason)
        arrow = "tee"
    elif not h.reached:  # the journey stops before it: a thin dotted link, no arrow of a packet
        cls.append("tl_not_reached")
        a.update(color=COLORS["idle"], penwidth="1", style="dotted",
                 tooltip="not reached: the request stops before this hop")
    else:
        if h.on_path:
            cls.append("tl_path")
        a.update(color=COLORS[h.leg] if h.on_path else COLORS["idle"], penwidth="2" if h.on_path else "1",
                 style=style)
        if h.on_path and h.leg == "request" and h.note:
            a.update(label=h.note, fontcolor=COLORS["request"])
        if h.checks:
            a.update(tooltip=h.checks[-1].reason)
    if h.leg == "reply":
        a["arrowtail"] = arrow
    elif h.leg == "request":
        a["arrowhead"] = arrow
    if is_current:
        cls.append("tl_current")
        if h.blocked:  # an amber halo around the vermillion line: visible without telling the colours apart
            a.update(color=f"{COLORS['current']}:{COLORS['blocked']}:{COLORS['current']}", penwidth="2.5")
        else:
            a.update(color=COLORS["current"], penwidth="5")
    a["class"] = " ".join(cls)
    return a
