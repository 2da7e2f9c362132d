"""Records of the side models' registries (churn classifiers, recommendation models): their
``meta.json`` as a frozen dataclass with two dates, and every record of a registry folder."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from segmentation.errors import BadInput
from segmentation.model.registry import META

T = TypeVar("T")


class DatedRecord:
    """JSON of a frozen dataclass record whose ``trained_run_date`` and ``cutoff`` are dates
    (ISO text in ``meta.json``): the side models' registries (churn, recommendations)."""

    DATES = ("trained_run_date", "cutoff")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = asdict(self)  # type: ignore[call-overload]
        for name in self.DATES:
            out[name] = getattr(self, name).isoformat()
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Any:
        dates = {name: dt.date.fromisoformat(d[name]) for name in cls.DATES}
        return cls(**{**d, **dates})


def read_records(folder: Path, parse: Callable[[dict[str, Any]], T], rerun: str) -> list[T]:
    """Every ``meta.json`` under ``folder`` parsed (its subfolders; none when missing); an
    unreadable one is an error naming it and the step to ``rerun``."""
    if not folder.is_dir():
        return []
    found = []
    for d in sorted(folder.iterdir()):
        if d.is_dir() and not d.name.startswith(".") and (d / META).is_file():
            try:
                found.append(parse(json.loads((d / META).read_text())))
            except (ValueError, TypeError, KeyError) as exc:
                raise BadInput(
                    f"model record {d / META} is unreadable ({exc}); delete {d} and rerun "
                    f"{rerun} for its date"
                ) from None
    return found
