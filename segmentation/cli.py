"""The ``segmentation`` command line: generate, ingest, run, backfill, status, quarantine,
schema.

Errors the user can fix (``SegmentationError``) are printed as one message on stderr with
exit status 2; nothing else is caught, so a real bug still shows its traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from segmentation.errors import SegmentationError

# the planted personas (kept in sync with segmentation.synthetic, which is heavy to import)
PERSONA_NAMES = (
    "champions",
    "loyal",
    "new",
    "at_risk",
    "bargain_hunters",
    "window_shoppers",
    "hibernating",
)
# the smallest catalogue: a taste group's 5 favourites in each of the 6 categories (kept in
# sync with segmentation.synthetic.MIN_PRODUCTS)
MIN_PRODUCTS = 30


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_great_expectations)
    try:
        result = args.func(args)
    except SegmentationError as exc:
        sys.stderr.write(f"segmentation {args.command}: {exc}\n")
        return 2
    if isinstance(result, str):  # a document (``schema``), printed as it is
        sys.stdout.write(result)
    else:
        sys.stdout.write(json.dumps(result, indent=2, default=str, ensure_ascii=False) + "\n")
    return 0


def _quiet_great_expectations(record: logging.LogRecord) -> bool:
    """Great Expectations logs its own housekeeping at INFO; keep only its warnings."""
    return not record.name.startswith("great_expectations") or record.levelno >= logging.WARNING


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a -v before the subcommand is not reset by the subcommand's own default
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log progress"
    )
    p = argparse.ArgumentParser(prog="segmentation", description=__doc__, parents=[common])
    sub = p.add_subparsers(dest="command", required=True)

    _generate_parser(sub, common)

    for name, func, help_text in (
        ("ingest", _ingest, "extract and validate days into the lake (no training)"),
        ("backfill", _backfill, "the nightly run for each day of a range, in order"),
    ):
        c = sub.add_parser(name, parents=[common], help=help_text)
        _config_arg(c)
        c.add_argument("--start", required=True, type=_date, help="first day, YYYY-MM-DD")
        c.add_argument("--end", required=True, type=_date, help="last day (included)")
        c.set_defaults(func=func)

    r = sub.add_parser("run", parents=[common], help="the full nightly run for one day")
    _config_arg(r)
    r.add_argument("--date", required=True, type=_date, help="the day to process, YYYY-MM-DD")
    r.set_defaults(func=_run)

    s = sub.add_parser(
        "status", parents=[common], help="where the tables are, and what the newest run published"
    )
    _config_arg(s)
    s.set_defaults(func=_status)

    q = sub.add_parser(
        "quarantine", parents=[common], help="days and rows validation held back, and why"
    )
    _config_arg(q)
    q.add_argument("--date", type=_date, help="only this day, YYYY-MM-DD")
    q.add_argument("--rows", action="store_true", help="print the held-back rows too")
    q.set_defaults(func=_quarantine)

    c = sub.add_parser(
        "schema", parents=[common], help="the output tables' columns, types and descriptions"
    )
    c.add_argument("--format", choices=["json", "markdown", "dbt"], default="json")
    c.add_argument(
        "--config", type=Path, help="YAML config: with --format dbt, its warehouse.schema"
    )
    c.set_defaults(func=_schema)

    _plan_parser(sub, common)
    f = sub.add_parser(
        "forget",
        parents=[common],
        help="erase customers from home and the warehouse, and keep them out of later nights",
    )
    _config_arg(f)
    f.add_argument("--customer", action="append", default=[], help="a customer id (repeatable)")
    f.add_argument("--file", type=Path, help="a text file of customer ids, one per line")
    f.set_defaults(func=_forget)
    return p


def _plan_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    pc = sub.add_parser(
        "plan-campaign",
        parents=[common],
        help="before a launch: audience and control sizes, baseline, detectable effect",
    )
    _config_arg(pc)
    pc.add_argument("--audience", required=True, help="an audience of the config")
    pc.add_argument(
        "--mde", required=True, type=float, help="the absolute uplift to detect, e.g. 0.01"
    )
    pc.add_argument("--attribution-days", type=int, default=7, help="the baseline's days")
    pc.add_argument("--date", type=_date, help="the night to size on (default: the newest)")
    pc.set_defaults(func=_plan_campaign)


def _generate_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    g = sub.add_parser(
        "generate", parents=[common], help="write synthetic events with planted personas"
    )
    g.add_argument("--out", required=True, type=Path, help="folder to write into")
    g.add_argument("--customers", type=_positive, default=2000, help="default: 2000")
    g.add_argument("--start", required=True, type=_date, help="first day, YYYY-MM-DD")
    g.add_argument("--days", type=_positive, default=180, help="default: 180")
    g.add_argument("--seed", type=int, default=42, help="default: 42")
    g.add_argument("--format", choices=["csv", "jsonl", "parquet"], default="csv")
    g.add_argument(
        "--drift-from", type=_date, help="from this date a share of customers change persona"
    )
    g.add_argument("--drift-persona", choices=list(PERSONA_NAMES), default="bargain_hunters")
    g.add_argument("--drift-share", type=float, default=0.3, help="default: 0.3")
    g.add_argument("--bad-rows", type=int, default=0, help="rows that break the event contract")
    g.add_argument(
        "--dropout",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="customers drop out (no events from then on) at persona-specific rates: RATE is "
        "the expected dropouts per customer-year of activity for a persona of relative hazard "
        "1 (champions 0.2 ... at_risk 2); ground_truth.csv gains dropout_day; default: 0",
    )
    _product_options(g)
    _campaign_options(g)
    g.add_argument(
        "--order-lines",
        action="store_true",
        help="write purchases as order lines (order_id, quantity, unit_price), as shops export",
    )
    g.add_argument(
        "--refund-rate",
        type=float,
        default=0.0,
        help="with --order-lines: share of orders returned",
    )
    g.add_argument(
        "--late-share",
        type=_share,
        default=0.0,
        help="share of the events (with --order-lines, of the orders) of every day but the "
        "last that arrive late, in the file --late-by days later (or the last day's file "
        "if that is past the end), after its own rows; default: 0",
    )
    g.add_argument(
        "--late-by", type=_positive, default=5, help="days late events arrive; default: 5"
    )
    g.add_argument(
        "--resend",
        type=_count,
        default=0,
        help="days whose file is sent again: a copy of its rows after those of the file two "
        "days later; default: 0",
    )
    g.set_defaults(func=_generate)


def _product_options(g: argparse.ArgumentParser) -> None:
    """``generate``'s options of the catalogue, the tastes and the bundles."""
    g.add_argument(
        "--products",
        type=_products,
        default=2000,
        metavar="N",
        help="products in the catalogue (products.csv), split over the categories, popularity "
        "1/rank within each; customers' taste groups favour some of them; at least "
        f"{MIN_PRODUCTS}; default: 2000",
    )
    g.add_argument(
        "--bundle-rate",
        type=_share,
        default=0.0,
        metavar="RATE",
        help="share of the purchases of a bundle's lead product, by customers of the bundle's "
        "persona, that buy the bundle's other products at the same time (two pairs and a "
        "triple per persona, in bundles.csv); default: 0",
    )


