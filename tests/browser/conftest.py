"""Real JupyterLab and the app page (Voila, as ``make app`` serves it), driven by Debian's Chromium
through Playwright.

Each server: a free port on 127.0.0.1, a real random token (never an empty one), its own HOME /
JUPYTER_CONFIG_DIR / settings, serving a COPY of the notebooks (autosave must not touch the
committed ones), output to a file under ``test-artifacts/browser/``; stopped at the end, with
every process it started (kernels included). Never ``playwright install``: the browser is
``/usr/bin/chromium``. The app server culls idle kernels after ``APP_CULL_IDLE_S`` (production:
600 s, see ``tierlab.views.serve``).

Without Chromium (or Playwright) the tests skip with one line; under ``CI`` they fail instead.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("TIERLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NOTEBOOK = "11-lab-app.ipynb"
#: The test's culling: a closed page's kernel goes after 10 s idle (production: 600 s).
APP_CULL_IDLE_S = 10


def _missing_browser() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; `scripts/setup --test` does it as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    return None


def require_browser() -> None:
    reason = _missing_browser()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process in its own session, output to a file, stopped with all its children."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path, url: str, token: str = "") -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.name, self.url, self.token = name, url, token
        self.log_path = ARTIFACTS / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, path: str | None, timeout_s: float = 60.0) -> None:
        """Until ``url + path`` answers 200 (``path=None``: until the port accepts connections)."""
        deadline = time.monotonic() + timeout_s
        host, port = self.url.rsplit("/", 1)[-1].split(":")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if path is None:
                    with socket.create_connection((host, int(port)), timeout=2):
                        return
                with urllib.request.urlopen(self.request(path), timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout_s} s; see {self.log_path}")

    def request(self, path: str, **headers: str) -> urllib.request.Request:
        """A request to this server carrying its token."""
        return urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}", **headers})

    def kernels(self) -> list[str]:
        """The command lines of the kernel processes this server started that are still alive.

        Command lines, not process handles: a kernel can exit (and sit as a zombie) at any moment,
        and a handle read after that raises instead of answering "gone"."""
        import psutil

        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        alive = []
        for k in kids:
            try:  # a kernel can exit (and sit as a zombie) between children() and cmdline()
                line = " ".join(k.cmdline())
                if k.status() != psutil.STATUS_ZOMBIE and "ipykernel" in line:
                    alive.append(line)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
        return alive

    def stop(self) -> None:
        import psutil

        try:
            family = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        gone, alive = psutil.wait_procs(family, timeout=5)
        for p in alive:  # kernels run in their own sessions: make sure none is left behind
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=5)
        self._log.close()


def wait_for_kernel(server: "Server", timeout_s: float = 60.0) -> None:
    """Until the server has a notebook session whose kernel is idle."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with urllib.request.urlopen(server.request("/api/sessions"), timeout=5) as r:
            sessions = json.loads(r.read())
        if any((s.get("kernel") or {}).get("execution_state") == "idle" for s in sessions):
            return
        time.sleep(0.2)
    raise RuntimeError(f"no idle kernel at {server.url} after {timeout_s} s")


def _sandbox(tmp: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the notebooks and a private Jupyter home; returns (notebook dir, env)."""
    nbdir = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", nbdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    home = tmp / "home"
    settings = home / "lab-settings"
    notif = settings / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True)
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env.update({
        "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "IPYTHONDIR": str(home / "ipython"),
        "PATH": bindir + os.pathsep + env.get("PATH", ""), "PYTHONUNBUFFERED": "1",
    })
    return nbdir, env


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_browser()
    nbdir, env = _sandbox(tmp_path_factory.mktemp("lab"))
    port = free_port()
    token = secrets.token_urlsafe(24)
    env["JUPYTER_TOKEN"] = token  # never on the command line: any account reads those with ps
    args = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ip", "127.0.0.1", "--port", str(port), "--ServerApp.port_retries=0", f"--ServerApp.root_dir={nbdir}"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    srv = Server("jupyterlab", args, env, nbdir, f"http://127.0.0.1:{port}", token)
    try:
        srv.wait_ready("/api/status")
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app page exactly as ``make app`` serves it (tierlab.views.serve), on a copy of the
    notebooks, with a random token and a short culling timeout."""
    require_browser()
    nbdir, env = _sandbox(tmp_path_factory.mktemp("app"))
    port = free_port()
    token = secrets.token_urlsafe(24)
    env["TIERLAB_APP_TOKEN"] = token  # as the README says: never on the command line (ps)
    args = [sys.executable, "-m", "tierlab.views.serve", f"--port={port}",
            f"--cull-idle-s={APP_CULL_IDLE_S}", "--cull-interval-s=1", f"--notebook={nbdir / 'app' / 'lab.ipynb'}"]
    srv = Server("app", args, env, nbdir, f"http://127.0.0.1:{port}", token)
    try:
        srv.wait_ready(None)  # every GET of the page starts a kernel: only wait for the port
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory):
    require_browser()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1366, "height": 768})
        ctx.set_default_timeout(20_000)
        try:
            yield ctx
        finally:
            ctx.close()


def shot(page, name: str, selector: str = ".tl-app .tl-diagram") -> Path:
    """Screenshots under test-artifacts/browser/ (gitignored): the page, and the diagram alone."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    target = page.locator(selector).first
    target.scroll_into_view_if_needed()
    page.screenshot(path=str(path))
    target.screenshot(path=str(ARTIFACTS / f"{name}-diagram.png"))
    return path
