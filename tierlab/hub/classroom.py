"""The instructor's side of ``tierlab hub``: prepare a class folder, a database, then run JupyterHub.

The class folder (``DATA``, ``.tierlab-hub/`` in the checkout by default)::

    DATA/                 0711 root    (learners may pass through, not list)
      passwords.txt       0600         one ``account password`` line per learner: hand them out
      api-token           0600         an admin token for the hub's REST API (scripts, the test, the benchmark)
      hub.json            0600         what jupyterhub_config.py reads (ports, accounts, uids, database URLs)
      progress/           0700         each learner's progress.jsonl, saved when the hub stops and removes the homes
      state/              0700         jupyterhub_config.py, jupyterhub.sqlite, the cookie secret, jupyterhub.log
      course/             0755         the learners' edition (``tierlab handout``): notebooks and data, no answers
      homes/              0711
        tierlab-01/       0700 tierlab-01   notebooks/ (copied at first start), .tierlab/progress.jsonl, ...

As root, each learner is a Unix account ``tierlab-NAME`` (``tierlab.hub.accounts``), made at start and removed at
stop with their home (``keep_work=True``: homes and --db-url databases stay; the accounts go either way).

Nothing here imports JupyterHub: ``tierlab.hub.jh`` (loaded by the hub process) does.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import hmac
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

from ..course.progress import MAX_BYTES as PROGRESS_MAX_BYTES
from ..errors import DatabaseError, TierlabError
from ..network.limits import printable
from ..network.readfile import read_bounded
from .accounts import (MARK, Account, create_account, end_processes, end_processes_of, missing_tools, reap_leftovers,
                       remove_account, remove_home, remove_temp_of)

__all__ = ["ClassHub", "LEARNER_PREFIX", "learner_names", "find_proxy", "DEFAULT_PORT", "UID_BASE"]

LEARNER_PREFIX = "tierlab-"
#: The uid that probes whether a learner's account could run the environment (no account has it: above Debian's
#: range 1000-59999 that useradd picks learners' uids from, below nobody's 65534).
UID_BASE = 61000
DEFAULT_PORT = 8000
#: A learner's connections at most: notebook 05 holds its pool of 10 (the seed's max: 10) while its race opens 20
#: more, and the pool lesson opens a new connection per request beside them.
CONNECTIONS_PER_LEARNER = 40
#: The client-side limit on one statement of the class's administration (CREATE/DROP DATABASE): DROP DATABASE waits
#: for a checkpoint, which on a busy machine outlasts the 5 s that learners' queries get.
ADMIN_DDL_TIMEOUT_S = 120.0
ROOT = Path(__file__).resolve().parent.parent.parent
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,23}$")  # tierlab- + 24: the 32 characters useradd allows
_PR_SET_PDEATHSIG = 1
MAX_LEARNERS = 999
#: A JupyterHub killed by a signal is started again (ClassHub.wait) at most this often in this long.
REVIVALS, REVIVAL_WINDOW_S = 3, 600.0
#: Accounts a learner may not become: ``tierlab-NAME`` for these names is someone else's.
RESERVED_NAMES = {"pg": "is the embedded PostgreSQL's own account"}
#: What a hub writes into its class folder: a folder holding only these is a class folder (reused by a restart).
CLASS_ENTRIES = frozenset({"state", "homes", "course", "progress", "passwords.txt", "api-token", "class-db-ca.crt"})
Isolation = Literal["account", "shared-account"]


def learner_names(learners: int | Iterable[str]) -> tuple[str, ...]:
    """``30`` -> ``tierlab-01 .. tierlab-30``; ``["ada", "bob"]`` -> ``tierlab-ada, tierlab-bob``."""
    if isinstance(learners, int):
        if not 1 <= learners <= MAX_LEARNERS:
            raise TierlabError(f"--learners {_show(learners)}: a class of {_show(learners)} learners is outside "
                               f"1..{MAX_LEARNERS}", f"pass --learners N with 1 <= N <= {MAX_LEARNERS}")
        width = max(2, len(str(learners)))
        return tuple(f"{LEARNER_PREFIX}{i:0{width}d}" for i in range(1, learners + 1))
    raws = list(learners)
    if not raws:
        raise TierlabError("--names gives no learner name", "give one or more, separated by commas: --names ada,bob")
    if len(raws) > MAX_LEARNERS:
        raise TierlabError(f"--names gives {len(raws)} learners; a class on one machine takes at most {MAX_LEARNERS}",
                           "split the class over several hubs (each its own --data and --port)")
    out = []
    for raw in raws:
        name = str(raw).strip().lower().removeprefix(LEARNER_PREFIX)
        if not _NAME.match(name):
            raise TierlabError(f"--names: learner name {printable(repr(raw), 60)} is not a short lowercase name",
                               "use letters, digits and _ (e.g. --names ada,bob_2), at most 24 characters")
        if name in RESERVED_NAMES:
            raise TierlabError(f"--names: learner name {name!r} would be the account {LEARNER_PREFIX + name!r}, "
                               f"which {RESERVED_NAMES[name]}", "give that learner another name (--names)")
        out.append(LEARNER_PREFIX + name)
    if len(set(out)) != len(out):
        twice = sorted({n for n in out if out.count(n) > 1})
        raise TierlabError(f"--names repeats {printable(', '.join(twice), 120)}", "give each learner once")
    return tuple(out)


def _show(value: object) -> str:
    return printable(str(value), 40)


def db_name(learner: str) -> str:
    """A learner's PostgreSQL role and database: ``tierlab-01`` -> ``tierlab_01``."""
    return learner.replace("-", "_")


