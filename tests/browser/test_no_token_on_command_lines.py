"""The documented ways of starting a server (``make app``, ``make lab``; the README) put no token on any
command line, and write it into no file another account can read.

Law: run each recipe exactly as ``make -n`` prints it (the app given its token through ``$TIERLAB_APP_TOKEN``
as the README says, or left to make a random one; JupyterLab making its own), wait until it serves, then no
process on the machine (the server, its kernels, anything else) carries the token in its command line, the
server answers with the token and refuses without it, and every file under the server's home and runtime
folders that holds the token is readable by its owner only. No Chromium is needed: ``ps`` is the attacker.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from .conftest import ROOT, Server, _sandbox, free_port

pytestmark = pytest.mark.slow


def _recipe(target: str, **variables: str) -> list[str]:
    """The command ``make TARGET`` runs (its set-up step left out), with ``PY`` this interpreter."""
    out = subprocess.run(["make", "-n", "-s", target, f"PY={sys.executable}", *(f"{k}={v}" for k, v in variables.items())],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    (line,) = [ln for ln in out.splitlines() if ln.startswith(sys.executable)]
    return shlex.split(line)


def _command_lines_holding(secret: str) -> list[str]:
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        line = " ".join(p.info.get("cmdline") or [])
        if secret in line:
            found.append(f"pid {p.info['pid']}: {line[:200]}")
    return found


def _readable_by_others(secret: str, *roots: Path) -> list[str]:
    """Files under ``roots`` holding ``secret`` whose mode lets the group or others read them."""
    leaks = []
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                try:
                    if path.is_symlink() or secret.encode() not in path.read_bytes():
                        continue
                except OSError:
                    continue
                if stat.S_IMODE(path.stat().st_mode) & 0o077:
                    leaks.append(f"{path} ({oct(stat.S_IMODE(path.stat().st_mode))})")
    return leaks


def _answers(url: str, timeout_s: float = 120.0) -> int:
    """The HTTP status of ``url`` once the server accepts connections."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _refused_without_token(url: str) -> bool:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # a redirect to the login page is a refusal
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(url, timeout=60)
    except urllib.error.HTTPError as exc:
        return exc.code in (302, 401, 403)
    return False


def _check(secret: str, srv: Server, home: Path) -> None:
    assert _command_lines_holding(secret) == [], "the token is on a command line any account reads with ps"
    assert _readable_by_others(secret, home) == [], "a file holding the token is readable by other accounts"


@pytest.mark.parametrize("given", [True, False], ids=["token-from-environment", "random-token"])
def test_make_app_puts_its_token_on_no_command_line(given: bool, tmp_path: Path) -> None:
    _nbdir, env = _sandbox(tmp_path)
    port = free_port()
    argv = _recipe("app", APP_PORT=str(port))
    assert not any("token" in a.lower() for a in argv), argv
    token = secrets.token_urlsafe(24) if given else ""
    env.pop("TIERLAB_APP_TOKEN", None)
    if given:
        env["TIERLAB_APP_TOKEN"] = token
    srv = Server(f"no-token-app-{'env' if given else 'random'}", argv, env, ROOT, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while not token:  # the address it prints carries the random one
            found = re.search(r"\?token=([A-Za-z0-9._~-]+)", srv.log_path.read_text(errors="replace"))
            if found:
                token = found.group(1)
            assert time.monotonic() < deadline and srv.proc.poll() is None, srv.log_path.read_text()[-2000:]
            time.sleep(0.2)
        assert _answers(f"{srv.url}/?token={token}", timeout_s=180) == 200
        assert _refused_without_token(f"{srv.url}/")
        assert srv.kernels(), "the page's kernel should be running while we look"
        _check(token, srv, Path(env["HOME"]))
    finally:
        srv.stop()


def test_make_lab_puts_its_token_on_no_command_line(tmp_path: Path) -> None:
    _nbdir, env = _sandbox(tmp_path)
    port = free_port()
    argv = _recipe("lab", LAB_ARGS=f"--no-browser --port={port} --ServerApp.port_retries=0 --ip=127.0.0.1")
    env.pop("JUPYTER_TOKEN", None)
    srv = Server("no-token-lab", argv, env, ROOT, f"http://127.0.0.1:{port}")
    runtime = Path(env["JUPYTER_RUNTIME_DIR"])
    try:
        deadline = time.monotonic() + 120
        token = ""
        while not token:  # the server's runtime file, once it is there and whole
            for info in runtime.glob("jpserver-*.json"):
                try:
                    token = json.loads(info.read_text())["token"]
                except (OSError, ValueError, KeyError):
                    pass
            assert time.monotonic() < deadline and srv.proc.poll() is None, srv.log_path.read_text()[-2000:]
            time.sleep(0.2)
        assert len(token) >= 32  # JupyterLab made a real one
        assert _answers(f"{srv.url}/api/status?token={token}") == 200
        assert _refused_without_token(f"{srv.url}/api/status")
        _check(token, srv, Path(env["HOME"]))
        assert stat.S_IMODE(runtime.stat().st_mode) & 0o077 == 0, oct(runtime.stat().st_mode)
    finally:
        srv.stop()
