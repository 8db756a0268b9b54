"""Errors from the database as Python exceptions that carry the SQLSTATE."""
from __future__ import annotations

from typing import Optional

import psycopg


class ImsError(Exception):
    """An error the database reported. ``sqlstate`` is its five-character code,
    ``message`` the primary message, ``hint`` PostgreSQL's hint if any."""

    def __init__(self, message: str, sqlstate: Optional[str] = None, hint: Optional[str] = None):
        super().__init__(f"{sqlstate}: {message}" if sqlstate else message)
        self.message = message
        self.sqlstate = sqlstate
        self.hint = hint


class InvalidInput(ImsError):
    """Bad input: a wrong type or value (class 22), a missing required field (23502)."""


class NotFound(ImsError):
    """A session or user that does not exist, or is not the caller's (23503)."""


class PermissionDenied(ImsError):
    """The login may not do this, or has no ims identity (42501)."""


class LimitExceeded(ImsError):
    """Input over a documented limit (54000)."""


class ReadOnly(ImsError):
    """A writing function on a hot standby or in a read-only transaction (25006)."""


class QueryCanceled(ImsError):
    """statement_timeout or a cancel stopped the statement (57014)."""


def map_error(e: psycopg.Error) -> ImsError:
    """The ImsError subclass for a psycopg error."""
    diag = getattr(e, "diag", None)
    state = getattr(e, "sqlstate", None) or (diag.sqlstate if diag else None)
    message = (diag.message_primary if diag and diag.message_primary else str(e)).strip()
    hint = diag.message_hint if diag else None
    if state is None:
        cls = ImsError
    elif state.startswith("22") or state == "23502":
        cls = InvalidInput
    elif state == "23503":
        cls = NotFound
    elif state == "42501":
        cls = PermissionDenied
    elif state == "54000":
        cls = LimitExceeded
    elif state == "25006":
        cls = ReadOnly
    elif state == "57014":
        cls = QueryCanceled
    else:
        cls = ImsError
    return cls(message, state, hint)
