"""The classroom hub (issue 14): five learners on one JupyterHub, each with their own database.

One hub for the module: five learners (as root: real Unix accounts ``tierlab-NAME``, names unique to
this run), their servers started at once through the hub's REST API with the instructor's token, then the
database notebook (05, the learners' edition the hub put in their homes), every code cell in order, run in a
fresh kernel of every learner's server at once, as a class does when the instructor says "run all". Then the laws:

* as root, every learner is a Unix account (``pwd.getpwnam``) with the hub's mark, and their server
  runs as it;
* every cell of notebook 05 ran without error in every learner's kernel;
* the rows notebook 05 inserts land in that learner's own database (John, Jane, Bobby once each, one winner
  of the same-email race), and no learner's database holds a row of another's;
* B's role cannot connect to A's database, and B's password does not open A's role;
* B's token does not open A's server (JupyterHub's own authorisation), nor does B's login session;
* B cannot read A's notebooks, progress, kernel connection file (its key) or session folder;
* the login form lets a learner in with their password and refuses a wrong one, saying so;
* everything the class listens on is 127.0.0.1;
* the instructor's progress table lists every learner, with the verdict recorded after their notebook 05;
* stopping the hub leaves no process, account, group, home or database server behind.

A second, smaller hub is given one shared PostgreSQL by its admin URL (``--db-url``), as a school's
server would be: each learner gets a role and a database there, A's credentials do not open B's,
and the hub drops what it created when it stops.

No sleeps as synchronisation: every wait polls a real state (the hub's API, /proc) with a bound.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import secrets
import shutil
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest

pytestmark = [pytest.mark.hub, pytest.mark.slow]

N = 5
#: Run in the same kernel after notebook 05's last cell (which stopped its handle): what the notebook left in this
#: learner's database, read through a new handle on the same URL, and the verdict recorded as a graded check would.
#: Notebook 05 grades nothing itself (no exercise of the course belongs to it), so this is the grade the
#: instructor's table shows for it: the rows the notebook inserts are there, each once.
CHECK = """
import json, tierlab as tl
from tierlab.course.progress import record
again = tl.database(verbose=False)
with again.engine.connect() as conn:
    emails = [r[0] for r in conn.exec_driver_sql("SELECT email FROM users")]
