"""Choosing a backend: URLs and the seed's .env style, clear errors, a fast Docker probe."""

import socket
import time

import pytest

from tierlab.db import connect, docker_engine, parse_url, read_env_file, url_from_env
from tierlab.errors import DatabaseError


# --- URLs (pure) ---------------------------------------------------------------------------------

def test_seed_env_style_builds_the_url():
    env = {"DB_HOST": "mydb.c123xyz.us-east-1.rds.amazonaws.com", "DB_PORT": "5432", "DB_NAME": "appdb",
           "DB_USER": "postgres", "DB_PASSWORD": "s3cret", "DB_SSL": "true"}
    url = url_from_env(env)
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "mydb.c123xyz.us-east-1.rds.amazonaws.com", 5432, "appdb", "postgres", "s3cret")
    assert url.drivername == "postgresql+psycopg" and url.query["sslmode"] == "require"
    assert "s3cret" not in str(url)
    ca = url_from_env({**env, "DB_CA_CERT": "/etc/rds-ca.pem"})
    assert ca.query == {"sslmode": "verify-full", "sslrootcert": "/etc/rds-ca.pem"}  # rejectUnauthorized: true
    assert url_from_env({**env, "DB_SSL": "false"}).query == {}


def test_tierlab_url_wins_over_db_host():
    url = url_from_env({"TIERLAB_DATABASE_URL": "postgres://u:p@h:6543/x", "DB_HOST": "other"})
    assert (url.host, url.port, url.drivername) == ("h", 6543, "postgresql+psycopg")


def test_no_configuration_means_no_url():
    assert url_from_env({}) is None


def test_env_file_reading(tmp_path):
    f = tmp_path / ".env"
    f.write_text("# seed .env\nNODE_ENV=production\nDB_HOST=db.local\nDB_PORT=5433\nexport DB_PASSWORD='pw'\n\n")
    env = read_env_file(f)
    assert env == {"NODE_ENV": "production", "DB_HOST": "db.local", "DB_PORT": "5433", "DB_PASSWORD": "pw"}
    assert url_from_env(env).port == 5433


@pytest.mark.parametrize("raw,words", [
    ("not a url", "is not a database URL"),
    ("mysql://u:p@h/db", "tierlab needs PostgreSQL"),
    ("postgresql:///appdb", "has no host"),
])
def test_bad_urls_name_the_problem_and_the_fix(raw, words):
    with pytest.raises(DatabaseError) as err:
        parse_url(raw, source="$TIERLAB_DATABASE_URL")
    assert words in err.value.message and "$TIERLAB_DATABASE_URL" in err.value.message
    assert "postgresql://" in err.value.hint


def test_bad_db_port():
    with pytest.raises(DatabaseError, match="DB_PORT"):
        url_from_env({"DB_HOST": "h", "DB_PORT": "54x2"})


# --- real servers ----------------------------------------------------------------------------------

def _dead_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


@pytest.mark.database
def test_dead_server_is_a_clear_error():
    port = _dead_port()
    t0 = time.perf_counter()
    with pytest.raises(DatabaseError) as err:
        connect(f"postgresql://postgres:pw@127.0.0.1:{port}/appdb", shared=False, verbose=False)
    assert f"127.0.0.1:{port}" in err.value.message and "no PostgreSQL answered" in err.value.message
    assert "TIERLAB_DATABASE_URL" in err.value.hint
    assert time.perf_counter() - t0 < 10


@pytest.mark.database
def test_wrong_password_is_a_clear_error_without_the_password(tierlab_db):
    secret = "definitely-Wrong-pw-42"
    url = tierlab_db.url_for(tls=False).set(password=secret)
    with pytest.raises(DatabaseError) as err:
        connect(url, shared=False, verbose=False)
    text = str(err.value)
    assert "password authentication failed" in text and repr(tierlab_db.user) in text
    assert secret not in text and tierlab_db.password not in text


@pytest.mark.database
def test_a_given_url_is_used_and_described(tierlab_db, monkeypatch):
    monkeypatch.setenv("TIERLAB_DATABASE_URL", tierlab_db.url_for(tls=False).render_as_string(hide_password=False))
    db = connect(shared=False, verbose=False)
    try:
        assert db.backend == "url" and db.port == tierlab_db.port
        assert "TIERLAB_DATABASE_URL is set" in db.describe() and db.version in db.describe()
        assert tierlab_db.password not in db.describe()
    finally:
        db.stop()  # a user's server is never stopped: only our engine closes
    with tierlab_db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1


@pytest.mark.database
def test_seed_env_file_connects(tierlab_db, tmp_path, monkeypatch):
    for k in ("TIERLAB_DATABASE_URL", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_SSL"):
        monkeypatch.delenv(k, raising=False)
    f = tmp_path / ".env"
    f.write_text(f"DB_HOST=127.0.0.1\nDB_PORT={tierlab_db.port}\nDB_NAME=appdb\nDB_USER={tierlab_db.user}\n"
                 f"DB_PASSWORD={tierlab_db.password}\nDB_POOL_SIZE=10\nDB_SSL={'true' if tierlab_db.tls else 'false'}\n")
    db = connect(env_file=f, shared=False, verbose=False)
    try:
        assert db.backend == "url" and "DB_HOST" in db.reason
        assert db.tls == tierlab_db.tls
    finally:
        db.stop()


# --- the Docker probe ------------------------------------------------------------------------------

def test_docker_probe_with_no_socket_is_fast(tmp_path):
    t0 = time.perf_counter()
    p = docker_engine(host=f"unix://{tmp_path}/nothing.sock")
    assert not p.ok and "nothing.sock" in p.reason
    assert time.perf_counter() - t0 < 1.0


def test_docker_probe_with_a_silent_engine_gives_up_in_time(tmp_path):
    path = tmp_path / "silent.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)  # accepts the connection, never answers
    try:
        t0 = time.perf_counter()
        p = docker_engine(timeout_s=0.3, host=f"unix://{path}")
        assert not p.ok and time.perf_counter() - t0 < 1.0
    finally:
        srv.close()


def test_docker_probe_on_a_closed_tcp_port_is_fast():
    t0 = time.perf_counter()
    p = docker_engine(host=f"tcp://127.0.0.1:{_dead_port()}")
    assert not p.ok and time.perf_counter() - t0 < 1.0


def test_forcing_docker_without_an_engine_says_why(tmp_path):
    from tierlab.db import DockerOptions

    with pytest.raises(DatabaseError) as err:
        connect(backend="docker", docker=DockerOptions(host=f"unix://{tmp_path}/none.sock"), shared=False, verbose=False)
    assert "no Docker engine answered" in err.value.message and "embedded" in err.value.hint


def test_forcing_url_without_one_says_how(monkeypatch):
    for k in ("TIERLAB_DATABASE_URL", "DB_HOST"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(DatabaseError, match="no URL was given"):
        connect(backend="url", shared=False, verbose=False)

