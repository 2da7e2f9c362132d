"""The one lookup of a table of words by language (``personas.language``: en or zh)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from segmentation.errors import ConfigError

T = TypeVar("T")


def in_language(words: Mapping[str, T], language: str, what: str) -> T:
    """``words[language]``; a language without words is a config error naming ``what``."""
    if language not in words:
        raise ConfigError(
            f"{what} language {language!r} is not supported; choose one of "
            f"{', '.join(words)} (personas.language)"
        )
    return words[language]
