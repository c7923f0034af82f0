"""Server mode's connection pool (data_layer/core/postgres.py): the cursors of many page runs reuse
a few connections, and a connection comes back clean whatever the cursor that had it left behind."""

import gc

import pandas as pd
import pytest

from data_layer.core import db

ENGINES = ["postgres"]


def backends(conn):
    """The number of connections to this test's database that the server has open now."""
    (count,) = (
        conn.cursor().execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()").fetchone()
    )
    return count


def test_a_thousand_dropped_cursors_reuse_a_few_connections(conn):
    for number in range(1_000):
        assert conn.cursor().execute("SELECT ?", [number]).fetchone() == (number,)
    gc.collect()
    # The first cursor's own connection, the pool's, and the one counting them.
    assert backends(conn) <= 3


def test_many_cursors_held_at_once_each_have_their_own_connection(conn):
    held = [conn.cursor() for _ in range(5)]
    for number, cur in enumerate(held):
        cur.execute("BEGIN")
        cur.execute("SELECT ?", [number])
    assert [cur.fetchone() for cur in held] == [(number,) for number in range(5)]
    assert backends(conn) >= 6
    for cur in held:
        cur.execute("COMMIT")


def test_a_cursor_dropped_inside_a_transaction_leaves_nothing_of_it(conn):
    cur = conn.cursor()
    cur.execute("CREATE TABLE notes (body VARCHAR)")
    cur.execute("BEGIN")
    cur.execute("INSERT INTO notes VALUES ('half-written')")
    del cur  # dropped without COMMIT: a page run that failed between its statements
    gc.collect()
    for _ in range(3):  # whichever connection the pool hands out next
        assert conn.cursor().execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_a_temporary_table_of_a_dropped_cursor_is_gone_for_the_next(conn):
    frame = pd.DataFrame({"id": [1, 2]})
    cur = conn.cursor()
    cur.register("chosen", frame)  # never unregistered
    del cur
    gc.collect()
    for _ in range(3):
        again = conn.cursor()
        again.register("chosen", frame)
        assert again.execute("SELECT count(*) FROM chosen").fetchone() == (2,)
        again.unregister("chosen")


def test_closing_the_first_cursor_closes_the_pool_and_its_connections(database):
    first = db.connect(database)
    watcher = db.connect(database)
    try:
        for _ in range(3):
            first.cursor().execute("SELECT 1")
        before = backends(watcher)
        first.close()
        assert backends(watcher) < before
        with pytest.raises(Exception):  # noqa: B017 (the pool's own error type is its business)
            first.cursor()
    finally:
        watcher.close()
