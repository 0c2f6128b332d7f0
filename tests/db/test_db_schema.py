"""data/schema.sql is the seed's schema exactly, and applying it twice changes nothing."""

import pytest
import sqlalchemy as sa

from tierlab.db import TABLES, apply_schema, schema_sql

pytestmark = pytest.mark.database

#: The seed's "Database Schema" (section 2), column by column.
SEED_COLUMNS = {
    "users": [
        ("id", "integer", None, "NO", "nextval"),
        ("name", "character varying", 100, "NO", None),
        ("email", "character varying", 100, "NO", None),
        ("created_at", "timestamp without time zone", None, "YES", "now()"),
        ("updated_at", "timestamp without time zone", None, "YES", "now()"),
    ],
    "products": [
        ("id", "integer", None, "NO", "nextval"),
        ("name", "character varying", 255, "NO", None),
        ("price", "numeric", None, "NO", None),
        ("stock_quantity", "integer", None, "YES", "0"),
        ("created_at", "timestamp without time zone", None, "YES", "now()"),
    ],
    "orders": [
        ("id", "integer", None, "NO", "nextval"),
        ("user_id", "integer", None, "NO", None),
        ("total_amount", "numeric", None, "NO", None),
        ("status", "character varying", 50, "YES", "'pending'"),
        ("created_at", "timestamp without time zone", None, "YES", "now()"),
    ],
}


def _columns(conn, table):
    rows = conn.execute(sa.text(
        "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default, "
        "numeric_precision, numeric_scale FROM information_schema.columns "
        "WHERE table_name = :t ORDER BY ordinal_position"), {"t": table}).all()
    return rows


@pytest.mark.parametrize("table", TABLES)
def test_columns_match_the_seed(db_engine, table):
    with db_engine.connect() as conn:
        got = _columns(conn, table)
    assert [r[0] for r in got] == [c[0] for c in SEED_COLUMNS[table]]
    for row, (name, dtype, length, nullable, default) in zip(got, SEED_COLUMNS[table]):
        assert (row[1], row[2], row[3]) == (dtype, length, nullable), name
        if default is None:
            assert row[4] is None, name
        else:
            assert default in (row[4] or ""), (name, row[4])
        if dtype == "numeric":
            assert (row[5], row[6]) == (10, 2), name  # DECIMAL(10, 2)


def test_email_is_unique_and_orders_refer_to_users(db_engine):
    with db_engine.connect() as conn:
        cons = {(r[0], r[1]) for r in conn.execute(sa.text(
            "SELECT conname, contype FROM pg_constraint WHERE conrelid IN "
            "('users'::regclass, 'orders'::regclass, 'products'::regclass)"))}
        fk = conn.execute(sa.text(
            "SELECT confrelid::regclass::text FROM pg_constraint WHERE conname = 'orders_user_id_fkey'")).scalar_one()
    assert ("users_email_key", "u") in cons
    assert ("orders_user_id_fkey", "f") in cons
    assert {("users_pkey", "p"), ("products_pkey", "p"), ("orders_pkey", "p")} <= cons
    assert fk == "users"


def test_applying_twice_changes_nothing(db_engine):
    def snapshot():
        with db_engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY 1, 2")).all()

    before = snapshot()
    assert apply_schema(db_engine) == TABLES
    assert apply_schema(db_engine) == TABLES
    assert snapshot() == before


def test_schema_file_is_the_seed_text():
    sql = schema_sql()
    for line in ("email VARCHAR(100) UNIQUE NOT NULL", "user_id INT NOT NULL REFERENCES users(id)",
                 "price DECIMAL(10, 2) NOT NULL", "status VARCHAR(50) DEFAULT 'pending'"):
        assert line in sql