def _campaign_options(g: argparse.ArgumentParser) -> None:
    """``generate``'s options of a planted campaign with a known effect."""
    g.add_argument(
        "--campaign-persona",
        choices=list(PERSONA_NAMES),
        metavar="NAME",
        help="plant a campaign on this persona's customers (one of: "
        f"{', '.join(PERSONA_NAMES)}): on each campaign day a treated customer (of the persona "
        "that day, arrived on --campaign-start or before, not in the pipeline's default "
        "control group) buys with probability p + U instead of p, p their chance of a purchase "
        "that day without it; ground_truth.csv gains campaign_treated; added purchases have "
        "event ids K000000001...; default: no campaign",
    )
    g.add_argument(
        "--campaign-start", type=_date, metavar="YYYY-MM-DD", help="the campaign's first day"
    )
    g.add_argument(
        "--campaign-days",
        type=_positive,
        default=1,
        metavar="N",
        help="the campaign's days, from --campaign-start; default: 1",
    )
    g.add_argument(
        "--campaign-uplift",
        type=_probability,
        default=0.0,
        metavar="U",
        help="the probability of a purchase the campaign adds per treated customer and day, in "
        "[0, 1), e.g. 0.05 (0: an A/A test, the treated marked, no purchase added); default: 0",
    )


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="YAML config (default: $SEGMENTATION_CONFIG)")


