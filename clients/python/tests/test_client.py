"""The client against a real PostgreSQL with the extension. The database in
IMS_TEST_DSN (a superuser connection) is prepared by
tests/integration/python_client.sh: users 1 (admin login ims_py_admin),
2..21 end users, and the trusted pool login ims_py_pool."""
import datetime as dt
import os
import threading

import psycopg
import pytest

from ims_crawler import (Database, DatabaseConfig, InvalidInput, LimitExceeded, NotFound, PermissionDenied,
                         QueryCanceled, get_db_manager)

ADMIN_DSN = os.environ["IMS_TEST_DSN"]
POOL_DSN = os.environ["IMS_TEST_POOL_DSN"]


@pytest.fixture(scope="module")
def db():
    with Database(DatabaseConfig(url=POOL_DSN, pool_size=2, max_overflow=0)) as d:
        yield d


@pytest.fixture(scope="module")
def admin():
    with Database(DatabaseConfig(url=ADMIN_DSN, pool_size=1, max_overflow=0)) as d:
        yield d


def test_config_from_env():
    c = DatabaseConfig.from_env({"DATABASE_HOST": "db", "DATABASE_PORT": "6432", "DATABASE_NAME": "ims",
                                 "DATABASE_USER": "crawler", "DATABASE_PASSWORD": "p w", "DATABASE_POOL_SIZE": "3",
                                 "DATABASE_MAX_OVERFLOW": "2", "DATABASE_PGBOUNCER": "true"})
    assert c.conninfo() == "host=db port=6432 dbname=ims user=crawler password='p w'"
    assert (c.pool_size, c.max_overflow) == (3, 2)
    assert c.connect_kwargs()["prepare_threshold"] is None
    assert DatabaseConfig.from_env({"DATABASE_URL": "postgresql://x/y"}).conninfo() == "postgresql://x/y"


def test_crawl_round_trip(db):
    with db.session(user_id=2) as s:
        assert s.current_user_id() == 2
        sid = s.start_session("OpenFrame", "timeout", {"max_pages": 1}).session_id
        r = s.upsert_issue({"issue_id": "PY-1", "title": "TJES 연결 타임아웃", "product": "OpenFrame",
                            "comments": [{"comment_id": "1", "content": "ORA-00942 확인"}]}, session_id=sid)
        assert (r.action, r.changed_fields) == ("inserted", [])
        b = s.upsert_issues([{"issue_id": "PY-1", "title": "TJES 연결 타임아웃", "status": "Closed"},
                             {"issue_id": "PY-2", "title": "Memory leak in JEUS", "product": "JEUS"}], session_id=sid)
        assert (b.inserted, b.updated, b.unchanged) == (1, 1, 0)
        assert s.log_error(sid, "timeout", "page timed out", "warning", {"page": 2}) > 0
        assert s.log_search("연결 타임아웃", {"keywords": ["연결"]}, "rule", 0.5, 1, sid, 3) > 0
        done = s.finish_session(sid)
        assert (done.status, done.issues_crawled, done.issues_new, done.errors_count) == ("completed", 2, 2, 1)
    hits = db.search_issues("연결 타임아웃", product="OpenFrame", user_id=2)
    assert [h.issue_id for h in hits] == ["PY-1"] and hits[0].rank > 0 and "<b>" in hits[0].snippet
    assert db.did_you_mean("연결 타임아웃", user_id=2) is None  # nothing to correct
    stats = db.get_user_stats(2)
    assert stats["total_sessions"] >= 1 and stats["total_searches"] >= 1


def test_identity_lasts_one_transaction(db):
    with db.session(user_id=3) as s:
        assert s.current_user_id() == 3
    with db.session() as s:  # the pool login itself: nobody
        assert s.current_user_id() is None
        assert s._value("SELECT count(*) AS n FROM ims.crawl_sessions") == 0


