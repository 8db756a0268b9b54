"""A pool of connections and per-request sessions with typed helpers for
every ims SQL function."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from .config import DatabaseConfig
from .errors import map_error


@dataclass(frozen=True)
class UpsertResult:
    issue_pk: int
    action: str  # inserted, updated or unchanged
    changed_fields: List[str]


@dataclass(frozen=True)
class BatchResult:
    inserted: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class CrawlSession:
    session_id: int
    session_uuid: Any
    started_at: dt.datetime


@dataclass(frozen=True)
class FinishedSession:
    session_id: int
    status: str
    duration_seconds: float
    issues_crawled: int
    issues_new: int
    issues_updated: int
    errors_count: int


@dataclass(frozen=True)
class SearchResult:
    issue_id: str
    title: Optional[str]
    product: Optional[str]
    status: Optional[str]
    rank: float
    snippet: Optional[str]


@dataclass(frozen=True)
class CleanupResult:
    deleted_sessions: int
    deleted_errors: int
    deleted_links: int


class Session:
    """One transaction on one pooled connection, acting as one ims user
    (or as the login itself). Made by :meth:`Database.session`."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> List[dict]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> dict:
        rows = self._rows(sql, params)
        return rows[0]

    def _value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return next(iter(self._one(sql, params).values()))

    # identity
    def current_user_id(self) -> Optional[int]:
        return self._value("SELECT ims.current_user_id() AS id")

    # crawled issues
    def upsert_issue(self, issue: dict, session_id: Optional[int] = None) -> UpsertResult:
        r = self._one("SELECT * FROM ims.upsert_issue(%s, %s)", (Jsonb(issue), session_id))
        return UpsertResult(r["issue_pk"], r["action"], list(r["changed_fields"] or []))

    def upsert_issues(self, issues: Sequence[dict], session_id: Optional[int] = None) -> BatchResult:
        r = self._one("SELECT * FROM ims.upsert_issues(%s, %s)", (Jsonb(list(issues)), session_id))
        return BatchResult(r["inserted"], r["updated"], r["unchanged"])

    # crawl sessions
    def start_session(self, product: Optional[str] = None, search_query: Optional[str] = None,
                      parameters: Optional[dict] = None, user_id: Optional[int] = None) -> CrawlSession:
        r = self._one("SELECT * FROM ims.start_session(%s, %s, %s, %s)",
                      (product, search_query, Jsonb(parameters or {}), user_id))
        return CrawlSession(r["session_id"], r["session_uuid"], r["started_at"])

    def finish_session(self, session_id: int, status: str = "completed",
                       issues_found: Optional[int] = None) -> FinishedSession:
        r = self._one("SELECT * FROM ims.finish_session(%s, %s, %s)", (session_id, status, issues_found))
        return FinishedSession(**r)

    def log_error(self, session_id: int, error_type: str, error_message: str, severity: str = "error",
                  error_detail: Optional[dict] = None, issue_id: Optional[str] = None) -> int:
        return self._value("SELECT ims.log_error(%s, %s, %s, %s, %s, %s) AS id",
                           (session_id, error_type, error_message, severity, Jsonb(error_detail or {}), issue_id))

    def log_search(self, original_query: str, parsed_query: Optional[dict] = None, parse_method: Optional[str] = None,
                   confidence: Optional[float] = None, result_count: Optional[int] = None,
                   session_id: Optional[int] = None, execution_time_ms: Optional[int] = None) -> int:
        return self._value(
            "SELECT ims.log_search(%s, %s, %s, %s, %s, %s, %s) AS id",
            (original_query, None if parsed_query is None else Jsonb(parsed_query), parse_method, confidence,
             result_count, session_id, execution_time_ms))

    # searching and statistics
    def search_issues(self, query: str, product: Optional[str] = None, max_results: int = 50) -> List[SearchResult]:
        return [SearchResult(**r) for r in
                self._rows("SELECT * FROM ims.search_issues(%s, %s, %s)", (query, product, max_results))]

    def did_you_mean(self, query: str) -> Optional[str]:
        """The query with its misspelt English words corrected; None when none is."""
        return self._value("SELECT ims.did_you_mean(%s) AS v", (query,))

    def get_user_stats(self, user_id: int) -> dict:
        return self._one("SELECT * FROM ims.get_user_stats(%s)", (user_id,))

    # maintenance (ims_admin)
    def delete_old_sessions(self, user_id: Optional[int], older_than_days: int) -> CleanupResult:
        r = self._one("SELECT * FROM ims.delete_old_sessions(%s::bigint, %s)", (user_id, older_than_days))
        return CleanupResult(**r)

    def aggregate_daily_stats(self, stat_date: Optional[dt.date] = None) -> int:
        if stat_date is None:
            return self._value("SELECT ims.aggregate_daily_stats() AS n")
        return self._value("SELECT ims.aggregate_daily_stats(%s) AS n", (stat_date,))

    def aggregate_monthly_stats(self, year: int, month: int) -> int:
        return self._value("SELECT ims.aggregate_monthly_stats(%s, %s) AS n", (year, month))

    def refresh_materialized_views(self) -> None:
        self._rows("SELECT ims.refresh_materialized_views()")

    def refresh_search_index(self) -> None:
        self._rows("SELECT ims.refresh_search_index()")

    def ensure_partitions(self, months_ahead: int = 3) -> List[dict]:
        return self._rows("SELECT * FROM ims.ensure_partitions(%s)", (months_ahead,))

    def health(self) -> List[dict]:
        """ims.health: one row per check, worst first."""
        return self._rows("SELECT * FROM ims.health")

    def search_index_pending(self) -> int:
        return self._value("SELECT ims.search_index_pending() AS n")


