"""The app's Real packets tab in Chromium, served as ``make app REAL_PACKETS=1`` serves it
(tierlab.views.serve --real-packets): the page's kernel builds the VPC in Linux namespaces
(tl.linux.Mirror) and every toggle of the page rewrites nftables.

Law: database-sg's inbound rule off in the page, a real Create Account from the Real packets tab
gets the ALB's real 504 at the lab's shortened idle timeout, and the tab names the nftables rule
whose counter rose (database-sg's default drop); the rule back on, the same tab gets a real 200 and
no rule dropped anything. Nothing of the page's lab is left once the server stops."""

from __future__ import annotations

import secrets
import sys
import time
from typing import Iterator

import pytest

from netns_support import need_netns, snapshot

from .conftest import ARTIFACTS, Server, _sandbox, free_port, require_browser

pytestmark = [pytest.mark.browser, pytest.mark.netns, pytest.mark.slow]

APP = ".tl-app"
#: Building the lab (namespaces, PostgreSQL, three API servers, two ALB nodes) and the first packets:
#: seconds on a quiet machine, much longer on two busy cores
BUILD_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def real_app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_browser()
    need_netns()
    before = snapshot()
    nbdir, env = _sandbox(tmp_path_factory.mktemp("app-real"))
    port = free_port()
    token = secrets.token_urlsafe(24)
    env["TIERLAB_APP_TOKEN"] = token  # never on the command line (ps)
    args = [sys.executable, "-m", "tierlab.views.serve", f"--port={port}", "--real-packets",
            f"--notebook={nbdir / 'app' / 'lab.ipynb'}"]
    srv = Server("app-real-packets", args, env, nbdir, f"http://127.0.0.1:{port}", token)
    try:
        srv.wait_ready(None)
        yield srv
    finally:
        srv.stop()
        # the kernel's lab goes with the kernel: its Mirror closes at exit, or the guardian removes it
        deadline = time.monotonic() + 60
        while snapshot() != before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert snapshot() == before, f"the page's lab left something behind: {snapshot()} (before: {before})"


def test_database_sg_off_is_a_real_504_with_its_drop_counter_and_back_on_a_200(real_app_server, browser_context):
    from playwright.sync_api import expect

    page = browser_context.new_page()
    try:
        page.goto(f"{real_app_server.url}/?token={real_app_server.token}", timeout=180_000)
        expect(page.locator(f"{APP} .tl-diagram svg")).to_be_visible(timeout=180_000)
        toggle = page.locator(f"{APP} .tl-rule-database-sg-in-5432")
        real_tab = page.locator(f"{APP} .lm-TabBar-tab:has-text('Real packets')")
        rules_tab = page.locator(f"{APP} .lm-TabBar-tab:has-text('Rules')")
        status = page.locator(f"{APP} .tl-real-status")
        table = page.locator(f"{APP} .tl-real-table-box")

        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "false")
        real_tab.click()  # shown: the lab is built, the rules applied, the hops probed, Create Account sent
        expect(table).to_contain_text("Create Account via", timeout=BUILD_TIMEOUT_MS)
        expect(status).to_contain_text("Linux agrees with the model")
        create = table.locator("tr", has_text="Create Account via")
        expect(create).to_contain_text("504 after 3.")  # the lab's ALB: idle timeout 3 s
        expect(create).to_contain_text("idle timeout 3 s (AWS: 60 s)")
        expect(table.locator(".tl-real-drops")).to_contain_text("database-sg-in-default-drop")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "app-real-packets-504.png"))

        rules_tab.click()
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        real_tab.click()  # shown again after a change: checked again
        expect(create).to_contain_text("200 after", timeout=120_000)
        expect(status).to_contain_text("Linux agrees with the model")
        expect(table.locator(".tl-real-drops")).to_contain_text("No nftables rule dropped")
        page.screenshot(path=str(ARTIFACTS / "app-real-packets-200.png"))
    finally:
        page.close()
