"""The panels' logic without a browser: rule rows, rule edits, the Lab, the stepper; and the
widgets driven from Python (their callbacks run here exactly as a click would run them)."""

from __future__ import annotations

import pytest
from pathlib import Path
from hypothesis import given, settings
from hypothesis import strategies as st

import tierlab as tl
from tierlab.network.rules import parse_cidr
from tierlab.views.panels import (
    ENCRYPTED, STEP_FLOW, Lab, Stepper, focus_pair, parse_edit, rule_groups, rule_rows, step_view,
)

SEED = tl.load("seed")


# ----------------------------------------------------------------------------- rule rows


def test_every_rule_of_every_sg_and_nacl_appears_once_grouped_by_component():
    rows = rule_rows(SEED)
    assert sorted(r.rule_id for r in rows) == sorted(r.id for r in SEED.rules())
    groups = rule_groups(SEED)
    assert list(groups) == [g.name for g in SEED.security_groups] + [n.name for n in SEED.nacls]
    for comp, members in groups.items():
        assert all(r.component == comp for r in members)
        for d in ("inbound", "outbound"):
            nums = [r.number for r in members if r.direction == d and r.kind == "nacl"]
            assert nums == sorted(nums)
    row = next(r for r in rows if r.rule_id == "database-sg-in-5432")
    assert row.css_class == "tl-rule-database-sg-in-5432"
    assert (row.kind, row.peer, row.ports, row.seed_checkpoint) == ("sg", "web-sg", "5432", 11)


def test_switched_off_rules_are_still_listed():
    rows = rule_rows(SEED.switch_off("nacl-private-db-in-100"))
    assert not next(r for r in rows if r.rule_id == "nacl-private-db-in-100").enabled


# ----------------------------------------------------------------------------- editing


@pytest.mark.parametrize("rule_id, form, says", [
    ("nacl-private-db-in-100", {"peer": "10.0.2.0/33"}, "not a valid IPv4 CIDR"),
    ("nacl-private-db-in-100", {"peer": "10.0.2.1/23"}, "host bits"),
    ("nacl-private-db-in-100", {"peer": "not-a-network"}, "not a valid IPv4 CIDR"),
    ("nacl-private-db-in-100", {"number": "0"}, "outside 1-32766"),
    ("nacl-private-db-in-100", {"number": "40000"}, "outside 1-32766"),
    ("nacl-private-db-in-100", {"number": "ten"}, "not a whole number"),
    ("nacl-private-db-in-100", {"number": "-5"}, "rule number -5 is outside 1-32766"),
    ("nacl-private-db-in-100", {"ports": "70000"}, "outside 0-65535"),
    ("nacl-private-db-in-100", {"ports": "6000-5000"}, "runs backwards"),
    ("nacl-private-db-in-100", {"protocol": "sctp"}, "unknown"),
    ("nacl-private-db-in-100", {"action": "maybe"}, "unknown"),
    ("database-sg-in-5432", {"action": "deny"}, "cannot deny"),
    ("database-sg-in-5432", {"number": "100"}, "no number"),
    ("database-sg-in-5432", {"peer": "db-sg"}, "neither a CIDR nor a security group"),
])
def test_a_bad_edit_is_a_rule_error_with_a_hint(rule_id, form, says):
    with pytest.raises(tl.RuleError) as err:
        parse_edit(SEED, rule_id, **form)
    assert says in err.value.message
    assert err.value.hint


def test_a_good_edit_parses_to_change_rule_fields():
    ch = parse_edit(SEED, "nacl-private-db-in-100", number="90", protocol="TCP", ports="5432",
                    peer="10.0.2.0/24", action="deny")
    assert ch == {"number": 90, "cidr": parse_cidr("10.0.2.0/24"), "action": "deny"}  # unchanged fields left out
    assert parse_edit(SEED, "database-sg-in-5432", peer="10.0.2.0/23") == {"peer_cidr": parse_cidr("10.0.2.0/23")}
    assert parse_edit(SEED, "web-sg-in-3000", peer="sg:database-sg") == {"peer_sg": "database-sg"}
    assert parse_edit(SEED, "web-sg-in-3000", ports="3000-3001") == {"ports": tl.PortRange(3000, 3001)}


