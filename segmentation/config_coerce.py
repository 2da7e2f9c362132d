"""Frozen dataclasses built from parsed YAML by their type hints, for :mod:`segmentation.config`.

Unknown keys are errors that name the key (and suggest the closest valid one), and a value of
the wrong type is an error that names where it sits, so a typo never silently falls back to a
default. The checks of what values mean are the config's; this module only knows types.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Literal

from segmentation.errors import ConfigError


def build(cls: type[Any], raw: Any, where: str) -> Any:
    """Recursively build frozen dataclass ``cls`` from ``raw``, rejecting unknown keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where.rstrip(':')}: expected a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(
                f"{where.rstrip(':')}: unknown key {key!r}{suggest(str(key), fields)}; "
                f"valid keys are {', '.join(fields)}"
            )
        kwargs[key] = _coerce(hints[key], value, _join(where, str(key)))
    missing = [
        f.name
        for f in fields.values()
        if f.name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where.rstrip(':')}: missing key(s) {', '.join(missing)}")
    return cls(**kwargs)


def suggest(key: str, options: typing.Iterable[str]) -> str:
    """' (did you mean ...?)' naming the option closest to ``key``, or ''."""
    close = difflib.get_close_matches(key, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _join(where: str, key: str) -> str:
    """Where a key sits, for messages: 'c.yaml:' + 'source' -> 'c.yaml: source', then '.path'."""
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, where)
    if dataclasses.is_dataclass(hint):
        return build(typing.cast(type, hint), value, where)
    if origin is Literal:
        if value not in args:
            raise ConfigError(
                f"{where}: {value!r} is not allowed; choose one of {', '.join(map(str, args))}"
            )
        return value
    if origin is dict:
        return _coerce_dict(args, value, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list")
        return tuple(_coerce(args[0], v, where) for v in value)
    return _coerce_scalar(hint, value, where)


def _coerce_dict(args: tuple[Any, ...], value: Any, where: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping")
    key_type, value_type = args
    return {
        (str(k) if key_type is str else _coerce(key_type, k, f"{where}.{k}")): (
            v if value_type is Any else _coerce(value_type, v, f"{where}.{k}")
        )
        for k, v in value.items()
    }


def _coerce_scalar(hint: Any, value: Any, where: str) -> Any:
    if hint is Path:
        return Path(_coerce_scalar(str, value, where))
    if hint is dt.date:
        return _coerce_date(value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    return value


def _coerce_date(value: Any, where: str) -> dt.date:
    """A date: YAML's own (2025-06-01 unquoted), or text in ISO form (a CSV's cell)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"{where}: expected a date as YYYY-MM-DD, got {value!r}") from None
