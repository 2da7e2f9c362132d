"""Connecting to PostgreSQL (the event source and the warehouse) with messages that name the
server but never the password."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from segmentation.errors import ConfigError, SegmentationError, SourceError

CONNECT_TIMEOUT_SECONDS = 10


def describe(url: str) -> str:
    """``user@host:port/dbname`` of a connection URL, never its password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "an unparsable URL"
    user = params.get("user") or "(default user)"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{user}@{host}:{params.get('port') or 5432}/{params.get('dbname') or user}"


def reason(exc: psycopg.Error, url: str) -> str:
    """The server's or libpq's reason, on one line, with any password scrubbed out."""
    diag = exc.diag
    text = diag.message_primary or str(exc) or type(exc).__name__
    if diag.context:
        text = f"{text} ({diag.context.strip()})"
    text = " ".join(text.split())
    try:
        password = str(conninfo_to_dict(url).get("password") or "")
    except psycopg.Error:
        password = ""
    for secret in (url, password):
        if secret:
            text = text.replace(secret, "***")
    return text


@contextmanager
def connect(
    url: str,
    *,
    url_env: str,
    name: str,
    what: str,
    application_name: str,
    unavailable: type[SegmentationError] = SourceError,
    detail: str = "",
) -> Iterator[psycopg.Connection[Any]]:
    """A connection; ``unavailable`` (retryable: ``SourceError`` for a source,
    ``WarehouseUnavailable`` for the warehouse) naming ``what`` when it cannot be made.

    ``name`` says whose URL it is in messages ("warehouse", "source"); ``detail`` is added
    after the server's description.
    """
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        # the parser's message quotes the string, which may hold the password: not shown
        raise ConfigError(
            f"the {name} URL in ${url_env} is not a valid PostgreSQL connection URL; "
            "expected postgresql://user:password@host:5432/database"
        ) from None
    extra: dict[str, Any] = {}
    if "connect_timeout" not in params:
        extra["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if "application_name" not in params:
        extra["application_name"] = application_name
    try:
        conn = psycopg.connect(make_conninfo(url, **extra))
    except psycopg.Error as exc:
        raise unavailable(
            f"cannot connect to {what} at {describe(url)}{detail}: {reason(exc, url)}; "
            f"check that PostgreSQL runs there and that ${url_env} names the right host, "
            "port, user, password and database (the password is not shown)"
        ) from None
    with conn:
        yield conn
