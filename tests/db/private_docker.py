"""A private Docker engine for the testcontainers test (CI, as root). Test infrastructure only.

* ``dockerd`` with its own data-root, exec-root, socket and pid file, ``--bridge=none
  --iptables=false --ip-forward=false``: it creates no bridge and touches no firewall; its
  output goes to a file; it gets a parent-death signal; it is stopped by its PID.
* No registry is reachable in CI, so the image is built here with no pull: a root file system of
  the host's PostgreSQL 15 binaries and the libraries they load, plus an entrypoint honouring
  POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB like the official image's, loaded with
  ``docker import``.
* Nothing is exported to ``os.environ``: the socket travels as an argument.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from tierlab.db import docker_engine
from tierlab.db.embedded import _pdeathsig

PG = Path("/usr/lib/postgresql/15")
IMAGE = "tierlab/postgres:15-local"
UID = 999

ENTRYPOINT = """#!/bin/sh
# honours POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB like the official postgres image
set -e
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
if [ "$1" = "postgres" ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    printf '%s\\n' "$POSTGRES_PASSWORD" > /tmp/pwfile
    initdb -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" --pwfile=/tmp/pwfile --auth=scram-sha-256 \\
        -E UTF8 --locale=C --no-sync > /tmp/initdb.log 2>&1 || { while read -r l; do echo "$l"; done < /tmp/initdb.log; exit 1; }
    : > /tmp/pwfile
    db="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}"
    if [ "$db" != "postgres" ]; then
        echo "CREATE DATABASE \\"$db\\";" | postgres --single -D "$PGDATA" postgres > /tmp/createdb.log 2>&1
    fi
fi
exec "$@"
"""


def _ldd(paths: list[Path]) -> set[Path]:
    libs: set[Path] = set()
    for p in paths:
        out = subprocess.run(["ldd", str(p)], capture_output=True, text=True).stdout
        for m in re.finditer(r"(/\S+\.so[\w.\-]*)", out):
            libs.add(Path(m.group(1)))
    return libs


def build_rootfs(tar_path: Path) -> None:
    """A tarball root file system: PostgreSQL 15 from the host, /bin/sh, users, an entrypoint."""
    bins = [PG / "bin" / n for n in ("postgres", "initdb", "psql", "pg_ctl")]
    mods = [p for p in (PG / "lib").glob("*.so") if p.name != "llvmjit.so"]
    sh = Path(os.path.realpath("/bin/sh"))
    libs = _ldd(bins + [PG / "lib" / "plpgsql.so", PG / "lib" / "dict_snowball.so", sh])

    def add_dir(tf: tarfile.TarFile, name: str, mode: int = 0o755, uid: int = 0) -> None:
        ti = tarfile.TarInfo(name.lstrip("/"))
        ti.type, ti.mode, ti.uid, ti.gid = tarfile.DIRTYPE, mode, uid, uid
        tf.addfile(ti)

    def add_text(tf: tarfile.TarFile, name: str, text: str, mode: int = 0o644) -> None:
        data = text.encode()
        ti = tarfile.TarInfo(name.lstrip("/"))
        ti.size, ti.mode = len(data), mode
        tf.addfile(ti, io.BytesIO(data))

    def add_file(tf: tarfile.TarFile, src: Path, name: str | None = None) -> None:
        tf.add(str(src), arcname=(name or str(src)).lstrip("/"), recursive=True,
               filter=lambda ti: (setattr(ti, "uid", 0), setattr(ti, "gid", 0), ti)[-1])

    with tarfile.open(tar_path, "w") as tf:
        for d in ("/bin", "/etc", "/lib", "/lib64", "/usr", "/usr/lib", "/usr/lib/postgresql", "/usr/share",
                  "/usr/share/zoneinfo", "/usr/local", "/usr/local/bin", "/var", "/var/lib", "/var/run", "/proc",
                  "/sys", "/dev"):
            add_dir(tf, d)
        add_dir(tf, "/tmp", 0o1777)
        add_dir(tf, "/var/lib/postgresql", 0o755, UID)
        add_dir(tf, "/var/lib/postgresql/data", 0o700, UID)
        add_dir(tf, "/var/run/postgresql", 0o2775, UID)
        add_file(tf, sh, "/bin/sh")
        for lib in sorted(libs):
            add_file(tf, Path(os.path.realpath(lib)), str(lib))
        add_file(tf, PG / "bin")
        add_dir(tf, str(PG / "lib"))
        for m in mods:
            add_file(tf, m)
        add_file(tf, Path("/usr/share/postgresql/15"))
        add_file(tf, Path("/usr/share/zoneinfo/UTC"))
        add_text(tf, "/etc/passwd", f"root:x:0:0:root:/root:/bin/sh\npostgres:x:{UID}:{UID}::/var/lib/postgresql:/bin/sh\n")
        add_text(tf, "/etc/group", f"root:x:0:\npostgres:x:{UID}:\n")
        add_text(tf, "/usr/local/bin/docker-entrypoint.sh", ENTRYPOINT, 0o755)


class PrivateDocker:
    """Start: ``dockerd`` on a private socket. ``close()``: stop it by PID and remove its folders."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="tierlab-docker-"))
        self.socket = self.base / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.log = self.base / "dockerd.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 30.0) -> "PrivateDocker":
        (self.base / "daemon.json").write_text("{}\n")
        args = [
            shutil.which("dockerd") or "dockerd",
            "--host", self.host, "--data-root", str(self.base / "data"), "--exec-root", str(self.base / "exec"),
            "--pidfile", str(self.base / "dockerd.pid"), "--config-file", str(self.base / "daemon.json"),
            "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false",
            "--userland-proxy=false", "--log-level=warn",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                         env=env, preexec_fn=_pdeathsig(signal.SIGTERM), start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited: {self.log_tail()}")
            if self.socket.exists() and docker_engine(0.5, host=self.host).ok:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"dockerd did not answer in {timeout_s} s: {self.log_tail()}")

    def log_tail(self, n: int = 8) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-n:])
        except OSError:
            return "(no log)"

    def client(self):
        import docker

        return docker.DockerClient(base_url=self.host, timeout=60)

    def build_image(self, name: str = IMAGE) -> str:
        tar = self.base / "rootfs.tar"
        build_rootfs(tar)
        repo, tag = name.rsplit(":", 1)
        client = self.client()
        try:
            client.api.import_image(
                src=str(tar), repository=repo, tag=tag,
                changes=[
                    f"USER {UID}",
                    f"ENV PATH={PG}/bin:/bin",
                    "ENV PGDATA=/var/lib/postgresql/data",
                    "ENV TZ=UTC",
                    'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
                    'CMD ["postgres"]',
                    "EXPOSE 5432",
                ],
            )
            client.images.get(name)
        finally:
            client.close()
        tar.unlink()
        return name

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                client = self.client()
                for c in client.containers.list(all=True):
                    c.remove(force=True)
                client.close()
            except Exception:
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        # containerd and shims it started are gone with it; unmount whatever is left under our folder
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith(str(self.base))]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def leftovers(self) -> list[str]:
        """Processes still running from our folder (dockerd, containerd, shims): should be none."""
        found = []
        for cmd in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmd.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(self.base) in text:
                found.append(f"{cmd.parent.name}: {text[:120]}")
        return found
