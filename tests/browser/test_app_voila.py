"""The app page as `make app` serves it (Voila behind tierlab.views.serve), in Chromium:
one screen at 1366x768, a journey that stops where the packet stops, a click on the diagram
opening a component's rules, nothing fetched from any other host, guards on the server, and a
closed tab's kernel culled."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request

import pytest

from tierlab.views.diagram import COLORS

from .conftest import APP_CULL_IDLE_S, ARTIFACTS, shot

pytestmark = pytest.mark.browser

APP = ".tl-app"
DB_HOP = f"{APP} .tl-diagram svg g#hop_node_api_1__rds_primary"
#: Before the page's scripts: note whether the server-drawn snapshot (verdict and diagram) was ever in the page.
SNAPSHOT_SEEN = """new MutationObserver((_, obs) => {
  if (document.querySelector(".tl-snapshot .tl-verdict") && document.querySelector(".tl-snapshot .tl-diagram svg")) {
    window.__tlSnapshotSeen = true; obs.disconnect(); }
}).observe(document, {subtree: true, childList: true});"""


def _open(server, context, width: int = 1366, height: int = 768):
    from playwright.sync_api import expect

    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    hosts: list[str] = []
    page.on("request", lambda r: hosts.append(r.url.split("/")[2] if "://" in r.url else r.url))
    page.add_init_script(SNAPSHOT_SEEN)
    # a page asked for before the pre-heated kernel is ready is streamed while its kernel runs the app:
    # on a busy machine that takes longer than the context's 20 s default
    page.goto(f"{server.url}/?token={server.token}", timeout=180_000)
    expect(page.locator(f"{APP} .tl-diagram svg")).to_be_visible(timeout=180_000)
    expect(page.locator(f"{APP} .tl-rule").first).to_be_visible()
    # the verdict and diagram were on screen before the widgets, and the live app replaced them
    assert page.evaluate("window.__tlSnapshotSeen === true")
    expect(page.locator(".tl-snapshot")).to_have_count(0)
    return page, hosts


@pytest.fixture(scope="module")
def app_page(app_server, browser_context):
    page, hosts = _open(app_server, browser_context)
    page.hosts = hosts  # type: ignore[attr-defined]
    yield page
    page.close()


def _journey_tab(page) -> None:
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Journey')").click()


def test_database_rule_off_the_journey_ends_at_the_block_with_the_browsers_symptom(app_page):
    from playwright.sync_api import expect

    page = app_page
    toggle = page.locator(f"{APP} .tl-rule-database-sg-in-5432")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(page.locator(f"{APP} .tl-summary")).to_contain_text("Blocked at database-sg inbound")
    expect(page.locator(f"{APP} .tl-summary")).to_contain_text("504")
    _journey_tab(page)
    page.locator(f"{APP} .tl-step-reset").click()
    detail = page.locator(f"{APP} .tl-step-detail .tl-step")
    seen = []
    for _ in range(30):  # more clicks than steps: the stepper must stop at the block
        nxt = page.locator(f"{APP} .tl-step-next")
        if nxt.is_disabled():
            break
        before = detail.get_attribute("data-step")
        nxt.click()
        expect(detail).not_to_have_attribute("data-step", before or "")
        seen.append(detail.inner_text())
    expect(detail).to_have_attribute("data-step", "db-sg-in")
    expect(page.locator(f"{APP} .tl-step-detail")).to_contain_text("The journey ends here")
    expect(page.locator(f"{APP} .tl-step-detail")).to_contain_text("504 Gateway Timeout after 60 s")
    assert not any("Account created" in text for text in seen)
    expect(page.locator(f"{APP} .tl-step-slider")).to_contain_text("17")
    hop = page.locator(DB_HOP)
    expect(hop).to_have_class(re.compile(r"\btl_blocked\b"))
    expect(page.locator(f"{APP} .tl-diagram svg g#reply_rds_primary__node_api_1")).to_have_count(0)
    expect(page.locator(f"{APP} .tl-trace-table")).to_contain_text("not reached")
    expect(page.locator(f"{APP} .tl-trace-table")).not_to_contain_text("<NA>")
    shot(page, "app-db-rule-off-end-of-journey", f"{APP}")
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Rules')").click()
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"{APP} .tl-summary")).to_contain_text("Gets through")


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080)])
def test_one_screen_diagram_and_rule_toggles_in_view_without_page_scroll(app_server, browser_context, width, height):
    page, _hosts = _open(app_server, browser_context, width, height)
    try:
        vw, vh = width, height
        dims = page.evaluate("[document.scrollingElement.scrollHeight, document.scrollingElement.scrollWidth]")
        assert dims[0] <= vh and dims[1] <= vw, dims
        for sel in (f"{APP} .tl-diagram svg", f"{APP} .tl-rule", f"{APP} .tl-summary"):
            box = page.locator(sel).first.bounding_box()
            assert box and box["x"] >= 0 and box["y"] >= 0 and box["x"] + min(box["width"], 50) <= vw \
                and box["y"] + min(box["height"], 20) <= vh, (sel, box)
        diagram = page.locator(f"{APP} .tl-diagram svg").bounding_box()
        assert diagram["width"] >= 0.5 * vw  # it uses the width
        font = page.evaluate("""() => { const t = document.querySelector('.tl-app .tl-diagram svg g#node_api_1 text');
            return t.getBoundingClientRect().height; }""")
        assert font >= 10, font  # node text on screen, in px
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"app-{width}x{height}.png"))
    finally:
        page.close()


def test_clicking_a_security_group_on_the_diagram_opens_its_rules(app_page):
    from playwright.sync_api import expect

    page = app_page
    _journey_tab(page)
    page.locator(f"{APP} .tl-diagram svg g#rds_primary").click()
    expect(page.locator(f"{APP} .tl-rule-filter select")).to_have_value("database-sg")
    expect(page.locator(f"{APP} .tl-rule-database-sg-in-5432")).to_be_visible()
    expect(page.locator(f"{APP} .tl-rule-web-sg-in-3000")).to_have_count(0)
    page.locator(f"{APP} .tl-diagram svg g#cluster_private_app_az1").focus()
    page.keyboard.press("Enter")  # keyboard reach: Enter on a focused component
    expect(page.locator(f"{APP} .tl-rule-filter select")).to_have_value("nacl-private-app")
    page.locator(f"{APP} .tl-rule-filter select").select_option(label="every component")


def test_controls_have_names_states_and_a_visible_focus_ring(app_page):
    from playwright.sync_api import expect

    page = app_page
    _journey_tab(page)  # the page builds the Journey tab when it is first opened
    for label in ("Play", "Stop"):
        expect(page.locator(f"{APP} .tl-play button[aria-label='{label}']")).to_have_count(1)
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Rules')").click()
    assert page.locator(f"{APP} .tl-rule[aria-pressed]").count() == page.locator(f"{APP} .tl-rule").count()
    page.locator(f"{APP} .tl-rule").first.focus()
    ring = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }""")
    assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 3
    rgb = [int(v) for v in re.findall(r"\d+", ring[2])[:3]]

    def lum(c):
        c = [v / 255 for v in c]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    assert (1.05) / (lum(rgb) + 0.05) >= 3  # against the white page


