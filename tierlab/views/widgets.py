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
from typing import Any, Callable

import ipywidgets as W

from .diagram import COLORS, Diagram, diagram
from ..errors import TierlabError
from ..request.journey import STEPS, Trace
from .panels import Lab, RuleRow, Stepper, StepView, rule_groups
from ..network.topology import Topology

__all__ = ["DiagramView", "TraceView", "RulePanel", "StepperPanel", "LatencyPanel", "LabApp", "lab_app", "trace_html",
           "step_html", "svg_inline"]

_OK, _BAD = "#2e7d32", COLORS["blocked"]


def svg_inline(svg: str) -> str:
    """SVG text ready to sit inside HTML: no XML prolog or doctype, shrunk to the output's width
    when the output is narrower than the drawing (never enlarged)."""
    svg = re.sub(r"^.*?(?=<svg)", "", svg, count=1, flags=re.S)

    def fit(m: re.Match) -> str:
        width = m.group(1)
        return f'<svg style="width:100%;max-width:{width};height:auto"'

    svg = re.sub(r'<svg\s+width="([\d.]+pt)"\s+height="[\d.]+pt"', fit, svg, count=1)
    return f'<div class="tl-diagram-svg" style="max-width:100%">{svg}</div>'


def trace_html(trace: Trace, pair: str | None = None) -> str:
    """The trace as HTML: the summary (green or red), every blocking point, the steps of one pair."""
    color = _OK if trace.ok else _BAD
    head = html.escape(trace.summary()).replace("\n", "<br>")
    parts = [f'<div class="tl-trace-summary" style="color:{color};font-weight:bold">{head}</div>']
    if trace.blocks:
        parts.append(trace.blocks_frame()[["component", "direction", "rule_ids", "would_allow", "step", "pairs",
                                           "reason"]].to_html(index=False, classes="tl-blocks", border=0))
    steps = trace.steps_frame(pair)
    parts.append(steps[["seed_step", "step", "title", "verdict", "reason"]].to_html(
        index=False, classes="tl-steps", border=0, na_rep=""))
    return "".join(parts)


def step_html(v: StepView) -> str:
    """One stepper step as HTML: which step, the packet, the checkpoint, the rule, the verdict."""
    color = {"pass": _OK, "blocked": _BAD, "refused": _BAD}.get(v.verdict, "#455a64")
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
    body = "".join(f"<tr><th style='text-align:left;padding-right:8px'>{k}</th><td>{val}</td></tr>"
                   for k, val in rows)
    return (f'<div class="tl-step" data-step="{v.step.id}"><b>{v.index + 1}/{len(STEPS)} &middot; '
            f"{html.escape(v.step.title)}</b> <span style='color:#757575'>({v.step.id}; {seed}; "
            f"pair {html.escape(v.pair)})</span><table>{body}</table></div>")


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

    def _guard(self, fn: Callable[..., None]) -> Callable[..., None]:
        """Run ``fn`` inside ``Output.capture()``: an unexpected error shows in the panel."""

        @self.out.capture()
        def run(*args: Any, **kw: Any) -> None:
            fn(*args, **kw)

        return run


# ----------------------------------------------------------------------------- diagram and trace


