"""The app server's command line is checked before anything starts (tierlab.views.serve).

Laws: a port outside 1-65535, a culling time of 0 (culling off: page loads pile up kernels) or a token that is
short or not URL-safe is a usage error (exit 2) naming the option, and Voila is never started; the token reaches
Voila in-process, never on a command line another account could read with ps.
"""

from __future__ import annotations

from pathlib import Path

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
    monkeypatch.setattr(serve, "launch", lambda *a, **k: started.append(a))
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
    monkeypatch.setattr(serve, "launch", lambda argv, config: seen.update(argv=argv, config=config))
    assert serve.main(["--port", "8867", "--notebook", str(nb)]) == 0
    assert f"--token={token}" in seen["argv"] and "--Voila.ip=127.0.0.1" in seen["argv"]
    assert f"?token={token}" in capsys.readouterr().out
    assert seen["config"].Voila.tornado_settings["allow_remote_access"] is False


def test_checking_the_arguments_imports_no_server():
    """Voila and jupyter_server cost seconds to import: a usage error comes before them, and the
    kernel manager Voila loads by name lives in a module of its own."""
    import subprocess
    import sys

    code = ("import sys; from tierlab.views import serve; serve.voila_argv(serve.app_notebook(), port=1, token='t');"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('voila', 'jupyter_server')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_kernel_manager_voila_loads_by_name_is_where_the_name_says():
    import ast
    import importlib.util

    argv = serve.voila_argv(Path("lab.ipynb"), port=8866, token="t")
    (dotted,) = [a.split("=", 1)[1] for a in argv if a.startswith("--VoilaConfiguration.multi_kernel_manager_class=")]
    module, name = dotted.rsplit(".", 1)
    spec = importlib.util.find_spec(module)  # finds the file without running it
    assert spec is not None and spec.origin
    tree = ast.parse(Path(spec.origin).read_text())
    assert name in {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