def test_no_request_leaves_the_page_own_host(app_page, app_server):
    host = app_server.url.split("/")[2]
    assert app_page.hosts and set(app_page.hosts) == {host}, set(app_page.hosts)  # type: ignore[attr-defined]


def test_the_server_wants_its_token_and_a_local_host_header(app_server):
    with urllib.request.urlopen(f"{app_server.url}/?token={app_server.token}", timeout=60) as r:
        assert r.status == 200
    try:
        with urllib.request.urlopen(app_server.url + "/", timeout=10) as r:  # noqa: S310
            assert "/login" in r.geturl() and b"tl-app" not in r.read(), "served without a token"
    except urllib.error.HTTPError as e:
        assert e.code in (401, 403)
    req = urllib.request.Request(f"{app_server.url}/?token={app_server.token}", headers={"Host": "evil.example.com"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)  # noqa: S310
    assert err.value.code == 403


def test_a_closed_tabs_kernel_is_culled(app_server, browser_context):
    page, _ = _open(app_server, browser_context)
    kid = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId")

    def alive() -> bool:
        return any(kid in line for line in app_server.kernels())

    assert kid and alive()
    time.sleep(APP_CULL_IDLE_S + 3)
    assert alive(), "a kernel with its page open was culled"
    page.close()
    deadline = time.monotonic() + APP_CULL_IDLE_S + 20
    while time.monotonic() < deadline and alive():
        time.sleep(0.5)
    assert not alive(), "the closed page's kernel is still running"