class DiagramView(W.VBox):
    """The architecture diagram as inline SVG (class ``tl-diagram``)."""

    def __init__(self) -> None:
        self.html = W.HTML()
        self.html.add_class("tl-diagram")
        self.diagram: Diagram | None = None
        super().__init__(children=[self.html])

    def __repr__(self) -> str:
        return f"<DiagramView {self.diagram!r}>"

    def show(self, d: Diagram) -> None:
        self.diagram = d
        self.html.value = svg_inline(d.svg())


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
        self.list_box = W.VBox()
        self.list_box.add_class("tl-rule-list")
        self.reset_button = W.Button(description="Reset to loaded", icon="undo",
                                     tooltip="back to the topology as loaded")
        self.reset_button.add_class("tl-reset")
        self.reset_button.on_click(self._guard(lambda _b: self.lab.reset()))
        # the edit form
        self.pick = W.Dropdown(description="rule", layout=W.Layout(width="22em"))
        self.pick.add_class("tl-edit-rule")
        self.f_number = W.Text(description="number", placeholder="NACL only", layout=W.Layout(width="11em"))
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
            W.HBox([self.pick, self.f_number, self.f_protocol]),
            W.HBox([self.f_ports, self.f_peer, self.f_action, self.apply_button]),
            self.message,
        ])
        form.add_class("tl-edit-form")
        self.children = [W.HBox([W.HTML("<b>Switch rules on and off</b>"), self.reset_button]),
                         self.list_box, form] + ([self.out] if self.own_out else [])
        self._build()
        lab.on_change(self._guard(self._sync))

    # -- the rule list
    def _build(self) -> None:
        self.toggles = {}
        rows: list[W.Widget] = []
        for comp, members in rule_groups(self.lab.topology).items():
            kind = "network ACL" if comp in {n.name for n in self.lab.topology.nacls} else "security group"
            rows.append(W.HTML(f"<b>{html.escape(comp)}</b> <span style='color:#757575'>({kind})</span>"))
            if not members:
                rows.append(W.HTML("<i>no rules</i>"))
            for r in members:
                rows.append(self._toggle(r))
        self.list_box.children = rows
        ids = [r.id for r in self.lab.topology.rules()]
        keep = self.pick.value if self.pick.value in ids else (ids[0] if ids else None)
        self.pick.options = ids
        self.pick.value = keep
        if keep:
            self._fill(keep)

    def _toggle(self, r: RuleRow) -> W.Widget:
        cp = f" [checkpoint {r.seed_checkpoint}]" if r.seed_checkpoint else ""
        t = W.ToggleButton(value=r.enabled, description=f"{r.direction[:3]} {r.text}{cp}",
                           tooltip=f"{r.rule_id}: {r.description}", icon="check" if r.enabled else "times",
                           layout=W.Layout(width="auto", min_width="26em"))
        t.add_class(r.css_class)
        t.add_class("tl-rule")
        t.observe(self._guard(lambda ch, rid=r.rule_id: self._on_toggle(rid, ch["new"])), names="value")
        self.toggles[r.rule_id] = t
        return W.HBox([t, W.HTML(f"<code style='color:#757575'>{html.escape(r.rule_id)}</code>")])

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
            changes = parse_edit(self.lab.topology, self.pick.value, **self._form())  # type: ignore[arg-type]
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
    """Play, Step, Back, Reset and speed over ``tl.STEPS`` for one (ALB node, server) pair."""

    def __init__(self, stepper: Stepper, out: W.Output | None = None) -> None:
        super().__init__(out=out)
        self.stepper = stepper
        n = len(STEPS) - 1
        self.play = W.Play(value=0, min=0, max=n, step=1, interval=1000, description="Play")
        self.play.add_class("tl-play")
        self.slider = W.IntSlider(value=0, min=0, max=n, description="step", readout=True,
                                  layout=W.Layout(width="22em"))
        self.slider.add_class("tl-step-slider")
        W.link((self.play, "value"), (self.slider, "value"))  # kernel-side: a page built after the cells ran keeps the step
        self.back_button = W.Button(description="Back", icon="step-backward", layout=W.Layout(width="7em"))
        self.next_button = W.Button(description="Step", icon="step-forward", layout=W.Layout(width="7em"))
        self.reset_button = W.Button(description="Reset", icon="fast-backward", layout=W.Layout(width="7em"))
        self.back_button.add_class("tl-step-back")
        self.next_button.add_class("tl-step-next")
        self.reset_button.add_class("tl-step-reset")
        self.speed = W.FloatSlider(value=1.0, min=0.2, max=3.0, step=0.1, description="s / step",
                                   layout=W.Layout(width="16em"))
        self.speed.add_class("tl-speed")
        self.pair = W.Dropdown(description="pair", layout=W.Layout(width="24em"))
        self.pair.add_class("tl-pair")
        self.detail = W.HTML()
        self.detail.add_class("tl-step-detail")
        self.back_button.on_click(self._guard(lambda _b: self._goto(self.stepper.index - 1)))
        self.next_button.on_click(self._guard(lambda _b: self._goto(self.stepper.index + 1)))
        self.reset_button.on_click(self._guard(self._reset))
        self.slider.observe(self._guard(lambda ch: self._moved(ch["new"])), names="value")
        self.speed.observe(self._guard(lambda ch: setattr(self.play, "interval", int(ch["new"] * 1000))),
                           names="value")
        self.pair.observe(self._guard(self._on_pair), names="value")
        self._listeners: list[Callable[[], None]] = []
        self._refreshing = False
        self.children = [
            W.HBox([self.play, self.back_button, self.next_button, self.reset_button, self.slider, self.speed]),
            self.pair, self.detail,
        ] + ([self.out] if self.own_out else [])
        self.refresh()

    def on_move(self, fn: Callable[[], None]) -> None:
        self._listeners.append(fn)

    def _goto(self, index: int) -> None:
        self.slider.value = max(0, min(self.slider.max, index))  # observe does the rest

    def _reset(self, _b: W.Button) -> None:
        self.play.playing = False
        self._goto(0)

    def _moved(self, index: int) -> None:
        self.stepper.goto(index)
        self.detail.value = step_html(self.stepper.current)
        for fn in self._listeners:
            fn()

    def _on_pair(self, change: dict) -> None:
        if self._refreshing:
            return
        new = None if change["new"] in (None, "auto") else change["new"]
        if new != self.stepper.pair_name:
            self.stepper.pair_name = new
            self._moved(self.stepper.index)

    def refresh(self) -> None:
        """The trace changed: new pair labels, the same step re-read."""
        trace = self.stepper.lab.trace
        opts = [("auto: first blocked pair, else the first", "auto")] + [
            (f"{p.name} {'ok' if p.ok else 'BLOCKED'}", p.name) for p in trace.pairs]
        self._refreshing = True
        try:
            self.pair.options = opts
            self.pair.value = self.stepper.pair_name or "auto"
        finally:
            self._refreshing = False
        self.detail.value = step_html(self.stepper.current)


