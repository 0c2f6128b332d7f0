"""The lab app's toggles on real packets: the app's widgets driven from Python, no browser.

Laws: opening the Real packets tab builds the namespaced copy and checks the followed pair; a
toggle rewrites the kernel's rules at once, and the real packets confirm the evaluator's verdict
(the hops' outcomes and the status of a real Create Account); nothing is left once it closes.
"""

from __future__ import annotations

import pytest

import tierlab as tl
from netns_support import need_netns



def test_where_the_kernel_cannot_the_tab_says_why_in_one_line(monkeypatch):
    """Not root (the kernel refuses namespaces): the tab is there, says why, and sends nothing."""
    from tierlab.linux import netns
    from tierlab.views.widgets import LabApp
    from tierlab.views.panels import Lab

    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    app = LabApp(Lab("seed"), page=True, real_packets=True)
    app.tabs.selected_index = list(app.tabs.titles).index("Real packets")
    assert "Real packets are off" in app.real.status.value and "root" in app.real.status.value
    assert app.real.mirror is None and app.real.comparison is None and app.real.again.disabled
    app.rules.toggles["web-sg-in-3000"].value = False  # the model goes on alone
    assert not app.lab.trace.ok


def test_the_app_has_no_real_packets_tab_unless_asked(monkeypatch):
    from tierlab.views.widgets import REAL_PACKETS_ENV, lab_app

    monkeypatch.delenv(REAL_PACKETS_ENV, raising=False)
    assert "Real packets" not in lab_app("seed", page=True).tabs.titles
    monkeypatch.setenv(REAL_PACKETS_ENV, "1")
    app = lab_app("seed", page=True)
    assert "Real packets" in app.tabs.titles and app.real.mirror is None  # built only when shown



def _open_real_tab(app):
    app.tabs.selected_index = list(app.tabs.titles).index("Real packets")
    return app.real.comparison


@pytest.fixture(scope="module")
def app():
    need_netns()
    from tierlab.views.widgets import LabApp
    from tierlab.views.panels import Lab

    a = LabApp(Lab("seed"), page=True, real_packets=True)
    try:
        yield a
    finally:
        lab_id = a.real.mirror.lab.id if a.real.mirror is not None else None
        a.real.close()
        a.real.close()  # idempotent
    if lab_id is not None:
        from tierlab import linux

        assert linux.list_namespaces(lab_id) == [], "the app's lab left namespaces behind"


@pytest.mark.netns
@pytest.mark.slow
def test_opening_the_tab_builds_the_lab_and_both_judges_say_200(app):
    c = _open_real_tab(app)
    assert c is not None and c.agree, c.frame()
    assert [r.linux for r in c.rows[:3]] == ["connected"] * 3
    assert c.http.status == 200 and c.row("Create Account").model.startswith("200")
    assert "Linux agrees with the model" in app.real.status.value
    assert "model says" in app.real.table.value and "Linux says" in app.real.table.value
    assert c.drops == () and "No nftables rule dropped" in app.real.table.value


@pytest.mark.netns
@pytest.mark.slow
def test_a_database_sg_toggle_is_a_dropped_syn_and_the_albs_504_on_both(app):
    """database-sg-in-5432 off: the evaluator says the server's SYN to the database is dropped and
    the browser gets the ALB's 504; Linux drops the SYN and the lab's ALB answers 504 at its
    (shortened) idle timeout. The rule's own nftables counter shows the drop."""
    _open_real_tab(app)
    app.rules.toggles["database-sg-in-5432"].value = False
    try:
        c = app.real.comparison
        assert c.agree, c.frame()
        db_hop = c.rows[2]
        assert (db_hop.model, db_hop.linux) == ("timed out", "timed out")
        assert c.http.status == 504 and "idle timeout" in c.http.body["error"]
        assert c.row("Create Account").model.startswith("504")
        assert dict(c.drops).get("database-sg-in-default-drop", 0) > 0, c.drops  # the rule that dropped the SYN
        assert "database-sg-in-default-drop" in app.real.table.value
    finally:
        app.rules.toggles["database-sg-in-5432"].value = True
    assert app.real.comparison.agree and app.real.comparison.http.status == 200


@pytest.mark.netns
@pytest.mark.slow
def test_a_toggle_while_the_tab_is_hidden_still_reaches_the_kernel(app):
    _open_real_tab(app)
    app.tabs.selected_index = 0  # back to Rules: no packets, but the kernel follows
    app.rules.toggles["web-sg-in-3000"].value = False
    try:
        assert any("web-sg-in-3000" in r for r in app.real.mirror.lab.chain("node-api-1", "sg_in")) is False
        c = _open_real_tab(app)  # shown again: checked now
        assert c.agree, c.frame()
        assert c.rows[1].linux == "timed out" and c.http.status == 504
    finally:
        app.rules.toggles["web-sg-in-3000"].value = True
