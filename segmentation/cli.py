"""The ``segmentation`` command line: generate, ingest, run, backfill.

Errors the user can fix (``SegmentationError``) are printed as one message on stderr with
exit status 2; nothing else is caught, so a real bug still shows its traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from segmentation.errors import SegmentationError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    try:
        result = args.func(args)
    except SegmentationError as exc:
        sys.stderr.write(f"segmentation {args.command}: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="segmentation", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log each step's progress")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write synthetic events with planted personas")
    g.add_argument("--out", required=True, type=Path)
    g.add_argument("--customers", type=int, default=2000)
    g.add_argument("--start", required=True, type=_date)
    g.add_argument("--days", type=int, default=180)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="csv")
    g.add_argument(
        "--drift-from", type=_date, help="from this date a share of customers change persona"
    )
    g.add_argument("--drift-persona", default="bargain_hunters")
    g.add_argument("--drift-share", type=float, default=0.3)
    g.add_argument("--bad-rows", type=int, default=0, help="rows that break the event contract")
    g.set_defaults(func=_generate)

    for name, func, help_text in (
        ("ingest", _ingest, "extract and validate days into the lake (no training)"),
        ("backfill", _backfill, "the nightly run for each day of a range, in order"),
    ):
        c = sub.add_parser(name, help=help_text)
        _config_arg(c)
        c.add_argument("--start", required=True, type=_date)
        c.add_argument("--end", required=True, type=_date)
        c.set_defaults(func=func)

    r = sub.add_parser("run", help="the full nightly run for one day")
    _config_arg(r)
    r.add_argument("--date", required=True, type=_date)
    r.set_defaults(func=_run)

    s = sub.add_parser("status", help="where the tables are, and what the newest run published")
    _config_arg(s)
    s.set_defaults(func=_status)
    return p


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="YAML config (default: $SEGMENTATION_CONFIG)")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def _generate(args: argparse.Namespace) -> dict[str, Any]:
    from segmentation import synthetic

    data = synthetic.generate(
        customers=args.customers,
        start=args.start,
        days=args.days,
        seed=args.seed,
        drift_from=args.drift_from,
        drift_persona=args.drift_persona,
        drift_share=args.drift_share,
        bad_rows=args.bad_rows,
    )
    files = synthetic.write(data, args.out, args.format)
    return {"events_files": len(files), "events": len(data.events), "out": str(args.out)}


def _ingest(args: argparse.Namespace) -> dict[str, Any]:
    from segmentation import pipeline
    from segmentation.config import load_config

    cfg = load_config(args.config)
    return {"days": pipeline.ingest(cfg, args.start, args.end), **pipeline.output_locations(cfg)}


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from segmentation import pipeline
    from segmentation.config import load_config

    cfg = load_config(args.config)
    return {**pipeline.run(cfg, args.date), **pipeline.output_locations(cfg)}


def _status(args: argparse.Namespace) -> dict[str, Any]:
    from segmentation import pipeline
    from segmentation.config import load_config

    cfg = load_config(args.config)
    return {**pipeline.status(cfg), **pipeline.output_locations(cfg)}


def _backfill(args: argparse.Namespace) -> dict[str, Any]:
    from segmentation import pipeline
    from segmentation.config import load_config

    cfg = load_config(args.config)
    if args.end < args.start:
        raise SegmentationError(f"--end {args.end} is before --start {args.start}")
    days = [args.start + dt.timedelta(days=i) for i in range((args.end - args.start).days + 1)]
    runs = {}
    for day in days:
        result = pipeline.run(cfg, day)
        runs[day.isoformat()] = result["assign_segments"]["segments"]
    return {"runs": runs, **pipeline.output_locations(cfg)}


if __name__ == "__main__":
    raise SystemExit(main())