class Database:
    """A connection pool for one database with the extension.

    ``session(user_id=...)`` is the one pattern to use for end users: it
    opens a transaction on a pooled connection, asserts the identity for that
    transaction, and commits (or rolls back on an exception). The identity
    never outlives the transaction, so the pool (or pgbouncer behind it) may
    hand the connection to any other end user next."""

    def __init__(self, config: Optional[DatabaseConfig] = None, open: bool = True):
        self.config = config or DatabaseConfig.from_env()
        c = self.config
        self.pool = ConnectionPool(
            c.conninfo(), min_size=c.pool_size, max_size=c.pool_size + c.max_overflow,
            timeout=c.pool_timeout, max_lifetime=c.pool_recycle, kwargs=c.connect_kwargs(), open=open,
            name="ims_crawler")

    @classmethod
    def from_env(cls) -> "Database":
        return cls(DatabaseConfig.from_env())

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def session(self, user_id: Optional[int] = None) -> Iterator[Session]:
        """One transaction acting as ims user ``user_id`` (asserted with
        ``ims.set_current_user``; the login must be trusted for it), or as the
        login's own ims user when ``user_id`` is None. Database errors are
        raised as :class:`ImsError` subclasses."""
        try:
            with self.pool.connection() as conn:
                with conn.transaction():
                    if user_id is not None:
                        conn.execute("SELECT ims.set_current_user(%s)", (user_id,))
                    yield Session(conn)
        except psycopg.Error as e:
            raise map_error(e) from e

    # one-call conveniences: each runs in its own session
    def search_issues(self, query: str, product: Optional[str] = None, max_results: int = 50,
                      user_id: Optional[int] = None) -> List[SearchResult]:
        with self.session(user_id) as s:
            return s.search_issues(query, product, max_results)

    def did_you_mean(self, query: str, user_id: Optional[int] = None) -> Optional[str]:
        with self.session(user_id) as s:
            return s.did_you_mean(query)

    def upsert_issues(self, issues: Sequence[dict], session_id: Optional[int] = None,
                      user_id: Optional[int] = None) -> BatchResult:
        with self.session(user_id) as s:
            return s.upsert_issues(issues, session_id)

    def get_user_stats(self, user_id: int) -> dict:
        with self.session(user_id) as s:
            return s.get_user_stats(user_id)

    def delete_old_sessions(self, user_id: Optional[int], older_than_days: int) -> CleanupResult:
        with self.session() as s:
            return s.delete_old_sessions(user_id, older_than_days)

    def health(self) -> List[dict]:
        with self.session() as s:
            return s.health()

    def test_connection(self) -> bool:
        """True when the database answers and has the extension."""
        try:
            with self.session() as s:
                return s._value("SELECT count(*) AS n FROM pg_extension WHERE extname = 'ims_crawler'") == 1
        except Exception:
            return False

    def get_version(self) -> str:
        with self.session() as s:
            return s._value("SELECT version() || ', ims_crawler ' || (SELECT extversion FROM pg_extension "
                            "WHERE extname = 'ims_crawler') AS v")


_default: Optional[Database] = None


def get_db_manager() -> Database:
    """A process-wide Database configured from the environment (the original
    design's entry point)."""
    global _default
    if _default is None:
        _default = Database.from_env()
    return _default
