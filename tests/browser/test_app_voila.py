"""The lab app as a Voila page (what `make app` serves): a rule toggle redraws the diagram with
the blocking rule, a bad CIDR is answered inline, Play moves the journey on by itself."""

from __future__ import annotations

import re

import pytest

from tierlab.views.diagram import COLORS

from .conftest import shot

pytestmark = pytest.mark.browser

APP = ".tl-app"
DB_HOP = f"{APP} .tl-diagram svg g#hop_node_api_1__rds_primary"


@pytest.fixture(scope="module")
def app_page(voila, browser_context):
    from playwright.sync_api import expect

    page = browser_context.new_page()
    page.goto(voila.url + "/")
    expect(page.locator(f"{APP} .tl-diagram svg")).to_be_visible(timeout=60_000)
    expect(page.locator(f"{APP} .tl-step-detail .tl-step")).to_have_attribute("data-step", "db-sg-in")
    yield page
    page.close()


def test_nacl_rule_off_blocks_at_the_star_rule_and_names_the_rule_that_would_allow(app_page):
    from playwright.sync_api import expect

    page = app_page
    page.locator(f"{APP} .tl-step-reset").click()
    hop = page.locator(DB_HOP)
    expect(hop.locator("path").first).to_have_attribute("stroke", COLORS["request"])
    toggle = page.locator(f"{APP} .tl-rule-nacl-private-db-in-100")
    toggle.click()
    expect(hop.locator("path").first).to_have_attribute("stroke", COLORS["blocked"])
    expect(hop).to_contain_text("nacl-private-db-in-star (* DENY)")
    expect(hop).to_contain_text("switched off: nacl-private-db-in-100")
    expect(page.locator(f"{APP} .tl-summary")).to_contain_text("SUBNET_ACL_RESTRICTION")
    shot(page, "voila-nacl-rule-off")
    toggle.click()
    expect(hop.locator("path").first).to_have_attribute("stroke", COLORS["request"])
    expect(hop).not_to_have_class(re.compile(r"\btl_blocked\b"))


def test_a_bad_cidr_is_answered_inline_and_changes_nothing(app_page):
    from playwright.sync_api import expect

    page = app_page
    page.locator(f"{APP} .tl-edit-rule select").select_option("nacl-private-db-in-100")
    peer = page.locator(f"{APP} .tl-edit-peer input")
    expect(peer).to_have_value("10.0.2.0/23")
    peer.fill("10.0.2.0/33")
    peer.press("Enter")
    msg = page.locator(f"{APP} .tl-edit-message")
    expect(msg).to_contain_text("is not a valid IPv4 CIDR")
    expect(msg).to_contain_text("hint")
    page.locator(f"{APP} .tl-edit-apply").click()
    expect(msg).to_contain_text("is not a valid IPv4 CIDR")
    expect(page.locator(f"{APP} .tl-summary")).to_contain_text("gets through")
    expect(page.locator(f"{APP} .tl-log")).not_to_contain_text("Traceback")
    shot(page, "voila-bad-cidr", f"{APP} .tl-edit-form")


def test_play_walks_the_journey_and_the_highlight_follows(app_page):
    from playwright.sync_api import expect

    page = app_page
    page.locator(f"{APP} .tl-step-reset").click()
    current = page.locator(f"{APP} .tl-diagram svg g.tl_current").first
    expect(current).to_have_attribute("id", "internet")
    page.locator(f"{APP} .tl-play button").first.click()   # Play: one step a second
    expect(current).to_have_attribute("id", "hop_internet__route53", timeout=5_000)
    expect(current).to_have_attribute("id", "hop_internet__igw_main", timeout=5_000)
    page.locator(f"{APP} .tl-step-reset").click()
    expect(current).to_have_attribute("id", "internet")


def test_the_latency_panel_redraws_its_total(app_page):
    from playwright.sync_api import expect

    page = app_page
    page.locator(f"{APP} .lm-TabBar-tab:has-text('Latency')").click()
    total = page.locator(f"{APP} .tl-latency-total")
    expect(total).to_contain_text("TLS 1.2")  # as the notebook's cells left it
    page.locator(f"{APP} .tl-latency-tls-version select").select_option(label="1.3")
    expect(total).to_contain_text("TLS 1.3")
    expect(page.locator(f"{APP} .tl-latency-chart")).to_be_visible()
    shot(page, "voila-latency", f"{APP} .tl-latency-chart")
