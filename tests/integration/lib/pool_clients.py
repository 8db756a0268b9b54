"""Many end users sharing a few server connections, as a crawler fleet or a
web app does: through pgbouncer in transaction pooling mode, and through a
psycopg_pool ConnectionPool. Each client thread acts for its own ims user
with the documented pattern (assert the identity and work in one
transaction), and checks that it sees and writes only that user's rows.
Between requests it runs statements without asserting anyone (they must act
as nobody), and now and then it asserts in autocommit, outside a transaction
(the assertion must be gone by its next statement).

Usage: pool_clients.py MODE DSN USERS ROUNDS   (MODE: bouncer | pool)
Prints the counts and exits 1 on any row of another user seen or written,
or on any statement that acted as somebody without asserting.
"""
import sys
import threading

import psycopg
from psycopg_pool import ConnectionPool

mode, dsn, users, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
FIRST_USER = 1001
lock = threading.Lock()
stats = {"requests": 0, "foreign_rows_seen": 0, "foreign_rows_written": 0,
         "acted_as_somebody_unasserted": 0, "errors": 0}


def bump(key, n=1):
    with lock:
        stats[key] += n


def request(conn, uid, i):
    """One request: assert uid for this transaction, read and write."""
    with conn.transaction():
        conn.execute("SELECT ims.set_current_user(%s)", (uid,))
        owners = conn.execute(
            "SELECT coalesce(array_agg(DISTINCT user_id), '{}') FROM ims.crawl_sessions").fetchone()[0]
        bump("foreign_rows_seen", sum(1 for o in owners if o != uid))
        errs = conn.execute("SELECT count(*) FROM ims.session_errors WHERE user_id <> %s", (uid,)).fetchone()[0]
        bump("foreign_rows_seen", errs)
        sid = conn.execute("SELECT session_id FROM ims.crawl_sessions ORDER BY session_id LIMIT 1").fetchone()
        if sid is None:
            raise RuntimeError(f"user {uid} sees no session of its own")
        conn.execute("SELECT ims.log_error(%s, 'pool-test', %s)", (sid[0], f"written for {uid} round {i}"))
    bump("requests")


def unasserted(conn):
    """A statement of nobody: no identity, no rows."""
    uid, n = conn.execute(
        "SELECT ims.current_user_id(), (SELECT count(*) FROM ims.crawl_sessions)").fetchone()
    if uid is not None or n != 0:
        bump("acted_as_somebody_unasserted")


def autocommit_assert(conn, uid):
    """Asserting outside a transaction lasts for that statement only."""
    conn.execute("SELECT ims.set_current_user(%s)", (uid,))
    unasserted(conn)


def client_bouncer(uid):
    # pgbouncer (transaction mode) has no prepared statements: never prepare.
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        for i in range(rounds):
            request(conn, uid, i)
            unasserted(conn)
            if i % 5 == 0:
                autocommit_assert(conn, uid)


def client_pool(pool, uid):
    for i in range(rounds):
        with pool.connection() as conn:
            request(conn, uid, i)
        with pool.connection() as conn:
            unasserted(conn)
        if i % 5 == 0:
            with pool.connection() as conn:
                conn.autocommit = True
                autocommit_assert(conn, uid)
                conn.autocommit = False


def run(target):
    def wrapped(uid):
        try:
            target(uid)
        except Exception as e:  # counted, and the run fails
            bump("errors")
            print(f"client {uid}: {type(e).__name__}: {e}", file=sys.stderr)
    threads = [threading.Thread(target=wrapped, args=(FIRST_USER + k,)) for k in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if mode == "bouncer":
    run(client_bouncer)
else:
    with ConnectionPool(dsn, min_size=2, max_size=2, kwargs={"prepare_threshold": None}) as pool:
        run(lambda uid: client_pool(pool, uid))

# Every error row must belong to the user it was written for.
with psycopg.connect(dsn, autocommit=True, prepare_threshold=None, user="postgres") as conn:
    wrong = conn.execute(
        "SELECT count(*) FROM ims.session_errors WHERE error_type = 'pool-test' "
        "AND error_message NOT LIKE 'written for ' || user_id || ' round %%'").fetchone()[0]
    stats["foreign_rows_written"] = wrong
    written = conn.execute(
        "SELECT count(*) FROM ims.session_errors WHERE error_type = 'pool-test'").fetchone()[0]

print(f"{mode}: {users} clients x {rounds} requests: {stats['requests']} requests, {written} rows written, "
      f"foreign rows seen {stats['foreign_rows_seen']}, foreign rows written {stats['foreign_rows_written']}, "
      f"unasserted statements acting as somebody {stats['acted_as_somebody_unasserted']}, errors {stats['errors']}")
ok = (stats["requests"] == users * rounds and written >= users * rounds and stats["foreign_rows_seen"] == 0
      and stats["foreign_rows_written"] == 0 and stats["acted_as_somebody_unasserted"] == 0 and stats["errors"] == 0)
sys.exit(0 if ok else 1)