def test_errors_carry_sqlstate(db):
    with pytest.raises(InvalidInput) as e:
        with db.session(user_id=2) as s:
            s.upsert_issue({"title": "no id"})
    assert e.value.sqlstate == "23502" and "issue_id" in e.value.message
    with pytest.raises(NotFound) as e:
        with db.session(user_id=2) as s:
            s.log_error(999999999, "x", "y")
    assert e.value.sqlstate == "23503"
    # A session or user that does not exist is NotFound (23503) whichever
    # function meets it.
    for call in (lambda s: s.finish_session(999999999),
                 lambda s: s.upsert_issue({"issue_id": "NF-1"}, session_id=999999999),
                 lambda s: s.log_search("timeout", session_id=999999999),
                 lambda s: s.get_user_stats(999999999)):
        with pytest.raises(NotFound) as e:
            with db.session(user_id=2) as s:
                call(s)
        assert e.value.sqlstate == "23503" and "does not exist" in e.value.message
    with pytest.raises(NotFound) as e:
        with db.session(user_id=999999999):
            pass
    assert "ims user 999999999 does not exist" in e.value.message
    with pytest.raises(PermissionDenied):
        with db.session() as s:
            s.start_session("OpenFrame")  # the pool login has no identity of its own
    with pytest.raises(LimitExceeded):
        db.search_issues(" OR ".join(f"word{i}" for i in range(70)), user_id=2)
    with pytest.raises(InvalidInput):
        db.search_issues("", user_id=2)


def test_nothing_is_written_on_error(db, admin):
    with pytest.raises(InvalidInput):
        with db.session(user_id=4) as s:
            sid = s.start_session("OpenFrame").session_id
            s.upsert_issues([{"issue_id": "PY-ROLLED-BACK"}, {"issue_id": 5, "title": 7}], session_id=sid)
    with admin.session() as s:
        assert s._value("SELECT count(*) AS n FROM ims.issues WHERE issue_id = 'PY-ROLLED-BACK'") == 0
        assert s._value("SELECT count(*) AS n FROM ims.crawl_sessions WHERE user_id = 4") == 0


def test_statement_timeout_is_query_canceled():
    cfg = DatabaseConfig(url=ADMIN_DSN, pool_size=1, max_overflow=0, statement_timeout_ms=50)
    with Database(cfg) as d, pytest.raises(QueryCanceled):
        with d.session() as s:
            s._value("SELECT pg_sleep(1) AS x")


def test_maintenance_as_admin(admin):
    with admin.session() as s:
        s.start_session("OpenFrame", user_id=6)
        today = s._value("SELECT current_date AS d")
        assert s.aggregate_daily_stats(today) >= 1
        assert isinstance(s.aggregate_monthly_stats(dt.date.today().year, dt.date.today().month), int)
        s.refresh_materialized_views()
        s.refresh_search_index()
        assert s.search_index_pending() == 0
        s.ensure_partitions(2)
        assert {r["check_name"] for r in s.health()} >= {"daily aggregation"}
        # PY-2 ("Memory leak in JEUS") is in the index now: a typo of its word is corrected.
        assert s.did_you_mean("Memory leka").startswith("Memory leak")
    r = admin.delete_old_sessions(None, 3650)
    assert r.deleted_sessions == 0
    assert admin.test_connection() and "ims_crawler 0.11.0" in admin.get_version()


def test_many_end_users_share_one_pool(db):
    """20 threads, 2 connections: each sees and writes only its own rows."""
    problems = []

    def work(uid):
        try:
            for i in range(10):
                with db.session(user_id=uid) as s:
                    sid = s.start_session("OpenFrame", f"user {uid}").session_id
                    s.log_error(sid, "pool", f"for {uid}")
                    owners = s._value("SELECT array_agg(DISTINCT user_id) AS o FROM ims.crawl_sessions")
                    if owners != [uid]:
                        problems.append((uid, owners))
                with db.session() as s:
                    if s.current_user_id() is not None:
                        problems.append((uid, "identity outlived its transaction"))
        except Exception as e:  # noqa: BLE001 - reported below
            problems.append((uid, repr(e)))

    threads = [threading.Thread(target=work, args=(u,)) for u in range(2, 22)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    with psycopg.connect(ADMIN_DSN) as conn:
        wrong = conn.execute("SELECT count(*) FROM ims.session_errors WHERE error_type = 'pool' "
                             "AND error_message <> 'for ' || user_id").fetchone()[0]
    assert wrong == 0


def test_sqlalchemy_session_for():
    sqlalchemy = pytest.importorskip("sqlalchemy")
    from ims_crawler.sqlalchemy import session_for
    engine = sqlalchemy.create_engine("postgresql+psycopg:///?" + "&".join(
        f"{k}={v}" for k, v in (kv.split("=", 1) for kv in POOL_DSN.split())))
    with session_for(engine, user_id=5) as conn:
        assert conn.execute(sqlalchemy.text("SELECT ims.current_user_id()")).scalar() == 5
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("SELECT ims.current_user_id()")).scalar() is None
    engine.dispose()


def test_get_db_manager_reads_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", POOL_DSN)
    monkeypatch.setenv("DATABASE_POOL_SIZE", "1")
    db = get_db_manager()
    try:
        assert db.test_connection()
    finally:
        db.close()
