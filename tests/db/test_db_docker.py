"""The testcontainers backend for real: a private dockerd, a locally built PostgreSQL 15 image,
host networking on 127.0.0.1, Ryuk off. Runs under CI (as root, with docker.io); elsewhere it
skips with a one-line reason when docker.io is absent. Under CI a missing piece is a failure."""

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from tierlab.db import DockerOptions, connect, create_user, users_frame

from private_docker import IMAGE, PG, PrivateDocker

pytestmark = [pytest.mark.database, pytest.mark.slow]


@pytest.fixture(scope="module")
def private_docker(db_in_ci):
    missing = []
    if shutil.which("dockerd") is None:
        missing.append("docker.io (dockerd) is not installed")
    if os.geteuid() != 0:
        missing.append("a private dockerd needs root")
    if not (PG / "bin" / "postgres").exists():
        missing.append(f"no PostgreSQL 15 in {PG} to build the local image from")
    if missing:
        if db_in_ci:
            pytest.fail("CI must exercise the testcontainers backend, but " + "; ".join(missing))
        pytest.skip("; ".join(missing))
    env_before = {k: os.environ.get(k) for k in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")}
    d = PrivateDocker()
    try:
        d.start()
        d.build_image()
    except Exception:
        d.close()
        raise
    yield d
    d.close()
    assert {k: os.environ.get(k) for k in env_before} == env_before


def _options(d, **kw):
    return DockerOptions(host=d.host, image=IMAGE, host_network=True, ryuk=False, **kw)


def test_testcontainers_backend_runs_the_seed_on_the_loopback(private_docker):
    env_before = os.environ.get("DOCKER_HOST")
    db = connect(backend="docker", docker=_options(private_docker), shared=False, verbose=False)
    try:
        assert db.backend == "docker" and db.version.startswith("15.")
        assert db.host == "127.0.0.1" and "testcontainers 4.15.0" in db.reason and "host network" in db.reason
        assert create_user(db.engine, "Docker User", "docker@example.com").status == 200
        assert create_user(db.engine, "Docker Again", "docker@example.com").body == {"error": "Email already exists"}
        assert list(users_frame(db)["email"]) == ["docker@example.com"]
        client = private_docker.client()
        try:
            (container,) = client.containers.list()
            assert container.attrs["HostConfig"]["NetworkMode"] == "host"
            assert container.attrs["NetworkSettings"]["IPAddress"] == ""  # no bridge address
            assert {n.name for n in client.networks.list()} <= {"host", "none"}
        finally:
            client.close()
        # nothing about the private engine leaks into this process or into a kernel it would start
        assert os.environ.get("DOCKER_HOST") == env_before
        child = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('DOCKER_HOST'))"],
                               capture_output=True, text=True)
        assert child.stdout.strip() == str(env_before)
    finally:
        db.stop()
    client = private_docker.client()
    try:
        assert client.containers.list(all=True) == []
    finally:
        client.close()


def test_an_engine_that_cannot_get_the_image_falls_through_quickly(private_docker):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    # a registry on the loopback where nothing listens: the pull fails at once, no traffic leaves 127/8
    image = f"127.0.0.1:{dead}/tierlab/not-here:15"
    t0 = time.perf_counter()
    db = connect(docker=DockerOptions(host=private_docker.host, image=image, pull_timeout_s=20),
                 shared=False, verbose=False)
    try:
        assert db.backend == "embedded"
        assert "Docker engine answered but it cannot pull image" in db.reason and image in db.reason
    finally:
        db.stop()
    assert time.perf_counter() - t0 < 20


def test_the_private_daemon_stops_by_pid_and_leaves_nothing(private_docker):
    pid = private_docker.proc.pid
    private_docker.close()
    assert private_docker.proc.poll() is not None
    assert private_docker.leftovers() == []
    assert not private_docker.base.exists()
    assert not os.path.exists(f"/proc/{pid}/cmdline") or "dockerd" not in open(f"/proc/{pid}/cmdline").read()


def test_apt_installed_services_did_not_start(db_in_ci):
    """CI hygiene: policy-rc.d keeps refusing, so docker.io and postgresql-15 left no daemon running."""
    if not db_in_ci:
        pytest.skip("checked under CI, where scripts/setup installs Debian packages")
    rc = subprocess.run(["/usr/sbin/policy-rc.d"], capture_output=True).returncode
    assert rc == 101
    assert not os.path.exists("/var/run/docker.sock") or not __import__("tierlab.db").db.docker_engine(
        0.3, host="unix:///var/run/docker.sock").ok
    with socket.socket() as s:
        s.settimeout(0.3)
        assert s.connect_ex(("127.0.0.1", 5432)) != 0, "a PostgreSQL service listens on 5432"
