"""The diagram: a real layout engine, stable ids, and an overlay that says what the Trace says.

SVG differs between layout engines and versions, so nothing here compares SVG text: the SVG is
parsed as XML and checked for ids, classes, colours, labels and geometry."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.views import graphviz_engine
from tierlab.views.diagram import COLORS, diagram, reply_id, step_elements
from tierlab.network.rules import NaclRule, PortRange, parse_cidr

NS = {"svg": "http://www.w3.org/2000/svg"}
SEED = tl.load("seed")
SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# ----------------------------------------------------------------------------- helpers


class Svg:
    """The rendered SVG, parsed: elements by id, their classes, stroke, label text and box."""

    def __init__(self, text: str) -> None:
        self.root = ET.fromstring(text)
        self.by_id = {e.get("id"): e for e in self.root.iter() if e.get("id")}

    def el(self, eid: str) -> ET.Element:
        assert eid in self.by_id, f"no element with id {eid}"
        return self.by_id[eid]

    def classes(self, eid: str) -> set[str]:
        return set((self.el(eid).get("class") or "").split())

    def stroke(self, eid: str) -> str:
        path = next(self.el(eid).iter("{http://www.w3.org/2000/svg}path"))
        return path.get("stroke", "")

    def dashed(self, eid: str) -> bool:
        path = next(self.el(eid).iter("{http://www.w3.org/2000/svg}path"))
        return bool(path.get("stroke-dasharray"))

    def label(self, eid: str) -> str:
        return "\n".join(t.text or "" for t in self.el(eid).iter("{http://www.w3.org/2000/svg}text"))

    def ids_with_class(self, cls: str) -> set[str]:
        return {i for i, e in self.by_id.items() if cls in (e.get("class") or "").split()}

    def box(self, eid: str) -> tuple[float, float, float, float]:
        """x0, y0, x1, y1 of a cluster's outline or a node's shape."""
        e = self.el(eid)
        pts: list[tuple[float, float]] = []
        for shape in e.iter():
            tag = shape.tag.split("}")[-1]
            if tag in ("polygon", "polyline") and shape.get("points"):
                pts += [tuple(map(float, p.split(","))) for p in shape.get("points").split()]  # type: ignore[misc]
            elif tag == "ellipse":
                cx, cy, rx, ry = (float(shape.get(k)) for k in ("cx", "cy", "rx", "ry"))  # type: ignore[arg-type]
                pts += [(cx - rx, cy - ry), (cx + rx, cy + ry)]
            elif tag == "path" and "edge" not in (e.get("class") or "").split():
                nums = [float(n) for n in re.findall(r"-?\d+\.?\d*", shape.get("d", ""))]
                pts += list(zip(nums[0::2], nums[1::2]))
        assert pts, f"{eid} has no shape"
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return min(xs), min(ys), max(xs), max(ys)

    def centre_x(self, eid: str) -> float:
        x0, _, x1, _ = self.box(eid)
        return (x0 + x1) / 2


def svg_of(subject, **kw) -> tuple[tl.Diagram, Svg]:
    d = diagram(subject, **kw)
    return d, Svg(d.svg())


def inside(inner: tuple, outer: tuple) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


# ----------------------------------------------------------------------------- the layout engine


def test_the_engine_works_after_pip_install_without_path():
    eng = graphviz_engine.find_engine()
    assert Path(eng.path).is_absolute()
    assert eng.kind in ("graphviz-pure", "dot")
    out = graphviz_engine.render("digraph { a -> b }", "svg", engine=eng)
    assert b"<svg" in out


def test_graphviz_pure_next_to_this_python_comes_first(monkeypatch):
    monkeypatch.delenv("TIERLAB_DOT", raising=False)
    kind, path = graphviz_engine.candidates()[0]
    assert kind == "graphviz-pure"
    assert path.name == "graphviz-pure"


def test_falls_back_to_a_dot_on_path(tmp_path, monkeypatch):
    """With no graphviz-pure to be found, a ``dot`` on PATH is used (here: a real engine named dot)."""
    real = Path(graphviz_engine.find_engine().path)
    (tmp_path / "dot").symlink_to(real)
    options = [("graphviz-pure", tmp_path / "nowhere" / "graphviz-pure"), ("dot", tmp_path / "dot")]
    eng = graphviz_engine.choose_engine(options)
    assert eng.kind == "dot" and eng.path == str(tmp_path / "dot")


def test_no_engine_is_a_tierlab_error_that_says_what_to_install(tmp_path):
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    not_executable = tmp_path / "graphviz-pure"
    not_executable.write_text("")
    with pytest.raises(tl.TierlabError) as err:
        graphviz_engine.choose_engine([("graphviz-pure", not_executable), ("dot", broken),
                                       ("dot", tmp_path / "missing")])
    assert "no Graphviz layout engine" in err.value.message
    assert "pip install graphviz-pure" in err.value.hint
    assert not isinstance(err.value, FileNotFoundError)


def test_tierlab_dot_overrides(monkeypatch):
    real = graphviz_engine.find_engine().path
    monkeypatch.setenv("TIERLAB_DOT", real)
    assert graphviz_engine.candidates()[0][1] == Path(real)


# ----------------------------------------------------------------------------- the picture


def test_every_element_has_a_stable_safe_id_and_the_architecture_is_all_there():
    d, svg = svg_of(tl.journey(SEED))
    for eid in d.node_ids + d.edge_ids:
        assert SAFE.match(eid), eid
        svg.el(eid)
    expected_nodes = {"internet", "cloudfront", "s3_origin", "route53", "igw_main", "alb_node_az1", "alb_node_az2",
                      "node_api_1", "node_api_2", "node_api_3", "rds_primary", "rds_standby"}
    assert expected_nodes <= set(d.node_ids)
    for cluster in ("cluster_internet", "cluster_aws_edge", "cluster_vpc", "cluster_az_us_east_1a",
                    "cluster_az_us_east_1b"):
        svg.el(cluster)
    for s in SEED.subnets:
        svg.el(f"cluster_{s.safe_id}")
    # same topology, same ids: stable across builds and across what-ifs
    d2 = diagram(tl.journey(SEED.switch_off("web-sg-in-3000")))
    assert set(d2.node_ids) == set(d.node_ids)
    assert {h for h in d.edge_ids if h.startswith("hop_")} == {h for h in d2.edge_ids if h.startswith("hop_")}


@pytest.mark.parametrize("name", ["seed", "seed-as-written"])
def test_no_element_is_left_with_a_graphviz_numbered_id(name):
    """Every node, edge and cluster Graphviz writes carries an id tierlab chose (no node3, edge17)."""
    svg = Svg(diagram(tl.journey(tl.load(name)), step="db-sg-in").svg())
    for e in svg.root.iter("{http://www.w3.org/2000/svg}g"):
        kind = (e.get("class") or "").split()[:1]
        if kind and kind[0] in ("node", "edge", "cluster"):
            eid = e.get("id", "")
            assert SAFE.match(eid) and not re.fullmatch(r"(node|edge|clust)\d+", eid), eid


def test_subnets_nest_in_their_az_and_the_azs_in_the_vpc():
    _, svg = svg_of(SEED)
    vpc = svg.box("cluster_vpc")
    for az in SEED.azs:
        az_box = svg.box(f"cluster_az_{tl.safe_id(az)}")
        assert inside(az_box, vpc)
        for s in SEED.subnets:
            if s.az == az:
                assert inside(svg.box(f"cluster_{s.safe_id}"), az_box), s.name
    assert inside(svg.box("rds_primary"), svg.box("cluster_private_db_az1"))
    assert inside(svg.box("node_api_3"), svg.box("cluster_private_app_az2"))


def test_tiers_run_top_to_bottom_with_the_azs_side_by_side():
    _, svg = svg_of(tl.journey(SEED))

    def y(eid):
        return (svg.box(eid)[1] + svg.box(eid)[3]) / 2

    assert y("internet") < y("igw_main") < y("alb_node_az1") < y("node_api_1") < y("rds_primary")
    for az in ("az1", "az2"):
        assert y(f"cluster_public_{az}") < y(f"cluster_private_app_{az}") < y(f"cluster_private_db_{az}")
    a, b = svg.box("cluster_az_us_east_1a"), svg.box("cluster_az_us_east_1b")
    assert a[2] <= b[0] or b[2] <= a[0]  # the two AZs do not overlap sideways


def _az_columns_left_to_right(svg: Svg, topo: tl.Topology) -> list[str]:
    azs = sorted({s.az for s in topo.subnets})
    return sorted(azs, key=lambda az: svg.box(f"cluster_az_{tl.safe_id(az)}")[0])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["seed", "seed-as-written"]), data=st.data())
def test_the_az_columns_run_left_to_right_by_name_whatever_is_switched_off(name, data):
    """Law: the AZ columns are sorted by AZ name, whichever rules are off (blocked hops carry badges
    and unreached replies are not drawn, which used to let the layout swap 1a and 1b between clicks)
    and whatever order the topology lists its AZs and subnets in."""
    import dataclasses

    topo = tl.load(name)
    off = data.draw(st.lists(st.sampled_from([r.id for r in topo.rules()]), max_size=4, unique=True))
    if data.draw(st.booleans()):
        topo = dataclasses.replace(topo, azs=tuple(reversed(topo.azs)), subnets=tuple(reversed(topo.subnets)))
    shown = topo.switch_off(*off) if off else topo
    _, svg = svg_of(tl.journey(shown))
    cols = _az_columns_left_to_right(svg, topo)
    assert cols == sorted(cols), (off, cols)


def test_fits_a_notebook_cell_and_node_text_stays_legible():
    """At most 9.3 in (893 px) wide, so a 934 px notebook output never scrolls sideways; node
    text, laid out at 12 pt, is still at least 11 px on screen at that size."""
    for topo in (SEED, tl.load("seed-as-written"), SEED.switch_off(*[r.id for r in SEED.rules()][:12])):
        text = diagram(tl.journey(topo)).svg()
        root = ET.fromstring(text)
        width_pt = float(root.get("width").removesuffix("pt"))
        assert width_pt <= 9.3 * 72 + 1
        scale = float(re.search(r"scale\(([\d.]+)", text).group(1))
        assert 12 * scale * 4 / 3 >= 11, scale


def test_text_is_laid_out_with_a_font_the_machine_has_and_the_svg_names_a_stack():
    d = diagram(tl.journey(SEED))
    assert 'fontname="DejaVu Sans"' in d.source
    families = set(re.findall(r'font-family="([^"]+)"', d.svg()))
    assert families and all(f.startswith("DejaVu Sans,") for f in families), families


def test_node_labels_fit_their_boxes():
    """With DejaVu Sans metrics the layout and the browser agree: every text sits inside its node."""
    from PIL import ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 120)
    _, svg = svg_of(tl.journey(SEED))
    checked = 0
    for nid in ("internet", "route53", "alb_node_az1", "node_api_1", "rds_primary", "igw_main"):
        x0, _, x1, _ = svg.box(nid)
        for t in svg.el(nid).iter("{http://www.w3.org/2000/svg}text"):
            width = font.getlength(t.text or "") / 120 * float(t.get("font-size"))
            assert width <= (x1 - x0) + 0.5, (nid, t.text, width, x1 - x0)
            checked += 1
    assert checked >= 12


def test_a_working_journey_draws_request_and_reply_paths_and_nothing_red():
    d, svg = svg_of(tl.journey(SEED))
    assert not svg.ids_with_class("tl_blocked")
    assert COLORS["blocked"] not in {svg.stroke(h) for h in d.edge_ids}
    for hop in ("hop_internet__igw_main", "hop_igw_main__alb_node_az1", "hop_alb_node_az1__node_api_1",
                "hop_node_api_1__rds_primary"):
        assert svg.stroke(hop) == COLORS["request"], hop
    for hop in ("reply_rds_primary__node_api_1", "reply_node_api_1__alb_node_az1", "reply_alb_node_az1__internet"):
        assert svg.stroke(hop) == COLORS["reply"], hop
    assert svg.stroke("hop_alb_node_az2__node_api_3") == COLORS["idle"]  # another pair: passes, not the path


def test_database_rule_off_turns_every_db_hop_red_dashed_and_names_the_rule():
    d, svg = svg_of(tl.journey(SEED.switch_off("database-sg-in-5432")))
    db_hops = {f"hop_node_api_{i}__rds_primary" for i in (1, 2, 3)}
    assert set(d.blocked_ids) == db_hops
    for hop in db_hops:
        assert svg.stroke(hop) == COLORS["blocked"] and not svg.dashed(hop)  # a request: solid
        assert "tl_blocked" in svg.classes(hop)
        assert svg.label(hop).strip() == "1"  # its badge
    key = svg.label("tierlab")
    assert key.count("database-sg inbound: no rule allows it") == 1  # named once, not once per hop
    assert "switched off: database-sg-in-5432 (6 pairs)" in key
    assert svg.stroke("hop_alb_node_az1__node_api_1") == COLORS["request"]


def test_many_blocked_components_get_one_numbered_line_each():
    d, svg = svg_of(tl.journey(tl.load("seed-as-written")))
    assert [g.number for g in d.blocked_groups] == list(range(1, len(d.blocked_groups) + 1))
    assert len(d.blocked_groups) >= 2
    key = svg.label("tierlab")
    for g in d.blocked_groups:
        assert key.count(g.text) == 1
        for h in g.hops:
            assert svg.label(h).strip() == str(g.number)


def test_request_and_reply_differ_by_line_style_and_arrow_not_only_colour():
    d, svg = svg_of(tl.journey(SEED))
    assert not svg.dashed("hop_node_api_1__rds_primary") and svg.dashed("reply_rds_primary__node_api_1")
    src = d.source
    assert 'arrowhead="normal"' in src and 'arrowtail="empty"' in src
    blocked = diagram(tl.journey(SEED.switch_off("database-sg-in-5432"))).source
    assert 'arrowhead="tee"' in blocked


def test_nacl_block_is_labelled_with_the_star_rule_and_the_rule_that_would_allow():
    _, svg = svg_of(tl.journey(SEED.switch_off("nacl-private-db-in-100")))
    label = svg.label("tierlab")
    assert "nacl-private-db-in-star (* DENY)" in label
    assert "switched off: nacl-private-db-in-100" in label


def test_an_explicit_deny_is_named():
    deny = NaclRule(nacl="nacl-private-db", number=50, direction="inbound", action="deny", protocol="tcp", ports=PortRange(5432, 5432), cidr=parse_cidr("10.0.2.0/24"))
    _, svg = svg_of(tl.journey(SEED.with_rule(deny)))
    assert "nacl-private-db-in-50 (DENY)" in svg.label("tierlab")
    assert svg.stroke("hop_node_api_2__rds_primary") == COLORS["idle"]  # 10.0.3.0/24 is not denied


def test_a_blocked_reply_is_red_on_the_reply_hop_only():
    d, svg = svg_of(tl.journey(SEED.switch_off("nacl-private-db-out-100")))
    assert svg.stroke("reply_rds_primary__node_api_1") == COLORS["blocked"]
    assert svg.dashed("reply_rds_primary__node_api_1")  # still drawn as a reply
    assert "nacl-private-db-out-star (* DENY)" in svg.label("tierlab")
    assert svg.stroke("hop_node_api_1__rds_primary") == COLORS["request"]
    assert all(h.startswith("reply_") for h in d.blocked_ids)


def test_the_seed_as_written_shows_server_3_cut_off_from_the_database():
    d, svg = svg_of(tl.journey(tl.load("seed-as-written")))
    assert "hop_node_api_3__rds_primary" in d.blocked_ids
    assert "hop_node_api_1__rds_primary" not in d.blocked_ids
    assert svg.stroke("hop_node_api_3__rds_primary") == COLORS["blocked"]


@pytest.mark.parametrize("step", tl.STEP_IDS)
def test_every_step_highlights_elements_that_exist(step):
    d, svg = svg_of(tl.journey(SEED), step=step)
    current = svg.ids_with_class("tl_current")
    assert current == set(d.current) != set()
    for eid in current:
        if eid.startswith(("hop_", "reply_")) and eid not in d.blocked_ids:
            assert svg.stroke(eid) == COLORS["current"]


def test_the_highlight_moves_with_the_step_and_follows_the_chosen_pair():
    _, a = svg_of(tl.journey(SEED), step="db-sg-in")
    _, b = svg_of(tl.journey(SEED), step="db-reply")
    assert a.ids_with_class("tl_current") == {"hop_node_api_1__rds_primary"}
    assert b.ids_with_class("tl_current") == {"reply_rds_primary__node_api_1"}
    _, c = svg_of(tl.journey(SEED), step="web-sg-in", pair="alb-node-az2->node-api-3")
    assert c.ids_with_class("tl_current") == {"hop_alb_node_az2__node_api_3"}
    assert step_elements("alb-process", "alb-node-az2", "node-api-3", "rds-primary", "igw-main") == ("alb_node_az2",)


def test_a_blocked_current_hop_stays_red_inside_an_amber_halo():
    _, svg = svg_of(tl.journey(SEED.switch_off("database-sg-in-5432")), step="db-sg-in")
    hop = "hop_node_api_1__rds_primary"
    strokes = [p.get("stroke") for p in svg.el(hop).iter("{http://www.w3.org/2000/svg}path")]
    assert strokes == [COLORS["current"], COLORS["blocked"], COLORS["current"]]
    assert {"tl_current", "tl_blocked"} <= svg.classes(hop)


def test_bad_step_or_pair_is_a_tierlab_error():
    with pytest.raises(tl.TierlabError, match="no journey step"):
        diagram(tl.journey(SEED), step="teleport")
    with pytest.raises(tl.TopologyError, match="no \\(ALB node, server\\) pair"):
        diagram(tl.journey(SEED), pair="alb-node-az9->node-api-1")


def test_failover_draws_the_journey_to_the_standby():
    d = diagram(tl.journey(SEED, database="standby"))
    assert "hop_node_api_1__rds_standby" in d.edge_ids
    assert "hop_node_api_1__rds_primary" not in d.edge_ids


def test_build_and_render_are_separate_and_save_writes_files(tmp_path):
    d = diagram(tl.journey(SEED))
    assert "_svg" not in d.__dict__  # building ran no layout
    assert d.save(tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert d.save(tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "digraph" in d.save(tmp_path / "a.dot").read_text()
    assert d._repr_svg_() == d.svg()
    with pytest.raises(tl.TierlabError, match="cannot save"):
        d.save(tmp_path / "a.pdf")


def test_a_topology_alone_draws_without_verdicts():
    d, svg = svg_of(SEED)
    assert not d.blocked_ids and not svg.ids_with_class("tl_blocked")
    assert COLORS["reply"] not in {svg.stroke(h) for h in d.edge_ids}


def test_the_diagram_module_never_computes_a_verdict():
    """It imports and calls nothing that evaluates rules; it reads Checks from the Trace."""
    import ast

    tree = ast.parse(Path(tl.diagram.__code__.co_filename).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    called = {n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "")
              for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for name in ("journey", "evaluate_flow", "nacl_decide", "sg_matches", "ipywidgets", "matplotlib"):
        assert name not in imported and name not in called, name


RULE_IDS = sorted(r.id for r in SEED.rules())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(RULE_IDS), max_size=4))
def test_red_in_the_picture_exactly_when_the_trace_is_blocked(off):
    """Law: the drawing is red exactly where the Trace has blocking checks, and nowhere else."""
    trace = tl.journey(SEED.switch_off(*off))
    d, svg = svg_of(trace)
    red = {h for h in d.edge_ids if svg.stroke(h) == COLORS["blocked"]}
    assert red == set(d.blocked_ids)
    assert bool(red) == (not trace.ok)
    for h in d.hops:
        assert h.blocked == any(c.blocking for c in h.checks)
    blocked_checks = {c for c, reached in trace.reached_checks() if c.blocking and reached}
    drawn_checks = {c for h in d.hops for c in h.blocking}
    assert {(c.flow, c.leg, c.kind, c.direction) for c in blocked_checks} == \
        {(c.flow, c.leg, c.kind, c.direction) for c in drawn_checks}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(RULE_IDS), max_size=4))
def test_no_reply_arrow_for_a_reply_that_never_happens(off):
    """Law: the followed pair's reply hops are drawn exactly where its replies happen."""
    trace = tl.journey(SEED.switch_off(*off))
    d = diagram(trace)
    p = next(p for p in trace.pairs if p.name == d.pair)
    replies = {"front": reply_id(p.node, "internet"), "back": reply_id(p.target, p.node),
               "db": reply_id(p.database, p.target)}
    for flow, rid in replies.items():
        drawn = rid in d.edge_ids and d.hop(rid).on_path
        assert drawn == p.leg_reached(flow, "reply"), (flow, p.reached)


