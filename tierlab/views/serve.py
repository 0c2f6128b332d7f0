"""Serve the lab app page (``notebooks/app/lab.ipynb``) with Voila, guarded: what ``make app`` runs.

    python -m tierlab.views.serve [--port 8866] [--token T] [--cull-idle-s 600] [--real-packets]

* **A token is required.** Without ``--token`` (or ``$TIERLAB_APP_TOKEN``) a random one is made;
  the URL printed at start carries it. A request without it is redirected to a login page. Pass your own
  through ``$TIERLAB_APP_TOKEN`` rather than ``--token``: any account on the machine reads command lines
  (``ps``), only yours reads your environment. Voila gets it in-process, never on a command line.
* **The Host header is checked** (Jupyter Server's DNS-rebinding guard, which Voila switches
  off): only loopback addresses and ``localhost`` are served.
* **Idle kernels are culled.** Every page load starts a kernel; one whose page is closed
  (no connection) and that has been idle for ``--cull-idle-s`` seconds (production: 600 s,
  checked every 60 s) is shut down, so a day of page loads does not pile up kernels.
* **A kernel waits ready**: one pre-heated kernel has already run the page, so a page request
  is answered from it (and another is warmed up behind it, :data:`POOL_REFILL_DELAY_S` later, so
  the warming does not compete with the page being loaded).
* **Real packets, on request** (``--real-packets``; ``make app REAL_PACKETS=1``): the page gets a
  *Real packets* tab where every toggle is also applied to a copy of the VPC in Linux network
  namespaces and real packets confirm (or not) the evaluator's verdict. Linux as root only; elsewhere
  the tab says why in one line. Each page's kernel builds its own copy when the tab is first opened.
* **Nothing leaves the machine**: the page uses tierlab's Voila template (no CDN links) and
  listens on 127.0.0.1 only.
* **No MathJax**: the page shows no maths, yet Voila's frontend with its default page config
  loads and starts MathJax 3 (16 scripts, about 1 MB) for an empty element as the app starts, on
  the way to the first interactive page. Given a MathJax URL it takes its MathJax 2 path instead,
  which loads that URL only when something is typeset: the template's ``static/no-mathjax.js``, a
  MathJax that typesets nothing (a ``$`` in a label stays a dollar sign).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["CULL_IDLE_S", "CULL_INTERVAL_S", "POOL_REFILL_DELAY_S", "app_notebook", "voila_argv", "parse_args",
           "main", "launch", "no_mathjax_page_config"]

#: The pool's next kernel starts this long after a page took the pre-heated one (Voila's default: 1 s).
#: Pre-heating runs the whole app page in the server and a new kernel (about 1 CPU-second in the server
#: alone); started at once, it competed with the page it had just served: on this 2-core machine the
#: server's CPU during a page load fell from 1.2 s to 0.2 s and the page was interactive sooner. A
#: reload within this delay waits for the rest of it and the pre-heat.
POOL_REFILL_DELAY_S = 5.0
#: Production culling: a kernel with no open page, idle this long, is shut down ...
CULL_IDLE_S = 600
#: ... checked this often.
CULL_INTERVAL_S = 60


def no_mathjax_page_config(page_config: dict, *, base_url: str, **_kwargs: object) -> dict:
    """Voila's ``page_config_hook``: the page's "MathJax" is the template's no-op (see the module doc)."""
    url = base_url.rstrip("/") + "/voila/templates/tierlab/static/no-mathjax.js"
    return {**page_config, "fullMathjaxUrl": url, "mathjaxConfig": "none"}


def app_notebook() -> Path:
    """The app page: ``notebooks/app/lab.ipynb`` of this checkout."""
    from ..errors import TierlabError

    path = Path(__file__).resolve().parents[2] / "notebooks" / "app" / "lab.ipynb"
    if not path.exists():
        raise TierlabError(f"the app page {path} is missing", "run make app from a tierlab checkout")
    return path


