"""The JupyterHub side of ``tierlab hub``: loaded by the hub process through DATA/state/jupyterhub_config.py.

* :class:`TierlabAuthenticator`: one generated password per learner (hub.json, written by the launcher).
* :class:`TierlabSpawner`: JupyterHub's ``LocalProcessSpawner`` with a numeric uid and a home inside the class
  folder instead of a system account; the course copied into the home at the first start; the learner's own
  database URL in ``$TIERLAB_DATABASE_URL``.
* :func:`configure`: 127.0.0.1 only, the proxy from the checkout's node_modules, the idle culler as a service, an
  admin token for the instructor's scripts.
"""

from __future__ import annotations

import hmac
import json
import os
import shutil
from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator
from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Dict, Unicode

__all__ = ["TierlabAuthenticator", "TierlabSpawner", "configure", "prepare_home"]

DEFAULT_URL = "/lab/tree/notebooks/00-start-here.ipynb"


class TierlabAuthenticator(Authenticator):
    """Each account logs in with its own password (DATA/passwords.txt); nobody else gets in."""

    passwords = Dict(config=True, help="account -> password")

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = str((data or {}).get("username", "")).strip().lower()
        given = str((data or {}).get("password", ""))
        want = self.passwords.get(name)
        if want and hmac.compare_digest(want.encode(), given.encode()):
            return name
        self.log.warning("tierlab: failed login for %r", name)
        return None


def prepare_home(home: Path, course: Path, uid: int | None) -> None:
    """The learner's home (0700, theirs), with the course's notebooks copied in the first time.

    The copy is made by root and handed over with ``lchown`` (never following a link the learner made).
    """
    home.mkdir(mode=0o700, exist_ok=True)
    fresh = not os.path.lexists(home / "notebooks")
    if fresh:
        shutil.copytree(course / "notebooks", home / "notebooks", symlinks=True)
    if uid is not None:
        os.lchown(home, uid, uid)
        if fresh:
            for top, dirs, files in os.walk(home / "notebooks"):
                os.lchown(top, uid, uid)
                for f in files:
                    os.lchown(os.path.join(top, f), uid, uid)
    os.chmod(home, 0o700)


class TierlabSpawner(LocalProcessSpawner):
    """A learner's JupyterLab with its own uid (no system account), home and database."""

    class_data = Unicode(config=True, help="the class folder")
    course = Unicode(config=True, help="the learners' edition of the course")
    uids = Dict(config=True, help="account -> numeric uid ({} = everyone runs as the hub's account)")
    db_urls = Dict(config=True, help="account -> that account's PostgreSQL URL")
    venv_bin = Unicode(config=True, help="the environment's bin/ folder")

    @property
    def home(self) -> Path:
        return Path(self.class_data) / "homes" / self.user.name

    @property
    def uid(self) -> int | None:
        uid = self.uids.get(self.user.name)
        return int(uid) if uid is not None else None

    async def start(self) -> Any:
        if self.user.name not in self.db_urls:
            raise RuntimeError(f"{self.user.name!r} is not an account of this class: restart `tierlab hub` "
                               "with it in --names / --learners")
        prepare_home(self.home, Path(self.course), self.uid)
        uid = self.uid
        popen: dict[str, Any] = {"cwd": str(self.home)}
        if uid is not None:  # Popen switches uid/gid itself: no passwd entry needed
            popen.update(user=uid, group=uid, extra_groups=[], umask=0o077)
        self.popen_kwargs = popen
        return await super().start()

    def make_preexec_fn(self, name: str) -> Any:
        return None  # the uid switch is Popen's (popen_kwargs), not a pwd lookup

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        env.update(
            USER=self.user.name, LOGNAME=self.user.name, HOME=str(self.home), SHELL="/bin/bash",
            PATH=f"{self.venv_bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            TIERLAB_DATA=str(Path(self.course) / "data"),
            TIERLAB_DATABASE_URL=self.db_urls[self.user.name],
        )
        return env

    async def move_certs(self, paths: Any) -> Any:
        return paths  # internal TLS is off: the hub, the proxy and the servers stay on 127.0.0.1


def configure(c: Any, hub_json: str) -> None:
    """Fill JupyterHub's config object ``c`` from the launcher's DATA/state/hub.json."""
    conf = json.loads(Path(hub_json).read_text())
    state = Path(conf["data"]) / "state"
    learners, admin = conf["learners"], conf["admin"]
    c.JupyterHub.bind_url = f"http://127.0.0.1:{conf['port']}"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{conf['hub_port']}"
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.command = [conf["proxy"]]
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{conf['proxy_api_port']}"
    c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
    c.JupyterHub.authenticator_class = TierlabAuthenticator
    c.TierlabAuthenticator.passwords = conf["passwords"]
    c.Authenticator.allowed_users = set(learners) | {admin}
    c.Authenticator.admin_users = {admin}
    c.JupyterHub.spawner_class = TierlabSpawner
    c.TierlabSpawner.class_data = conf["data"]
    c.TierlabSpawner.course = conf["course"]
    c.TierlabSpawner.uids = conf["uids"]
    c.TierlabSpawner.db_urls = conf["db_urls"]
    c.TierlabSpawner.venv_bin = str(Path(conf["singleuser"]).parent)
    c.Spawner.cmd = [conf["singleuser"]]
    if not conf["uids"] and os.geteuid() == 0:  # shared-account mode as root: the instructor chose it, the summary says so
        c.Spawner.args = ["--allow-root"]
    c.Spawner.ip = "127.0.0.1"
    c.Spawner.default_url = DEFAULT_URL
    c.Spawner.start_timeout = 300  # twenty learners starting at once on two busy cores
    c.Spawner.http_timeout = 300
    every = max(30, min(300, conf["cull_idle_s"] // 4))
    c.JupyterHub.services = [
        {"name": "idle-culler",
         "command": [conf["python"], "-m", "jupyterhub_idle_culler", f"--timeout={conf['cull_idle_s']}",
                     f"--cull-every={every}"]},
        {"name": "tierlab-instructor", "api_token": conf["api_token"]},
    ]
    c.JupyterHub.load_roles = [
        {"name": "idle-culler", "services": ["idle-culler"],
         "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
        {"name": "tierlab-instructor", "services": ["tierlab-instructor"],
         "scopes": ["admin:users", "admin:servers", "access:servers", "tokens", "list:users", "list:services",
                    "read:services"]},
    ]