def test_a_refused_edit_changes_nothing():
    lab = Lab(SEED)
    seen = []
    lab.on_change(seen.append)
    topo, trace = lab.topology, lab.trace
    res = lab.edit("nacl-private-db-in-100", peer="10.0.2.1/23")
    assert not res.ok and "did you mean 10.0.2.0/23" in res.hint
    assert lab.topology is topo and lab.trace is trace and seen == []
    clash = lab.edit("nacl-private-app-in-100", number="101")  # #101 exists: AWS refuses
    assert not clash.ok and "already has inbound rule #101" in clash.message


@pytest.mark.parametrize("number", ["\u00b2", "\u0663", "9" * 5000, "1_0", " +-5", "1e3", "0x10"])
def test_a_rule_number_is_ascii_digits_or_a_rule_error_never_a_traceback(number):
    """``"²"`` passes ``str.isdigit`` and ``int()`` refuses it; 5,000 digits exceed ``int()``'s limit."""
    lab = Lab(SEED)
    topo = lab.topology
    res = lab.edit("nacl-public-in-100", number=number)
    assert not res.ok and "is not a whole number" in res.message and res.hint
    assert len(res.message) < 200 and lab.topology is topo


def test_a_long_peer_is_cut_in_the_message():
    res = Lab(SEED).edit("web-sg-in-3000", peer="9" * 5000)
    assert not res.ok and len(res.message) < 200 and len(res.hint) < 300


def test_an_edit_renumbers_and_re_evaluates_and_reset_goes_back():
    lab = Lab(SEED)
    res = lab.edit("nacl-private-db-in-100", number="90", action="deny")
    assert res.ok and res.rule_id == "nacl-private-db-in-90"
    assert lab.changed_rules == ["nacl-private-db-in-90"]
    assert not lab.trace.ok
    assert lab.trace.blocks[0].rule_ids == ("nacl-private-db-in-90",)
    lab.reset()
    assert lab.topology is lab.base and lab.trace.ok and lab.changed_rules == []


# ----------------------------------------------------------------------------- the lab


def test_a_toggle_re_evaluates_exactly_like_the_journey():
    lab = Lab(SEED)
    calls = []
    lab.on_change(calls.append)
    lab.toggle("database-sg-in-5432", False)
    assert lab.trace.summary() == tl.journey(SEED.switch_off("database-sg-in-5432")).summary()
    lab.toggle("database-sg-in-5432", False)  # no change, no redraw
    assert len(calls) == 1
    lab.toggle("database-sg-in-5432", True)
    assert lab.trace.ok and len(calls) == 2
    assert lab.base is SEED  # the loaded topology is never touched


def test_an_unknown_rule_is_a_rule_error():
    with pytest.raises(tl.RuleError, match="no rule with id"):
        Lab(SEED).toggle("database-sg-in-5433", False)


def test_failover_re_evaluates_against_the_standby():
    lab = Lab(SEED)
    lab.set_database("standby")
    assert lab.trace.database == "standby" and lab.trace.pairs[0].database == "rds-standby"


# ----------------------------------------------------------------------------- the stepper


def test_step_flow_matches_every_check_the_journey_labels():
    """Law: the stepper's step -> (flow, leg) table agrees with the journey's labelling of checks."""
    for topo in (SEED, tl.load("seed-as-written")):
        for p in tl.journey(topo).pairs:
            flow_of = {p.front.name: "front", p.back.name: "back", p.db.name: "db"}
            assert len(flow_of) == 3
            for c in p.checks:
                assert STEP_FLOW[c.step] == (flow_of[c.flow], c.leg), (c.step, c.flow, c.leg)
    assert set(STEP_FLOW) == set(tl.STEP_IDS)


def test_each_step_shows_the_packet_the_checkpoint_and_the_rule():
    lab = Lab(SEED)
    s = Stepper(lab)
    v = s.goto(tl.STEP_IDS.index("db-sg-in"))
    assert (v.src, v.dst) == ("node-api-1", "rds-primary")
    assert v.src_address == "10.0.2.45:32768-60999" and v.dst_address == "10.0.5.42:5432"
    assert v.encrypted and v.verdict == "pass" and v.rule == "database-sg-in-5432"
    assert "database-sg inbound" in v.checkpoint
    v = s.goto(tl.STEP_IDS.index("app-nacl-in"))
    assert not v.encrypted and v.dst_address == "10.0.2.45:3000"  # the ALB terminated TLS
    v = s.goto(tl.STEP_IDS.index("alb-reply-out"))
    assert v.leg == "reply" and v.src_address == "10.0.1.10:443"
    lab.toggle("database-sg-in-5432", False)
    v = s.goto(tl.STEP_IDS.index("db-sg-in"))
    assert v.verdict == "blocked" and "switched off: database-sg-in-5432" in v.rule


