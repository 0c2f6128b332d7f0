"""`tierlab hub`'s clear errors (issue 14): a port in use, no proxy, a database that is down.

Each is a TierlabError naming the thing and the fix, raised before any JupyterHub process starts.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from tierlab.cli import main
from tierlab.errors import DatabaseError, TierlabError
from tierlab.hub import ClassHub, learner_names
from tierlab.hub.classroom import check_port, find_proxy


def _listening_port() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def test_a_port_in_use_is_named_with_the_fix() -> None:
    with _listening_port() as s:
        port = s.getsockname()[1]
        with pytest.raises(TierlabError, match=f"port {port} on 127.0.0.1 is in use") as info:
            check_port(port)
        assert "--port" in info.value.hint


def test_the_cli_says_so_without_a_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with _listening_port() as s:
        code = main(["hub", "--learners", "2", "--port", str(s.getsockname()[1]), "--data", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2
    assert "is in use" in err and "Traceback" not in err


def test_a_missing_proxy_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIERLAB_HUB_PROXY", str(tmp_path / "no-such-proxy"))
    with pytest.raises(TierlabError, match="configurable-http-proxy") as info:
        find_proxy()
    assert "make hub" in info.value.hint


def test_a_database_that_is_down_is_a_database_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("jupyterhub")
    pytest.importorskip("jupyterhub_idle_culler")
    monkeypatch.setenv("TIERLAB_HUB_PROXY", "/bin/true")  # found; never started: the database fails first
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    root = Path(tempfile.mkdtemp(prefix="tierlab-hub-err-", dir="/tmp"))
    os.chmod(root, 0o711)
    hub = ClassHub(2, data=root / "c", port=_free(), db_url=f"postgresql://admin:pw@127.0.0.1:{dead}/postgres",
                   isolation="shared-account")
    try:
        with pytest.raises(DatabaseError, match=f"127.0.0.1:{dead} is down") as info:
            hub.start(timeout_s=30)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert "--db-url" in info.value.hint
    assert hub.proc is None  # no JupyterHub was started


def test_learner_names() -> None:
    assert learner_names(3) == ("tierlab-01", "tierlab-02", "tierlab-03")
    assert learner_names(["Ada", "tierlab-bob"]) == ("tierlab-ada", "tierlab-bob")
    with pytest.raises(TierlabError, match="not a short lowercase name"):
        learner_names(["a b"])
    with pytest.raises(TierlabError, match="repeat"):
        learner_names(["ada", "ada"])
    with pytest.raises(TierlabError, match="outside 1..999"):
        learner_names(0)


def _free() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_hub_takes_sigint_even_from_a_launcher_started_in_the_background() -> None:
    """`tierlab hub &` (or nohup) starts with SIGINT ignored, and children inherit that: JupyterHub stops the
    learners' servers and the culler with SIGINT, so they would each wait out its timeout. The hub's preexec
    function gives it SIGINT's default back (read from the kernel: /proc/PID/status SigIgn)."""
    import signal
    import subprocess
    import sys

    from tierlab.hub.classroom import _pdeathsig

    code = "print([l for l in open('/proc/self/status') if l.startswith('SigIgn')][0].split()[1])"
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        hub = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             preexec_fn=_pdeathsig()).stdout
    finally:
        signal.signal(signal.SIGINT, before)
    sigint = 1 << (signal.SIGINT - 1)
    assert int(plain, 16) & sigint  # what a background launcher's children get
    assert not int(hub, 16) & sigint


def test_a_learner_account_name_fits_useradd() -> None:
    """tierlab- and the name: at most 32 characters, the longest name useradd takes."""
    assert learner_names(["a" * 24]) == ("tierlab-" + "a" * 24,)
    with pytest.raises(TierlabError, match="at most 24 characters"):
        learner_names(["a" * 25])
    with pytest.raises(TierlabError, match="share an account with the admin"):
        ClassHub(["instructor"])


