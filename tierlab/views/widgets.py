"""ipywidgets panels: views only. Their logic lives in :mod:`tierlab.views.panels` (tested without a
browser); verdicts come from ``tl.journey``; pictures from :mod:`tierlab.views.diagram`.

    app = tl.lab_app("seed")     # the diagram, the stepper, the rule panel, the trace: one VBox
    app                          # the last expression of a cell shows it

Each panel is a ``VBox`` subclass that is returned, never displayed from ``__init__``. Every
callback runs inside ``Output.capture()``, so an unexpected error reaches the learner; a
TierlabError (a bad CIDR, a clashing rule number) shows as a message beside the control.
Widgets carry stable CSS classes (``tl-rule-database-sg-in-5432``, ``tl-step-next``,
``tl-diagram`` ...) so browser tests can find them.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any, Callable

import ipywidgets as W

from .diagram import COLORS, Diagram, diagram
from ..errors import TierlabError
from ..request.journey import STEPS, Trace
from .focus import focus_pair
from .panels import Lab, RuleRow, Stepper, StepView, rule_groups
from ..network.topology import Topology

if TYPE_CHECKING:
    from ..linux.mirror import Comparison
    from ..sim.latency import LatencyModel

__all__ = ["DiagramView", "TraceView", "RulePanel", "StepperPanel", "LatencyPanel", "RealPacketsPanel", "LabApp", "lab_app", "trace_html",
           "step_html", "svg_inline", "comparison_html", "APP_CSS", "REAL_PACKETS_ENV", "A11Y_JS", "a11y_html",
           "SNAPSHOT_CSS"]

#: ``1`` in the environment turns the app's Real packets tab on (``python -m tierlab.views.serve --real-packets``).
REAL_PACKETS_ENV = "TIERLAB_APP_REAL_PACKETS"

_OK, _BAD = "#1b7f4a", "#b34700"   # text colours with >= 4.5:1 contrast on white

#: The app's style sheet (scoped to .tl-app; travels with the app, changes nothing else on the page).
APP_CSS = """
.tl-app { font-family: 'DejaVu Sans', Verdana, sans-serif; font-size: 13px; color: #1a1a1a; box-sizing: border-box; }
.tl-app *:focus, .tl-app *:focus-visible { outline: 3px solid #1a1a1a !important; outline-offset: 2px; }
.tl-app .tl-grid { display: grid; gap: 4px 10px; width: 100%;
  grid-template-columns: minmax(0, 1fr) clamp(380px, 31vw, 640px);
  grid-template-rows: auto minmax(0, 1fr); grid-template-areas: "verdict tabs" "diagram tabs"; }
.tl-app.tl-page { position: fixed; inset: 0; z-index: 100; background: white; padding: 6px 8px; overflow: hidden; }
.tl-app.tl-page .tl-grid { height: calc(100vh - 12px); }
.tl-app.tl-notebook .tl-grid { height: 760px; }
.tl-app .tl-summary { grid-area: verdict; min-width: 0; }
.tl-app .tl-diagram-box { grid-area: diagram; min-width: 0; min-height: 0; overflow: auto; }
.tl-app .tl-tabs { grid-area: tabs; min-width: 0; min-height: 0; display: flex; flex-direction: column; }
.tl-app .tl-tabs > .lm-TabBar, .tl-app .tl-tabs > .p-TabBar { flex: none; }
.tl-app .tl-tabs > .lm-StackedPanel, .tl-app .tl-tabs > .p-StackedPanel, .tl-app .tl-tabs .widget-tab-contents {
  flex: 1 1 auto; min-height: 0; overflow: auto; }
.tl-app .tl-verdict { font-weight: bold; font-size: 14px; padding: 4px 8px; border-radius: 4px; line-height: 1.35; }
.tl-app .tl-verdict.tl-ok { background: #e3f4ea; color: #0f5132; border-left: 6px solid #009e73; }
.tl-app .tl-verdict.tl-bad { background: #fdeee4; color: #7a2e00; border-left: 6px solid #d55e00; }
.tl-app .tl-diagram svg { display: block; }
.tl-app .tl-diagram [data-open] { cursor: pointer; }
.tl-app .tl-diagram [data-open]:hover polygon, .tl-app .tl-diagram [data-open]:hover path { stroke-width: 2.5; }
.tl-app .tl-rule { justify-content: flex-start; text-align: left; font-family: 'DejaVu Sans Mono', monospace;
  white-space: normal; height: auto; min-height: 28px; line-height: 1.3; padding: 3px 8px; }
.tl-app .tl-rule.mod-active { background: #0072b2; color: white; }
.tl-app .tl-rule:not(.mod-active) { background: white; color: #5a5a5a; text-decoration: line-through;
  border: 1px dashed #8c8c8c; }
.tl-app table.tl-table { border-collapse: collapse; width: 100%; font-size: 12px; }
.tl-app table.tl-table th { text-align: left; background: #f2f2f2; padding: 3px 5px; position: sticky; top: 0; }
.tl-app table.tl-table td { text-align: left; vertical-align: top; padding: 3px 5px; border-top: 1px solid #e5e5e5; }
.tl-app .tl-v-pass { color: #0f5132; font-weight: bold; }
.tl-app .tl-v-blocked, .tl-app .tl-v-refused { color: #ffffff; background: #b34700; font-weight: bold; }
.tl-app .tl-v-not-reached { color: #5a5a5a; font-style: italic; }
.tl-app details > summary { cursor: pointer; }
.tl-app .tl-end { margin-top: 6px; padding: 6px 8px; border: 2px solid #1a1a1a; border-radius: 4px; }
.tl-app .widget-label, .tl-app .widget-dropdown > select { max-width: none; }
"""


#: The app page's picture before its widgets are live (:meth:`LabApp.snapshot`): the app's own
#: rules for its own class, fixed over the window above the page until the live app replaces it.
SNAPSHOT_CSS = APP_CSS.replace(".tl-app", ".tl-snapshot") + """
.tl-snapshot { position: fixed; inset: 0; z-index: 101; background: white; padding: 6px 8px; overflow: hidden; }
.tl-snapshot .tl-grid { height: calc(100vh - 12px); }
.tl-snapshot .tl-diagram { width: 100%; height: 100%; }
.tl-snapshot .tl-wait { grid-area: tabs; padding: 10px; color: #4a4a4a; border-left: 1px solid #e5e5e5; }
"""


#: Accessible names and states that ipywidgets does not set: ``aria-pressed`` on toggle buttons
#: (ipywidgets marks a pressed one only with the class ``mod-active``) and names for the icon-only
#: Play controls. It travels with the app (see :func:`a11y_html`), so JupyterLab and the app page get
#: the same; it watches only the app's own subtree and writes only attributes other than ``class``,
#: so it never triggers itself.
A11Y_JS = """(function (img) {
  var NAMES = {"fa-play": "Play", "fa-pause": "Pause", "fa-stop": "Stop", "fa-retweet": "Loop", "fa-repeat": "Loop"};
  function fix(root) {
    root.querySelectorAll('button[class*="toggle-button"], [class*="toggle-buttons"] button').forEach(function (b) {
      var v = b.classList.contains("mod-active") ? "true" : "false";
      if (b.getAttribute("aria-pressed") !== v) b.setAttribute("aria-pressed", v);
    });
    root.querySelectorAll('[class*="widget-play"] button').forEach(function (b) {
      var i = b.querySelector("i"), name = "";
      if (i) for (var k in NAMES) if (i.classList.contains(k)) name = NAMES[k];
      if (name && b.getAttribute("aria-label") !== name) { b.setAttribute("aria-label", name); b.title = name; }
    });
  }
  function attach(tries) {
    var root = img.closest(".tl-app");
    if (!root) { if (tries < 200) setTimeout(function () { attach(tries + 1); }, 50); return; }
    if (root.__tlA11y) return;
    root.__tlA11y = true;
    fix(root);
    new MutationObserver(function () { fix(root); }).observe(root,
      {subtree: true, childList: true, attributes: true, attributeFilter: ["class"]});
  }
  attach(0);
})(this)"""


def a11y_html() -> str:
    """HTML that runs :data:`A11Y_JS` where it is shown, inside an element of class ``tl-app``.

    An HTML widget's ``<script>`` never runs (the value is set as innerHTML), but an element's event
    handler does, in JupyterLab and in Voila alike: an image that cannot load calls it once."""
    js = html.escape(" ".join(line.strip() for line in A11Y_JS.splitlines()), quote=True)
    return f'<img src="data:," alt="" hidden onerror="{js}">'


def svg_inline(svg: str, opens: dict[str, str] | None = None, *, min_scale: float = 0.0, fill: bool = False) -> str:
    """SVG text ready to sit inside HTML: no XML prolog or doctype, shrunk to the output's width
    when the output is narrower than the drawing (never enlarged).

    ``fill``: fit the whole box (width and height, aspect kept) instead of the width;
    ``min_scale``: never below this share of the drawing's own size (legibility; the box scrolls
    instead). ``opens`` makes elements clickable and keyboard-reachable: a click or Enter on one
    writes the component's name to the app's hidden ``tl-open-bus`` text box."""
    svg = re.sub(r"^.*?(?=<svg)", "", svg, count=1, flags=re.S)
    m = re.search(r'<svg\s+width="([\d.]+)pt"\s+height="([\d.]+)pt"', svg)
    if m:
        w_px, h_px = float(m.group(1)) * 4 / 3, float(m.group(2)) * 4 / 3
        if fill:
            style = (f"width:100%;height:100%;min-width:{w_px * min_scale:.0f}px;"
                     f"min-height:{h_px * min_scale:.0f}px")  # grows to the box (1920 px wide screens)
        else:
            style = f"width:100%;max-width:{w_px:.0f}px;height:auto;min-width:{w_px * min_scale:.0f}px"
        svg = svg[:m.start()] + f'<svg style="{style}" preserveAspectRatio="xMidYMin meet"' + svg[m.end():]
    for eid, comp in (opens or {}).items():
        label = html.escape(f"open the rules of {comp}", quote=True)

        def opener(g: re.Match[str], eid: str = eid, c: str = comp, lab: str = label) -> str:
            return (f'<g id="{eid}" class="{g.group(1)} tl_opens" data-open="{c}" '
                    f'tabindex="0" role="button" aria-label="{lab}"')

        svg = re.sub(rf'<g id="{re.escape(eid)}" class="([^"]*)"', opener, svg, count=1)
    handler = ""
    if opens:
        js = ("var g=event.target.closest('[data-open]');if(!g||(event.type==='keydown'&&event.key!=='Enter'&&"
              "event.key!==' '))return;event.preventDefault();var a=this.closest('.tl-app');"
              "var i=a&&a.querySelector('.tl-open-bus input');if(!i)return;"
              "i.value=g.getAttribute('data-open')+'|'+Date.now();i.dispatchEvent(new Event('input',{bubbles:true}));"
              "i.dispatchEvent(new Event('change',{bubbles:true}));")
        js = html.escape(js, quote=True)
        handler = f' onclick="{js}" onkeydown="{js}"'
    return f'<div class="tl-diagram-svg" style="max-width:100%;height:100%"{handler}>{svg}</div>'


def _styled(df: Any, *, verdict: str | None = None, classes: str = "tl-table") -> str:
    """A frame as an HTML table through pandas' Styler (no global options): no index, a CSS class
    per verdict value, empty strings for missing values."""
    df = df.astype(object).where(df.notna(), "")
    st = df.style.hide(axis="index").set_table_attributes(f'class="{classes}"')
    if verdict is not None and verdict in df.columns:
        st = st.set_td_classes(df.apply(
            lambda col: [f"tl-v-{str(v).replace(' ', '-')}" if col.name == verdict else "" for v in col]))
    return st.to_html()


def trace_html(trace: Trace, pair: str | None = None) -> str:
    """The trace: the blocking points (grouped, with how many pairs each breaks), then the steps of
    one pair, coloured by verdict, details folded away; steps after a block are "not reached"."""
    from .panels import block_rows, step_rows, verdict_line

    ok, line = verdict_line(trace, pair)
    parts = [f'<div class="tl-trace-summary tl-verdict {"tl-ok" if ok else "tl-bad"}">{html.escape(line)}</div>']
    if trace.blocks:
        blocks = block_rows(trace)
        parts.append(f"<h4>Where it is blocked ({len(blocks)})</h4>")
        parts.append(_styled(blocks[["where", "rule", "switched off", "pairs"]], classes="tl-table tl-blocks"))
        parts.append("<details><summary>why, in full</summary><ul>" + "".join(
            f"<li><b>{html.escape(r.where)}</b>: {html.escape(r.why)}</li>" for r in blocks.itertuples())
                     + "</ul></details>")
    p = focus_pair(trace, pair)
    if p is not None:
        rows = step_rows(trace, p)
        parts.append(f"<h4>The journey of pair {html.escape(p.name)}</h4>")
        parts.append(_styled(rows[["#", "seed", "step", "verdict"]], verdict="verdict", classes="tl-table tl-steps"))
        parts.append("<details><summary>the rule and the reason at every step</summary>"
                     + _styled(rows[["#", "rule", "why"]], classes="tl-table tl-steps-detail") + "</details>")
    return "".join(parts)


def step_html(v: StepView, *, last: int | None = None, outcome: str = "") -> str:
    """One stepper step as HTML: which step (n of 22), the packet, the checkpoint, the rule, the
    verdict; at the last step reached, where the journey ends and what the browser gets."""
    color = {"pass": _OK, "blocked": _BAD, "refused": _BAD}.get(v.verdict, "#4a4a4a")
    seed = f"seed step {v.step.seed_step}" if v.step.seed_step else "not in the seed's list"
    lock = "<b>encrypted</b>" if v.encrypted else "<b>not encrypted</b>"
    rows = [
        ("packet", f"{html.escape(v.protocol)} {html.escape(v.src_address)} &rarr; {html.escape(v.dst_address)}"),
        ("on the wire", f"{lock} ({html.escape(v.encryption)})"),
        ("leg", f"{v.leg} ({html.escape(v.src)} &rarr; {html.escape(v.dst)})"),
        ("checkpoint", html.escape(v.checkpoint)),
        ("rule", html.escape(v.rule) or "&mdash;"),
        ("verdict", f'<b style="color:{color}">{html.escape(v.verdict)}</b>'),
        ("why", html.escape(v.reason)),
    ]
    body = "".join(f"<tr><th style='text-align:left;padding-right:8px;vertical-align:top'>{k}</th><td>{val}</td></tr>"
                   for k, val in rows)
    end = ""
    if last is not None and v.index >= last:
        if v.verdict in ("blocked", "refused"):
            end = (f'<div class="tl-end tl-end-blocked" role="status"><b>&#9632; The journey ends here</b> '
                   f"(step {v.index + 1} of {len(STEPS)}): the request goes no further. "
                   f"The browser gets: <b>{html.escape(outcome)}</b>.</div>")
        else:
            end = (f'<div class="tl-end tl-end-done" role="status"><b>&#9632; End of the journey</b>: '
                   f"{html.escape(outcome)}.</div>")
    return (f'<div class="tl-step" data-step="{v.step.id}"><b>Step {v.index + 1} of {len(STEPS)} &middot; '
            f"{html.escape(v.step.title)}</b> <span style='color:#4a4a4a'>({v.step.id}; {seed}; "
            f"pair {html.escape(v.pair)})</span><table>{body}</table>{end}</div>")


def _message(exc: TierlabError) -> str:
    hint = f"<br><i>hint: {html.escape(exc.hint)}</i>" if exc.hint else ""
    return f'<span style="color:{_BAD}">{html.escape(exc.message)}</span>{hint}'


class _Panel(W.VBox):
    """A VBox with an Output that catches what callbacks raise."""

    def __init__(self, children: list[W.Widget] | tuple = (), out: W.Output | None = None, **kw: Any) -> None:
        self.own_out = out is None  # a shared Output is shown once, by whoever owns it
        self.out = out or W.Output(layout=W.Layout(max_height="12em", overflow="auto"))
        self.out.add_class("tl-log")
        super().__init__(children=list(children), **kw)

    def __repr__(self) -> str:  # the default repr would print every child's value (the whole SVG)
        return f"<{type(self).__name__}>"

    def _guard(self, fn: Callable[..., object]) -> Callable[..., None]:
        """Run ``fn`` inside ``Output.capture()``: an unexpected error shows in the panel."""

        @self.out.capture()
        def run(*args: Any, **kw: Any) -> None:
            fn(*args, **kw)

        return run


# ----------------------------------------------------------------------------- diagram and trace


class DiagramView(W.VBox):
    """The architecture diagram as inline SVG (class ``tl-diagram``); in the app, clicking a
    component (or Enter on it) opens its rules."""

    def __init__(self, *, fill: bool = False, min_scale: float = 0.0, clickable: bool = False) -> None:
        self.html = W.HTML(layout=W.Layout(width="100%", height="100%" if fill else "auto"))
        self.html.add_class("tl-diagram")
        self.diagram: Diagram | None = None
        self.fill, self.min_scale, self.clickable = fill, min_scale, clickable
        super().__init__(children=[self.html], layout=W.Layout(width="100%", height="100%" if fill else "auto"))

    def __repr__(self) -> str:
        return f"<DiagramView {self.diagram!r}>"

    def show(self, d: Diagram) -> None:
        self.diagram = d
        self.html.value = svg_inline(d.svg(), d.opens if self.clickable else None, min_scale=self.min_scale,
                                     fill=self.fill)


class TraceView(W.VBox):
    """The trace table (class ``tl-trace-table``)."""

    def __init__(self) -> None:
        self.html = W.HTML()
        self.html.add_class("tl-trace-table")
        super().__init__(children=[self.html])

    def __repr__(self) -> str:
        return "<TraceView>"

    def show(self, trace: Trace, pair: str | None = None) -> None:
        self.html.value = trace_html(trace, pair)


# ----------------------------------------------------------------------------- rules


class RulePanel(_Panel):
    """Every rule of every SG and NACL, grouped by component: a toggle each, an edit form, reset."""

    def __init__(self, lab: Lab, out: W.Output | None = None) -> None:
        super().__init__(out=out)
        self.lab = lab
        self.toggles: dict[str, W.ToggleButton] = {}
        self._syncing = False
        self._rule_layout = W.Layout(width="auto", max_width="100%", margin="0 0 3px 0")
        from ipywidgets.widgets.widget_bool import ToggleButtonStyle

        self._rule_style = ToggleButtonStyle()
        self.list_box = W.VBox()
        self.list_box.add_class("tl-rule-list")
        self.component = W.Dropdown(description="show", layout=W.Layout(width="auto", min_width="16em"))
        self.component.add_class("tl-rule-filter")
        self.component.observe(self._guard(lambda _ch: self._show()), names="value")
        self.reset_button = W.Button(description="Reset to loaded", icon="undo",
                                     tooltip="back to the topology as loaded")
        self.reset_button.add_class("tl-reset")
        self.reset_button.on_click(self._guard(self._on_reset))
        # the edit form
        self.pick = W.Dropdown(description="rule", layout=W.Layout(width="auto", min_width="20em"))
        self.pick.add_class("tl-edit-rule")
        self.f_number = W.Text(description="number", placeholder="(NACL)", layout=W.Layout(width="11em"))
        self.f_protocol = W.Dropdown(description="protocol", options=["tcp", "udp", "icmp", "all"],
                                     layout=W.Layout(width="11em"))
        self.f_ports = W.Text(description="ports", placeholder="443 or 1024-65535", layout=W.Layout(width="14em"))
        self.f_peer = W.Text(description="peer", placeholder="CIDR or security group", layout=W.Layout(width="16em"))
        self.f_action = W.Dropdown(description="action", options=["allow", "deny"], layout=W.Layout(width="11em"))
        for w, cls in ((self.f_number, "tl-edit-number"), (self.f_protocol, "tl-edit-protocol"),
                       (self.f_ports, "tl-edit-ports"), (self.f_peer, "tl-edit-peer"),
                       (self.f_action, "tl-edit-action")):
            w.add_class(cls)
            w.style.description_width = "4.5em"
        for w in (self.f_number, self.f_ports, self.f_peer):
            w.continuous_update = False
        self.apply_button = W.Button(description="Apply", button_style="primary")
        self.apply_button.add_class("tl-edit-apply")
        self.message = W.HTML()
        self.message.add_class("tl-edit-message")
        self.pick.observe(self._guard(self._on_pick), names="value")
        for w in (self.f_number, self.f_protocol, self.f_ports, self.f_peer, self.f_action):
            w.observe(self._guard(self._on_field), names="value")
        self.apply_button.on_click(self._guard(self._on_apply))
        form = W.VBox([
            W.HTML("<b>Edit a rule</b> (changes make a new what-if topology; <i>Reset</i> goes back)"),
            self.pick, W.HBox([self.f_number, self.f_protocol], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.f_ports, self.f_peer, self.f_action, self.apply_button], layout=W.Layout(flex_flow="row wrap")),
            self.message,
        ])
        form.add_class("tl-edit-form")
        self.children = [W.HTML("<b>Switch rules on and off</b> (or click a component on the diagram)"),
                         W.HBox([self.component, self.reset_button]), self.list_box, form] + ([self.out] if self.own_out else [])
        self._build()
        lab.on_change(self._guard(self._sync))

    # -- the rule list
    def _build(self) -> None:
        self.toggles = {}
        self._rows: dict[str, list[W.Widget]] = {}
        for comp, members in rule_groups(self.lab.topology).items():
            kind = "network ACL" if comp in {n.name for n in self.lab.topology.nacls} else "security group"
            head = W.HTML(f"<b>{html.escape(comp)}</b> <span style='color:#4a4a4a'>({kind})</span>")
            head.add_class(f"tl-component-{comp}")
            rows: list[W.Widget] = [head]
            if not members:
                rows.append(W.HTML("<i>no rules</i>"))
            for r in members:
                rows.append(self._toggle(r))
            self._rows[comp] = rows
        comps = list(self._rows)
        keep = self.component.value if self.component.value in comps else "all"
        self._syncing = True
        try:
            self.component.options = [("every component", "all")] + [(c, c) for c in comps]
            self.component.value = keep
        finally:
            self._syncing = False
        self._show()
        ids = [r.id for r in self.lab.topology.rules()]
        keep = self.pick.value if self.pick.value in ids else (ids[0] if ids else None)
        self.pick.options = ids
        self.pick.value = keep
        if keep:
            self._fill(keep)

    def _show(self) -> None:
        chosen = self.component.value
        self.list_box.children = [w for c, rows in self._rows.items() if chosen in ("all", c) for w in rows]

    def open_rules(self, component: str) -> None:
        """Show only ``component``'s rules (a click on the diagram does this); ``"all"`` shows every rule."""
        from .panels import component_of

        self.component.value = "all" if component == "all" else component_of(self.lab.topology, component)

    def _toggle(self, r: RuleRow) -> W.Widget:
        cp = f" [checkpoint {r.seed_checkpoint}]" if r.seed_checkpoint else ""
        # one shared Layout and Style for every toggle: a page with fewer widget models is interactive sooner
        t = W.ToggleButton(value=r.enabled, description=f"{r.direction[:3]} {r.text}{cp} · {r.rule_id}",
                           tooltip=f"{r.rule_id}: {r.description} (pressed = on)", icon="check" if r.enabled else "times",
                           layout=self._rule_layout, style=self._rule_style)
        t.add_class(r.css_class)
        t.add_class("tl-rule")
        t.observe(self._guard(lambda ch, rid=r.rule_id: self._on_toggle(rid, ch["new"])), names="value")
        self.toggles[r.rule_id] = t
        return t

    def _on_reset(self, _b: W.Button) -> None:
        """Back to the topology as loaded: the edit form shows the picked rule as loaded, no stale message."""
        self.lab.reset()
        if self.pick.value:
            self._fill(self.pick.value)

    def _on_toggle(self, rule_id: str, on: bool) -> None:
        if self._syncing:
            return
        try:
            self.lab.toggle(rule_id, on)
        except TierlabError as exc:
            self.message.value = _message(exc)

    def _sync(self, lab: Lab) -> None:
        """The lab changed: update toggles in place, or rebuild when rule ids changed."""
        ids = [r.id for r in lab.topology.rules()]
        self._syncing = True
        try:
            if sorted(ids) != sorted(self.toggles):
                self._build()
                return
            for r in lab.topology.rules():
                t = self.toggles[r.id]
                if t.value != r.enabled:
                    t.value = r.enabled
                t.icon = "check" if r.enabled else "times"
        finally:
            self._syncing = False

    # -- the edit form
    def _fill(self, rule_id: str) -> None:
        r = self.lab.topology.rule(rule_id)
        from ..network.rules import NaclRule

        self._syncing = True
        try:
            nacl = isinstance(r, NaclRule)
            self.f_number.value = str(r.number) if nacl else ""  # type: ignore[union-attr]
            self.f_number.disabled = not nacl
            self.f_protocol.value = r.protocol
            self.f_ports.value = str(r.ports)
            self.f_peer.value = str(r.cidr) if nacl else r.peer  # type: ignore[union-attr]
            self.f_action.value = r.action if nacl else "allow"  # type: ignore[union-attr]
            self.f_action.disabled = not nacl
        finally:
            self._syncing = False
        self.message.value = ""

    def _form(self) -> dict[str, object]:
        return {"number": self.f_number.value if not self.f_number.disabled else None,
                "protocol": self.f_protocol.value, "ports": self.f_ports.value, "peer": self.f_peer.value,
                "action": self.f_action.value if not self.f_action.disabled else None}

    def _on_pick(self, change: dict) -> None:
        if change["new"] and not self._syncing:
            self._fill(change["new"])

    def _on_field(self, _change: dict) -> None:
        """Inline validation as the learner types (nothing is applied until Apply)."""
        if self._syncing or not self.pick.value:
            return
        from .panels import parse_edit

        try:
            changes = parse_edit(self.lab.topology, self.pick.value, **self._form())
            self.lab.topology.change_rule(self.pick.value, **changes) if changes else None
        except TierlabError as exc:
            self.message.value = _message(exc)
            return
        self.message.value = "<span style='color:#455a64'>ok: press Apply</span>" if changes else ""

    def _on_apply(self, _b: W.Button) -> None:
        if not self.pick.value:
            return
        res = self.lab.edit(self.pick.value, **self._form())
        if res.ok:
            if res.rule_id in self.pick.options:
                self.pick.value = res.rule_id
            self.message.value = f"<span style='color:{_OK}'>{html.escape(res.message)}</span>"
        else:
            self.message.value = _message(TierlabError(res.message, res.hint))


# ----------------------------------------------------------------------------- the journey stepper


class StepperPanel(_Panel):
    """Play, Step, Back, Reset and speed over ``tl.STEPS`` for one (ALB node, server) pair.

    The slider counts steps from 1, as the header does ("Step 17 of 22"); the journey ends where
    the packet stops: past a block there is nothing to step to, and the last step says so."""

    def __init__(self, stepper: Stepper, out: W.Output | None = None) -> None:
        super().__init__(out=out)
        self.stepper = stepper
        n = len(STEPS)
        self.play = W.Play(value=1, min=1, max=n, step=1, interval=1000, description="Play the journey",
                           tooltip="Play the journey, one step a second", show_repeat=False)
        self.play.add_class("tl-play")
        self.slider = W.IntSlider(value=1, min=1, max=n, description="step", readout=True,
                                  layout=W.Layout(width="100%", max_width="26em"))
        self.slider.add_class("tl-step-slider")
        W.link((self.play, "value"), (self.slider, "value"))  # kernel-side: a page built after the cells ran keeps the step
        self.back_button = W.Button(description="Back", icon="step-backward", tooltip="previous step",
                                    layout=W.Layout(width="6.5em"))
        self.next_button = W.Button(description="Step", icon="step-forward", tooltip="next step",
                                    layout=W.Layout(width="6.5em"))
        self.reset_button = W.Button(description="Reset", icon="fast-backward", tooltip="back to step 1",
                                     layout=W.Layout(width="6.5em"))
        self.back_button.add_class("tl-step-back")
        self.next_button.add_class("tl-step-next")
        self.reset_button.add_class("tl-step-reset")
        self.speed = W.FloatSlider(value=1.0, min=0.2, max=3.0, step=0.1, description="s / step",
                                   layout=W.Layout(width="100%", max_width="20em"))
        self.speed.add_class("tl-speed")
        self.pair = W.Dropdown(description="pair", layout=W.Layout(width="100%"))
        self.pair.style.description_width = "3em"
        self.pair.add_class("tl-pair")
        self.detail = W.HTML()
        self.detail.add_class("tl-step-detail")
        self.back_button.on_click(self._guard(lambda _b: self._goto(self.stepper.index - 1)))
        self.next_button.on_click(self._guard(lambda _b: self._goto(self.stepper.index + 1)))
        self.reset_button.on_click(self._guard(self._reset))
        self.slider.observe(self._guard(lambda ch: self._moved(ch["new"] - 1)), names="value")
        self.speed.observe(self._guard(lambda ch: setattr(self.play, "interval", int(ch["new"] * 1000))),
                           names="value")
        self.pair.observe(self._guard(self._on_pair), names="value")
        self._listeners: list[Callable[[], None]] = []
        self._refreshing = False
        self.children = [
            W.HBox([self.play, self.back_button, self.next_button, self.reset_button],
                   layout=W.Layout(flex_flow="row wrap")),
            self.slider, self.speed, self.pair, self.detail,
        ] + ([self.out] if self.own_out else [])
        self.refresh()

    def on_move(self, fn: Callable[[], None]) -> None:
        self._listeners.append(fn)

    def _goto(self, index: int) -> None:
        self.slider.value = max(1, min(self.stepper.last + 1, index + 1))  # observe does the rest

    def _reset(self, _b: W.Button) -> None:
        self.play.playing = False
        self._goto(0)

    def _moved(self, index: int) -> None:
        last = self.stepper.last
        if index > last:  # past the block there is nothing to show: stay at the block
            self.play.playing = False
            self.slider.value = last + 1
            return
        self.stepper.goto(index)
        self._show()
        for fn in self._listeners:
            fn()

    def _show(self) -> None:
        from .panels import outcome

        st = self.stepper
        self.next_button.disabled = st.ended
        self.back_button.disabled = st.index <= 0
        if st.ended:
            self.play.playing = False
        self.detail.value = step_html(st.current, last=st.last, outcome=outcome(st.pair))

    def _on_pair(self, change: dict) -> None:
        if self._refreshing:
            return
        new = None if change["new"] in (None, "auto") else change["new"]
        if new != self.stepper.pair_name:
            self.stepper.pair_name = new
            self._clamp()
            self._moved(self.stepper.index)

    def _clamp(self) -> None:
        """The slider reaches as far as the packet does (the block, or the end)."""
        last = self.stepper.last + 1
        self.play.max = last
        if self.slider.value > last:
            self.slider.value = last
        self.slider.max = last
        if self.stepper.index > self.stepper.last:
            self.stepper.goto(self.stepper.last)

    def refresh(self) -> None:
        """The trace changed: new pair labels, the same step re-read (or the block, if it is now earlier)."""
        trace = self.stepper.lab.trace
        opts = [("auto: the first blocked pair, else the first", "auto")] + [
            (f"{p.name}: {'ok' if p.ok else 'blocked'}", p.name) for p in trace.pairs]
        self._refreshing = True
        try:
            if list(self.pair.options) != opts:  # each change of options is a round of messages: only when needed
                self.pair.options = opts
            self.pair.value = self.stepper.pair_name or "auto"
            self.slider.max = len(STEPS)
            self.play.max = len(STEPS)
            self._clamp()
        finally:
            self._refreshing = False
        self._show()


# ----------------------------------------------------------------------------- latency


def _knob_widget(name: str, spec: dict) -> W.Widget:
    """A knob's control, labelled in words; pickers carry string values (see ``panels.knob_options``)."""
    from ..sim.latency import PhysicsParams
    from .panels import KNOB_LABELS, knob_key, knob_options

    desc = spec.get("description", name)
    label = KNOB_LABELS.get(name, name)
    start = getattr(PhysicsParams(), name)  # the model's own default
    # layout and style given at construction (a replaced default would stay behind as a model the
    # page still fetches); a slider's label gets its whole width, a picker stays inside the panel
    if "options" in spec:
        opts = knob_options(name)
        if len(opts) <= 3:
            w = W.ToggleButtons(options=opts, value=knob_key(name, start), description=label,
                                tooltips=[desc] * len(opts), layout=W.Layout(width="100%"),
                                style={"button_width": "auto", "description_width": "12em"})
        else:
            w = W.Dropdown(options=opts, value=knob_key(name, start), description=label,
                           layout=W.Layout(width="calc(100% - 8px)"), style={"description_width": "12em"})
    else:
        w = W.FloatSlider(value=start, min=spec["min"], max=spec["max"], step=spec.get("step", 1.0),
                          description=label, continuous_update=False, readout_format=".0f",
                          layout=W.Layout(width="100%"), style={"description_width": "initial"})
    w.tooltip = desc
    w.add_class(f"tl-latency-{name.replace('_', '-')}")
    return w


def _knob_hint(w: W.Widget) -> str:
    if hasattr(w, "options"):
        return "one of " + ", ".join(repr(v) for _label, v in w.options)
    return f"a number from {w.min} to {w.max}"


class LatencyPanel(_Panel):
    """Sliders and pickers for the latency model; the waterfall (SVG) and the total redraw on each
    change, with the seed's 300-500 ms claim drawn as a band. When the journey is blocked it says
    the request fails, and how long the user waits, instead of a total."""

    def __init__(self, lab: Lab, out: W.Output | None = None) -> None:
        from .panels import latency_knobs

        super().__init__(out=out)
        self.lab = lab
        self.preset = W.ToggleButtons(options=[("physics", "physics"), ("the seed's budget", "seed")],
                                      value="physics", description="Model", style={"button_width": "auto"})
        self.preset.style.description_width = "12em"
        self.preset.add_class("tl-latency-preset")
        self.knobs = {k: _knob_widget(k, spec) for k, spec in latency_knobs().items()}
        self.total = W.HTML()
        self.total.add_class("tl-latency-total")
        self.chart = W.HTML(layout=W.Layout(width="100%"))
        self.chart.add_class("tl-latency-chart")
        self.model: LatencyModel | None = None
        self.verdict = ""
        self._setting = False  # set() changes several knobs, then redraws once
        for w in [self.preset, *self.knobs.values()]:
            w.observe(self._guard(lambda _ch: None if self._setting else self.redraw()), names="value")
        lab.on_change(self._guard(self._lab_changed))
        self._ok = lab.trace.ok
        self.children = [self.total, self.chart, self.preset, *self.knobs.values()] + ([self.out] if self.own_out else [])
        self.redraw()

    def settings(self) -> dict[str, object]:
        """The knobs as the model takes them (``None`` for "as the topology says", booleans for on/off)."""
        from .panels import knob_value

        return {k: (knob_value(k, w.value) if hasattr(w, "options") else w.value) for k, w in self.knobs.items()}

    def set(self, **knobs: object) -> None:
        """Move several knobs at once, as a learner would, then redraw once: ``set(rtt_ms=120.0, pool=False)``."""
        from .panels import knob_key

        unknown = sorted(set(knobs) - set(self.knobs))
        if unknown:
            raise TierlabError(f"no latency knob {unknown[0]!r}", "knobs: " + ", ".join(self.knobs))
        keys: dict[str, object] = {}
        for name, value in knobs.items():  # check every value first: nothing is half-set
            w = self.knobs[name]
            key: object
            if hasattr(w, "options"):
                key = knob_key(name, value)
                ok = key in [v for _label, v in w.options] and (isinstance(value, (str, bool)) or value is None)
            else:
                key = value
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and w.min <= value <= w.max
            if not ok:
                raise TierlabError(f"{value!r} is not a value of the latency knob {name!r}", _knob_hint(w))
            keys[name] = key
        self._setting = True
        try:
            for name, key in keys.items():
                self.knobs[name].value = key
        finally:
            self._setting = False
        self.redraw()

    def _lab_changed(self, lab: Lab) -> None:
        """Rule toggles and edits do not change what the latency model reads (TTL, Multi-AZ, AZs):
        redraw only when those facts change, or when the request starts or stops failing."""
        from ..sim.latency import TopologyFacts

        if self.model is None or TopologyFacts.of(lab.topology) != self.model.facts:
            self.redraw()
        elif lab.trace.ok != self._ok or not lab.trace.ok:  # the same model, a different outcome
            self._paint()

    def redraw(self) -> None:
        from .charts import waterfall_svg
        from .panels import latency_for, latency_verdict, outcome, reached_index

        preset = self.preset.value
        for w in self.knobs.values():
            w.disabled = preset == "seed"
        try:
            model = latency_for(self.lab.topology, preset, **self.settings())
        except TierlabError as exc:
            self.total.value = _message(exc)
            return
        self.model = model
        self._paint()

    def _paint(self) -> None:
        """The headline and the waterfall of the current model on the current journey: a total when
        the request gets through; when it fails, what the browser gets and how long the user waits."""
        from ..sim.outcome import LatencyOutcome
        from .charts import waterfall_svg
        from .panels import latency_verdict

        model = self.model
        assert model is not None, "redraw() sets the model before it paints"
        trace = self.lab.trace
        self._ok = trace.ok
        self.outcome = LatencyOutcome.of(trace.outcomes, {st.step.id: st.mean_ms for st in model.steps})
        lo = self.outcome
        label = f"<b>{html.escape(model.label())}</b>"
        if not lo.failures:
            self.verdict = latency_verdict(model.total_ms)
            self.total.value = f"{label}: {html.escape(self.verdict)}"
            self.chart.value = waterfall_svg(model, title=f"{model.total_ms:.0f} ms from the click to 'Account created'")
            return
        self.verdict = lo.headline(model.total_ms)
        self.total.value = f'{label}: <b style="color:{_BAD}">{html.escape(self.verdict)}</b>'
        first = lo.failures[0]
        if lo.failed:
            title = f"Fails: {first.words}; the user waits {first.wait_ms / 1000:.1f} s"
            self.chart.value = waterfall_svg(model, title=title, stop_step=first.reached, wait_ms=first.wait_ms,
                                             band_ms=None)
        else:
            self.chart.value = waterfall_svg(
                model, title=f"{lo.success_share * 100:.0f}% succeed in {model.total_ms:.0f} ms; "
                             f"{(1 - lo.success_share) * 100:.0f}% fail ({first.words})")


# ----------------------------------------------------------------------------- real packets


def comparison_html(c: "Comparison") -> str:
    """A :class:`tierlab.linux.Comparison` as a table: what, model says, Linux says, agree."""
    head = "<tr><th>what</th><th>model says</th><th>Linux says</th><th></th></tr>"
    body = []
    for r in c.rows:
        mark = {True: "&#10004; agree", False: "&#10006; DISAGREE", None: "n/a"}[r.agree]
        cls = {True: "tl-v-pass", False: "tl-v-blocked", None: "tl-v-not-reached"}[r.agree]
        note = f"<br><small>{html.escape(r.note)}</small>" if r.note else ""
        body.append(f"<tr><td>{html.escape(r.what)}{note}</td><td>{html.escape(r.model)}</td>"
                    f"<td>{html.escape(r.linux)}</td><td class='{cls}'>{mark}</td></tr>")
    dropped = ", ".join(f"<code>{html.escape(r)}</code> ({n} packet{'s' if n != 1 else ''})" for r, n in c.drops)
    foot = (f"<div class='tl-real-drops'>Dropped by (nftables counters that rose during these packets): {dropped}</div>"
            if dropped else "<div class='tl-real-drops'>No nftables rule dropped a packet during these packets.</div>")
    return f"<table class='tl-table tl-real-table'>{head}{''.join(body)}</table>{foot}"


class RealPacketsPanel(_Panel):
    """The app's what-ifs on real packets: the same rules in a namespaced copy of the VPC
    (:class:`tierlab.linux.Mirror`), and the evaluator's verdict beside what Linux did.

    Built when first shown (a few seconds: PostgreSQL, the API servers, the ALB nodes); from then
    on every change of the Lab rewrites the kernel's rules at once, and :meth:`check` sends real
    packets. Where the machine cannot (not Linux, not root), it says why in one line.
    """

    def __init__(self, lab: Lab, out: W.Output | None = None, *, pair: Callable[[], str | None] = lambda: None) -> None:
        super().__init__(out=out)
        from ..linux.mirror import unavailable

        self.lab = lab
        self.pair = pair
        self.mirror: Any = None
        self.comparison: Any = None
        self.reason: str | None = unavailable()
        self.status = W.HTML()
        self.status.add_class("tl-real-status")
        self.table = W.HTML()
        self.table.add_class("tl-real-table-box")
        self.again = W.Button(description="Send again", icon="refresh", disabled=self.reason is not None,
                              tooltip="probe the hops and send a real Create Account now")
        self.again.add_class("tl-real-again")
        self.again.on_click(self._guard(lambda _b: self.check()))
        intro = W.HTML("<b>Model says / Linux says.</b> Every what-if here is also applied to a copy of this VPC "
                       "in Linux network namespaces (nftables for the security groups and NACLs), and real packets "
                       "go through it: one SYN per hop of the followed pair and a real Create Account.")
        self.children = [intro, self.status, self.again, self.table] + ([self.out] if self.own_out else [])
        if self.reason:
            self.status.value = f"<span class='tl-real-off'>{html.escape(self.reason)}</span>"

    def start(self) -> bool:
        """Build the namespaced copy (once); False, with the reason shown, where it cannot be built."""
        if self.mirror is not None:
            return True
        if self.reason:
            return False
        from ..linux.mirror import Mirror

        self.status.value = "building the VPC in Linux namespaces (a few seconds) ..."
        try:
            self.mirror = Mirror(self.lab.topology)
        except TierlabError as exc:
            self.reason = exc.message
            self.again.disabled = True
            self.status.value = _message(exc)
            return False
        return True

    def sync(self) -> None:
        """The Lab changed: the kernel follows at once (no packets sent until :meth:`check`)."""
        if self.mirror is not None:
            try:
                self.mirror.apply(self.lab.topology)
            except TierlabError as exc:
                self.status.value = _message(exc)

    def check(self) -> Any:
        """Apply the Lab's what-if to the kernel, send the real packets, draw both verdicts."""
        if not self.start():
            return None
        self.status.value = "sending real packets ..."
        try:
            c = self.mirror.check(self.lab.topology, self.pair(), os=self.lab.os, trace=self.lab.trace)
        except TierlabError as exc:
            self.status.value = _message(exc)
            return None
        self.comparison = c
        self.table.value = comparison_html(c)
        word = "Linux agrees with the model" if c.agree else "Linux DISAGREES with the model"
        self.status.value = (f"<span class='{'tl-v-pass' if c.agree else 'tl-v-blocked'}'>{word}</span> on "
                             f"{html.escape(c.pair)} (rules applied to nftables in {c.apply_ms:.0f} ms)")
        return c

    def close(self) -> None:
        if self.mirror is not None:
            self.mirror.close()
            self.mirror = None


# ----------------------------------------------------------------------------- the whole lab


class LabApp(_Panel):
    """The lab on one screen: the one-line verdict and the diagram always in view; beside them, in
    tabs that scroll on their own, the rules, the journey stepper with the trace, the latency panel
    and the seed's checkpoints. Everything redraws from one Lab: a toggle re-evaluates once.

    ``page=True`` fills the browser window (the app page of ``make app``); otherwise the app is a
    760 px high block in a notebook. Clicking a component on the diagram (a server, ALB node or
    database opens its security group; a subnet its network ACL) opens its rules."""

    def __init__(self, lab: Lab, latency: bool = True, *, page: bool = False, real_packets: bool | None = None) -> None:
        super().__init__()
        if real_packets is None:
            import os

            real_packets = os.environ.get(REAL_PACKETS_ENV) == "1"
        self.lab = lab
        self.page = page
        self.stepper = Stepper(lab)
        self.style_sheet = W.HTML(f"<style>{APP_CSS}</style>{a11y_html()}", layout=W.Layout(display="none"))
        self.summary = W.HTML(layout=W.Layout(width="100%"))
        self.summary.add_class("tl-summary")
        self.diagram_view = DiagramView(fill=True, min_scale=0.62, clickable=True)
        self.diagram_view.add_class("tl-diagram-box")
        self.trace_view = TraceView()
        self.checkpoints = W.HTML()
        self.checkpoints.add_class("tl-checkpoints")
        self.rules = RulePanel(lab, out=self.out)
        self.open_bus = W.Text(layout=W.Layout(display="none"), continuous_update=True,
                               description="open component")
        self.open_bus.add_class("tl-open-bus")
        self.open_bus.observe(self._guard(self._on_open), names="value")
        lab.on_change(self._guard(self._changed))
        self.real = RealPacketsPanel(lab, out=self.out, pair=lambda: self.stepper.pair.name) if real_packets else None
        # The page builds the Journey and Latency panels when first opened (or first asked for): a
        # third fewer widget models for the browser to fetch and create before it is interactive.
        self._steps: StepperPanel | None = None
        self._latency: LatencyPanel | None = None
        self._want_latency = latency
        titles = ["Rules", "Journey"] + (["Latency"] if latency else []) + ["Checkpoints"]
        builders: list[Callable[[], W.Widget]] = [lambda: self.rules, lambda: W.VBox([self.steps, self.trace_view])]
        builders += ([lambda: self.latency] if latency else []) + [lambda: self.checkpoints]
        if self.real is not None:
            real = self.real
            builders.append(lambda: real)
            titles.append("Real packets")
        self._builders = builders
        self._panels: list[W.Widget | None] = [None] * len(builders)
        tabs = [self._panel(i) if i == 0 or not page else W.Box() for i in range(len(builders))]
        self.tabs = W.Tab(children=tabs, titles=titles, layout=W.Layout(height="100%"))
        self.tabs.add_class("tl-tabs")
        self._stale: set[str] = set()  # hidden tabs redraw when shown: the first paint stays fast
        self.tabs.observe(self._guard(lambda _ch: self._fresh()), names="selected_index")
        self.grid = W.Box([self.summary, self.diagram_view, self.tabs], layout=W.Layout(width="100%"))
        self.grid.add_class("tl-grid")
        self.add_class("tl-app")
        self.add_class("tl-page" if page else "tl-notebook")
        self.children = [self.style_sheet, self.grid, self.open_bus, self.out]
        self._changed(lab)

    @property
    def steps(self) -> StepperPanel:
        """The journey stepper (built on first use on the app page)."""
        if self._steps is None:
            self._steps = StepperPanel(self.stepper, out=self.out)
            self._steps.on_move(self._guard(self._redraw_diagram))
        return self._steps

    @property
    def latency(self) -> LatencyPanel | None:
        """The latency panel (None when the app was made with ``latency=False``; built on first use)."""
        if self._latency is None and self._want_latency:
            self._latency = LatencyPanel(self.lab, out=self.out)
        return self._latency

    def _panel(self, i: int) -> W.Widget:
        """The content of tab ``i``, built the first time it is needed."""
        panel = self._panels[i]
        if panel is None:
            panel = self._panels[i] = self._builders[i]()
        return panel

    def _redraw_diagram(self) -> None:
        self.diagram_view.show(diagram(self.lab.trace, step=STEPS[self.stepper.index].id,
                                       pair=self.stepper.pair_name))

    def _on_open(self, change: dict) -> None:
        """A click on the diagram: show that component's rules in the Rules tab."""
        name = str(change["new"]).split("|")[0]
        if name:
            self.open_rules(name)

    def open_rules(self, component: str) -> None:
        """Open ``component``'s rules (a security group or network ACL), as a click on the diagram does."""
        self.rules.open_rules(component)
        self.tabs.selected_index = 0

    def __repr__(self) -> str:
        return f"<LabApp {self.lab.trace.summary().splitlines()[0]}>"

    def snapshot(self) -> str:
        """The verdict and diagram as they are now, as plain HTML (class ``tl-snapshot``): what the app
        page shows from its first paint until the live widgets, built from this same state, replace
        it (tierlab's Voila template moves it over the page and removes it then). Not interactive."""
        return (f'<div class="tl-snapshot" aria-hidden="true" inert><style>{SNAPSHOT_CSS}</style>'
                f'<div class="tl-grid"><div class="tl-summary">{self.summary.value}</div>'
                f'<div class="tl-diagram-box"><div class="tl-diagram">{self.diagram_view.html.value}</div></div>'
                f'<div class="tl-wait">Starting the controls&hellip;</div></div></div>')

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        """The widget, and on the app page its :meth:`snapshot` as ``text/html`` beside it."""
        data = super()._repr_mimebundle_(**kwargs)
        if self.page and data is not None:
            data["text/html"] = self.snapshot()
        return data

    def _changed(self, lab: Lab) -> None:
        from .panels import verdict_line

        trace = lab.trace
        ok, line = verdict_line(trace, self.stepper.pair_name)
        mark = "&#10004;" if ok else "&#10006;"
        self.summary.value = (f'<div class="tl-verdict {"tl-ok" if ok else "tl-bad"}" role="status">'
                              f"{mark} {html.escape(line)}</div>")
        if self._steps is not None:
            self._steps.refresh()
        self._redraw_diagram()
        self._stale = {"trace", "checkpoints"} | ({"real"} if self.real is not None else set())
        if self.real is not None:
            self.real.sync()  # the kernel follows every what-if at once; packets go when the tab shows
        self._fresh(every=not self.page)

    def _fresh(self, every: bool = False) -> None:
        """Draw the tables of the tab in view (the others when they are shown; ``every``: all now)."""
        i = self.tabs.selected_index or 0
        if self.tabs.children[i] is not self._panel(i):
            kids = list(self.tabs.children)
            kids[i] = self._panel(i)
            self.tabs.children = kids
            if self.tabs.selected_index != i:
                self.tabs.selected_index = i
        title = self.tabs.titles[i] if self.tabs.titles else ""
        if every:
            title = "Journey"
            self._fresh_checkpoints()
        trace = self.lab.trace
        if "trace" in self._stale and title == "Journey":
            self.trace_view.show(trace, self.stepper.pair.name)
            self._stale.discard("trace")
        if title == "Checkpoints":
            self._fresh_checkpoints()
        if title == "Real packets" and self.real is not None and ("real" in self._stale or self.real.mirror is None):
            self._stale.discard("real")
            self.real.check()

    def _fresh_checkpoints(self) -> None:
        if "checkpoints" in self._stale:
            self.checkpoints.value = _styled(self.lab.trace.seed_checkpoints(), verdict="verdict",
                                             classes="tl-table tl-seed-checkpoints")
            self._stale.discard("checkpoints")


def lab_app(topology: Topology | str = "seed", *, os: str = "linux", latency: bool = True,
            page: bool = False, real_packets: bool | None = None) -> LabApp:
    """The whole lab on one topology (a name under data/topologies, or a Topology); ``page=True``
    fills the browser window (the app page). ``real_packets=True`` adds the Real packets tab
    (model says / Linux says; Linux as root only); None: on when ``$TIERLAB_APP_REAL_PACKETS=1``."""
    return LabApp(Lab(topology, os=os), latency=latency, page=page, real_packets=real_packets)