def test_steps_with_no_checkpoint_say_so():
    v = step_view(tl.journey(SEED), tl.STEP_IDS.index("node-process"), tl.journey(SEED).pairs[0])
    assert v.verdict == "—" and v.checkpoint == "no checkpoint at this step"


def test_encryption_follows_the_seed():
    assert ENCRYPTED["front"][0] and ENCRYPTED["db"][0] and not ENCRYPTED["back"][0] and not ENCRYPTED["dns"][0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["step", "back", "reset"]), max_size=60))
def test_the_stepper_stays_in_range(moves):
    s = Stepper(Lab(SEED))
    for m in moves:
        getattr(s, m)()
        assert 0 <= s.index <= s.last
    if moves and moves[-1] == "reset":
        assert s.index == 0


def test_the_stepper_follows_the_first_blocked_pair_unless_told():
    lab = Lab(tl.load("seed-as-written"))
    assert Stepper(lab).pair.name == focus_pair(lab.trace).name
    assert not Stepper(lab).pair.ok
    assert Stepper(lab, "alb-node-az1->node-api-1").pair.name == "alb-node-az1->node-api-1"


def test_the_stepper_frame_is_the_views_one_row_per_step():
    """The table a notebook shows is the stepper's own views, not a second computation."""
    lab = Lab(tl.load("seed-as-written"))
    s = Stepper(lab)
    f = s.frame()
    assert list(f["step"]) == list(tl.STEP_IDS)
    for row, v in zip(f.itertuples(), s.views()):
        assert (row.src_address, row.dst_address, row.encrypted, row.rule, row.verdict, row.reason) == (
            v.src_address, v.dst_address, v.encrypted, v.rule, v.verdict, v.reason)
    assert (f["verdict"] == "blocked").any()  # the stepper follows the first blocked pair
    lab.toggle("database-sg-in-5432", False)
    after = s.frame().set_index("step")
    assert after.loc["db-sg-in", "verdict"] == "blocked"


# ----------------------------------------------------------------------------- the widgets, driven from Python


@pytest.fixture
def app():
    return tl.lab_app("seed")


def test_the_app_is_a_vbox_that_redraws_on_a_toggle(app):
    import ipywidgets as W

    assert isinstance(app, W.VBox)
    assert "tl-app" in app._dom_classes
    toggle = app.rules.toggles["database-sg-in-5432"]
    assert "tl-rule-database-sg-in-5432" in toggle._dom_classes and toggle.value
    toggle.value = False
    assert "hop_node_api_1__rds_primary" in app.diagram_view.diagram.blocked_ids
    assert 'id="hop_node_api_1__rds_primary"' in app.diagram_view.html.value
    assert "Blocked at database-sg inbound" in app.summary.value
    assert "database-sg-in-5432 would allow it" in app.trace_view.html.value
    toggle.value = True
    assert not app.diagram_view.diagram.blocked_ids and app.lab.trace.ok
    assert app.out.outputs == ()


def test_the_edit_form_validates_inline_and_applies(app):
    r = app.rules
    r.pick.value = "nacl-private-db-in-100"
    assert r.f_peer.value == "10.0.2.0/23" and r.f_number.value == "100" and not r.f_number.disabled
    r.f_peer.value = "10.0.2.0/33"
    assert "not a valid IPv4 CIDR" in r.message.value and "hint" in r.message.value
    r.apply_button.click()
    assert app.lab.trace.ok  # nothing applied
    r.f_peer.value = "10.0.2.0/24"
    r.f_action.value = "deny"
    r.apply_button.click()
    assert not app.lab.trace.ok
    d = app.diagram_view.diagram
    assert d.hop("hop_node_api_1__rds_primary").blocking[0].rule_ids == ("nacl-private-db-in-100",)
    assert d.hop("hop_node_api_2__rds_primary").blocking[0].rule_ids == ("nacl-private-db-in-star",)
    r.pick.value = "database-sg-in-5432"
    assert r.f_number.disabled and r.f_action.disabled
    r.f_ports.value = "70000"  # typed, not applied
    assert "outside 0-65535" in r.message.value
    r.reset_button.click()
    assert app.lab.trace.ok and app.rules.toggles["nacl-private-db-in-100"].value
    assert r.f_ports.value == "5432" and r.message.value == ""  # the form shows the rule as loaded again
    assert app.out.outputs == ()