def test_the_summary_says_what_stopping_removes_and_keeps() -> None:
    says = {}
    for keep in (False, True):
        for url in (None, "postgresql://admin@db.example.org/postgres"):
            hub = ClassHub(2, data="/tmp/never-made", db_url=url, keep_work=keep)
            hub.isolation = "account"
            says[keep, bool(url)] = hub._at_stop()
    assert all(line.startswith("accounts removed") for line in says.values())  # the accounts go either way
    assert "homes removed" in says[False, False] and "progress saved" in says[False, False]
    assert "dropped" in says[False, True] and "kept" in says[True, True].split("homes kept")[1]
    assert "homes kept" in says[True, False] and "goes with the hub" in says[True, False]


def test_the_class_folder_is_new_empty_or_a_class_s_and_checking_makes_nothing(tmp_path: Path) -> None:
    """``--data`` is chmod-ed 0711 and written into: a folder of someone else's files is refused before anything
    is touched; a class folder a hub left (only the names a hub writes) is taken again, so a restart keeps its
    passwords and homes."""
    from tierlab.hub.classroom import CLASS_ENTRIES, check_class_folder

    check_class_folder(tmp_path / "new" / "deeper")
    assert sorted(os.listdir(tmp_path)) == []  # the probe folder it made to be sure is gone
    (tmp_path / "empty").mkdir()
    check_class_folder(tmp_path / "empty")
    earlier = tmp_path / "earlier"
    for name in CLASS_ENTRIES:
        (earlier / name).mkdir(parents=True)
    check_class_folder(earlier)
    (tmp_path / "someones").mkdir()
    (tmp_path / "someones" / "thesis.tex").write_text("x")
    (tmp_path / "a-file").write_text("x")
    for path, says in ((tmp_path / "someones", "thesis.tex"), (tmp_path / "a-file", "not a folder"),
                       (tmp_path / "a-file" / "x", "Not a directory"), (Path("/"), "holds files")):
        with pytest.raises(TierlabError, match=says) as info:
            check_class_folder(path)
        assert info.value.message.startswith("--data ") and "--data" in info.value.hint


def test_saving_progress_copies_each_learners_own_file_and_no_link_fifo_or_huge_one(tmp_path: Path) -> None:
    """When the hub stops, a home's progress file is saved; what a learner planted instead is passed over,
    without blocking (a FIFO), without reading another file (a link) and without filling the disk (huge)."""
    from tierlab.course.progress import MAX_BYTES

    hub = ClassHub(["ada", "bob", "eve", "fay", "gus"], data=str(tmp_path / "class"))
    homes = hub.data / "homes"
    for name in ("ada", "bob", "eve", "fay", "gus"):
        (homes / f"tierlab-{name}" / ".tierlab").mkdir(parents=True)
    (homes / "tierlab-ada" / ".tierlab" / "progress.jsonl").write_text('{"exercise": "a", "passed": true}\n')
    (homes / "tierlab-bob" / ".tierlab" / "progress.jsonl").symlink_to(homes / "tierlab-ada" / ".tierlab" /
                                                                       "progress.jsonl")
    os.mkfifo(homes / "tierlab-eve" / ".tierlab" / "progress.jsonl")
    with open(homes / "tierlab-fay" / ".tierlab" / "progress.jsonl", "wb") as f:
        f.truncate(MAX_BYTES + 1)
    hub._save_progress()
    saved = hub.data / "progress"
    assert sorted(p.name for p in saved.iterdir()) == ["tierlab-ada.jsonl"]  # gus graded nothing: no file
    assert (saved / "tierlab-ada.jsonl").read_text() == '{"exercise": "a", "passed": true}\n'
    assert os.stat(saved / "tierlab-ada.jsonl").st_mode & 0o777 == 0o600


def test_the_launcher_revives_a_hub_killed_by_a_signal_only_and_not_forever() -> None:
    """`tierlab hub` starts JupyterHub again when a signal killed it (SIGKILL: the OOM killer), never when it
    stopped as asked (Ctrl-C, SIGTERM, an exit status), and at most REVIVALS times in REVIVAL_WINDOW_S."""
    import signal

    from tierlab.hub.classroom import REVIVALS, should_revive

    assert should_revive(-signal.SIGKILL, 0) and should_revive(-signal.SIGSEGV, REVIVALS - 1)
    assert not should_revive(-signal.SIGKILL, REVIVALS)
    for code in (0, 1, 2, -signal.SIGINT, -signal.SIGTERM):
        assert not should_revive(code, 0), code