again.stop()
mine = [tl.lessons.run_email(n) for n in ("john", "jane", "bobby", "race")]
record(EXERCISE, all(emails.count(e) == 1 for e in mine))
print("NB05", json.dumps({"tag": tl.lessons.RUN_TAG, "db": again.dbname, "backend": again.backend, "emails": emails}))
""".replace("EXERCISE", repr("hub-05-database"))
NOTEBOOK = "05-database.ipynb"


def _notebook_cells(h) -> list[str]:
    """Every code cell of the database notebook the learners have (the hub's course folder), in order."""
    nb = json.loads((h.data / "course" / "notebooks" / NOTEBOOK).read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(cells) > 20 and cells[-1].strip() == "db.stop()", "notebook 05 changed: check what this test reads"
    return cells


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def hub() -> Iterator:
    pytest.importorskip("jupyterhub")
    from tierlab.hub import ClassHub

    root = Path(tempfile.mkdtemp(prefix="tierlab-hub-test-", dir="/tmp"))
    os.chmod(root, 0o711)  # learners' accounts pass through to their homes
    tag = "t" + secrets.token_hex(3)  # names of this run alone: a concurrent run elsewhere has its own
    h = ClassHub([f"{tag}_{i}" for i in range(1, N + 1)], data=root / "class", port=_free_port(), cull_idle_s=600,
                 admin=f"{tag}_admin")  # not tierlab-instructor: another class may run on this machine meanwhile
    accounts: dict[str, tuple[int, Path]] = {}
    try:
        h.start(timeout_s=180)
        accounts = {a.name: (a.uid, a.home) for a in h.accounts.values()}
        names = h.learners
        for n in names:  # all at once: the hub spawns them concurrently
            h.start_server(n)
        for n in names:
            h.wait_ready(n, timeout_s=300)
        cells = _notebook_cells(h) + [CHECK]

        def run(name: str) -> str | Exception:  # a failure is a finding of one learner, reported by its law
            try:
                return h.run_code(name, cells, timeout_s=900)
            except Exception as exc:
                return exc

        with ThreadPoolExecutor(N) as pool:  # every learner's whole notebook at once
            outs = dict(zip(names, pool.map(run, names)))
        yield h, outs
    finally:
        try:
            h.stop()
            leftovers = _pids_under(root)
            left = _left_of(accounts)
        finally:  # the class folder goes even when stopping failed (and says why)
            shutil.rmtree(root, ignore_errors=True)
        assert not leftovers, f"processes left in the class folder: {leftovers}"
        assert not left, f"left after the hub stopped: {left}"


def _left_of(accounts: dict[str, tuple[int, Path]]) -> list[str]:
    """What of the learners' accounts is still there: the account, its group, its home, a process, a session folder."""
    from tierlab.hub.accounts import processes_of

    left = []
    for name, (uid, home) in accounts.items():
        for what, lookup in (("account", pwd.getpwnam), ("group", grp.getgrnam)):
            try:
                lookup(name)
                left.append(f"{what} {name}")
            except KeyError:
                pass
        left += [f"home {p}" for p in (home, Path(tempfile.gettempdir()) / f"tierlab-pg-{uid}") if os.path.lexists(p)]
    pids = processes_of(uid for uid, _ in accounts.values())
    return left + [f"processes {pids}"] * bool(pids)


def _pids_under(root: Path) -> list[int]:
    from tierlab.hub.classroom import _processes_under

    return [pid for pid, _ in _processes_under(root)]


def _line(out: str, key: str) -> str:
    return next(line.split(" ", 1)[1] for line in out.splitlines() if line.startswith(key + " "))


def _nb05(outs: dict, name: str) -> dict:
    out = outs[name]
    assert isinstance(out, str), f"notebook 05 failed in {name}'s kernel: {out}"
    return json.loads(_line(out, "NB05"))


def test_every_cell_of_notebook_05_ran_in_every_learner(hub) -> None:
    h, outs = hub
    assert sorted(outs) == sorted(h.learners) and len(outs) == N
    failed = {name: str(out) for name, out in outs.items() if not isinstance(out, str)}
    assert not failed, f"{failed}\nthe hub's log ends:\n{h.log_tail()}"
    for name, out in outs.items():  # the check cell runs only after the notebook's last cell returned
        assert _line(out, "NB05"), out


def test_each_learner_database_has_their_rows_and_nobody_elses(hub) -> None:
    h, outs = hub
    got = {name: _nb05(outs, name) for name in h.learners}
    tags = {name: g["tag"] for name, g in got.items()}
    assert len(set(tags.values())) == N, tags  # each kernel's run has its own emails
    for name, g in got.items():
        assert (g["db"], g["backend"]) == (name.replace("-", "_"), "url"), g  # their own database on the hub's server
        emails = g["emails"]
        for who in ("john", "jane", "bobby", "race"):  # inserted once each; the duplicate and 19 racers refused
            assert emails.count(f"{who}.{tags[name]}@example.com") == 1, (name, who, sorted(emails))
        others = [e for e in emails for o, t in tags.items() if o != name and f".{t}@" in e]
        assert not others, f"{name}'s database holds other learners' rows: {others}"
    for a in h.learners:  # pairwise: no row (the pool lesson's hundreds included) is in two databases
        for b in h.learners:
            if a < b:
                assert not set(got[a]["emails"]) & set(got[b]["emails"]), (a, b)


def test_b_cannot_connect_to_a_database(hub) -> None:
    h, _ = hub
    a, b = h.learners[0], h.learners[1]
    a_db = a.replace("-", "_")
    probe = f"""
import os, psycopg
from sqlalchemy.engine import make_url
u = make_url(os.environ["TIERLAB_DATABASE_URL"])
kw = dict(host=u.host, port=u.port, connect_timeout=10, **dict(u.query))
for label, args in (("own-role-other-db", dict(user=u.username, password=u.password, dbname={a_db!r})),
                    ("other-role-own-password", dict(user={a_db!r}, password=u.password, dbname={a_db!r}))):
    try:
        psycopg.connect(**kw, **args).close()
        print(label, "CONNECTED")
    except psycopg.Error as exc:
        print(label, "REFUSED", " | ".join(str(exc).strip().splitlines()))
"""
    out = h.run_code(b, probe, timeout_s=120)
    assert "CONNECTED" not in out, out
    assert "does not have CONNECT privilege" in _line(out, "own-role-other-db"), out
    assert "password authentication failed" in _line(out, "other-role-own-password"), out


def test_b_token_does_not_open_a_server(hub) -> None:
    import urllib.error
    import urllib.request

    h, _ = hub
    a, b = h.learners[0], h.learners[1]
    token = h.api("POST", f"/users/{b}/tokens", {"note": "hub test", "expires_in": 600})["token"]

    def status(user: str) -> int:
        req = urllib.request.Request(f"{h.url}/user/{user}/api/status", headers={"Authorization": f"token {token}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    assert status(b) == 200  # the token works: on B's own server
    assert status(a) in (403, 404), "B's token must not open A's server"
    from tierlab.errors import TierlabError

    with pytest.raises(TierlabError, match="refused to start a kernel"):
        h.run_code(a, "print(1)", token=token, timeout_s=60)


def test_everything_listens_on_loopback_only(hub) -> None:
    h, _ = hub
    conf = json.loads((h.data / "state" / "hub.json").read_text())
    ours = {conf["port"], conf["hub_port"], conf["proxy_api_port"]}
    listening = _listening()
    assert ours <= {port for _, port in listening}, (ours, listening)
    servers = h.server_pids()
    assert set(servers) == set(h.learners)
    for port in ours | {p for pid in servers.values() for p in _ports_of(pid)}:
        addrs = {addr for addr, p in listening if p == port}
        assert addrs == {"127.0.0.1"}, f"port {port} listens on {addrs}"


def test_instructor_sees_every_learner_progress(hub) -> None:
    from tierlab.course.progress import class_progress

    h, _ = hub
    table = class_progress(sorted((h.data / "homes").glob("tierlab-*"))).table()
    assert set(h.learners) <= set(table.index), table
    assert all(str(table.loc[n, "hub-05-database"]).startswith("pass") for n in h.learners), table


def _need_accounts(h) -> None:
    if h.isolation != "account":
        pytest.skip(f"learners share the instructor's account here: {h.isolation_reason}")


def test_learners_are_real_unix_accounts_while_the_hub_runs(hub) -> None:
    from tierlab.hub.accounts import MARK

    h, _ = hub
    _need_accounts(h)
    servers = h.server_pids()
    for name in h.learners:
        entry = pwd.getpwnam(name)  # a real account: the machine's account database knows it
        assert name.startswith("tierlab-") and entry.pw_gecos.startswith(MARK + " "), entry
        assert Path(entry.pw_dir) == h.home(name) and not str(entry.pw_dir).startswith("/root"), entry
        st = h.home(name).stat()
        assert (st.st_uid, st.st_mode & 0o777) == (entry.pw_uid, 0o700), (name, st)
        status = Path(f"/proc/{servers[name]}/status").read_text()
        ids = {line.split(":")[0]: line.split()[1:] for line in status.splitlines() if line.startswith(("Uid", "Gid"))}
        assert set(ids["Uid"]) == {str(entry.pw_uid)} and set(ids["Gid"]) == {str(entry.pw_gid)}, (name, ids)
    assert len({pwd.getpwnam(n).pw_uid for n in h.learners}) == N


def test_b_cannot_read_a_files_progress_kernel_key_or_session_folder(hub) -> None:
    h, _ = hub
    _need_accounts(h)
    a, b = h.learners[0], h.learners[1]
    # A's kernel left running (its connection file holds the HMAC key that signs every message to it), and A's
    # session folder (where tl.database(backend="embedded") would keep A's server)
    made = h.run_code(a, "from tierlab.db.embedded import sessions_root; print(sessions_root())", shutdown=False)
    session = Path(made.strip())
    runtime = h.home(a) / ".local" / "share" / "jupyter" / "runtime"
    keys = sorted(runtime.glob("kernel-*.json"))
    assert keys and session.is_dir() and session.stat().st_uid == pwd.getpwnam(a).pw_uid, (keys, session)
    targets = [h.home(a) / "notebooks" / "00-start-here.ipynb", h.home(a) / ".tierlab" / "progress.jsonl", keys[0],
               session]
    out = h.run_code(b, f"""
import os
for path in {[str(t) for t in targets]!r}:
    try:
        os.listdir(path) if os.path.isdir(path) else open(path).read(1)
        print("READ", path)
    except PermissionError:
        print("DENIED", path)
""")
    assert [line.split()[0] for line in out.splitlines()] == ["DENIED"] * len(targets), out


def _passwords(h) -> dict[str, str]:
    lines = h.passwords_file.read_text().splitlines()
    return dict(line.split(" ", 1) for line in lines if line and not line.startswith("#"))


def test_the_login_form_lets_a_learner_in_and_refuses_a_wrong_password(hub) -> None:
    """The page a learner sees: GET /hub/login (an _xsrf cookie and field), POST the form, follow the redirects
    (the hub's cookie, then the OAuth hand-over to the learner's own server) to their running JupyterLab."""
    import re

    import requests

    h, _ = hub
    a, b = h.learners[0], h.learners[1]
    with requests.Session() as s:
        page = s.get(f"{h.url}/hub/login", timeout=60)
        assert page.status_code == 200 and 'name="password"' in page.text
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        assert xsrf, page.text[:500]
        wrong = s.post(f"{h.url}/hub/login", data={"username": b, "password": "not-" + _passwords(h)[b],
                                                    "_xsrf": xsrf.group(1)}, timeout=60)
        assert wrong.status_code == 403 and "Invalid username or password" in wrong.text, wrong.status_code
        assert f"{h.url}/hub/login" in wrong.url  # still the login page: no session was made
        assert s.get(f"{h.url}/user/{b}/api/status", timeout=60, allow_redirects=False).status_code != 200

        right = s.post(f"{h.url}/hub/login?next=/user/{b}/lab", timeout=120,
                       data={"username": b, "password": _passwords(h)[b], "_xsrf": xsrf.group(1)})
        assert right.status_code == 200 and right.url.startswith(f"{h.url}/user/{b}/lab"), (right.status_code, right.url)
        assert "JupyterLab" in right.text
        status = s.get(f"{h.url}/user/{b}/api/status", timeout=60)
        assert status.status_code == 200 and "kernels" in status.json()
        other = s.get(f"{h.url}/user/{a}/api/status", timeout=60)
        assert other.status_code in (403, 404), "B's login must not open A's server"


def _listening() -> set[tuple[str, int]]:
    """(address, port) of every IPv4/IPv6 TCP socket in LISTEN state (from /proc/net)."""
    out = set()
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[3] != "0A":
                continue
            addr, port = f[1].split(":")
            out.add((_addr(addr, v6), int(port, 16)))
    return out


def _addr(hexaddr: str, v6: bool) -> str:
    if not v6:
        return socket.inet_ntop(socket.AF_INET, bytes.fromhex(hexaddr)[::-1])
    raw = b"".join(bytes.fromhex(hexaddr[i:i + 8])[::-1] for i in range(0, 32, 8))
    text = socket.inet_ntop(socket.AF_INET6, raw)
    return text.removeprefix("::ffff:") if text.startswith("::ffff:") else text


def _ports_of(pid: int) -> set[int]:
    """The ports a process listens on (its sockets' inodes matched against /proc/net/tcp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:
                ports.add(int(f[1].split(":")[1], 16))
    return ports


def test_the_idle_culler_runs_as_a_hub_service(hub) -> None:
    h, _ = hub
    assert "idle-culler" in h.api("GET", "/services")
    culler = []
    for entry in Path("/proc").iterdir():  # the hub's own child, with the class's timeout
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(") ", 1)[1].split()[1]) == h.proc.pid and b"jupyterhub_idle_culler" in cmd:
            culler.append(cmd)
    assert len(culler) == 1 and b"--timeout=600" in culler[0], culler


def test_a_shared_postgresql_given_by_url_gets_a_role_and_database_per_learner(tmp_path_factory) -> None:
    """``--db-url``: the project's embedded PostgreSQL stands in for the school's server (a real postmaster, its
    initdb superuser as the admin). The hub creates each learner's role and database there, A's credentials do
    not open B's, and what the hub created is dropped when it stops; the server's own databases stay."""
    pytest.importorskip("jupyterhub")
    import psycopg

    from tierlab.db import embedded
    from tierlab.hub import ClassHub

    server = embedded.start_embedded()
    query = "sslmode=require" if server.tls else "sslmode=disable"
    admin_url = f"postgresql://{server.admin_user}:{server.admin_password}@{server.host}:{server.port}/postgres?{query}"
    admin = dict(host=server.host, port=server.port, user=server.admin_user, password=server.admin_password,
                 dbname="postgres", sslmode="require" if server.tls else "disable", connect_timeout=10)
    root = Path(tempfile.mkdtemp(prefix="tierlab-hub-dburl-", dir="/tmp"))
    os.chmod(root, 0o711)
    tag = "d" + secrets.token_hex(3)
    h = ClassHub([f"{tag}_a", f"{tag}_b"], data=root / "class", port=_free_port(), db_url=admin_url,
                 isolation="shared-account")  # the accounts are the other fixture's law; here, the databases
    try:
        with psycopg.connect(autocommit=True, **{**admin, "dbname": "template1"}) as conn:
            conn.execute("CREATE DATABASE postgres")  # what a school's server has, and its admin URL names
            before = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        h.start(timeout_s=180)
        a, b = h.learners
        assert "--db-url" in h.db.where and sorted(h.created_dbs) == sorted(
            [a.replace("-", "_"), b.replace("-", "_"), "instructor"])
        from sqlalchemy.engine import make_url

        def connect(url: str, **override: str) -> psycopg.Connection:
            u = make_url(url)
            kw = dict(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database,
                      connect_timeout=10, **dict(u.query))
            return psycopg.connect(**{**kw, **override})

        for name in (a, b):
            with connect(h.db_urls[name]) as conn:  # their own: role and database named after them
                me = conn.execute("SELECT current_user, current_database(), rolsuper, rolcreatedb, rolcreaterole "
                                  "FROM pg_roles WHERE rolname = current_user").fetchone()
            assert me == (name.replace("-", "_"), name.replace("-", "_"), False, False, False), me
        with pytest.raises(psycopg.OperationalError, match="does not have CONNECT privilege"):
            connect(h.db_urls[a], dbname=b.replace("-", "_")).close()  # A's role, B's database
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            connect(h.db_urls[a], user=b.replace("-", "_"), dbname=b.replace("-", "_")).close()  # A's password
        with connect(h.db_urls[b]) as conn:  # B's work, to be dropped with B's database
            conn.execute("CREATE TABLE notes (t text)")
    finally:
        try:
            h.stop()
            with psycopg.connect(autocommit=True, **admin) as conn:
                roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
                dbs = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        finally:  # the shared server and the class folder go even when stopping the hub failed (and says why)
            server.stop()
            shutil.rmtree(root, ignore_errors=True)
    assert not {n for n in roles | dbs if n.startswith(f"tierlab_{tag}")}, (roles, dbs)
    assert before <= dbs  # the server's own databases stay
