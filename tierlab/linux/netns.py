"""Network namespaces named per session, entered from Python, and never left behind.

Every namespace, veth and nftables table tierlab creates lives inside a namespace whose name
starts with the session's prefix (``tl`` and five hex digits, e.g. ``tl3f9a2-router``). Nothing
is created in the host's own namespace: veth pairs are made inside the router's namespace with
their peer sent straight into the host's (``ip -n R link add ... peer ... netns H``).

Leftovers are impossible three ways over:

* ``close()`` removes the session's namespaces (and every process inside them);
* a guardian process holds the read end of a pipe from the owner: when the owner dies, even by
  SIGKILL, the pipe closes and the guardian kills the processes in the namespaces and deletes them;
* the next start reaps sessions whose owner is gone (the registry in ``/run/tierlab-linux``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from ..errors import TierlabError

__all__ = ["skip_reason", "enter", "run_in", "Session", "reap_stale", "REGISTRY", "NETNS_DIR", "list_namespaces",
           "remove_namespaces"]

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
REGISTRY = Path("/run/tierlab-linux")
PREFIX = "tl"

_libc = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def skip_reason() -> str | None:
    """Why real packets cannot run here (one line), or None when they can."""
    if not sys.platform.startswith("linux"):
        return f"real packets need Linux network namespaces; this is {sys.platform}"
    if os.geteuid() != 0:
        return "real packets need root (CAP_NET_ADMIN) to create network namespaces; run as root or skip"
    for tool, pkg in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"real packets need `{tool}` (Debian: apt-get install {pkg}; scripts/setup --test does it)"
    return None


@contextlib.contextmanager
def enter(ns: str) -> Iterator[None]:
    """Run this thread inside namespace ``ns`` for the block: sockets made here stay there."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open(str(NETNS_DIR / ns), os.O_RDONLY)
    try:
        _setns(there)
        yield
    finally:
        _setns(here)
        os.close(here)
        os.close(there)


def _preexec_in(ns: str):
    path = str(NETNS_DIR / ns)

    def go() -> None:
        fd = os.open(path, os.O_RDONLY)
        _setns(fd)
        os.close(fd)
    return go


def run_in(ns: str | None, argv: list[str], stdin: str | None = None, check: bool = True) -> str:
    """Run a command inside namespace ``ns`` (None: where we are) and return its output."""
    out = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30,
                         preexec_fn=_preexec_in(ns) if ns else None)
    if check and out.returncode != 0:
        raise TierlabError(f"`{' '.join(argv[:4])}` failed in namespace {ns or 'host'}: {out.stderr.strip()[:400]}",
                           "this is a bug in tierlab.linux's compiled rules or links; please report it")
    return out.stdout


def popen_in(ns: str, argv: list[str], stdin: str | None = None) -> subprocess.Popen:
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_preexec_in(ns))
    p.tl_input = stdin  # type: ignore[attr-defined]  # given to communicate()
    return p


def list_namespaces(prefix: str = PREFIX) -> list[str]:
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(prefix))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pids_in(names: list[str]) -> list[int]:
    """Processes living in any of these namespaces (one pass over /proc)."""
    inodes = set()
    for ns in names:
        with contextlib.suppress(OSError):
            inodes.add(os.stat(NETNS_DIR / ns).st_ino)
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if os.stat(p / "ns" / "net").st_ino in inodes:
                    pids.append(int(p.name))
            except OSError:
                pass
    return pids


def remove_session(sid: str) -> None:
    """Kill every process inside the session's namespaces and delete the namespaces."""
    names = list_namespaces(f"{sid}-")
    if names:
        _kill_inside(names)
        subprocess.run(["ip", "-batch", "-"], input="".join(f"netns del {n}\n" for n in names),
                       capture_output=True, text=True, timeout=30)
    shutil.rmtree(REGISTRY / sid, ignore_errors=True)  # the session's files (the lab's database)
    with contextlib.suppress(FileNotFoundError):
        (REGISTRY / f"{sid}.json").unlink()


def remove_namespaces(names: list[str]) -> None:
    """Namespaces of a running session gone (instances terminated): their processes killed, their nftables
    contexts freed, the namespaces deleted (one pass over /proc, one ``ip -batch``)."""
    if not names:
        return
    for name in names:
        forget(name, exact=True)
    _kill_inside(names)
    run_in(None, ["ip", "-batch", "-"], "".join(f"netns del {n}\n" for n in names))