# ----------------------------------------------------------------------------- latency


def _knob_widget(name: str, spec: dict) -> W.Widget:
    from ..sim.latency import PhysicsParams

    desc = spec.get("description", name)
    start = getattr(PhysicsParams(), name)  # the model's own default
    if "options" in spec:
        opts = list(spec["options"])
        if set(opts) <= {True, False}:
            w = W.ToggleButtons(options=[("on", True), ("off", False)], value=start, description=name,
                                tooltips=[desc, desc])
        else:
            labels = [("from the topology" if o is None else ("on" if o is True else "off" if o is False else str(o)),
                       o) for o in opts]
            w = W.Dropdown(options=labels, value=start, description=name)
    else:
        w = W.FloatSlider(value=start, min=spec["min"], max=spec["max"], step=spec.get("step", 1.0),
                          description=name, continuous_update=False)
    w.tooltip = desc
    w.style.description_width = "7em"
    w.add_class(f"tl-latency-{name.replace('_', '-')}")
    return w


def _knob_hint(w: W.Widget) -> str:
    if hasattr(w, "options"):
        return "one of " + ", ".join(repr(v) for _label, v in w.options)
    return f"a number from {w.min} to {w.max}"


class LatencyPanel(_Panel):
    """Sliders and pickers for the latency model; the waterfall and the total redraw on each change,
    with the seed's 300-500 ms claim drawn as a band."""

    def __init__(self, lab: Lab, out: W.Output | None = None) -> None:
        from .panels import latency_knobs

        super().__init__(out=out)
        self.lab = lab
        self.preset = W.ToggleButtons(options=[("physics", "physics"), ("the seed's budget", "seed")],
                                      value="physics", description="preset")
        self.preset.add_class("tl-latency-preset")
        self.knobs = {k: _knob_widget(k, spec) for k, spec in latency_knobs().items()}
        self.total = W.HTML()
        self.total.add_class("tl-latency-total")
        self.chart = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.chart.add_class("tl-latency-chart")
        self.model = None
        self.verdict = ""
        self._setting = False  # set() changes several knobs, then redraws once
        for w in [self.preset, *self.knobs.values()]:
            w.observe(self._guard(lambda _ch: None if self._setting else self.redraw()), names="value")
        lab.on_change(self._guard(self._lab_changed))
        grid = W.GridBox(list(self.knobs.values()),
                         layout=W.Layout(grid_template_columns="repeat(2, minmax(20em, 1fr))"))
        self.children = [self.preset, grid, self.total, self.chart] + ([self.out] if self.own_out else [])
        self.redraw()

    def settings(self) -> dict[str, object]:
        return {k: w.value for k, w in self.knobs.items()}

    def set(self, **knobs: object) -> None:
        """Move several knobs at once, as a learner would, then redraw once: ``set(rtt_ms=120.0, pool=False)``."""
        unknown = sorted(set(knobs) - set(self.knobs))
        if unknown:
            raise TierlabError(f"no latency knob {unknown[0]!r}", "knobs: " + ", ".join(self.knobs))
        for name, value in knobs.items():  # check every value first: nothing is half-set
            w = self.knobs[name]
            ok = (value in [v for _label, v in w.options] if hasattr(w, "options") else
                  isinstance(value, (int, float)) and not isinstance(value, bool) and w.min <= value <= w.max)
            if not ok:
                raise TierlabError(f"{value!r} is not a value of the latency knob {name!r}", _knob_hint(w))
        self._setting = True
        try:
            for name, value in knobs.items():
                self.knobs[name].value = value
        finally:
            self._setting = False
        self.redraw()

    def _lab_changed(self, lab: Lab) -> None:
        """Rule toggles and edits do not change what the latency model reads (TTL, Multi-AZ, AZs):
        redraw only when those facts change, so a rule click stays fast."""
        from ..sim.latency import TopologyFacts

        if self.model is None or TopologyFacts.of(lab.topology) != self.model.facts:
            self.redraw()

    def redraw(self) -> None:
        from .panels import latency_for, latency_verdict

        preset = self.preset.value
        for w in self.knobs.values():
            w.disabled = preset == "seed"
        try:
            model = latency_for(self.lab.topology, preset, **self.settings())
        except TierlabError as exc:
            self.total.value = _message(exc)
            return
        self.model = model
        self.verdict = latency_verdict(model.total_ms)
        self.total.value = f"<b>{html.escape(model.label())}</b>: {html.escape(self.verdict)}"
        self.chart.value = _waterfall_png(model)


