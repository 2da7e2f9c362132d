"""The one rule for PostgreSQL names taken from configuration (schemas, tables).

The config parser checks the names it reads (``source.table``) and the warehouse sink checks
the names it writes; both import the rule from here, so the config never imports a sink.
"""

from __future__ import annotations

import re

from segmentation.errors import ConfigError

IDENTIFIER_RULE = r"^[a-z_][a-z0-9_]{0,62}$"
_IDENTIFIER = re.compile(IDENTIFIER_RULE)
MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1: longer names are silently truncated
CURRENT_SUFFIX = "_current"  # the warehouse's view of a table's newest run


def check_identifier(name: str, key: str, room: int = 0) -> str:
    """``name`` if it is a safe, unquoted PostgreSQL name; ConfigError naming ``key`` if not.

    ``room``: characters a derived name (``<table>_current``) appends, which must still fit
    PostgreSQL's 63-character limit.
    """
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ConfigError(
            f"{key}: {name!r} is not a valid PostgreSQL name; it must match {IDENTIFIER_RULE} "
            "(lowercase letters, digits and underscores, not starting with a digit, at most "
            f"{MAX_IDENTIFIER} characters; no quotes, spaces or uppercase)"
        )
    if len(name) + room > MAX_IDENTIFIER:
        raise ConfigError(
            f"{key}: {name!r} is too long: with the {CURRENT_SUFFIX!r} view suffix it must fit "
            f"in {MAX_IDENTIFIER} characters, so at most {MAX_IDENTIFIER - room}"
        )
    return name