def _kill_inside(names: list[str]) -> None:
    """SIGKILL every process in these namespaces but this one, and wait (at most 3 s) until each is gone."""
    pids = [p for p in _pids_in(names) if p != os.getpid()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 3
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if Path(f"/proc/{p}").exists() and _state(p) not in ("Z", "X")]
        time.sleep(0.01)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def reap_stale() -> list[str]:
    """Remove the namespaces of sessions whose owner process is gone; returns their ids."""
    reaped = []
    sids = {n.split("-", 1)[0] for n in list_namespaces() if "-" in n}
    if REGISTRY.is_dir():
        sids |= {p.stem for p in REGISTRY.glob("tl*.json")}
    for sid in sorted(sids):
        reg = REGISTRY / f"{sid}.json"
        try:
            owner = json.loads(reg.read_text())["owner"]
        except (OSError, ValueError, KeyError):
            owner = None
        if owner is not None and _alive(int(owner)):
            continue
        remove_session(sid)
        reaped.append(sid)
    return reaped


_GUARD = r"""
import sys, types
sys.stdin.buffer.read()           # EOF: the owner closed the pipe or died
root = sys.argv[2]                # bare packages: only netns.py and errors.py are run, in a blink
for name, sub in (("tierlab", ""), ("tierlab.linux", "/linux")):
    pkg = types.ModuleType(name)
    pkg.__path__ = [root + sub]
    sys.modules[name] = pkg
from tierlab.linux.netns import remove_session
remove_session(sys.argv[1])
"""


class Session:
    """A session id, its registry entry and its guardian."""

    def __init__(self) -> None:
        reap_stale()
        self.id = f"{PREFIX}{secrets.token_hex(3)[:5]}"
        REGISTRY.mkdir(parents=True, exist_ok=True)
        self.guardian = subprocess.Popen(
            [sys.executable, "-c", _GUARD, self.id, str(Path(__file__).resolve().parents[1])], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
        )
        (REGISTRY / f"{self.id}.json").write_text(json.dumps({"owner": os.getpid(), "guardian": self.guardian.pid}))
        self.closed = False

    def ns(self, key: str) -> str:
        return f"{self.id}-{key}"

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        forget(f"{self.id}-")
        remove_session(self.id)
        if self.guardian.stdin:
            with contextlib.suppress(OSError):
                self.guardian.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.guardian.wait(timeout=5)


# --------------------------------------------------------------------------- nftables in-process

_NFT_JSON = 1 << 4
_nftlib = None


def _lib():
    global _nftlib
    if _nftlib is None:
        lib = ctypes.CDLL("libnftables.so.1")
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error", "nft_ctx_free"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
        for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
            getattr(lib, name).restype = ctypes.c_char_p
        _nftlib = lib
    return _nftlib


_ctx: dict[str, int] = {}


def _context(ns: str) -> int:
    """One libnftables context per namespace, made inside it (its netlink socket stays there)."""
    lib = _lib()
    if ns not in _ctx:
        with enter(ns):
            ctx = lib.nft_ctx_new(0)
            lib.nft_ctx_buffer_output(ctx)
            lib.nft_ctx_buffer_error(ctx)
            lib.nft_run_cmd_from_buffer(ctx, b"list tables")  # opens the socket here, not later elsewhere
        _ctx[ns] = ctx
    return _ctx[ns]


def forget(prefix: str, *, exact: bool = False) -> None:
    """Free the contexts of namespaces that are going away (``exact``: of the one named ``prefix``)."""
    for ns in [n for n in _ctx if (n == prefix if exact else n.startswith(prefix))]:
        _lib().nft_ctx_free(_ctx.pop(ns))


def nft(ns: str, script: str, *, json_out: bool = False) -> str:
    """Run an nftables script inside namespace ``ns`` through libnftables (no process)."""
    try:
        lib = _lib()
    except OSError:  # no libnftables: the nft command does the same, slower
        return run_in(ns, ["nft", *(["-j"] if json_out else []), "-f", "-"], script)
    ctx = _context(ns)
    with enter(ns):
        lib.nft_ctx_output_set_flags(ctx, _NFT_JSON if json_out else 0)
        rc = lib.nft_run_cmd_from_buffer(ctx, script.encode())
        out = (lib.nft_ctx_get_output_buffer(ctx) or b"").decode()
        err = (lib.nft_ctx_get_error_buffer(ctx) or b"").decode()
    if rc != 0:
        raise TierlabError(f"nftables refused a script in namespace {ns}: {err.strip()[:400]}",
                           "this is a bug in tierlab.linux's compiled rules; please report it")
    return out
