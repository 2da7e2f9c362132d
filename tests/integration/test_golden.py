"""Behaviour does not change: the demo's three nights on a fixed seed give the same bytes.

The demo's configuration (``examples/demo.yaml``) on a smaller generated shop: the history is
ingested, then three consecutive nights run, as ``make demo`` does. A SHA-256 of every
published Parquet file (each run's partition and ``current``) is compared with the digests in
``tests/golden/demo_hashes.json``. A deliberate change of behaviour (or of a pinned library
in the lock) regenerates the file with ``python -m tests.integration.test_golden`` and says
so in its commit.

The digest is of the file's content, not its bytes: its schema, its key-value metadata and
its rows, with floating-point values at 9 significant digits (inside JSON text too). The
last bits of a silhouette or a drift statistic depend on the CPU's vector kernels in
OpenBLAS and numpy: the same code on an AVX-512 machine and an AVX2 one wrote different
bytes for ``model_registry`` and ``drift_metrics``, and identical ones for everything else.
On one machine a night's bytes are reproducible (``test_pipeline``'s rerun tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HASHES = ROOT / "tests" / "golden" / "demo_hashes.json"
START = dt.date(2025, 10, 1)
DAYS = 45
NIGHTS = [START + dt.timedelta(days=DAYS - 3 + i) for i in range(3)]


def demo_shop(folder: Path, **overrides: object) -> Path:
    """The demo's config (``examples/demo.yaml``, with ``overrides`` of its top-level keys)
    on the generated shop, under ``folder``: its history ingested and its three nights run.
    Returns the config file."""
    from segmentation import cli

    landing = folder / "landing"
    generate = f"generate --out {landing} --customers 300 --start {START} --days {DAYS} --seed 42"
    assert cli.main(generate.split()) == 0
    raw = yaml.safe_load((ROOT / "examples" / "demo.yaml").read_text())
    raw["home"] = str(folder / "home")
    raw["source"]["path"] = str(landing / "events" / "{ds}.csv")
    raw["customers"]["path"] = str(landing / "customers")
    raw.update(overrides)
    config = folder / "demo.yaml"
    config.write_text(yaml.safe_dump(raw))
    history_end = NIGHTS[0] - dt.timedelta(days=1)
    base = ["--config", str(config)]
    assert cli.main(["ingest", *base, "--start", str(START), "--end", str(history_end)]) == 0
    for night in NIGHTS:
        assert cli.main(["run", *base, "--date", str(night)]) == 0
    return config


def run_demo_nights(folder: Path) -> dict[str, str]:
    """Generate, ingest and run the three nights under ``folder``; hash every published file."""
    demo_shop(folder)
    output = folder / "home" / "output"
    return {str(p.relative_to(output)): digest(p) for p in sorted(output.rglob("*.parquet"))}


def digest(path: Path) -> str:
    """SHA-256 of a Parquet file's schema, metadata and rows, floats at 9 significant digits."""
    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    parts = [str(table.schema.remove_metadata()), *(f"{k!r}={meta[k]!r}" for k in sorted(meta))]
    for name, column in zip(table.column_names, table.columns, strict=True):
        parts.append(f"{name}: {_canonical(column.combine_chunks())}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _canonical(values: pa.Array) -> str:
    if pa.types.is_floating(values.type):
        return json.dumps([None if v is None else f"{v:.9g}" for v in values.to_pylist()])
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return json.dumps([_round_json(v) for v in values.to_pylist()])
    return json.dumps(values.to_pylist(), default=str)


def _round_json(text: str | None) -> object:
    """A JSON document's numbers at 9 significant digits; any other text as it is."""
    if text is None or not text.startswith(("{", "[")):
        return text
    return json.loads(text, parse_float=lambda v: f"{float(v):.9g}")


def test_demo_nights_publish_the_recorded_bytes(tmp_path: Path) -> None:
    recorded = json.loads(HASHES.read_text())
    hashes = run_demo_nights(tmp_path)
    assert sorted(hashes) == sorted(recorded), "the set of published files changed"
    changed = [name for name in recorded if hashes[name] != recorded[name]]
    assert not changed, f"published bytes changed: {changed}"


if __name__ == "__main__":  # record the hashes (only for a deliberate change of behaviour)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        HASHES.write_text(json.dumps(run_demo_nights(Path(tmp)), indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {HASHES}\n")