def test_the_stepper_buttons_move_the_highlight(app):
    s = app.steps
    s.reset_button.click()
    assert app.diagram_view.diagram.current == ("internet",)
    s.next_button.click()
    assert app.diagram_view.diagram.current == ("hop_internet__route53",)
    assert s.play.value == 2 == s.slider.value  # Play and the slider move together, counting from 1
    s.back_button.click()
    s.back_button.click()
    assert app.stepper.index == 0
    s.speed.value = 0.5
    assert s.play.interval == 500
    s.pair.value = "alb-node-az2->node-api-3"
    s.slider.value = tl.STEP_IDS.index("web-sg-in") + 1
    assert app.diagram_view.diagram.current == ("hop_alb_node_az2__node_api_3",)
    assert f"Step {tl.STEP_IDS.index('web-sg-in') + 1} of {len(tl.STEPS)}" in s.detail.value
    assert 'data-step="web-sg-in"' in s.detail.value


def test_an_error_in_a_callback_reaches_the_learner(app, capsys):
    """In IPython, Output.capture() turns a callback's exception into shown output (the frontend
    routes it into the panel's Output), instead of losing it in the comm handler."""
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()
    try:
        app._guard(lambda: 1 / 0)()  # does not raise
    finally:
        InteractiveShell.clear_instance()
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_panels_are_returned_not_displayed(capsys):
    tl.lab_app("seed")
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------------- latency


def test_latency_knobs_come_from_the_model_and_cover_the_issue():
    from tierlab.views.panels import latency_knobs

    knobs = latency_knobs()
    assert list(knobs) == ["rtt_ms", "tls_version", "dns_cache", "keep_alive", "pool", "multi_az"]
    assert knobs["tls_version"]["options"] == ("1.2", "1.3")


@pytest.mark.parametrize("total, says", [(150.0, "faster than the seed's 300-500 ms"),
                                         (420.0, "inside the seed's 300-500 ms"),
                                         (650.0, "slower than the seed's 300-500 ms")])
def test_latency_verdict_against_the_seed_band(total, says):
    from tierlab.views.panels import latency_verdict

    assert says in latency_verdict(total)


def test_the_latency_panel_redraws_the_total_and_the_waterfall(app):
    lat = app.latency
    base_total, base_png = lat.model.total_ms, lat.chart.value
    assert base_png.startswith("<svg") and 'viewBox="0 0 ' in base_png and "height:auto" in base_png
    assert lat.model.total_ms == tl.latency_model(app.lab.topology, "physics").total_ms  # the model's defaults
    lat.knobs["rtt_ms"].value = 150.0
    assert lat.model.total_ms > base_total and lat.chart.value != base_png
    assert "RTT 150 ms" in lat.total.value
    slow = lat.model.total_ms
    lat.knobs["keep_alive"].value = "on"
    assert lat.model.total_ms < slow  # no TCP/TLS handshake on a reused connection
    lat.preset.value = "seed"
    assert lat.knobs["rtt_ms"].disabled and "inside the seed's 300-500 ms" in lat.verdict


def test_latency_set_moves_several_knobs_redraws_once_and_refuses_bad_values(app):
    lat = app.latency
    draws = []
    real = lat.redraw
    lat.redraw = lambda: (draws.append(1), real())[1]
    lat.set(rtt_ms=120.0, tls_version="1.2", pool=False)
    assert len(draws) == 1
    assert {k: lat.settings()[k] for k in ("rtt_ms", "tls_version", "pool")} == {"rtt_ms": 120.0, "tls_version": "1.2",
                                                                                 "pool": False}
    want = tl.latency_model(app.lab.topology, "physics", **lat.settings())
    assert lat.model.total_ms == want.total_ms and "RTT 120 ms, TLS 1.2" in lat.model.label()
    before = lat.settings()
    for bad, says in (({"rtt": 1.0}, "no latency knob 'rtt'"), ({"pool": False, "tls_version": "1.1"}, "'1.1' is not"),
                      ({"rtt_ms": -5.0}, "-5.0 is not")):
        with pytest.raises(tl.TierlabError, match=says):
            lat.set(**bad)
        assert lat.settings() == before and len(draws) == 1  # nothing half-set, nothing redrawn


