"""The JupyterHub side of ``tierlab hub``: loaded by the hub process through DATA/state/jupyterhub_config.py.

* :class:`TierlabAuthenticator`: one generated password per learner (hub.json, written by the launcher).
* :class:`TierlabSpawner`: JupyterHub's ``LocalProcessSpawner`` as the learner's own Unix account (``tierlab-NAME``,
  made by the launcher with useradd; its uid, gid and name from the launcher, so the admin ``instructor`` runs as
  ``tierlab-instructor``) with a home inside the class folder; the course copied into the home at the first start;
  the learner's own database URL in ``$TIERLAB_DATABASE_URL``.
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


def prepare_home(home: Path, course: Path, uid: int | None, gid: int | None = None) -> None:
    """The learner's home (0700, theirs), with the course's notebooks copied in the first time.

    The copy is made by root and handed over with ``lchown`` (never following a link the learner made). A home
    kept from an earlier class whose account came back with another uid is handed over whole.
    """
    home.mkdir(mode=0o700, exist_ok=True)
    fresh = not os.path.lexists(home / "notebooks")
    if fresh:
        shutil.copytree(course / "notebooks", home / "notebooks", symlinks=True)
    if uid is not None:
        gid = uid if gid is None else gid
        whole = home.lstat().st_uid != uid
        os.lchown(home, uid, gid)
        if fresh or whole:
            for top, dirs, files in os.walk(home if whole else home / "notebooks"):
                os.lchown(top, uid, gid)
                for f in (*files, *(d for d in dirs if os.path.islink(os.path.join(top, d)))):
                    os.lchown(os.path.join(top, f), uid, gid)
    os.chmod(home, 0o700)


class TierlabSpawner(LocalProcessSpawner):
    """A learner's JupyterLab as their own Unix account, in their home, with their database."""

    class_data = Unicode(config=True, help="the class folder")
    course = Unicode(config=True, help="the learners' edition of the course")
    accounts = Dict(config=True, help="hub user -> {account, uid, gid, home} ({} = everyone runs as the hub's account)")
    db_urls = Dict(config=True, help="hub user -> that user's PostgreSQL URL")
    venv_bin = Unicode(config=True, help="the environment's bin/ folder")

    @property
    def account(self) -> dict[str, Any] | None:
        return self.accounts.get(self.user.name)

    @property
    def home(self) -> Path:
        return Path(self.account["home"]) if self.account else Path(self.class_data) / "homes" / self.user.name

    async def start(self) -> Any:
        if self.user.name not in self.db_urls:
            raise RuntimeError(f"{self.user.name!r} is not an account of this class: restart `tierlab hub` "
                               "with it in --names / --learners")
        acct = self.account
        uid, gid = (int(acct["uid"]), int(acct["gid"])) if acct else (None, None)
        prepare_home(self.home, Path(self.course), uid, gid)
        popen: dict[str, Any] = {"cwd": str(self.home)}
        if uid is not None:  # Popen switches to the account's uid and gid (no supplementary groups)
            popen.update(user=uid, group=gid, extra_groups=[], umask=0o077)
        self.popen_kwargs = popen
        return await super().start()

    def make_preexec_fn(self, name: str) -> Any:
        return None  # the switch is Popen's (popen_kwargs), from the launcher's account table

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        name = str(self.account["account"]) if self.account else self.user.name
        env.update(
            USER=name, LOGNAME=name, HOME=str(self.home), SHELL="/bin/bash",
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
    c.TierlabSpawner.accounts = conf["accounts"]
    c.TierlabSpawner.db_urls = conf["db_urls"]
    c.TierlabSpawner.venv_bin = str(Path(conf["singleuser"]).parent)
    c.Spawner.cmd = [conf["singleuser"]]
    if not conf["accounts"] and os.geteuid() == 0:  # shared-account mode as root: the instructor chose it, the summary says so
        c.Spawner.args = ["--allow-root"]
    c.Spawner.ip = "127.0.0.1"
    c.Spawner.default_url = DEFAULT_URL
    c.Spawner.start_timeout = 300  # twenty learners starting at once on two busy cores
    c.Spawner.http_timeout = 300
    every = max(30, min(300, conf["cull_idle_s"] // 4))
    c.JupyterHub.services = [
        {"name": "idle-culler", "cwd": str(state),  # in state/: a dead hub's culler is found there (ClassHub.revive)
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