def learner_python() -> Path:
    """The Python of the learners' servers: ``.venv-learners`` (set-up makes it when ``.venv``'s interpreter is out
    of other accounts' reach, e.g. under /root), else this one."""
    own = ROOT / ".venv-learners" / "bin" / "python"
    return own if own.is_file() else Path(sys.executable)


def find_proxy() -> Path:
    """configurable-http-proxy: ``$TIERLAB_HUB_PROXY``, else the checkout's ``node_modules`` (set-up puts it there)."""
    env = os.environ.get("TIERLAB_HUB_PROXY", "").strip()
    candidates = [Path(env)] if env else [ROOT / "node_modules" / ".bin" / "configurable-http-proxy"]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            if shutil.which("node") is None:
                raise TierlabError("JupyterHub's proxy needs Node.js, and `node` is not on PATH",
                                   "install Node.js (apt-get install nodejs npm), then run `make hub` again")
            return c
    raise TierlabError(f"JupyterHub's proxy (configurable-http-proxy) is not installed at {candidates[-1]}",
                       "run `make hub` (or `bash scripts/setup --hub`): it installs it with npm into the checkout's "
                       "node_modules/; or set TIERLAB_HUB_PROXY to its path")


def _port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise TierlabError(f"--port {_show(port)} is not a TCP port",
                           "pick a port between 1024 and 65535: tierlab hub --port N (make hub HUB_PORT=N)")
    return port


def check_port(port: int, what: str = "the hub") -> None:
    """A clear error when something already listens on 127.0.0.1:port."""
    _port(port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the proxy will: TIME_WAIT is no conflict
        try:
            s.bind(("127.0.0.1", port))
            s.listen(1)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise TierlabError(f"--port {port}: port {port} on 127.0.0.1 is in use, so {what} cannot listen there",
                                   f"stop what listens there (ss -ltnp 'sport = :{port}' names it) or pick another "
                                   "port: tierlab hub --port N, make hub HUB_PORT=N") from None
            raise TierlabError(f"--port {port}: cannot listen on 127.0.0.1:{port} for {what}: {exc.strerror}",
                               "pick a port above 1024: tierlab hub --port N") from None


def _class_folder(data: str | Path | None) -> Path:
    """The class folder's absolute path (nothing is made yet); ``--data`` that cannot be a path is refused."""
    if data is None:
        return ROOT / ".tierlab-hub"
    text = os.fspath(data)
    if not str(text).strip() or "\x00" in str(text):
        raise TierlabError(f"--data {printable(repr(text), 60)} is not a folder's path",
                           "give the class folder: tierlab hub --data /srv/tierlab-class (default: .tierlab-hub/ in "
                           "the checkout)")
    try:
        return Path(text).expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a link loop, a name too long for the system
        raise TierlabError(f"--data {printable(repr(text), 60)} is not a usable path ({exc})",
                           "give the class folder: tierlab hub --data /srv/tierlab-class") from None


def check_class_folder(data: Path) -> None:
    """``--data`` may be a new folder, an empty one, or one a hub made (only the names a hub writes, so a restart
    keeps its passwords): the hub changes the folder's mode to 0711 and writes into it, so ``--data /``, ``/tmp``
    or a home full of someone's files is refused before anything is touched. Nothing is created here."""
    hint = "give a new or empty folder: tierlab hub --data /srv/tierlab-class"
    if os.geteuid() == 0:
        for part in ("/root", str(Path.home())):
            if part != "/" and (data == Path(part) or Path(part) in data.parents):
                raise TierlabError(f"--data {printable(str(data), 120)} is inside {part}, which learners cannot enter",
                                   "pass --data DIR outside /root (e.g. /srv/tierlab-class)")
    probe = data
    while True:  # the folder itself, else its nearest existing parent
        try:
            st = probe.lstat()
            break
        except FileNotFoundError:
            probe = probe.parent
        except OSError as exc:
            raise TierlabError(f"--data {printable(str(data), 120)}: {exc.strerror or type(exc).__name__}", hint) from None
    if not stat.S_ISDIR(st.st_mode):
        what = "a link" if stat.S_ISLNK(st.st_mode) else "not a folder"
        raise TierlabError(f"--data {printable(str(data), 120)}: {printable(str(probe), 120)} is {what}", hint)
    if probe != data:  # a folder made and removed at once: the file system says whether it can be made there
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".tierlab-hub-probe-", dir=probe))
        except OSError as exc:
            raise TierlabError(f"--data {printable(str(data), 120)}: cannot create a folder in "
                               f"{printable(str(probe), 120)} ({exc.strerror or type(exc).__name__})", hint) from None
        return
    try:
        foreign = sorted(set(os.listdir(data)) - CLASS_ENTRIES)
    except OSError as exc:
        raise TierlabError(f"--data {printable(str(data), 120)}: {exc.strerror or type(exc).__name__}", hint) from None
    if foreign:
        raise TierlabError(f"--data {printable(str(data), 120)} holds files that are not a class's "
                           f"({printable(', '.join(foreign[:5]), 120)}{', ...' if len(foreign) > 5 else ''}); "
                           "the hub would change its mode and write into it", hint)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _private(path: Path, mode: int, text: str | None = None) -> Path:
    """A file (text given) or folder with exactly ``mode``, made so before anything is written into it."""
    if text is None:
        path.mkdir(parents=True, exist_ok=True)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    os.chmod(path, mode)
    return path