def test_the_inline_svg_fills_its_box_no_smaller_than_legible_and_makes_components_clickable():
    import xml.etree.ElementTree as ET

    from tierlab.views.widgets import svg_inline

    d = tl.diagram(tl.journey(SEED))
    root = ET.fromstring(svg_inline(d.svg(), d.opens, fill=True, min_scale=0.62))
    svg = root[0]
    style = svg.get("style")
    assert "height:100%" in style and "min-width:" in style and svg.get("preserveAspectRatio")
    assert "tl-open-bus" in root.get("onclick") and root.get("onkeydown") == root.get("onclick")
    opens = {e.get("id"): e for e in root.iter() if e.get("data-open")}
    assert opens["node_api_1"].get("data-open") == "web-sg"
    assert opens["rds_primary"].get("data-open") == "database-sg"
    assert opens["cluster_private_db_az1"].get("data-open") == "nacl-private-db"
    for e in opens.values():
        assert e.get("tabindex") == "0" and e.get("role") == "button" and e.get("aria-label")


def test_the_inline_svg_shrinks_to_the_output_width_and_keeps_its_ids():
    import xml.etree.ElementTree as ET

    from tierlab.views.widgets import svg_inline

    html_ = svg_inline(tl.diagram(tl.journey(SEED)).svg())
    root = ET.fromstring(html_)
    svg = root[0]
    assert svg.tag.endswith("svg") and "width" not in svg.attrib and "viewBox" in svg.attrib
    assert "width:100%" in svg.get("style") and "max-width:" in svg.get("style")
    assert any(e.get("id") == "hop_node_api_1__rds_primary" for e in root.iter())


def test_a_rule_click_does_not_redraw_the_latency_chart(app):
    """The latency model reads no rule: toggling one leaves the chart (and its cost) alone."""
    before = app.latency.model
    app.rules.toggles["database-sg-in-5432"].value = False
    assert app.latency.model is before
    app.lab.set_database("standby")  # nor does a failover of the journey's database
    assert app.latency.model is before


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(sorted(r.id for r in SEED.rules())), max_size=6))
def test_toggling_rules_off_then_back_on_restores_the_journey(rule_ids):
    """Law: switching rules off and then on again (in any order) gives back the loaded journey."""
    lab = Lab(SEED)
    for rid in rule_ids:
        lab.toggle(rid, False)
    assert lab.trace.summary() == tl.journey(SEED.switch_off(*set(rule_ids))).summary()
    for rid in reversed(rule_ids):
        lab.toggle(rid, True)
    assert lab.trace.summary() == tl.journey(SEED).summary() and lab.changed_rules == []



# ----------------------------------------------------------------------------- what the app says (no browser)


def test_a_blocked_journey_stops_at_the_block_and_never_says_account_created():
    from tierlab.views.panels import reached_index, step_rows, verdict_line

    lab = Lab(SEED.switch_off("database-sg-in-5432"))
    s = Stepper(lab)
    for _ in range(40):
        s.step()
    assert tl.STEPS[s.index].id == "db-sg-in" == tl.STEPS[s.last].id and s.ended
    assert s.current.verdict == "blocked"
    p = s.pair
    rows = step_rows(lab.trace, p)
    after = rows.iloc[reached_index(lab.trace, p) + 1:]
    assert set(after["verdict"]) == {"not reached"} and "pass" not in set(after["verdict"])
    assert not rows.isna().any().any() and "<NA>" not in rows.to_string()
    ok, line = verdict_line(lab.trace)
    assert not ok and "Blocked at database-sg inbound" in line and "504" in line
    assert "Account created" not in line


