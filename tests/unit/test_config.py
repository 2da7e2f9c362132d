"""Config parsing: typed, frozen, and every mistake named."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from segmentation.config import CONFIG_ENV, configured_home, load_config, parse_config
from segmentation.errors import ConfigError

pytestmark = pytest.mark.unit


def test_defaults_and_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "c.yaml"
    path.parent.mkdir()
    path.write_text("home: ./data\nsource:\n  path: ./landing/{ds}.csv\n")
    cfg = load_config(path)
    assert cfg.home == tmp_path / "conf" / "data"
    assert cfg.source.path == str(tmp_path / "conf" / "landing" / "{ds}.csv")
    assert cfg.features.window_days == 365
    assert cfg.source.format == "csv"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.home = Path("/elsewhere")  # type: ignore[misc]


def test_config_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("timezone: Europe/Berlin\n")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert load_config().timezone == "Europe/Berlin"
    monkeypatch.delenv(CONFIG_ENV)
    with pytest.raises(ConfigError, match=CONFIG_ENV):
        load_config()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"sourec": {}}, "unknown key 'sourec' (did you mean 'source'?)"),
        ({"source": {"colums": {}}}, "source: unknown key 'colums' (did you mean 'columns'?)"),
        (
            {"source": {"format": "xls"}},
            "source.format: 'xls' is not allowed; choose one of csv, jsonl, parquet",
        ),
        (
            {"source": {"columns": {"custmer_id": "id"}}},
            "unknown canonical column 'custmer_id' (did you mean 'customer_id'?)",
        ),
        ({"features": {"window_days": "a year"}}, "features.window_days: expected a whole number"),
        ({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus' is not an IANA zone name"),
        ({"model": {"k_min": 8, "k_max": 3}}, "k_min and k_max"),
        ({"validation": {"allow_empty_days": "yes"}}, "expected true or false"),
        # checked here once, not again by the modules that use them
        ({"rfm": {"cuts": {"recency": [1, 2, 3, 4]}}}, "unknown axis 'recency'"),
        ({"rfm": {"cuts": {"frequency": [1, 2, 3]}}}, "rfm.cuts.frequency needs 4 increasing"),
        ({"rfm": {"cuts": {"monetary": [50, 40, 250, 500]}}}, "rfm.cuts.monetary needs 4"),
        ({"rfm": {"cuts": {"monetary": [1, 2, 3, float("inf")]}}}, "rfm.cuts.monetary needs 4"),
        ({"control": {"shares": {4: 1.5}}}, "control.shares.4 must be a fraction in [0, 1)"),
        ({"control": {"share": -0.1}}, "control.share must be a fraction in [0, 1)"),
        ({"rules": {"sample": 0}}, "rules.sample must be a positive number of customers"),
        ({"rules": {"max_depth": 0}}, "rules.max_depth must be between 1 and 8"),
        # order lines: without an amount, quantity and unit_price come as a pair
        (
            {"source": {"columns": {"quantity": "Quantity"}}},
            "source.columns maps quantity but neither unit_price nor amount",
        ),
        (
            {"source": {"columns": {"unit_price": "UnitPrice"}}},
            "Map source.columns.quantity too, or map source.columns.amount",
        ),
        ({"source": {"decimal": ";"}}, "source.decimal ';' must be"),
        ({"source": {"thousands": "_"}}, "source.thousands '_' must be null"),
        ({"source": {"decimal": ",", "thousands": ","}}, "are both ','"),
        (
            {"source": {"kind": "postgres", "table": "t", "decimal": ","}},
            "source.decimal applies to kind files only",
        ),
        ({"customers": {"path": "c.csv", "decimal": "x"}}, "customers.decimal 'x' must be"),
    ],
)
def test_mistakes_are_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(raw, base_dir=Path("."))
    assert message in str(err.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


@pytest.mark.parametrize("home", ["./data", "../elsewhere/./home", "/srv/seg", "~/seg", None])
def test_configured_home_is_the_home_load_config_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str | None
) -> None:
    path = tmp_path / "conf" / "c.yaml"
    path.parent.mkdir()
    path.write_text((f"home: {home}\n" if home else "") + "timezone: Europe/Berlin\n")
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert configured_home() == configured_home(path) == load_config(path).home
    assert configured_home().is_absolute()


def test_configured_home_reads_nothing_but_the_home(tmp_path: Path) -> None:
    # for the DAG's parse: a mistake elsewhere is for the run to report, not the parse
    path = tmp_path / "c.yaml"
    path.write_text("home: ./h\ntimezone: Mars/Olympus\nmodle: {}\n")
    assert configured_home(path) == tmp_path / "h"
    with pytest.raises(ConfigError, match="modle"):
        load_config(path)
    path.write_text("home: [a, b]\n")
    with pytest.raises(ConfigError, match="home"):
        configured_home(path)
    path.write_text("- home\n")
    with pytest.raises(ConfigError, match="mapping"):
        configured_home(path)


def test_order_lines_and_separators_that_are_fine(tmp_path: Path) -> None:
    for source in (
        {"columns": {"quantity": "Quantity", "unit_price": "UnitPrice"}},
        {"columns": {"quantity": "Quantity", "amount": "Total"}},  # quantity kept as is
        {"columns": {"quantity": "Quantity"}, "defaults": {"amount": 0}},
        {"decimal": ",", "thousands": "."},
        {"decimal": ".", "thousands": ","},
    ):
        src = parse_config({"source": source}, base_dir=tmp_path).source
        assert (src.decimal, src.thousands) == (
            source.get("decimal", "."),
            source.get("thousands"),
        )
