"""SQLAlchemy 2 support: the same one-transaction identity pattern for code
that uses an Engine (``pip install ims-crawler-client[sqlalchemy]``).

    from sqlalchemy import create_engine, text
    from ims_crawler.sqlalchemy import session_for

    engine = create_engine("postgresql+psycopg://crawler_pool@db/ims")
    with session_for(engine, user_id=42) as conn:
        conn.execute(text("SELECT * FROM ims.crawl_sessions"))
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine


@contextmanager
def session_for(engine: Engine, user_id: Optional[int] = None) -> Iterator[Connection]:
    """One transaction (``engine.begin()``) that first asserts ``user_id``
    for that transaction only; it commits on success."""
    with engine.begin() as conn:
        if user_id is not None:
            conn.execute(text("SELECT ims.set_current_user(:u)"), {"u": user_id})
        yield conn
