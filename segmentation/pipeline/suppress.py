"""Small groups suppressed as the night's aggregates are published (``privacy.min_group_size``).

The staged files in ``work/`` keep the true figures (a later step of the night restages the
segment profiles from them, and a retry of ``publish_tables`` suppresses them again); what
is published is their suppressed form, written beside them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from segmentation.config import Config
from segmentation.io.parquet import stage_table
from segmentation.privacy import suppression


def suppress_staged(cfg: Config, day: dt.date, staged: dict[str, Path]) -> dict[str, Path]:
    """The suppressed form of each staged aggregate of ``staged`` (segment profiles, rules,
    migrations, association rules when staged), written beside it: {table: its file}."""
    n = cfg.privacy.min_group_size
    profiles = _read(staged["segment_profiles"])
    customers = profiles.set_index("segment_id")["customers"]
    frames = {
        "segment_profiles": suppression.suppress_profiles(profiles, n),
        "segment_rules": suppression.suppress_rules(_read(staged["segment_rules"]), customers, n),
        "segment_migrations": suppression.suppress_migrations(
            _read(staged["segment_migrations"]), n
        ),
    }
    if "association_rules" in staged:
        frames["association_rules"] = suppression.suppress_association_rules(
            _read(staged["association_rules"]), customers, n
        )
    return {t: stage_table(f, t, day, shown_form(staged[t])) for t, f in frames.items()}


def shown_form(staged: Path) -> Path:
    """The file of a staged table's suppressed (published) form, beside it."""
    return staged.with_name(f"{staged.stem}.shown{staged.suffix}")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path).drop(columns=["run_date"])
