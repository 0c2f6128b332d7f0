"""The lab app in real JupyterLab: a click on a rule redraws the diagram and the trace; the
stepper moves the highlight. Checks read ids, colours and labels, never raw SVG."""

from __future__ import annotations

import re

import pytest

from tierlab.views.diagram import COLORS

from .conftest import NOTEBOOK, shot, wait_for_kernel

pytestmark = pytest.mark.browser

APP = ".tl-app"
DB_HOP = f"{APP} .tl-diagram svg g#hop_node_api_1__rds_primary"


@pytest.fixture(scope="module")
def lab_page(jupyterlab, browser_context):
    """The notebook opened in JupyterLab and run top to bottom on a fresh kernel."""
    from playwright.sync_api import expect

    page = browser_context.new_page()
    page.goto(f"{jupyterlab.url}/lab/tree/{NOTEBOOK}?token={jupyterlab.token}")
    # Run All before the notebook's session exists brings up "Select Kernel": wait for the kernel
    wait_for_kernel(jupyterlab)
    expect(page.locator(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']")
           ).to_be_visible(timeout=60_000)
    page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click()
    page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click()
    # the app is drawn, and the cells after it ran (one moves the stepper to db-sg-in)
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Journey')").first.click(timeout=60_000)
    expect(page.locator(f"{APP} .tl-step-detail .tl-step")).to_have_attribute("data-step", "db-sg-in",
                                                                             timeout=60_000)
    expect(page.get_by_text("did you mean 10.0.2.0/23?").first).to_be_attached()
    expect(page.locator(f"{APP} .tl-diagram svg")).to_be_visible()
    yield page
    page.close()


def test_switching_off_the_database_rule_turns_the_db_hop_red_and_back(lab_page):
    from playwright.sync_api import expect

    page = lab_page
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Journey')").first.click()
    page.locator(f"{APP} .tl-step-reset").click()  # the highlight leaves the DB hop
    expect(page.locator(f"{APP} .tl-step-detail .tl-step")).to_have_attribute("data-step", "click")
    hop_path = page.locator(f"{DB_HOP} path").first
    expect(hop_path).to_have_attribute("stroke", COLORS["request"])

    page.locator(f"{APP} .lm-TabBar-tab:has-text('Rules')").first.click()
    toggle = page.locator(f"{APP} .tl-rule-database-sg-in-5432")
    expect(toggle).to_have_class(re.compile(r"\bmod-active\b"))
    toggle.click()
    expect(toggle).not_to_have_class(re.compile(r"\bmod-active\b"))
    expect(hop_path).to_have_attribute("stroke", COLORS["blocked"])
    expect(page.locator(DB_HOP)).to_have_class(re.compile(r"\btl_blocked\b"))
    expect(page.locator(DB_HOP)).to_contain_text("1")  # its badge; the key names the block once
    expect(page.locator(f"{APP} .tl-diagram svg g#tierlab")).to_contain_text("switched off: database-sg-in-5432")
    expect(page.locator(f"{APP} .tl-summary")).to_contain_text("Blocked at database-sg inbound")
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Journey')").first.click()
    expect(page.locator(f"{APP} .tl-trace-table")).to_contain_text("database-sg-in-5432 would allow it")
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Rules')").first.click()
    shot(page, "jupyterlab-db-rule-off")

    toggle.click()
    expect(toggle).to_have_class(re.compile(r"\bmod-active\b"))
    expect(hop_path).to_have_attribute("stroke", COLORS["request"])
    expect(page.locator(DB_HOP)).not_to_have_class(re.compile(r"\btl_blocked\b"))
    expect(page.locator(f"{APP} .tl-diagram svg g#tierlab")).not_to_contain_text("switched off")
    expect(page.locator(f"{APP} .tl-summary")).to_contain_text("Gets through")
    shot(page, "jupyterlab-db-rule-on")


def test_stepping_the_journey_moves_the_highlight(lab_page):
    from playwright.sync_api import expect

    page = lab_page
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Journey')").first.click()
    current = page.locator(f"{APP} .tl-diagram svg g.tl_current").first
    page.locator(f"{APP} .tl-step-reset").click()
    expect(current).to_have_attribute("id", "internet")
    page.locator(f"{APP} .tl-step-next").click()
    expect(current).to_have_attribute("id", "hop_internet__route53")
    expect(page.locator(f"{APP} .tl-step-detail")).to_contain_text("recursive resolver:53")
    page.locator(f"{APP} .tl-step-next").click()
    expect(current).to_have_attribute("id", "hop_internet__igw_main")
    expect(page.locator(f"{APP} .tl-step-detail")).to_contain_text("encrypted")
    page.locator(f"{APP} .tl-step-back").click()
    expect(current).to_have_attribute("id", "hop_internet__route53")
    shot(page, "jupyterlab-stepper")


def test_controls_have_the_same_names_and_states_as_on_the_app_page(lab_page):
    """The accessible names and states come with the widgets, not with the app page's template:
    JupyterLab gets aria-pressed on every toggle and named Play/Stop controls too."""
    from playwright.sync_api import expect

    page = lab_page
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Rules')").first.click()
    rules = page.locator(f"{APP} .tl-rule")
    expect(rules.first).to_have_attribute("aria-pressed", re.compile("^(true|false)$"))
    assert page.locator(f"{APP} .tl-rule[aria-pressed]").count() == rules.count() > 10
    toggle = page.locator(f"{APP} .tl-rule-web-sg-in-3000")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Journey')").first.click()
    for name in ("Play", "Stop"):
        expect(page.locator(f"{APP} .tl-play button[aria-label='{name}']")).to_have_count(1)