def test_a_database_block_draws_no_reply_from_the_database_and_greys_nothing_before_it():
    d = diagram(tl.journey(SEED.switch_off("database-sg-in-5432")))
    assert "reply_rds_primary__node_api_1" not in d.edge_ids
    assert "reply_node_api_1__alb_node_az1" not in d.edge_ids  # the server never answers: the ALB times out
    assert "reply_alb_node_az1__internet" in d.edge_ids        # the ALB's 504 does reach the browser
    d = diagram(tl.journey(SEED.switch_off("nacl-public-in-100")))
    assert not d.hop("hop_alb_node_az1__node_api_1").reached  # the request never gets past the public NACL
    assert d.blocked_ids and all(h.startswith(("hop_igw", "hop_internet")) for h in d.blocked_ids)


def test_the_rest_of_the_vpc_is_drawn_nat_gateways_endpoints_auto_scaling_and_zones_down():
    """Every NAT gateway, every subnet with interface endpoint ENIs, every gateway endpoint and Auto Scaling group
    is a node; a zone that is down says so, and so does its NAT gateway. The seed draws none of them."""
    vpc = tl.load("seed-vpc").with_zone_down("us-east-1a")
    d = tl.diagram(vpc)
    ids = set(d.node_ids)
    assert {f"nat_{n.name.replace('-', '_')}" for n in vpc.nat_gateways} <= ids
    eni_subnets = {eni.subnet for e in vpc.vpc_endpoints for eni in e.enis}
    assert {f"vpce_enis_{s.replace('-', '_')}" for s in eni_subnets} <= ids
    assert "vpce_vpce_s3" in ids
    assert "AZ us-east-1a: DOWN" in d.source and "AZ us-east-1b: DOWN" not in d.source
    assert "DOWN with its zone" in d.source
    asg = tl.diagram(tl.load("seed-asg"))
    assert "asg_api_asg" in asg.node_ids and asg.source.count("ASG api-asg") == 6
    seed = set(tl.diagram(tl.load("seed")).node_ids)
    assert not {i for i in seed if i.startswith(("nat_", "vpce_", "asg_"))}