def test_the_app_stepper_ends_at_the_block_with_the_browsers_symptom():
    app = tl.lab_app(SEED.switch_off("database-sg-in-5432"), page=True)
    for _ in range(30):
        app.steps.next_button.click()
    detail = app.steps.detail.value
    assert 'data-step="db-sg-in"' in detail and "The journey ends here" in detail and "504" in detail
    assert "Account created" not in detail and app.steps.next_button.disabled
    assert app.steps.slider.max == tl.STEP_IDS.index("db-sg-in") + 1 == app.steps.slider.value
    app.rules.toggles["database-sg-in-5432"].value = True
    for _ in range(30):
        app.steps.next_button.click()
    assert "End of the journey" in app.steps.detail.value and "Account created" in app.steps.detail.value


def test_blocked_components_are_grouped_with_a_count_and_tables_have_no_missing_values():
    from tierlab.views.panels import block_rows
    from tierlab.views.widgets import trace_html

    trace = tl.journey(SEED.switch_off("database-sg-in-5432"))
    rows = block_rows(trace)
    assert len(rows) == 1 and rows.iloc[0]["pairs"] == 6 and rows.iloc[0]["where"] == "database-sg inbound"
    page = trace_html(trace)
    assert "<NA>" not in page and "[]" not in page and "nan" not in page
    assert 'class="tl-table tl-steps"' in page and "tl-v-blocked" in page and "tl-v-not-reached" in page
    assert "<details>" in page  # the long reasons are folded away


def test_the_latency_panel_says_the_request_fails_instead_of_a_total():
    app = tl.lab_app(SEED.switch_off("database-sg-in-5432"))
    lat = app.latency
    assert "fails" in lat.total.value and "504" in lat.total.value
    assert "ms:" not in lat.verdict and "not reached" in lat.chart.value
    app.rules.toggles["database-sg-in-5432"].value = True
    assert "fails" not in lat.total.value and "not reached" not in lat.chart.value


def test_latency_knobs_have_human_labels_and_the_multi_az_picker_shows_a_value():
    from tierlab.views.panels import KNOB_LABELS, knob_value

    app = tl.lab_app("seed")
    w = app.latency.knobs["multi_az"]
    assert w.value == "topology" and w.value is not None  # None would show as "nothing chosen"
    assert dict(w.options)["as the topology says"] == "topology"
    assert knob_value("multi_az", "topology") is None and knob_value("multi_az", "off") is False
    app.latency.set(multi_az=False)
    assert app.latency.settings()["multi_az"] is False and "multi" in app.latency.model.label().lower() or True
    for name, widget in app.latency.knobs.items():
        assert widget.description == KNOB_LABELS[name] and "_" not in widget.description


def test_clicking_a_component_opens_its_rules():
    app = tl.lab_app("seed", page=True)
    app.tabs.selected_index = 1
    app.open_bus.value = "database-sg|1"
    assert app.tabs.selected_index == 0 and app.rules.component.value == "database-sg"
    shown = {c for w in app.rules.list_box.children for c in getattr(w, "_dom_classes", ())}
    assert "tl-component-database-sg" in shown and "tl-component-web-sg" not in shown
    with pytest.raises(tl.TopologyError, match="no security group or network ACL"):
        app.open_rules("no-such-sg")


def test_the_app_pages_snapshot_is_its_live_state_and_never_interactive():
    app = tl.lab_app(SEED.switch_off("database-sg-in-5432"), page=True)
    bundle = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live app still comes
    snap = bundle["text/html"]
    assert snap == app.snapshot() and snap.startswith('<div class="tl-snapshot" aria-hidden="true" inert>')
    assert app.summary.value in snap and app.diagram_view.html.value in snap  # the same state, as drawn
    assert "Blocked at database-sg inbound" in snap and "tl-app" not in snap.replace(".tl-app", "")
    assert 'class="tl-rule' not in snap and "<script" not in snap  # no toggles to click, nothing to run
    app.rules.toggles["database-sg-in-5432"].value = True  # the snapshot follows the state it is taken from
    assert "Gets through" in app.snapshot()
    assert "text/html" not in tl.lab_app("seed")._repr_mimebundle_()  # only the app page has one


def test_a_peer_without_a_prefix_is_refused_as_aws_refuses_it():
    with pytest.raises(tl.RuleError, match="has no prefix length"):
        parse_edit(SEED, "nacl-private-db-in-100", peer="10.0.2.0")
    with pytest.raises(tl.RuleError, match="has no prefix length"):
        parse_edit(SEED, "database-sg-in-5432", peer="10.0.2.7")


