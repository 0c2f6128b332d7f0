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
from tierlab.errors import DatabaseError

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
        # like the embedded server: TLS with this session's certificate, the learner is the app's role
        if shutil.which("openssl"):
            assert db.tls and db.sslmode == "verify-full" and "TLS on" in db.reason
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar_one()
        assert db.user == "app_user" != db.admin_user
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar_one() is False
            with pytest.raises(Exception, match="(?i)superuser|privilege"):
                conn.exec_driver_sql("COPY (SELECT 1) TO PROGRAM 'id'")
        assert db.running
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


def test_the_bridge_mode_binding_on_the_engine_is_the_loopback(private_docker):
    """The engine's own record of tierlab's port mapping (created, not started: CI has no bridge)."""
    from tierlab.db.containers import build_container

    container = build_container(DockerOptions(host=private_docker.host, image=IMAGE), "pw",
                                {"environment": {"DOCKER_HOST": private_docker.host}})
    client = private_docker.client()
    try:
        created = client.containers.create(IMAGE, command=["true"], ports=container.ports)
        try:
            bindings = created.attrs["HostConfig"]["PortBindings"]
            assert bindings == {"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}, bindings
        finally:
            created.remove(force=True)
    finally:
        client.close()
        container.get_docker_client().client.close()


def _dead_registry_image():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    # a registry on the loopback where nothing listens: a pull fails at once, no traffic leaves 127/8
    return f"127.0.0.1:{dead}/tierlab/not-here:15"


def test_a_missing_image_falls_back_at_once_without_pulling(private_docker, capsys):
    image = _dead_registry_image()
    t0 = time.perf_counter()
    db = connect(docker=DockerOptions(host=private_docker.host, image=image, pull_timeout_s=20), shared=False)
    try:
        took = time.perf_counter() - t0
        assert db.backend == "embedded"
        assert f"image {image} is not on this machine" in db.reason and "Docker engine answered" in db.reason
        out = capsys.readouterr().out.strip()
        assert out == db.describe() and "pulling" not in out  # one line, and nothing was pulled
    finally:
        db.stop()
    assert took < 15


def test_asking_for_docker_by_name_pulls_with_progress_and_a_clear_error(private_docker, capsys):
    image = _dead_registry_image()
    t0 = time.perf_counter()
    with pytest.raises(DatabaseError) as err:
        connect(backend="docker", docker=DockerOptions(host=private_docker.host, image=image, pull_timeout_s=20),
                shared=False, verbose=False)
    assert f"cannot pull image {image}" in err.value.message and time.perf_counter() - t0 < 20
    assert f"pulling {image}" in capsys.readouterr().out


def test_a_killed_container_is_noticed_and_the_next_call_starts_a_new_one(private_docker):
    import tierlab.db.provider as prov

    options = _options(private_docker)
    db = connect(backend="docker", docker=options, verbose=False)
    try:
        assert db.running and create_user(db.engine, "Before Kill", "before-kill@example.com").status == 200
        client = private_docker.client()
        try:
            (container,) = client.containers.list()
            container.kill()
        finally:
            client.close()
        assert db.running is False
        again = connect(backend="docker", docker=options, verbose=False)
        assert again is not db and again.running
        assert create_user(again.engine, "After Kill", "after-kill@example.com").status == 200
    finally:
        with prov._SHARED_LOCK:
            shared, prov._SHARED = prov._SHARED, None
        if shared is not None:
            shared.stop()
        db.stop()
    client = private_docker.client()
    try:
        assert client.containers.list(all=True) == []
    finally:
        client.close()


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