def _derive(secret: str, purpose: str, learner: str, n: int) -> str:
    """A password that only the class folder's secret can recompute (so restarts keep the same ones)."""
    digest = hmac.new(secret.encode(), f"{purpose}:{learner}".encode(), hashlib.sha256).digest()
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread on a slip of paper
    return "".join(alphabet[b % len(alphabet)] for b in digest[:n])


def _pdeathsig() -> Any:
    """A preexec function: the hub gets SIGTERM (and cleans up) when the launcher dies, even by SIGKILL."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None

    def set_it() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        # a launcher started in the background (`tierlab hub &`, nohup) ignores SIGINT, and its children would too:
        # JupyterHub stops servers and the culler with SIGINT, and would wait out each timeout before SIGTERM
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return set_it


@dataclass(frozen=True, kw_only=True)
class ClassDatabase:
    """The class's PostgreSQL as the launcher sees it: where it is and how tierlab administers it."""

    host: str
    port: int
    admin: dict[str, Any] = field(repr=False)  # psycopg keyword arguments of the administrator role
    sslmode: str
    sslrootcert: str | None
    where: str  # one line for the instructor
    stop: Any = field(default=None, repr=False)

    def learner_url(self, learner: str, password: str) -> str:
        from urllib.parse import quote

        query = f"sslmode={self.sslmode}" + (f"&sslrootcert={quote(self.sslrootcert)}" if self.sslrootcert else "")
        name = db_name(learner)
        return f"postgresql://{name}:{quote(password, safe='')}@{self.host}:{self.port}/{name}?{query}"