def _whole(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``least`` (0 or 1)."""
    what = "a positive whole number" if least == 1 else "a whole number (0 or more)"

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = least - 1
        if number < least:
            raise argparse.ArgumentTypeError(f"{value!r} is not {what}")
        return number

    return parse


_positive = _whole(1)
_count = _whole(0)


def _share(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a share between 0 and 1")
    return number


def _probability(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number < 1.0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a probability in [0, 1)")
    return number


def _rate(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number < float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} is not a rate of 0 or more")
    return number


def _products(value: str) -> int:
    """An argparse type: a catalogue size, at least ``MIN_PRODUCTS``."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < MIN_PRODUCTS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a whole number of products of at least {MIN_PRODUCTS} (5 "
            "favourites of every taste group in each of the 6 categories)"
        )
    return number


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def _generate(args: argparse.Namespace) -> dict[str, Any]:
    from segmentation import synthetic

    campaign = _campaign(args)
    data = synthetic.generate(
        customers=args.customers,
        start=args.start,
        days=args.days,
        seed=args.seed,
        drift_from=args.drift_from,
        drift_persona=args.drift_persona,
        drift_share=args.drift_share,
        bad_rows=args.bad_rows,
        dropout=args.dropout,
        products=args.products,
        bundle_rate=args.bundle_rate,
        **campaign,
    )
    truth = data.ground_truth
    dropped = int(truth["dropout_day"].notna().sum()) if "dropout_day" in truth else 0
    if "campaign_treated" in truth:
        added = int(data.events["event_id"].str.startswith("K").sum())
        planted = {
            "campaign_treated": int(truth["campaign_treated"].sum()),
            "campaign_events": added,
        }
    else:
        planted = {}
    if args.order_lines:
        import dataclasses

        from segmentation.synthetic_shop import order_lines

        events = order_lines(data.events, args.seed, args.refund_rate, products=data.products)
        data = dataclasses.replace(data, events=events)
    elif args.refund_rate:
        raise SegmentationError("--refund-rate needs --order-lines (returns are of orders)")
    made = len(data.events)
    data, arrivals = _arrivals(args, data)
    files = synthetic.write(data, args.out, args.format)
    summary = {"events_files": len(files), "events": made, "out": str(args.out)}
    return {**summary, "dropped_out_customers": dropped, **planted, **arrivals}


def _campaign(args: argparse.Namespace) -> dict[str, Any]:
    """``generate``'s campaign arguments, checked against each other and the data's days."""
    from segmentation import synthetic_campaign

    names = ("campaign_persona", "campaign_start", "campaign_days", "campaign_uplift")
    campaign = {name: getattr(args, name) for name in names}
    try:
        synthetic_campaign.plan(**campaign, start=args.start, days=args.days)
    except ValueError as exc:  # plan only checks: the message is for the user
        raise SegmentationError(f"{exc} (--campaign-* options)") from None
    return campaign


def _arrivals(args: argparse.Namespace, data: Any) -> tuple[Any, dict[str, Any]]:
    """``data`` with late and re-sent rows where asked, and how many rows they are."""
    if args.resend > max(args.days - 2, 0):
        raise SegmentationError(
            f"--resend {args.resend}: only {max(args.days - 2, 0)} of the {args.days} days "
            "have a day two later to be sent again with; ask for fewer or more --days"
        )
    if not args.late_share and not args.resend:
        return data, {"late_events": 0, "resent_events": 0, "resent_days": []}
    import dataclasses

    from segmentation.synthetic_arrival import arrange_arrivals

    arrived = arrange_arrivals(
        data.events, data.start, data.days, args.seed, args.late_share, args.late_by, args.resend
    )
    data = dataclasses.replace(data, events=arrived.rows, file_day=arrived.file_day)
    return data, {
        "late_events": arrived.late_events,
        "resent_events": arrived.resent_events,
        "resent_days": [d.isoformat() for d in arrived.resent_days],
    }


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


def _quarantine(args: argparse.Namespace) -> dict[str, Any]:
    from segmentation.config import load_config
    from segmentation.pipeline.quarantine import quarantine_report

    return quarantine_report(load_config(args.config), args.date, args.rows)


def _schema(args: argparse.Namespace) -> str:
    from segmentation import catalog_formats

    if args.format == "json":
        return catalog_formats.as_json()
    if args.format == "markdown":
        return catalog_formats.as_markdown()
    schema = catalog_formats.SOURCE
    if args.config is not None:
        from segmentation.config import load_config

        warehouse = load_config(args.config).warehouse
        schema = warehouse.schema if warehouse is not None else schema
    return catalog_formats.as_dbt(schema)


def _plan_campaign(args: argparse.Namespace) -> dict[str, Any]:
    from segmentation.config import load_config
    from segmentation.pipeline.plan import plan_campaign

    cfg = load_config(args.config)
    return plan_campaign(cfg, args.audience, args.mde, args.attribution_days, args.date)


def _forget(args: argparse.Namespace) -> dict[str, Any]:
    from segmentation.config import load_config
    from segmentation.pipeline.forget import forget
    from segmentation.privacy.erasure import read_erasure_list

    ids = list(args.customer)
    if args.file is not None:
        if not args.file.is_file():
            raise SegmentationError(f"--file {args.file} does not exist")
        ids += sorted(read_erasure_list(args.file))
    # the audit's clock: read here, at the edge, never inside the pipeline
    return forget(load_config(args.config), ids, dt.datetime.now(dt.UTC))


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
