"""Inside the database: the unique index at work, the rows, the WAL around a commit."""

import uuid

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from tierlab.db import create_user, explain_email_lookup, users_frame, wal_around_commit
from tierlab.views.charts import phases_chart, pool_chart
from tierlab.errors import DatabaseError

pytestmark = pytest.mark.database


def test_email_lookup_uses_the_unique_index(tierlab_db):
    email = f"plan-{uuid.uuid4().hex[:8]}@example.com"
    create_user(tierlab_db.engine, "Plan Person", email)
    plan = explain_email_lookup(tierlab_db, email)
    assert plan.index == "users_email_key", str(plan)
    assert any("actual time" in line for line in plan.lines) and any("Buffers" in line for line in plan.lines)
    assert plan.execution_ms >= 0 and plan.shared_hit + plan.shared_read >= 1
    assert list(plan.frame().columns) == ["plan"]


def test_users_frame_shows_the_rows_just_inserted(tierlab_db):
    emails = [f"frame-{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(3)]
    ids = [create_user(tierlab_db.engine, f"Frame {i}", e).body["userId"] for i, e in enumerate(emails)]
    frame = users_frame(tierlab_db, limit=3)
    assert list(frame["email"]) == emails[::-1] and list(frame["id"]) == ids[::-1]
    assert list(frame.columns) == ["id", "name", "email", "created_at", "updated_at"]
    with pytest.raises(DatabaseError, match="limit"):
        users_frame(tierlab_db, limit=0)


def test_wal_moves_on_insert_and_is_flushed_by_commit(tierlab_db):
    frame = wal_around_commit(tierlab_db)
    assert list(frame["step"]) == ["before BEGIN", "after INSERT (not committed)", "after COMMIT"]
    b = list(frame["wal_bytes_since_start"])
    assert b[0] == 0 and b[1] > 0 and b[2] > b[1]
    # after COMMIT the flush position has caught up with the commit record
    after = frame.iloc[2]
    assert _lsn(after["wal_flush_lsn"]) >= _lsn(after["wal_insert_lsn"])
    assert frame["reason"].str.len().min() > 5


def _lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def test_charts_take_an_ax_and_return_it():
    import matplotlib.pyplot as plt

    frame = pd.DataFrame(dict(mode=["pooled", "new connection"], tls=[False, False], rows_per_s=[2000.0, 200.0],
                              latency_median_ms=[3.0, 40.0]))
    fig, (a1, a2) = plt.subplots(1, 2)
    assert pool_chart(frame, ax=a1) is a1 and len(a1.patches) == 2
    phases = dict(tcp_connect_ms=0.1, tls_handshake_ms=3.0, auth_ms=4.0, first_query_ms=0.3,
                  pool_acquire_ms=0.02, insert_ms=0.6)
    assert phases_chart(phases, ax=a2) is a2 and len(a2.patches) == 6
    plt.close(fig)
