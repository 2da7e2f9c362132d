"""Each suite loads whole: GX silently drops entries it cannot parse, so count them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from segmentation.errors import ConfigError
from segmentation.quality.validation import EXPECTATIONS_DIR, load_suite

pytestmark = pytest.mark.unit

SUITES = sorted(EXPECTATIONS_DIR.glob("*.json"))


def test_there_is_an_events_suite() -> None:
    assert "events" in [p.stem for p in SUITES]


@pytest.mark.parametrize("path", SUITES, ids=[p.stem for p in SUITES])
def test_suite_loads_with_its_full_count(path: Path) -> None:
    raw = json.loads(path.read_text())
    suite = load_suite(path.stem, path.parent)
    assert len(raw["expectations"]) >= 10
    assert len(suite.expectations) == len(raw["expectations"])
    assert sorted(e.expectation_type for e in suite.expectations) == sorted(
        e["type"] for e in raw["expectations"]
    )


def test_a_suite_with_an_invalid_entry_is_refused(tmp_path: Path) -> None:
    raw = json.loads((EXPECTATIONS_DIR / "events.json").read_text())
    raw["expectations"].append({"type": "expect_column_to_be_lovely", "kwargs": {"column": "x"}})
    (tmp_path / "broken.json").write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match="GX accepted only"):
        load_suite("broken", tmp_path)