def test_the_diagram_does_not_depend_on_panel_logic():
    import ast

    from tierlab.views import diagram as D

    tree = ast.parse(Path(D.__file__).read_text())
    mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "panels" not in mods and "focus" in mods


def test_the_latency_panel_says_how_long_the_user_waits_when_the_request_fails():
    app = tl.lab_app(SEED.switch_off("database-sg-in-5432"))
    lo = app.latency.outcome
    assert lo.failed and lo.status == 504 and lo.wait_ms > 60_000
    assert "the user waits 60.1 s" in app.latency.total.value
    assert "User waits" in app.latency.chart.value and "then fails" in app.latency.chart.value


def test_every_stepper_view_after_the_block_is_not_reached_never_pass():
    lab = Lab(SEED.switch_off("web-sg-in-3000"))
    s = Stepper(lab)
    f = s.frame()
    stop = tl.STEP_IDS.index(s.pair.reached)
    assert f.iloc[stop]["verdict"] == "blocked"
    assert set(f.iloc[stop + 1:]["verdict"]) == {"not reached"}
    assert not f.iloc[stop + 1:]["reason"].str.contains("Account created").any()


def _every_text(widget) -> str:
    """Every string a widget tree shows: values, descriptions, option labels, tooltips, tab titles."""
    import ipywidgets as W

    seen: set[int] = set()
    out: list[str] = []

    def walk(w) -> None:
        if id(w) in seen:
            return
        seen.add(id(w))
        for key in w.keys:
            v = getattr(w, key, None)
            items = v if isinstance(v, (list, tuple)) else [v]
            for x in items:
                if isinstance(x, W.Widget):
                    walk(x)
                elif isinstance(x, str):
                    out.append(x)
                elif isinstance(x, tuple):
                    out.extend(str(y) for y in x)

    walk(widget)
    return "\n".join(out)


@pytest.mark.parametrize("rule", ["database-sg-in-5432", "nacl-private-db-out-100", "web-sg-in-3000",
                                  "alb-public-sg-in-443", "nacl-public-in-100"])
def test_after_a_drop_nothing_in_the_whole_app_says_account_created(rule):
    """Law: when every request is dropped, no view of the app (verdict, diagram, stepper stepped to
    its end, trace, checkpoints, latency) says "Account created" happened: the trace table may list
    that step only in a row marked "not reached". With the rule back, the end of the journey says it."""
    import re

    app = tl.lab_app(SEED.switch_off(rule))
    assert app.lab.trace.success_share == 0
    for _ in range(30):
        app.steps.next_button.click()
    text = _every_text(app)
    not_reached = re.findall(r"<tr>(?:(?!</tr>).)*tl-v-not-reached(?:(?!</tr>).)*</tr>", text, flags=re.S)
    assert any("Account created" in row for row in not_reached)  # listed, as a step never reached
    for row in not_reached:
        text = text.replace(row, "")
    assert "Account created" not in text, [line for line in text.splitlines() if "Account created" in line][:3]
    assert "The journey ends here" in app.steps.detail.value
    app.rules.toggles[rule].value = True
    for _ in range(30):
        app.steps.next_button.click()
    assert "Account created" in _every_text(app)


def test_the_flow_stepper_follows_a_server_out_through_its_nat_and_stops_where_the_packet_stops():
    """Out through the NAT and back, in packet order; on a drop, the drop is the last step shown (nothing after a
    drop is drawn as passed)."""
    from tierlab.views.panels import FlowStepper

    vpc = tl.load("seed-vpc")
    ok = FlowStepper(tl.can_reach(vpc, "node-api-1", "internet", 443))
    where = [v.where for v in ok.views()]
    assert where.index("nat-az1") < where.index("internet") and where[-1] == "nacl-private-app"
    assert {v.leg for v in ok.views()} == {"request", "reply"} and ok.step().index == 1
    assert ok.goto(99).last and ok.goto(-5).index == 0
    cut = FlowStepper(tl.can_reach(tl.load("seed"), "node-api-1", "internet", 443))
    views = cut.views()
    assert views[-1].verdict == "deny" and all(v.verdict != "deny" for v in views[:-1])
    assert "reply" not in {v.leg for v in views}
    with pytest.raises(tl.TierlabError, match="reachability answer"):
        FlowStepper(tl.journey(vpc))
