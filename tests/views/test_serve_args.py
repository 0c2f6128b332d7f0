"""The app server's command line is checked before anything starts (tierlab.views.serve).

Laws: a port outside 1-65535, a culling time of 0 (culling off: page loads pile up kernels) or a token that is
short or not URL-safe is a usage error (exit 2) naming the option, and Voila is never started; the token reaches
Voila in-process, never on a command line another account could read with ps.
"""

from __future__ import annotations

import pytest

from tierlab.views import serve


@pytest.mark.parametrize("argv", [
    ["--port", "0"], ["--port", "70000"], ["--port", "-1"], ["--port", "8x"], ["--port", "9" * 5000],
    ["--cull-idle-s", "0"], ["--cull-interval-s", "-5"], ["--cull-idle-s", "1e3"],
    ["--token", ""], ["--token", "short"], ["--token", "a" * 20 + "&x=1"], ["--token", "a" * 20 + "\udcff"],
    ["--token", "a" * 300], ["--bogus"],
])
def test_a_bad_argument_is_a_usage_error_before_voila_starts(argv, capsys, monkeypatch):
    started = []
    monkeypatch.setattr("voila.app.Voila.launch_instance", lambda *a, **k: started.append(a))
    with pytest.raises(SystemExit) as exc:
        serve.main(argv)
    assert exc.value.code == 2 and not started
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_a_bad_token_in_the_environment_is_refused_too(monkeypatch, capsys):
    monkeypatch.setenv("TIERLAB_APP_TOKEN", "has space in it, and more")
    with pytest.raises(SystemExit):
        serve.parse_args([])
    assert "TIERLAB_APP_TOKEN" in capsys.readouterr().err


def test_the_token_from_the_environment_reaches_voila_in_process(monkeypatch, tmp_path, capsys):
    token = "Abc_def-123.456~xyz"
    monkeypatch.setenv("TIERLAB_APP_TOKEN", token)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))  # main() prepends the template folder: restored after
    nb = tmp_path / "lab.ipynb"
    nb.write_text("{}")
    seen = {}
    monkeypatch.setattr("voila.app.Voila.launch_instance", lambda argv, config: seen.update(argv=argv, config=config))
    assert serve.main(["--port", "8867", "--notebook", str(nb)]) == 0
    assert f"--token={token}" in seen["argv"] and "--Voila.ip=127.0.0.1" in seen["argv"]
    assert f"?token={token}" in capsys.readouterr().out
    assert seen["config"].Voila.tornado_settings["allow_remote_access"] is False