def voila_argv(notebook: Path, *, port: int, token: str, cull_idle_s: int = CULL_IDLE_S,
               cull_interval_s: int = CULL_INTERVAL_S) -> list[str]:
    """Voila's command line for the guarded app (no browser, 127.0.0.1, token, culling, template)."""
    if not token:
        from ..errors import TierlabError

        raise TierlabError("the app needs a non-empty token", "pass --token or leave it out for a random one")
    return [
        str(notebook), "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}", "--Voila.port_retries=0",
        f"--token={token}", "--template=tierlab", "--strip_sources=True", "--show_tracebacks=False",
        # one kernel kept ready with the app already built: the page's HTML comes at once and the
        # page waits only for its scripts and widgets (Voila never culls a pooled kernel; it culls the
        # one a closed page leaves behind)
        "--preheat_kernel=True", "--pool_size=1", f"--VoilaKernelManager.fill_delay={POOL_REFILL_DELAY_S:g}",
        # only the widget managers: the page needs no other JupyterLab extension (their scripts delay it)
        "--VoilaConfiguration.extension_allowlist=['@jupyter-widgets/jupyterlab-manager', '@voila-dashboards/widgets-manager8']",
        "--VoilaConfiguration.multi_kernel_manager_class=tierlab.views.kernel_pool.FreshPoolKernelManager",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
        f"--MappingKernelManager.cull_interval={cull_interval_s}",
        "--MappingKernelManager.cull_connected=False",
    ]


def _template_root(notebook: Path) -> str:
    return str(notebook.parent / "share")


def _whole(lo: int, hi: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number in ``lo..hi``, else a usage error naming the option and the range."""
    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,9}", text.strip()) or not lo <= int(text) <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number {lo}-{hi}, got {text[:40]!r}")
        return int(text)
    return parse


def _token(text: str) -> str:
    """A token travels in the page's URL: URL-safe characters only (letters, digits, - _ . ~), 16-256 of them."""
    if not re.fullmatch(r"[A-Za-z0-9._~-]{16,256}", text):
        raise argparse.ArgumentTypeError("the token must be 16-256 URL-safe characters (letters, digits, - _ . ~); "
                                         "leave it out for a random one")
    return text


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, checked before anything starts (a bad port or token is a usage error, exit 2)."""
    ap = argparse.ArgumentParser(prog="python -m tierlab.views.serve", description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=_whole(1, 65535, "--port"), default=8866)
    ap.add_argument("--token", type=_token, default=None,
                    help="the page's token (default: $TIERLAB_APP_TOKEN, else a random one; prefer the variable: "
                         "a command line is visible to every account on the machine in ps)")
    ap.add_argument("--cull-idle-s", type=_whole(1, 7 * 86400, "--cull-idle-s"), default=CULL_IDLE_S)
    ap.add_argument("--cull-interval-s", type=_whole(1, 86400, "--cull-interval-s"), default=CULL_INTERVAL_S)
    ap.add_argument("--real-packets", action="store_true",
                    help="add the Real packets tab: toggles also drive nftables in Linux namespaces (root only)")
    ap.add_argument("--notebook", type=Path, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    env = os.environ.get("TIERLAB_APP_TOKEN")
    if a.token is None and env:
        try:
            a.token = _token(env)
        except argparse.ArgumentTypeError as exc:
            ap.error(f"$TIERLAB_APP_TOKEN: {exc}")
    return a


def main(argv: Sequence[str] | None = None) -> int:
    a = parse_args(argv)
    if a.real_packets:
        from ..linux.mirror import unavailable
        from .widgets import REAL_PACKETS_ENV

        os.environ[REAL_PACKETS_ENV] = "1"  # the page's kernels inherit it
        print(unavailable() or "tierlab app: real packets on (the Real packets tab builds the VPC in namespaces)",
              flush=True)
    token = a.token or secrets.token_urlsafe(24)
    nb = a.notebook or app_notebook()
    # Voila finds templates under $JUPYTER_PATH/voila/templates: put ours first.
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (_template_root(nb), os.environ.get("JUPYTER_PATH"))
                                                 if p)
    from traitlets.config import Config

    config = Config()
    # Voila turns Jupyter Server's Host check off (allow_remote_access=True); this turns it back on.
    config.Voila.tornado_settings = {"allow_remote_access": False, "local_hostnames": ["localhost"]}
    config.VoilaConfiguration.page_config_hook = no_mathjax_page_config
    print(f"tierlab app: http://127.0.0.1:{a.port}/?token={token}", flush=True)
    launch(voila_argv(nb, port=a.port, token=token, cull_idle_s=a.cull_idle_s, cull_interval_s=a.cull_interval_s),
           config)
    return 0


def launch(argv: list[str], config: object) -> None:
    """Start Voila in this process (its import costs seconds: only here, after the arguments passed)."""
    from voila.app import Voila

    Voila.launch_instance(argv=argv, config=config)


if __name__ == "__main__":
    sys.exit(main())
