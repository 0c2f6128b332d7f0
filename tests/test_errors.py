"""One exception tree; in IPython a TierlabError shows as message and hint, not a traceback."""

import pytest

import tierlab as tl


def test_the_tree():
    for cls in (tl.TopologyError, tl.RuleError, tl.ScenarioError, tl.DatabaseError, tl.CheckFailed, tl.ValidationError):
        assert issubclass(cls, tl.TierlabError)
    assert issubclass(tl.ValidationError, tl.TopologyError)
    assert issubclass(tl.CheckFailed, AssertionError)


def test_message_and_hint():
    e = tl.RuleError("port 70000 is outside 0-65535", "ports are 0-65535")
    assert str(e) == "port 70000 is outside 0-65535\n  hint: ports are 0-65535"
    assert "hint" in e._repr_html_()
    s = tl.ScenarioError("unknown key", "check spelling", file="x.yaml", path="a.b")
    assert s.message.startswith("x.yaml at a.b:") and s.file == "x.yaml"


def test_ipython_shows_message_and_hint_not_a_traceback(capsys):
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_cell("import tierlab as tl")
    tl.errors.install_ipython_handler()  # tierlab was imported before this shell existed
    result = shell.run_cell("tl.load('seed').switch_off('no-such-rule')")
    out = capsys.readouterr().out
    assert result.error_in_exec is not None
    assert "no rule with id 'no-such-rule'" in out and "tierlab rules" in out
    assert "Traceback" not in out and "File " not in out
    assert "RuleError: no rule with id" in out


def test_explain_returns_the_error_instead_of_raising():
    t = tl.load("seed")
    err = tl.explain(t.switch_off, "no-such-rule")
    assert isinstance(err, tl.RuleError) and "no-such-rule" in err.message
    assert tl.explain(lambda: 42) == 42
    with pytest.raises(ZeroDivisionError):  # only tierlab's own errors are caught
        tl.explain(lambda: 1 / 0)
