"""The pool lesson and the new-connection phases are measured on a real server."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tierlab.db import PHASE_KEYS, POOL_SIZE, connection_phases, connection_phases_frame, pool_lesson
from tierlab.db.wire import open_connection_phases
from tierlab.errors import DatabaseError

pytestmark = pytest.mark.database


def test_the_shared_engine_is_the_seeds_pool(tierlab_db):
    pool = tierlab_db.engine.pool
    assert POOL_SIZE == 10 and pool.size() == 10 and pool._max_overflow == 0


def test_a_pooled_engine_never_uses_more_than_ten_server_backends(tierlab_db):
    engine = tierlab_db.new_engine()

    def backend_pid(_):
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT pg_backend_pid() FROM pg_sleep(0.005)")).scalar_one()

    try:
        with ThreadPoolExecutor(max_workers=30) as ex:
            pids = set(ex.map(backend_pid, range(120)))
    finally:
        engine.dispose()
    assert 1 <= len(pids) <= 10


def test_pool_lesson_inserts_every_row_and_reports_each_mode(tierlab_db):
    frame = pool_lesson(tierlab_db, requests=30, concurrency=5)
    modes = {(m, t) for m, t in zip(frame["mode"], frame["tls"])}
    expected = {("pooled", False), ("new connection", False)}
    if tierlab_db.tls:
        expected |= {("pooled", True), ("new connection", True)}
    assert modes == expected
    assert (frame["created"] == 30).all()
    assert (frame["rows_per_s"] > 0).all() and (frame["latency_p95_ms"] >= frame["latency_median_ms"]).all()
    assert frame["reason"].str.len().min() > 10
    assert list(frame.columns) == ["mode", "tls", "requests", "concurrency", "elapsed_s", "rows_per_s",
                                   "latency_median_ms", "latency_p95_ms", "created", "reason"]


def test_connection_phases_are_the_latency_models_keys(tierlab_db):
    phases = connection_phases(tierlab_db, repeats=3)
    assert tuple(phases) == PHASE_KEYS
    assert all(isinstance(v, float) and v >= 0 for v in phases.values())
    assert phases["auth_ms"] > 0 and phases["tcp_connect_ms"] > 0 and phases["insert_ms"] > 0
    if tierlab_db.tls:
        assert phases["tls_handshake_ms"] > 0
    plain = connection_phases(tierlab_db, tls=False, repeats=2)
    assert plain["tls_handshake_ms"] == 0.0
    frame = connection_phases_frame(phases)
    total = frame.set_index("phase").loc["new_connection_total_ms"]
    assert total["seed_ms"] == 100.0
    assert total["measured_ms"] == pytest.approx(sum(phases[k] for k in PHASE_KEYS[:4]))


def test_wire_handshake_checks_the_password_and_the_certificate(tierlab_db):
    db = tierlab_db
    with pytest.raises(DatabaseError, match="refused the password"):
        open_connection_phases(db.host, db.port, db.user, "wrong-password", db.dbname, tls=False)
    if db.tls and db.sslrootcert:
        ph = open_connection_phases(db.host, db.port, db.user, db.password, db.dbname, tls=True, cafile=db.sslrootcert)
        assert ph.tls_version.startswith("TLS") and ph.auth_method == "scram-sha-256"


def test_tls_on_a_server_without_it_is_refused_clearly():
    from tierlab.db import Database

    plain = Database(backend="url", host="127.0.0.1", port=5432, user="u", password="p", dbname="appdb",
                     version="15.18", reason="test", tls=False)
    assert plain.url_for().query["sslmode"] == "disable"
    with pytest.raises(DatabaseError, match="no TLS"):
        plain.url_for(tls=True)


def test_the_latency_models_measured_preset_reads_the_phases(tierlab_db):
    """The hand-off to tierlab.sim.latency: the measured dict is accepted as it comes."""
    from tierlab.sim.latency import latency_model

    phases = connection_phases(tierlab_db, repeats=2)
    model = latency_model(None, "measured", db_timings_ms=phases)
    assert model.preset == "measured"


def test_new_connection_ms_is_the_four_setup_phases_and_nothing_else():
    from tierlab.db import new_connection_ms

    phases = dict(zip(PHASE_KEYS, (1.5, 4.0, 2.5, 0.5, 0.05, 0.8)))
    assert new_connection_ms(phases) == pytest.approx(8.5)  # pool checkout and the insert are not setup
    assert new_connection_ms({**phases, "pool_acquire_ms": 99.0, "insert_ms": 99.0}) == pytest.approx(8.5)
    assert connection_phases_frame(phases).set_index("phase").loc["new_connection_total_ms", "measured_ms"] == 8.5
    with pytest.raises(DatabaseError, match="lack tls_handshake_ms"):
        new_connection_ms({k: v for k, v in phases.items() if k != "tls_handshake_ms"})


def test_a_burst_of_200_through_the_pool_leaks_no_server_connection(tierlab_db):
    """200 concurrent calls through a pool of 10: the server never sees more than 10, and none after dispose."""
    import time
    import uuid

    from tierlab.db import create_user

    if tierlab_db.admin_user is None:
        pytest.skip("counting needs the administrator role of a server tierlab started")
    engine = tierlab_db.new_engine()
    tag = uuid.uuid4().hex[:8]
    count = ("SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND backend_type = 'client backend' "
             "AND application_name = ''")

    def server_side():
        with tierlab_db.admin_connection() as conn:
            return conn.execute(count, (tierlab_db.user,)).fetchone()[0]

    before = server_side()  # the session's own engine may hold some
    try:
        with ThreadPoolExecutor(max_workers=200) as ex:
            answers = list(ex.map(lambda i: create_user(engine, f"Burst {i:03d}", f"b-{tag}-{i}@example.com"), range(200)))
        assert [a.status for a in answers] == [200] * 200
        assert server_side() - before <= POOL_SIZE and engine.pool.checkedout() == 0
    finally:
        engine.dispose()
    deadline = time.monotonic() + 5
    while server_side() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server_side() == before, "a connection outlived engine.dispose()"
