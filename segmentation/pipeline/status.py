"""What the CLI's ``status`` and ``run`` print: where things are, what is current."""

from __future__ import annotations

from typing import Any

import pandas as pd

from segmentation import layout
from segmentation.config import Config
from segmentation.io import lake
from segmentation.io.parquet import current_run_date
from segmentation.layout import Home
from segmentation.model import registry
from segmentation.privacy.retention import tree_bytes


def output_locations(cfg: Config) -> dict[str, str]:
    home = Home(cfg.home)
    return {
        "tables": str(home.output),
        "current": str(home.current),
        "audiences": str(home.audiences),
        "validation": str(home.validation),
        "quarantine": str(home.quarantine),
    }


def status(cfg: Config) -> dict[str, Any]:
    """What the newest run published: each current table's run date and size, the segments."""
    home = Home(cfg.home)
    tables = {}
    for table in layout.TABLE_NAMES:
        path = home.current_table(table)
        if path.is_file():
            day = current_run_date(home, table)
            tables[table] = {"run_date": str(day), "rows": lake.row_count(path), "path": str(path)}
    out: dict[str, Any] = {"current_tables": tables}
    profiles = home.current_table("segment_profiles")
    if profiles.is_file():
        frame = pd.read_parquet(profiles)
        out["segments"] = [
            f"segment {r.segment_id} ({r.segment_name}): suppressed, {r.suppression_reason}"
            if bool(getattr(r, "suppressed", False))
            else f"segment {r.segment_id}, {r.customers} customers. {r.description}"
            for r in frame.itertuples()
        ]
    if home.current_report.is_file():
        out["report"] = str(home.current_report)
    out.update(_models_status(home))
    results = sorted(home.validation.glob("run_date=*.json"))
    if results:
        out["latest_validation_result"] = str(results[-1])
    out["bytes"] = area_bytes(home)
    return out


def area_bytes(home: Home) -> dict[str, int]:
    """The bytes under home per area (a walk of the folders' file sizes), and in all."""
    tables = [home.table_root(t.name) for t in layout.TABLES if t.per_run]
    areas = {
        "staging": home.staging,
        "lake": home.lake,
        "quarantine": home.quarantine,
        "validation": home.validation,
        "duplicates": home.duplicates,
        "state": home.state,
        "features": home.features,
        "models": home.models,
        "work": home.work_area,
        "current": home.current,
        "reports": home.reports,
        "audiences": home.audiences,
    }
    out = {area: tree_bytes(path) for area, path in areas.items()}
    out["output_tables"] = sum(tree_bytes(path) for path in tables)
    out["total"] = tree_bytes(home.root)
    return out


def _models_status(home: Home) -> dict[str, str]:
    models = registry.list_models(home.models)
    out = {}
    champions = [r for r in models if r.promoted]
    if champions:
        c = champions[-1]
        out["champion"] = (
            f"{c.model_version} ({c.algorithm}, {c.n_segments} segments), champion since "
            f"{c.trained_run_date}: {c.reason}"
        )
    if models and not models[-1].promoted:
        out["latest_challenger"] = f"{models[-1].model_version}: {models[-1].reason}"
    return out
