"""Synthetic events with a known answer: planted personas, optional drift and bad rows.

Each customer follows one persona (a behaviour: active period, purchase and view rates, basket
size, category mix). Events are drawn per behaviour span with numpy, all from one seeded
generator, so the same arguments always give byte-identical files. An opt-in dropout process
(``generate``'s ``dropout``) ends customers' activity at persona-specific rates; it draws from
a stream of its own (``[seed, 15]``) and only removes events, so every other draw stays as it
is. Products come from a catalogue with planted tastes and bundles (``synthetic_products``,
streams ``[seed, 16]`` and ``[seed, 17]``): only ``product_id`` depends on them, and the
bundles' extra purchases. A planted campaign (``synthetic_campaign``, stream ``[seed, 18]``)
only adds purchases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from segmentation import synthetic_campaign as sc
from segmentation import synthetic_products as sp

CATEGORIES = ("electronics", "fashion", "grocery", "home", "beauty", "sports")
CHANNELS = ("web", "app", "store")
REGIONS = ("north", "south", "east", "west")


@dataclass(frozen=True)
class Persona:
    name: str
    share: float  # of the customer base
    purchases_per_day: float
    views_per_day: float
    basket_median: float  # median purchase amount
    categories: tuple[float, ...]  # weights over CATEGORIES
    # active period as (start, end) in days before the end of the data; None = whole period
    active_days_before_end: tuple[tuple[int, int], tuple[int, int]] | None = None
    age_mean: float = 38.0


# Active windows are drawn uniformly: start in [a0, a1] days before the end, end in [b0, b1].
PERSONAS: tuple[Persona, ...] = (
    Persona("champions", 0.08, 0.030, 0.06, 120.0, (6, 2, 1, 2, 1, 2)),
    Persona("loyal", 0.17, 0.012, 0.03, 55.0, (1, 1, 6, 3, 1, 1)),
    Persona("new", 0.10, 0.100, 0.25, 45.0, (1, 3, 1, 1, 4, 1), ((28, 12), (0, 0)), 27.0),
    Persona("at_risk", 0.12, 0.020, 0.04, 80.0, (1, 4, 1, 3, 1, 1), ((400, 300), (120, 60))),
    Persona("bargain_hunters", 0.15, 0.035, 0.08, 11.0, (1, 3, 4, 1, 1, 1)),
    Persona("window_shoppers", 0.13, 0.008, 0.15, 40.0, (4, 1, 1, 1, 1, 3)),
    Persona("hibernating", 0.25, 0.040, 0.06, 30.0, (1, 1, 1, 1, 1, 1), ((400, 300), (260, 200))),
)
# a persona that does not exist at first: a wave of new customers arriving from a given date
EMERGING = Persona("premium_newcomers", 0.0, 0.5, 1.0, 350.0, (1, 1, 1, 8, 1, 1), None, 45.0)
_ALL = (*PERSONAS, EMERGING)
# each persona's relative dropout hazard: with ``generate(dropout=x)`` a customer of hazard h
# drops out at a daily rate of x * h / 365 while active (x expected dropouts per customer-year)
DROPOUT_HAZARDS = {
    "champions": 0.2,
    "loyal": 0.4,
    "new": 1.2,
    "at_risk": 2.0,
    "bargain_hunters": 0.7,
    "window_shoppers": 1.0,
    "hibernating": 1.5,
    "premium_newcomers": 0.5,
}
PERSONA_BY_NAME = {p.name: p for p in PERSONAS}
MIN_PRODUCTS = sp.least_products(len(CATEGORIES))
EVENT_COLUMNS = [
    "event_id",
    "customer_id",
    "event_time",
    "event_type",
    "amount",
    "category",
    "channel",
    "product_id",
    "quantity",
]
_PRODUCT_COLS = ["product_id", "category", "popularity"]
_BUNDLE_COLS = ["bundle_id", "persona", "items"]


@dataclass(frozen=True)
class GeneratedData:
    events: pd.DataFrame
    customers: pd.DataFrame
    ground_truth: pd.DataFrame
    start: dt.date
    days: int
    # each row's export file in days from ``start`` (rows late or sent twice, see
    # synthetic_arrival); None: the UTC day of its event_time
    file_day: np.ndarray | None = None
    # the catalogue (product_id, category, popularity) and the planted bundles (bundle_id,
    # persona, items: a tuple of product ids, lead first)
    products: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_PRODUCT_COLS))
    bundles: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_BUNDLE_COLS))


def generate(
    customers: int,
    start: dt.date,
    days: int,
    seed: int,
    drift_from: dt.date | None = None,
    drift_persona: str = "bargain_hunters",
    drift_share: float = 0.3,
    bad_rows: int = 0,
    emerging_from: dt.date | None = None,
    emerging_share: float = 0.1,
    anchor: dt.date | None = None,
    dropout: float = 0.0,
    products: int = 2000,
    bundle_rate: float = 0.0,
    campaign_persona: str | None = None,
    campaign_start: dt.date | None = None,
    campaign_days: int = 1,
    campaign_uplift: float = 0.0,
) -> GeneratedData:
    """Generate events for ``days`` days from ``start`` (UTC) for ``customers`` customers.

    From ``drift_from`` on, a seeded ``drift_share`` of the customers behave as
    ``drift_persona``. From ``emerging_from`` on, ``emerging_share`` x ``customers`` new
    customers of the ``EMERGING`` persona arrive. ``bad_rows`` rows that break the event
    contract are mixed in.

    Personas' active periods are placed relative to ``anchor`` (default: the end of the
    data); a period that lasts until the anchor lasts until the end of the data. With an
    anchor before the end, the days after it are steady: nobody starts or stops.

    ``dropout`` (default 0: none) is the expected dropouts per customer-year of activity at
    relative hazard 1: while active, a customer drops out at the daily rate ``dropout x
    DROPOUT_HAZARDS[p] / 365`` of their persona p at the time, and has no events from then on.
    The ground truth gains ``dropout_day`` (the UTC day; NaT: activity or data ended first).
    The events before a dropout are those of ``dropout=0`` (event ids renumbered).

    Products come from a catalogue of ``products`` products with taste groups (the ground
    truth's ``taste``) and bundles bought at ``bundle_rate``: see ``synthetic_products``.

    ``campaign_*`` plant a campaign: on each of its days a treated customer buys with chance p +
    ``campaign_uplift`` instead of p; ground truth ``campaign_treated``. See ``synthetic_campaign``.
    """
    _check_arguments(drift_persona, dropout, products, campaign_persona)
    plan = sc.plan(campaign_persona, campaign_start, campaign_days, campaign_uplift, start, days)
    rng = np.random.default_rng(seed)  # one stream, drawn from in a fixed order
    arrivals = None if emerging_from is None else (emerging_from, emerging_share)
    persona_idx, a, b = _population(rng, customers, start, days, anchor, arrivals)
    drift = (float((drift_from - start).days), drift_share, drift_persona) if drift_from else None
    spans, final_persona = _behaviour_spans(rng, persona_idx, a, b, days, drift)
    until = _dropout_times(seed, spans, len(a), dropout)  # None without dropout
    shop = _open_shop(seed, products, final_persona, bundle_rate)
    events = _draw_events(rng, *spans, start, shop, until)
    events, treated = sc.plant(plan, seed, spans, until, events, shop, _ALL, _event_attributes)
    seen = np.bincount(events.pop("_cust").to_numpy(), minlength=len(persona_idx)) > 0
    events = _inject_bad_rows(rng, events, bad_rows) if bad_rows else events
    customers_df = _customer_attributes(rng, persona_idx, a, start)
    truth = _ground_truth(customers_df, final_persona, shop.taste, seen, start, until, treated)
    frames = sp.products_frame(shop.catalogue), sp.bundles_frame(shop.catalogue)
    return GeneratedData(events, customers_df, truth, start, days, None, *frames)


def catalogue(seed: int, products: int = 2000) -> sp.Catalogue:
    """The catalogue ``generate`` draws products from: the same whatever the customers and
    days (its taste groups' favourites and its bundles included; persona codes index
    ``PERSONAS`` and then ``EMERGING``)."""
    weights = np.array([p.categories for p in _ALL], dtype=float)
    names = tuple(p.name for p in _ALL)
    return sp.build_catalogue(products, seed, weights, CATEGORIES, names)


def _population(
    rng: np.random.Generator,
    customers: int,
    start: dt.date,
    days: int,
    anchor: dt.date | None,
    arrivals: tuple[dt.date, float] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each customer's persona and active window [a, b) in days from the start, with
    ``arrivals`` (from date, share of ``customers``) of ``EMERGING`` customers."""
    shares = np.array([p.share for p in PERSONAS])
    persona_idx = rng.choice(len(PERSONAS), size=customers, p=shares / shares.sum())
    end = float((anchor - start).days) if anchor is not None else float(days)
    a, b = _active_windows(rng, persona_idx, days, end)
    if arrivals is not None:
        arrive = (float((arrivals[0] - start).days), round(customers * arrivals[1]))
        persona_idx, a, b = _with_arrivals(persona_idx, a, b, days, *arrive)
    a = np.clip(a, 0, days)
    return persona_idx, a, np.clip(b, a, days)


def _open_shop(seed: int, products: int, persona: np.ndarray, bundle_rate: float) -> sp.Shop:
    """The catalogue, and each customer's taste group of ``persona``."""
    medians = np.array([p.basket_median for p in _ALL])
    return sp.open_shop(catalogue(seed, products), seed, persona, bundle_rate, medians)


def _check_arguments(
    drift_persona: str, dropout: float, products: int, campaign_persona: str | None
) -> None:
    for persona in [p for p in (drift_persona, campaign_persona) if p is not None]:
        if persona not in PERSONA_BY_NAME:
            raise ValueError(f"unknown persona {persona!r}; choose one of {list(PERSONA_BY_NAME)}")
    if not 0 <= dropout < np.inf:
        raise ValueError(f"dropout must be a rate of 0 or more, not {dropout}")
    if products < MIN_PRODUCTS:
        raise ValueError(f"products must be at least {MIN_PRODUCTS}, not {products}")


def _with_arrivals(
    persona_idx: np.ndarray, a: np.ndarray, b: np.ndarray, days: int, day: float, arriving: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Personas and active windows with ``arriving`` ``EMERGING`` customers from ``day`` on."""
    persona_idx = np.concatenate([persona_idx, np.full(arriving, _ALL.index(EMERGING))])
    a = np.concatenate([a, np.full(arriving, day)])
    b = np.concatenate([b, np.full(arriving, float(days))])
    return persona_idx, a, b


def _ground_truth(
    customers: pd.DataFrame,
    final_persona: np.ndarray,
    taste: np.ndarray,
    seen: np.ndarray,
    start: dt.date,
    until: np.ndarray | None,
    treated: np.ndarray | None,
) -> pd.DataFrame:
    """The ``seen`` customers' planted personas and taste groups and, with dropout, the day
    they dropped out, with a campaign, whether it treated them."""
    truth = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "persona": np.array([p.name for p in _ALL])[final_persona],
            "taste": taste,
        }
    )
    if until is not None:
        day = np.floor(np.where(np.isfinite(until), until, np.nan))
        truth["dropout_day"] = pd.Timestamp(start) + pd.to_timedelta(day, unit="D")
    if treated is not None:
        truth["campaign_treated"] = treated
    return truth[seen].reset_index(drop=True)


def _active_windows(
    rng: np.random.Generator, persona_idx: np.ndarray, days: int, end: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's active window in day indices [a, b) relative to the start."""
    customers = len(persona_idx)
    a = np.zeros(customers)
    b = np.full(customers, float(days))
    for i, p in enumerate(PERSONAS):
        if p.active_days_before_end is None:
            continue
        mask = persona_idx == i
        (s1, s0), (e1, e0) = p.active_days_before_end
        a[mask] = end - rng.uniform(s0, s1, mask.sum())
        stop = end - rng.uniform(e0, e1, mask.sum())  # drawn always: same stream as before
        b[mask] = days if e1 == 0 else stop
    return a, b


def _behaviour_spans(
    rng: np.random.Generator,
    persona_idx: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    days: int,
    drift: tuple[float, float, str] | None,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Behaviour spans (customer, persona, from, to) and each customer's final persona.

    With ``drift`` (from day, share, persona), a seeded share of the customers switch to
    that persona from that day: their span splits in two.
    """
    customers = len(persona_idx)
    span_cust = np.arange(customers)
    span_persona = persona_idx.copy()
    span_a, span_b = a.copy(), b.copy()
    final_persona = persona_idx.copy()
    if drift is not None:
        d, share, persona = drift
        drifted = rng.random(customers) < share
        target = PERSONAS.index(PERSONA_BY_NAME[persona])
        final_persona[drifted] = target
        span_b = np.where(drifted, np.minimum(b, d), b)
        extra = np.flatnonzero(drifted)
        span_cust = np.concatenate([span_cust, extra])
        span_persona = np.concatenate([span_persona, np.full(len(extra), target)])
        span_a = np.concatenate([span_a, np.full(len(extra), d)])
        span_b = np.concatenate([span_b, np.full(len(extra), float(days))])
        span_a = np.minimum(span_a, span_b)
    return (span_cust, span_persona, span_a, span_b), final_persona


def _dropout_times(
    seed: int,
    spans: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    customers: int,
    dropout: float,
) -> np.ndarray | None:
    """Each customer's dropout time in days from the start, inf where there is none; None
    for ``dropout`` 0.

    A customer takes hazard at their span's persona's rate while active, span after span (in
    time order), and drops out when the total reaches their unit-exponential draw: the
    dropout time is exponential from the start of their active period, at each persona's rate.
    Drawn from a stream of its own, ``[seed, 15]``: one draw per customer, in id order.
    """
    if dropout == 0:
        return None
    cust, persona, a, b = spans
    needed = np.random.default_rng([seed, 15]).exponential(size=customers)
    rates = dropout * np.array([DROPOUT_HAZARDS[p.name] for p in _ALL]) / 365.0
    order = np.lexsort((a, cust))  # a customer's spans in time order
    cust, a, b, rate = cust[order], a[order], b[order], rates[persona[order]]
    mass = rate * (b - a)
    before = pd.Series(mass).groupby(cust).cumsum().to_numpy() - mass
    left = needed[cust] - before  # of the draw, at the span's start
    ends_here = (left >= 0) & (left < mass)
    until = np.full(customers, np.inf)
    until[cust[ends_here]] = a[ends_here] + left[ends_here] / rate[ends_here]
    return until


def _customer_attributes(
    rng: np.random.Generator, persona_idx: np.ndarray, a: np.ndarray, start: dt.date
) -> pd.DataFrame:
    """The customers table: id, signup date, age, gender, region."""
    customers = len(persona_idx)
    ids = ("C" + pd.Series(np.arange(customers)).astype(str).str.zfill(7)).to_numpy()
    first_day = pd.Timestamp(start) + pd.to_timedelta(np.floor(a), unit="D")
    signup = first_day - pd.to_timedelta(rng.integers(0, 60, customers), unit="D")
    ages = np.clip(
        rng.normal(np.array([p.age_mean for p in _ALL])[persona_idx], 9.0), 16, 90
    ).round()
    return pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": signup.strftime("%Y-%m-%d"),
            "age": ages.astype(int),
            "gender": rng.choice(
                np.array(["female", "male", "other"]), customers, p=[0.5, 0.46, 0.04]
            ),
            "region": rng.choice(np.array(REGIONS), customers),
        }
    )


def _draw_events(
    rng: np.random.Generator,
    cust: np.ndarray,
    persona: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    start: dt.date,
    shop: sp.Shop,
    until: np.ndarray | None = None,
) -> pd.DataFrame:
    """The events of the spans (with ``until``, those before their customer's time in it),
    their products and bundles from ``shop``."""
    length = b - a
    rates = {
        "purchase": np.array([p.purchases_per_day for p in _ALL]),
        "view": np.array([p.views_per_day for p in _ALL]),
        "add_to_cart": np.array([p.purchases_per_day * 0.4 for p in _ALL]),
    }
    parts = []
    for event_type, rate in rates.items():
        n = rng.poisson(rate[persona] * length)
        idx = np.repeat(np.arange(len(cust)), n)
        parts.append(
            pd.DataFrame(
                {
                    "_span": idx,
                    "event_type": event_type,
                    "_t": a[idx] + rng.random(len(idx)) * length[idx],
                }
            )
        )
    ev = pd.concat(parts, ignore_index=True)
    times = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(
        (ev["_t"].to_numpy() * 86_400).astype("int64"), unit="s"
    )
    span = ev["_span"].to_numpy()
    purchase = (ev["event_type"] == "purchase").to_numpy()
    attributes = _event_attributes(rng, persona[span], purchase)
    category = attributes.pop("_category")
    out = pd.DataFrame(
        {
            "customer_id": pd.Series(cust[span]),
            "event_time": times,
            "event_type": ev["event_type"].to_numpy(),
            **attributes,
        }
    )
    del attributes  # copied into ``out``: not held through the sort
    out, t = sp.with_products(shop, out, category, persona[span], ev["_t"].to_numpy(), purchase)
    if until is not None:  # drawn all the same, so the events that stay are as without
        out = out[t < until[out["customer_id"].to_numpy()]]
    n = len(out)
    out = out.sort_values(["event_time", "customer_id"], kind="stable").reset_index(drop=True)
    out["_cust"] = out["customer_id"]
    out["customer_id"] = "C" + out["customer_id"].astype(str).str.zfill(7)
    out["product_id"] = "P" + out["product_id"].astype(str).str.zfill(5)
    out.insert(0, "event_id", "E" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(9))
    return out


def _event_attributes(
    rng: np.random.Generator, span_persona: np.ndarray, is_purchase: np.ndarray
) -> dict[str, np.ndarray]:
    """Amount, category (and its code, ``_category``), channel, product and quantity of each
    event, by its persona. The product is uniform noise, drawn only to keep the stream as it
    was: ``synthetic_products`` picks the real one."""
    n = len(span_persona)
    weights = np.array([p.categories for p in _ALL], dtype=float)
    weights /= weights.sum(axis=1, keepdims=True)
    cum = weights.cumsum(axis=1)[span_persona]
    cat_idx = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, len(CATEGORIES) - 1)
    medians = np.array([p.basket_median for p in _ALL])[span_persona]
    amount = np.where(is_purchase, medians * rng.lognormal(0.0, 0.45, n), 0.0).round(2)
    return {
        "amount": amount,
        "category": np.array(CATEGORIES)[cat_idx],
        "channel": np.array(CHANNELS)[rng.integers(0, len(CHANNELS), n)],
        "product_id": rng.integers(1, 5000, n),
        "quantity": np.where(is_purchase, rng.integers(1, 4, n), 1),
        "_category": cat_idx.astype(np.int8),
    }


def _inject_bad_rows(rng: np.random.Generator, events: pd.DataFrame, count: int) -> pd.DataFrame:
    """Break ``count`` rows in ways the validation gate must catch."""
    bad = events.copy()
    rows = rng.choice(len(bad), size=min(count, len(bad)), replace=False)
    kinds = np.arange(len(rows)) % 4  # an even mix of the four kinds
    bad.loc[rows[kinds == 0], "customer_id"] = None
    bad.loc[rows[kinds == 1], "amount"] = 5e7  # above validation.max_amount (a negative
    # purchase is a return, not a bad row)
    bad.loc[rows[kinds == 2], "event_type"] = "refund_request"
    dup = rows[kinds == 3]
    bad.loc[dup, "event_id"] = bad.loc[np.maximum(dup - 1, 0), "event_id"].to_numpy()
    return bad


def write(
    data: GeneratedData, out: Path, fmt: Literal["csv", "jsonl", "parquet"] = "csv"
) -> list[Path]:
    """Write one events file per UTC day, the customers file, ground_truth.csv, products.csv
    and bundles.csv (a bundle's items separated by spaces, lead first).

    With ``data.file_day``, a row goes into the file of that day (rows in file order).
    """
    events_dir = out / "events"
    events_dir.mkdir(parents=True, exist_ok=True)
    (out / "customers").mkdir(parents=True, exist_ok=True)
    written = []
    if data.file_day is None:
        day = data.events["event_time"].dt.strftime("%Y-%m-%d")
    else:
        since_start = pd.to_timedelta(data.file_day, unit="D")
        dates = (pd.Timestamp(data.start) + since_start).strftime("%Y-%m-%d")
        day = pd.Series(dates, index=data.events.index)
    by_day = dict(iter(data.events.groupby(day, sort=True)))
    for i in range(data.days):
        ds = (data.start + dt.timedelta(days=i)).isoformat()
        path = events_dir / f"{ds}.{fmt}"
        # a day without events still gets its (empty) file, as a daily export would
        _write_frame(by_day.get(ds, data.events.iloc[:0]), path, fmt)
        written.append(path)
    _write_frame(data.customers, out / "customers" / f"customers.{fmt}", fmt)
    data.ground_truth.to_csv(out / "ground_truth.csv", index=False)
    data.products.to_csv(out / "products.csv", index=False)
    items = data.bundles["items"].map(" ".join)
    data.bundles.assign(items=items).to_csv(out / "bundles.csv", index=False)
    return written


def _write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
        return
    text = frame.copy()
    if "event_time" in text:
        text["event_time"] = text["event_time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "csv":
        text.to_csv(path, index=False)
    else:
        text.to_json(path, orient="records", lines=True)
