"""Connection settings from environment variables (the names of the original
design's ``.env``), with a DSN as an alternative."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping, Optional


def _bool(v: Optional[str], default: bool) -> bool:
    if v is None or v == "":
        return default
    return v.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class DatabaseConfig:
    """Where and how to connect.

    Environment variables (all optional):

    ======================== =====================================================
    DATABASE_URL             a libpq DSN or URL; overrides host/port/name/user/password
    DATABASE_HOST            default ``localhost``
    DATABASE_PORT            default ``5432``
    DATABASE_NAME            default ``ims_crawler``
    DATABASE_USER            default ``ims_user``
    DATABASE_PASSWORD
    DATABASE_SSLMODE         e.g. ``require``
    DATABASE_POOL_SIZE       connections kept open, default 5
    DATABASE_MAX_OVERFLOW    extra connections under load, default 10
    DATABASE_POOL_TIMEOUT    seconds to wait for a connection, default 30
    DATABASE_POOL_RECYCLE    seconds before a connection is replaced, default 3600
    DATABASE_PGBOUNCER       ``true`` behind pgbouncer in transaction mode (no prepared statements)
    DATABASE_STATEMENT_TIMEOUT  milliseconds, default 0 (none)
    DATABASE_APPLICATION_NAME   default ``ims_crawler``
    ======================== =====================================================
    """

    host: str = "localhost"
    port: int = 5432
    dbname: str = "ims_crawler"
    user: str = "ims_user"
    password: Optional[str] = None
    sslmode: Optional[str] = None
    url: Optional[str] = None
    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float = 30.0
    pool_recycle: float = 3600.0
    pgbouncer: bool = False
    statement_timeout_ms: int = 0
    application_name: str = "ims_crawler"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "DatabaseConfig":
        e = os.environ if env is None else env
        return cls(
            host=e.get("DATABASE_HOST", "localhost"),
            port=int(e.get("DATABASE_PORT", "5432")),
            dbname=e.get("DATABASE_NAME", "ims_crawler"),
            user=e.get("DATABASE_USER", "ims_user"),
            password=e.get("DATABASE_PASSWORD") or None,
            sslmode=e.get("DATABASE_SSLMODE") or None,
            url=e.get("DATABASE_URL") or None,
            pool_size=int(e.get("DATABASE_POOL_SIZE", "5")),
            max_overflow=int(e.get("DATABASE_MAX_OVERFLOW", "10")),
            pool_timeout=float(e.get("DATABASE_POOL_TIMEOUT", "30")),
            pool_recycle=float(e.get("DATABASE_POOL_RECYCLE", "3600")),
            pgbouncer=_bool(e.get("DATABASE_PGBOUNCER"), False),
            statement_timeout_ms=int(e.get("DATABASE_STATEMENT_TIMEOUT", "0")),
            application_name=e.get("DATABASE_APPLICATION_NAME", "ims_crawler"),
        )

    def conninfo(self) -> str:
        """The libpq connection string."""
        if self.url:
            return self.url
        parts = {"host": self.host, "port": str(self.port), "dbname": self.dbname, "user": self.user}
        if self.password:
            parts["password"] = self.password
        if self.sslmode:
            parts["sslmode"] = self.sslmode
        return " ".join(f"{k}={_quote(v)}" for k, v in parts.items())

    def connect_kwargs(self) -> dict:
        """Keyword arguments for each psycopg connection."""
        kwargs = {"application_name": self.application_name, **self.extra}
        if self.pgbouncer:
            kwargs["prepare_threshold"] = None
        if self.statement_timeout_ms:
            kwargs["options"] = f"-c statement_timeout={int(self.statement_timeout_ms)}"
        return kwargs


def _quote(v: str) -> str:
    if v and all(c not in v for c in " '\\"):
        return v
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