def _waterfall_png(model: Any) -> bytes:
    """The model's waterfall with the seed's claimed total as a band (matplotlib, no pyplot state)."""
    import io

    from matplotlib.figure import Figure

    from . import charts
    from ..sim.latency import SEED_CLAIM_MS

    rows = int((model.waterfall()["duration_ms"] > 1e-9).sum())
    fig = Figure(figsize=(9, max(3.0, 0.3 * rows + 1.2)), dpi=85)
    ax = fig.add_subplot()
    charts.waterfall(model, ax=ax)
    lo, hi = SEED_CLAIM_MS
    ax.axvspan(lo, hi, color="#ffcc80", alpha=0.25, zorder=0, label="the seed's 300-500 ms")
    ax.axvline(model.total_ms, color="#37474f", linestyle="--", linewidth=1)
    ax.set_xlim(0, max(ax.get_xlim()[1], hi * 1.08))
    handles, labels = ax.get_legend_handles_labels()
    old = ax.get_legend()
    extra = list(old.legend_handles) if old is not None else []
    ax.legend(handles=extra + handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.22, right=0.8, top=1 - 0.45 / h, bottom=0.55 / h)  # fixed margins: one draw, not two
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ----------------------------------------------------------------------------- the whole lab


class LabApp(_Panel):
    """The diagram, the journey stepper, the rule panel, the trace table, the seed's checkpoints
    and the latency panel, all on one Lab: a toggle re-evaluates and redraws everything."""

    def __init__(self, lab: Lab, latency: bool = True) -> None:
        super().__init__()
        self.lab = lab
        self.stepper = Stepper(lab)
        self.summary = W.HTML()
        self.summary.add_class("tl-summary")
        self.diagram_view = DiagramView()
        self.trace_view = TraceView()
        self.checkpoints = W.HTML()
        self.checkpoints.add_class("tl-checkpoints")
        self.rules = RulePanel(lab, out=self.out)
        self.steps = StepperPanel(self.stepper, out=self.out)
        self.steps.on_move(self._guard(self._redraw_diagram))
        lab.on_change(self._guard(self._changed))
        self.latency = LatencyPanel(lab, out=self.out) if latency else None
        tabs = [self.rules, self.trace_view, self.checkpoints] + ([self.latency] if self.latency else [])
        titles = ["Rules", "Trace", "Seed checkpoints"] + (["Latency"] if self.latency else [])
        self.tabs = W.Tab(children=tabs, titles=titles)
        self.tabs.add_class("tl-tabs")
        self.add_class("tl-app")
        self.children = [self.summary, self.diagram_view, self.steps, self.tabs, self.out]
        self._changed(lab)

    def _redraw_diagram(self) -> None:
        self.diagram_view.show(diagram(self.lab.trace, step=STEPS[self.stepper.index].id,
                                       pair=self.stepper.pair_name))

    def __repr__(self) -> str:
        return f"<LabApp {self.lab.trace.summary().splitlines()[0]}>"

    def _changed(self, lab: Lab) -> None:
        trace = lab.trace
        color = _OK if trace.ok else _BAD
        self.summary.value = (f'<div style="color:{color};font-weight:bold">'
                              f"{html.escape(trace.summary()).replace(chr(10), '<br>')}</div>")
        self.steps.refresh()
        self._redraw_diagram()
        self.trace_view.show(trace, self.stepper.pair.name)
        self.checkpoints.value = trace.seed_checkpoints().to_html(index=False, border=0, classes="tl-seed-checkpoints")


def lab_app(topology: Topology | str = "seed", *, os: str = "linux", latency: bool = True) -> LabApp:
    """The whole lab on one topology (a name under data/topologies, or a Topology)."""
    return LabApp(Lab(topology, os=os), latency=latency)
