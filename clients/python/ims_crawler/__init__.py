"""Python client for the ims_crawler PostgreSQL extension.

    from ims_crawler import Database

    db = Database.from_env()                  # DATABASE_HOST, DATABASE_PORT, ... (see DatabaseConfig)
    with db.session(user_id=42) as s:         # one transaction, acting as ims user 42
        sid = s.start_session("OpenFrame").session_id
        s.upsert_issues([{"issue_id": "IMS-1", "title": "연결 타임아웃"}], session_id=sid)
        s.finish_session(sid)
    db.search_issues("연결 타임아웃", product="OpenFrame")

The identity asserted by ``session(user_id=...)`` lasts for that one
transaction only (``ims.set_current_user(..., 'transaction')``), so one pool
can serve many end users, behind pgbouncer too.
"""
from .client import (BatchResult, CleanupResult, CrawlSession, Database, FinishedSession, SearchResult, Session,
                     UpsertResult, get_db_manager)
from .config import DatabaseConfig
from .errors import (ImsError, InvalidInput, LimitExceeded, NotFound, PermissionDenied, QueryCanceled, ReadOnly,
                     map_error)

__all__ = [
    "Database", "Session", "DatabaseConfig", "get_db_manager",
    "UpsertResult", "BatchResult", "CrawlSession", "FinishedSession", "SearchResult", "CleanupResult",
    "ImsError", "InvalidInput", "NotFound", "PermissionDenied", "LimitExceeded", "ReadOnly", "QueryCanceled",
    "map_error",
]
__version__ = "0.11.0"