class ClassHub:
    """A JupyterHub for a class on this machine: accounts, homes, one database per learner, culling.

    ``learners``: a number (``tierlab-01`` ..) or names; ``data``: the class folder; ``port``: where the
    proxy listens on 127.0.0.1; ``db_url``: an administrator URL of the class's PostgreSQL (a role with
    CREATEROLE and CREATEDB), else tierlab starts its own; ``cull_idle_s``: servers idle that long are
    stopped; ``isolation``: ``"auto"`` (a Unix account per learner when root and possible), or ``"shared-account"``;
    ``keep_work``: keep the homes, and on ``db_url``'s server the roles and databases, when the hub stops (by
    default they go: the learners' progress files are saved to DATA/progress/ first).
    """

    def __init__(self, learners: int | Iterable[str] = 30, *, data: str | Path | None = None,
                 port: int = DEFAULT_PORT, db_url: str | None = None, cull_idle_s: int = 1800,
                 isolation: Literal["auto", "shared-account"] = "auto", admin: str = "instructor",
                 keep_work: bool = False) -> None:
        self.learners = learner_names(learners)
        if not isinstance(admin, str) or not _NAME.match(admin) or admin in RESERVED_NAMES:
            raise TierlabError(f"--admin {printable(repr(admin), 40)} cannot be the instructor's account name",
                               "use letters, digits and _, at most 24 characters (default: --admin instructor)")
        if LEARNER_PREFIX + admin in self.learners:
            raise TierlabError(f"--names: the learner {LEARNER_PREFIX + admin!r} would share an account with the "
                               f"admin {admin!r}", "give that learner another name (--names), or the admin (--admin)")
        self.data = _class_folder(data)
        self.port = _port(port)
        self.db_url = db_url
        self._given_db = _given_database(db_url) if db_url is not None else None  # its syntax, before anything
        if isinstance(cull_idle_s, bool) or not isinstance(cull_idle_s, int) or cull_idle_s < 60:
            raise TierlabError(f"--cull-idle-s {_show(cull_idle_s)} would stop servers while learners read",
                               "use 60 s or more: tierlab hub --cull-idle-s 1800 (the default)")
        self.cull_idle_s = int(cull_idle_s)
        self.admin_name = admin
        self.want_isolation = isolation
        self.isolation: Isolation = "shared-account"
        self.isolation_reason = ""
        self.keep_work = bool(keep_work)
        self.accounts: dict[str, Account] = {}  # the hub's user name -> their Unix account ("account" isolation)
        self.reaped: list[str] = []  # accounts a killed earlier run left, removed at this start
        self.created_dbs: list[str] = []  # roles and databases this run created on --db-url's server
        self.token = ""
        self.db: ClassDatabase | None = None
        self.proc: subprocess.Popen | None = None
        self.db_urls: dict[str, str] = {}

    # --- paths -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data / "state" / "jupyterhub.log"

    @property
    def passwords_file(self) -> Path:
        return self.data / "passwords.txt"

    def account_name(self, user: str) -> str:
        """The Unix account of a hub user: learners are ``tierlab-NAME`` already; the admin gets the prefix."""
        return user if user.startswith(LEARNER_PREFIX) else LEARNER_PREFIX + user

    def home(self, learner: str) -> Path:
        return self.data / "homes" / (self.account_name(learner) if self.isolation == "account" else learner)

    # --- start --------------------------------------------------------------------------------
    def start(self, *, timeout_s: float = 120.0) -> "ClassHub":
        """Check, prepare and start; returns once the hub's REST API answers through the proxy."""
        self.check()
        self.db = self._given_db
        proxy = find_proxy()
        for module, pkg in (("jupyterhub", "jupyterhub"), ("jupyterhub_idle_culler", "jupyterhub-idle-culler")):
            if importlib.util.find_spec(module) is None:
                raise TierlabError(f"{pkg} is not installed in {sys.prefix}",
                                   "run `make hub` (or `bash scripts/setup --hub`), which installs it")
        secret = self._prepare_folder()
        self._choose_isolation()
        try:
            if self.isolation == "account":
                self._make_accounts()
            if self.db is None:
                self.db = self._start_database()
            self._provision_databases(secret)
            self._write_config(secret, proxy)
            self._launch(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def check(self) -> None:
        """What the arguments need of this machine, checked before anything is made or started: the port is free,
        the class folder is new, empty or a class's (:func:`check_class_folder`), and ``db_url``'s server lets its
        administrator in."""
        check_port(self.port)
        check_class_folder(self.data)
        if self._given_db is not None:  # the instructor's server: a dead one is told before anything is made
            provision(self._given_db.admin, [], lock_others=False)

    def _prepare_folder(self) -> str:
        _private(self.data, 0o711)
        _private(self.data / "state", 0o700)
        _private(self.data / "homes", 0o711)
        secret_file = self.data / "state" / "secret"
        if not secret_file.exists():
            _private(secret_file, 0o600, secrets.token_hex(32))
        secret = secret_file.read_text().strip()
        course = self.data / "course"
        if not (course / "notebooks").is_dir():
            from ..course.handout import handout

            handout(course, overwrite=True, wheel=False)  # the hub has tierlab installed
        for p in [course, *course.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(course.parent, 0o711)
        return secret

    def _choose_isolation(self) -> None:
        if self.want_isolation == "shared-account":
            self.isolation, self.isolation_reason = "shared-account", "asked for"
        elif os.geteuid() != 0:
            self.isolation, self.isolation_reason = "shared-account", "not root, so no learner accounts can be made"
        elif missing_tools():
            self.isolation, self.isolation_reason = "shared-account", missing_tools()
        else:
            problem = _probe_as(UID_BASE - 1, self.data / "course" / "data", learner_python())
            if problem:
                self.isolation, self.isolation_reason = "shared-account", problem
            else:
                self.isolation, self.isolation_reason = "account", (
                    f"a Unix account {LEARNER_PREFIX}NAME per learner (useradd, comment {MARK!r}), home 0700 in "
                    f"{self.data / 'homes'}; removed when the hub stops")

    def _make_accounts(self) -> None:
        """Reap what a killed run left, then one account per learner and the admin (``useradd``); the uid each
        had last time (DATA/state/uids.json) when still free, so a kept home stays theirs."""
        self.reaped = reap_leftovers(LEARNER_PREFIX, save=save_progress_of)  # a killed run's progress is kept
        path = self.data / "state" / "uids.json"
        known: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
        for user in (*self.learners, self.admin_name):
            name = self.account_name(user)
            self.accounts[user] = create_account(name, self.data / "homes" / name, prefix=LEARNER_PREFIX,
                                                 keep_homes=self.keep_work, uid=known.get(name))
            known[name] = self.accounts[user].uid
            _private(path, 0o600, json.dumps(known, indent=1))

    def _start_database(self) -> ClassDatabase:
        if self.db_url:
            return _given_database(self.db_url)
        from ..db import embedded

        n = len(self.learners) + 1
        server = embedded.start_embedded(max_connections=max(100, CONNECTIONS_PER_LEARNER * n + 10))
        cafile = None
        if server.cafile is not None:  # the server's folder is private to its account: a public copy
            cafile = str(_private(self.data / "class-db-ca.crt", 0o644, server.cafile.read_text()))
        return ClassDatabase(
            host=server.host, port=server.port, sslmode="verify-full" if server.tls else "disable", sslrootcert=cafile,
            admin=dict(host=server.host, port=server.port, user=server.admin_user, password=server.admin_password,
                       dbname="template1", sslmode="disable" if not server.tls else "require"),
            where=f"embedded PostgreSQL {server.binaries.version} on {server.host}:{server.port} (pid {server.pid}), "
                  "started for this class; its rows go when the hub stops",
            stop=server.stop,
        )

    def _provision_databases(self, secret: str) -> None:
        assert self.db is not None
        names = (*self.learners, self.admin_name)
        self.db_urls = {}
        created = provision(self.db.admin, [(db_name(n), _derive(secret, "db", n, 24)) for n in names],
                            lock_others=self.db_url is None)
        if self.db_url:  # tierlab's own server goes whole at stop; on the instructor's, what this run created
            self.created_dbs = [*self.created_dbs, *created]
        for n in names:
            self.db_urls[n] = self.db.learner_url(n, _derive(secret, "db", n, 24))

    def _write_config(self, secret: str, proxy: Path) -> None:
        token_file = self.data / "api-token"
        if not token_file.exists():
            _private(token_file, 0o600, secrets.token_hex(32))
        self.token = token_file.read_text().strip()
        passwords = {n: _derive(secret, "login", n, 10) for n in (*self.learners, self.admin_name)}
        _private(self.passwords_file, 0o600,
                 "# tierlab hub: one account and its password a line; hand each learner theirs\n"
                 + "".join(f"{n} {p}\n" for n, p in passwords.items()))
        venv_bin = learner_python().parent if self.isolation == "account" else Path(sys.executable).parent
        conf = {
            "data": str(self.data), "port": self.port, "hub_port": free_port(), "proxy_api_port": free_port(),
            "proxy": str(proxy), "learners": list(self.learners), "admin": self.admin_name,
            "accounts": {u: {"account": a.name, "uid": a.uid, "gid": a.gid, "home": str(a.home)}
                         for u, a in self.accounts.items()}, "isolation": self.isolation,
            "passwords": passwords, "db_urls": self.db_urls, "api_token": self.token, "cull_idle_s": self.cull_idle_s,
            "python": sys.executable, "singleuser": str(venv_bin / "jupyterhub-singleuser"),
            "course": str(self.data / "course"),
        }
        _private(self.data / "state" / "hub.json", 0o600, json.dumps(conf, indent=1))
        _private(self.data / "state" / "jupyterhub_config.py", 0o600,
                 "# written by `tierlab hub`: the configuration lives in tierlab/hub/jh.py\n"
                 "from tierlab.hub.jh import configure\n\n"
                 f"configure(c, {str(self.data / 'state' / 'hub.json')!r})  # noqa: F821 (c: JupyterHub's config)\n")

    def _launch(self, timeout_s: float) -> None:
        state = self.data / "state"
        log = open(self.log_file, "ab")
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(state / "jupyterhub_config.py")],
            cwd=state, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            preexec_fn=_pdeathsig())
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise TierlabError(f"JupyterHub exited with status {self.proc.returncode} while starting:\n"
                                   f"{self.log_tail()}", f"see {self.log_file}")
            try:
                self.api("GET", "/")
                return
            except (OSError, TierlabError):
                time.sleep(0.2)  # polling the API until it answers, bounded by the deadline
        raise TierlabError(f"JupyterHub did not answer on {self.url} within {timeout_s:g} s:\n{self.log_tail()}",
                           f"see {self.log_file}")

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # --- the REST API -----------------------------------------------------------------------------
    def api(self, method: str, path: str, body: Any = None, *, token: str | None = None,
            timeout_s: float = 30.0) -> Any:
        """Call the hub's REST API (``/hub/api`` + path) with the admin token; JSON in and out."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}/hub/api{path}", data=data, method=method,
                                     headers={"Authorization": f"token {token or self.token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise TierlabError(f"hub API {method} {path} answered {exc.code}: {detail}", f"see {self.log_file}") from None
        return json.loads(raw) if raw else None

    def start_server(self, learner: str) -> None:
        """Ask the hub to start a learner's server (returns at once; :meth:`wait_ready` waits)."""
        self.api("POST", f"/users/{learner}/server")

    def wait_ready(self, learner: str, *, timeout_s: float = 180.0) -> float:
        """Wait until the learner's server is ready; the seconds waited."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            user = self.api("GET", f"/users/{learner}")
            server = (user.get("servers") or {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - t0
            if not server and not user.get("pending"):
                raise TierlabError(f"the server of {learner} stopped while starting:\n{self.log_tail()}",
                                   f"see {self.log_file}")
            time.sleep(0.25)  # polling the hub's own state, bounded by timeout_s
        raise TierlabError(f"the server of {learner} was not ready within {timeout_s:g} s", f"see {self.log_file}")

    def stop_server(self, learner: str, *, timeout_s: float = 60.0) -> None:
        self.api("DELETE", f"/users/{learner}/server")
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            user = self.api("GET", f"/users/{learner}")
            if not user.get("servers") and not user.get("pending"):
                return
            time.sleep(0.25)
        raise TierlabError(f"the server of {learner} did not stop within {timeout_s:g} s", f"see {self.log_file}")

    def run_code(self, learner: str, code: str | list[str], *, timeout_s: float = 120.0, token: str | None = None,
                 shutdown: bool = True, kernel: str | None = None) -> str:
        """Run ``code`` in a new kernel of the learner's server; its printed output (a TierlabError if it raised).
        ``shutdown=False`` leaves the kernel running; ``kernel``: run in that running kernel instead (left running)."""
        from .client import run_code

        return run_code(self.url, learner, token or self.token, code, timeout_s=timeout_s, shutdown=shutdown,
                        kernel=kernel)

    def kernels(self, learner: str) -> list[dict[str, Any]]:
        """The kernels running in the learner's server (Jupyter Server's ``/api/kernels``: id, name, state, ...)."""
        req = urllib.request.Request(f"{self.url}/user/{learner}/api/kernels",
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return list(json.loads(resp.read()))

    def server_pids(self) -> dict[str, int]:
        """The pid of each running learner's server (the jupyterhub-singleuser process working in their home)."""
        out = {}
        for pid, cwd in _processes_under(self.data / "homes"):
            name = cwd.relative_to(self.data / "homes").parts[0]
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"jupyterhub-singleuser" in cmd:
                out[name] = pid
        return out

    # --- a hub that died --------------------------------------------------------------------------
    def revive(self, *, timeout_s: float = 120.0) -> list[int]:
        """Start JupyterHub again after it died without stopping (SIGKILL, the OOM killer, a crash); the pids ended.

        Its learners' servers outlive it (JupyterHub starts each in a session of its own), and the new JupyterHub,
        with the same configuration (ports, database, tokens), re-adopts from its database every one that still
        runs: same process, same kernels, nothing of a learner's work lost. What nobody would adopt is ended: first
        what the dead hub ran in DATA/state (its idle culler, which would cull twice, and its proxy), then, once the
        new hub has checked its servers, whatever runs in the homes that is not a server it adopted or a descendant
        of one (a server it has no record of, a kernel whose server is gone).
        """
        if self.proc is None or self.proc.poll() is None:
            raise TierlabError("JupyterHub is running: there is nothing to revive", "call revive() after it died")
        ended = end_processes(lambda: [pid for pid, _ in _processes_under(self.data / "state") if _alive(pid)])
        self._launch(timeout_s)
        deadline = time.monotonic() + timeout_s
        while True:  # JupyterHub checks its servers while it already answers: wait until none is pending
            users = [self.api("GET", f"/users/{n}") for n in (*self.learners, self.admin_name)]  # (GET /users pages)
            if not any(u.get("pending") for u in users) or time.monotonic() > deadline:
                break
            time.sleep(0.25)  # polling the hub's own state, bounded by the deadline
        adopted = {int(pid) for u in users for srv in (u.get("servers") or {}).values()
                   if srv.get("ready") and (pid := (srv.get("state") or {}).get("pid"))}
        for u in users:  # the new proxy routes to each adopted server once JupyterHub has checked its routes
            if ((u.get("servers") or {}).get("") or {}).get("ready"):
                self._wait_routed(u["name"], deadline)
        keep = _descendants(adopted)
        homes = self.data / "homes"
        return ended + end_processes(lambda: [pid for pid, _ in _processes_under(homes) if pid not in keep and _alive(pid)])

    def _wait_routed(self, user: str, deadline: float) -> None:
        req = urllib.request.Request(f"{self.url}/user/{user}/api/status", headers={"Authorization": f"token {self.token}"})
        while True:
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    if resp.status == 200 and "application/json" in resp.headers.get("Content-Type", ""):
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            if time.monotonic() > deadline:
                raise TierlabError(f"the server of {user} was re-adopted but is not reachable through the proxy:\n"
                                   f"{self.log_tail()}", f"see {self.log_file}")
            time.sleep(0.25)  # polling the learner's server through the proxy, bounded by the deadline

    # --- stop -----------------------------------------------------------------------------------
    def stop(self, *, timeout_s: float = 45.0) -> None:
        """Stop the hub (it stops the learners' servers), anything left in the homes, then the database."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        _end_processes_under(self.data / "homes")
        problems: list[Exception] = []  # each step still runs when one fails; the first failure is raised at the end
        left = end_processes_of([a.uid for a in self.accounts.values()])
        if left:
            problems.append(TierlabError(f"processes {left} of the learners' accounts survived SIGKILL, so their "
                                         "accounts stay", "see ps -o pid,user,stat; the next start removes them"))
        else:
            if not self.keep_work:
                self._save_progress()
            remove_temp_of({a.uid for a in self.accounts.values()})
            for user, account in list(self.accounts.items()):
                try:
                    remove_account(account.name, account.uid)
                    if not self.keep_work:
                        remove_home(account.home, account.uid)
                    del self.accounts[user]
                except (TierlabError, OSError) as exc:
                    problems.append(exc)
        if self.db is not None:
            try:
                if self.created_dbs and not self.keep_work:
                    drop_learners(self.db.admin, self.created_dbs)
                self.created_dbs = []
            except TierlabError as exc:
                problems.append(exc)
            if self.db.stop is not None:
                self.db.stop()
        self.db = None
        if problems:
            raise problems[0]

    def _save_progress(self) -> None:
        """Before the homes go: each learner's progress file, copied to DATA/progress/ACCOUNT.jsonl (0600), so
        ``tierlab progress DATA/progress/*`` still shows the class. A link or a non-file there is not followed."""
        homes = self.data / "homes"
        if not homes.is_dir():
            return
        for home in sorted(homes.iterdir()):
            save_progress_of(home)

    def wait(self) -> int:
        """Block until the hub exits (Ctrl-C or SIGTERM stops it); its exit status. A JupyterHub killed by a signal
        (SIGKILL, the OOM killer) is revived (:meth:`revive`), up to REVIVALS times in REVIVAL_WINDOW_S."""
        assert self.proc is not None

        def interrupted(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupted)
        revived: list[float] = []
        try:
            while True:
                code = self.proc.wait()
                revived = [t for t in revived if time.monotonic() - t < REVIVAL_WINDOW_S]
                if not should_revive(code, len(revived)):
                    return code
                print(f"tierlab hub: JupyterHub died ({_signal_name(-code)}); starting it again, the learners' "
                      "servers carry on", flush=True)
                revived.append(time.monotonic())
                ended = self.revive()
                print(f"tierlab hub: JupyterHub is back on {self.url}/" + (f"; ended {len(ended)} processes nobody "
                      "adopted" if ended else ""), flush=True)
        except KeyboardInterrupt:
            print("\ntierlab hub: stopping (the learners' servers too)", flush=True)
            return 0
        finally:
            self.stop()

    def __enter__(self) -> "ClassHub":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _at_stop(self) -> str:
        """One line for the summary: what stopping the hub removes and what it keeps."""
        accounts = "accounts removed; " if self.isolation == "account" else ""
        if self.keep_work:
            homes = "homes kept (--keep-work); "
            dbs = "the learners' databases on --db-url's server kept" if self.db_url else \
                "the embedded database goes with the hub (--db-url keeps rows between sessions)"
        else:
            homes = f"homes removed (progress saved to {self.data / 'progress'}); "
            dbs = "the roles and databases made on --db-url's server dropped" if self.db_url else \
                "the embedded database goes with the hub"
        return accounts + homes + dbs

    def summary(self) -> str:
        assert self.db is not None
        return "\n".join([
            f"tierlab hub: {self.url}/ (127.0.0.1 only) for {len(self.learners)} learners "
            f"({self.learners[0]} .. {self.learners[-1]}) and the admin {self.admin_name!r}",
            f"  passwords: {self.passwords_file} (hand each learner their line)",
            f"  isolation: {self.isolation} ({self.isolation_reason})"
            + (f"; removed {len(self.reaped)} accounts a killed run left" if self.reaped else ""),
            "  at stop: " + self._at_stop(),
            f"  database: {self.db.where}; one role and database per learner",
            f"  idle servers stopped after {self.cull_idle_s} s; hub log: {self.log_file}",
            f"  progress: tierlab progress {self.data / 'homes'}/*"
            + ("" if self.keep_work else f" (after the hub stops: {self.data / 'progress'}/*)"),
        ])


def _probe_as(uid: int, data: Path, python: Path) -> str:
    """'' when a process with ``uid`` (no account) can run the environment and read the course; else why not."""
    def become() -> None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)

    code = (f"import os, jupyterhub, jupyter_server, tierlab.paths; open({str(data / 'schema.sql')!r}).close(); "
            f"os.listdir({str(data / 'exercises')!r})")
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "TIERLAB_DATA": str(data)}
    try:
        r = subprocess.run([str(python), "-c", code], preexec_fn=become, cwd="/", env=env,
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"a learner's uid cannot start Python ({exc})"
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        return (f"a learner's uid cannot use the environment of {python} or the course ({last}); every learner runs "
                "as this account instead: `make setup-hub` as root builds .venv-learners from the system's Python, "
                "and the checkout must be outside /root")
    return ""


def _given_database(url: str) -> ClassDatabase:
    """The instructor's server from ``--db-url`` (its syntax only: nothing connects here)."""
    from ..db.provider import parse_url

    hint = "write it as postgresql://ADMIN:PASSWORD@HOST:5432/postgres (a role WITH CREATEROLE CREATEDB)"
    if not isinstance(url, str) or not url.strip():
        raise DatabaseError(f"--db-url {printable(repr(url), 60)} is empty", hint)
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        shown = printable(repr(url.rsplit("@", 1)[-1]), 80)  # never the password
        raise DatabaseError(f"--db-url ...@{shown} holds bytes that are not UTF-8", hint) from None
    u = parse_url(url, source="--db-url")
    try:
        port = u.port or 5432
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise DatabaseError(f"--db-url names port {printable(str(port), 30)}, which is not a TCP port", hint)
    q = {k: str(v) for k, v in u.query.items()}
    taken = sorted(set(q) & {"host", "port", "user", "password", "dbname", "connect_timeout", "timeout_s",
                              "autocommit", "prepare_threshold", "context", "row_factory", "cursor_factory"})
    if taken:
        raise DatabaseError(f"--db-url sets {', '.join(taken)} in its query, which tierlab sets itself", hint)
    import psycopg
    from psycopg.conninfo import make_conninfo

    try:
        make_conninfo("", **q)  # libpq's own list of connection options
    except psycopg.Error as exc:
        raise DatabaseError(f"--db-url: {printable(str(exc), 120)}",
                            "the query may hold libpq options only, e.g. ?sslmode=require&sslrootcert=/path/ca.crt"
                            ) from None
    admin = dict(host=u.host, port=port, user=u.username, password=u.password or None,
                 dbname=u.database or "postgres", **q)
    return ClassDatabase(host=u.host or "localhost", port=port, admin=admin,
                         sslmode=q.get("sslmode", "prefer"), sslrootcert=q.get("sslrootcert"),
                         where=f"the class's PostgreSQL at {u.host}:{port} (--db-url)")


def provision(admin: dict[str, Any], learners: list[tuple[str, str]], *, lock_others: bool) -> list[str]:
    """Each learner's role (LOGIN, no other rights) and database (owned by it, CONNECT for it alone); the names
    whose role and database this call created (the others existed: their password is set again, data kept).

    ``lock_others``: on tierlab's own server, nobody but the administrator connects to the other databases.
    """
    created: list[str] = []
    import psycopg
    from psycopg import sql

    from ..db.guard import GuardedConnection

    where = f"{admin.get('host')}:{admin.get('port')}"
    try:
        with GuardedConnection.connect(autocommit=True, connect_timeout=10, timeout_s=ADMIN_DDL_TIMEOUT_S,
                                       **admin) as conn:
            roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
            dbs = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
            for name, password in learners:
                verb = "ALTER" if name in roles else "CREATE"
                conn.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE "
                                     "NOREPLICATION CONNECTION LIMIT {}").format(
                    sql.Identifier(name), sql.Literal(password), sql.Literal(CONNECTIONS_PER_LEARNER)))
                if name not in dbs:
                    conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(name)))
                    if name not in roles:
                        created.append(name)
                conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
                conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                    sql.Identifier(name), sql.Identifier(name)))
            if lock_others:
                mine = {n for n, _ in learners}
                for other in sorted(dbs - mine - {"template0"}):
                    conn.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(other)))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise DatabaseError(f"the role {admin.get('user')!r} at {where} may not create learners' roles and databases "
                            f"({exc.diag.message_primary})",
                            "give --db-url a role WITH CREATEROLE CREATEDB (or a superuser)") from None
    except psycopg.Error as exc:  # down, refused, or an option libpq refuses when connecting (sslmode=nonsense)
        last = printable((str(exc).strip().splitlines() or ["?"])[-1], 200)
        raise DatabaseError(f"the class's PostgreSQL (--db-url) at {where} is down or refused tierlab ({last})",
                            "start it, or check --db-url's host, port and password; without --db-url tierlab "
                            "starts its own") from None
    return created


def drop_learners(admin: dict[str, Any], names: list[str]) -> None:
    """Drop the databases and roles ``provision`` created (their sessions ended first: FORCE, PostgreSQL 13+)."""
    import psycopg
    from psycopg import sql

    from ..db.guard import GuardedConnection

    if not names:
        return
    try:
        with GuardedConnection.connect(autocommit=True, connect_timeout=10, timeout_s=ADMIN_DDL_TIMEOUT_S,
                                       **admin) as conn:
            force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
            for name in names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)) + force)
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        last = (str(exc).strip().splitlines() or ["?"])[-1]
        raise DatabaseError(f"could not drop the learners' databases and roles {names} at "
                            f"{admin.get('host')}:{admin.get('port')} ({last})",
                            "drop them by hand (DROP DATABASE ...; DROP ROLE ...), or keep them with --keep-work") from None


def _processes_under(folder: Path) -> list[tuple[int, Path]]:
    """(pid, cwd) of every process whose working directory is inside ``folder``."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if folder == cwd or folder in cwd.parents:
            out.append((int(entry.name), cwd))
    return out


def _end_processes_under(folder: Path, timeout_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL, what still runs in the class's homes (servers and kernels the hub started)."""
    end_processes(lambda: [pid for pid, _ in _processes_under(folder) if _alive(pid)], timeout_s)


def save_progress_of(home: Path) -> None:
    """A learner's progress file (HOME/.tierlab/progress.jsonl), copied to its class folder's progress/ACCOUNT.jsonl
    (0600) before the home goes: at a hub's stop, and when the next start reaps the accounts of a killed hub (whose
    stop never came). A link, a FIFO or a file larger than ``tierlab progress`` reads is passed over."""
    if home.parent.name != "homes":
        return
    folder = home / ".tierlab"
    try:
        if not stat.S_ISDIR(folder.lstat().st_mode):
            return
        data = read_bounded(folder / "progress.jsonl", lambda message, hint: TierlabError(message, hint),
                            max_bytes=PROGRESS_MAX_BYTES, follow=False)
    except (OSError, TierlabError):  # none, a link, a FIFO, or larger than tierlab progress reads
        return
    progress = home.parent.parent / "progress"
    _private(progress, 0o700)
    _private(progress / f"{home.name}.jsonl", 0o600, data.decode(errors="replace"))


def should_revive(code: int, recent: int) -> bool:
    """Whether ``tierlab hub`` starts JupyterHub again after it exited with ``code`` (a Popen return code), having
    revived it ``recent`` times in the last REVIVAL_WINDOW_S: only when a signal killed it (SIGKILL, SIGSEGV, ...),
    never when it stopped as asked (an exit status; SIGINT, SIGTERM), and not forever."""
    return code < 0 and -code not in (signal.SIGINT, signal.SIGTERM) and recent < REVIVALS


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _descendants(roots: set[int]) -> set[int]:
    """``roots`` and every live process below them (from each process's parent in /proc/PID/stat)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = set(), [r for r in roots if _alive(r)]
    while todo:
        pid = todo.pop()
        if pid not in out:
            out.add(pid)
            todo += children.get(pid, [])
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return False
