"""A planted marketing campaign with a known effect, to check campaign measurement against.

``synthetic.generate(campaign_persona=P, campaign_start=S, campaign_days=n, campaign_uplift=U)``
plants one on the n UTC days from S. Exactly:

- **Treated** on a campaign day d: the customers whose persona at d is P, who had arrived, and
  who are not in the pipeline's control group. A customer's persona at d is that of their
  latest behaviour span to start by the end of d (with drift: from the drift day on, the drift
  persona), or of their first span if none has started. They had arrived if their first span
  started on S's UTC day or before (a customer active since before the data started on its
  first day; a lapsed one arrived long ago). The control group is the pipeline's own at
  its default salt and share: ``control_numbers(ids, ControlConfig().salt) <
  ControlConfig().share`` (``segmentation.segments.control``), ids ``C0000042``...
- **The effect.** Without the campaign, a customer's purchases on d are Poisson with mean
  Λ = the sum over their behaviour spans of the span persona's ``purchases_per_day`` x the time
  of the span within d (before their dropout time, with dropout), so they buy on d with
  probability p = 1 - exp(-Λ). A treated customer without a purchase on d gets one with
  probability U / (1 - p) = U exp(Λ); one with a purchase needs nothing. A treated customer
  therefore buys on d with probability exactly p + U (1 where p + U > 1: U exp(Λ) is clipped at
  1), independently of other days and customers. A customer inactive on d (p = 0: not active
  yet or any more, or dropped out) buys with probability U: a campaign can win a lapsed
  customer back. U is per day: over the n days, a treated customer buys at least once with
  probability 1 - prod_d (1 - p_d - U), against 1 - prod_d (1 - p_d).
- **The added purchases** are the persona's, as the generator draws them: amount, category,
  channel and quantity (``synthetic._event_attributes``), the product by the customer's taste
  and the bundles it leads (``synthetic_products.with_products``), at a uniform second of the
  day. Their event ids are ``K000000001``... in time order (the generator's are ``E``...); they
  are otherwise ordinary purchases (order lines, late files, bad rows).
- The ground truth gains ``campaign_treated``: treated on at least one of the campaign's days.
  A campaign of uplift 0 is a planted A/A test: the treated are marked, nothing is added.

Drawn from a stream of its own, ``[seed, 18]`` (the generator's are ``seed`` and ``[seed, 11]``
to ``[seed, 17]``), and only added: the generator's events are as without a campaign (the
``K`` rows aside), and at uplift 0 nothing is drawn. The dropout process does not know of the
campaign: a customer won back after their ``dropout_day`` has that one purchase after it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation import synthetic_products as sp
from segmentation.config import ControlConfig
from segmentation.segments.control import control_numbers

if TYPE_CHECKING:  # synthetic imports this module
    from segmentation.synthetic import Persona

STREAM = 18  # the campaign's random stream: ``[seed, STREAM]``
ID_PREFIX = "K"  # the added purchases' event ids: K + 9 digits
SECONDS_PER_DAY = 86_400
# the generator's behaviour spans: customer index, persona code, from, to (days from the start)
Spans = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# the generator's draw of events' attributes: (rng, persona codes, is purchase) -> columns
Attributes = Callable[[np.random.Generator, np.ndarray, np.ndarray], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Campaign:
    """A campaign to plant: its persona, days and uplift, days counted from the data's start."""

    persona: str
    start: dt.date  # the data's first day
    first: int  # the campaign's first day, in days from ``start``
    days: int
    uplift: float  # U: added probability of a purchase, per treated customer and day

    @property
    def day_numbers(self) -> np.ndarray:
        """The campaign's days, in days from ``start``."""
        return self.first + np.arange(self.days)


def plan(
    campaign_persona: str | None,
    campaign_start: dt.date | None,
    campaign_days: int,
    campaign_uplift: float,
    start: dt.date,
    days: int,
) -> Campaign | None:
    """The campaign asked for by ``generate``'s ``campaign_*`` arguments (None: no persona) in
    ``days`` days of data from ``start``, or a ValueError that says what is wrong. (That the
    persona is one of the generator's, ``generate`` checks.)"""
    persona, first_day, uplift = campaign_persona, campaign_start, campaign_uplift
    if persona is None:
        if first_day is not None or campaign_days != 1 or uplift != 0:
            raise ValueError("campaign start, days and uplift need a campaign persona")
        return None
    if first_day is None:
        raise ValueError(f"a campaign of {persona!r} needs a campaign start (its first day)")
    if campaign_days < 1:
        raise ValueError(f"campaign days must be 1 or more, not {campaign_days}")
    last = first_day + dt.timedelta(days=campaign_days - 1)
    end = start + dt.timedelta(days=days - 1)
    if first_day < start or last > end:
        raise ValueError(
            f"the campaign's days, {first_day} to {last}, are not all days of the data, "
            f"{start} to {end}"
        )
    if not 0 <= uplift < 1:
        raise ValueError(f"campaign uplift must be a probability in [0, 1), not {uplift}")
    return Campaign(persona, start, (first_day - start).days, campaign_days, float(uplift))


def plant(
    campaign: Campaign | None,
    seed: int,
    spans: Spans,
    until: np.ndarray | None,
    events: pd.DataFrame,
    shop: sp.Shop,
    personas: Sequence[Persona],
    attributes: Attributes,
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """``events`` with the campaign's purchases added, and who it treated (a flag per customer:
    on any of its days); ``events`` and None without a campaign.

    The rest is the generator's: ``events`` sorted by time and customer with ``_cust`` (the
    customer's index), ``spans`` and ``until`` (dropout times; None: no dropout), ``shop`` (a
    taste per customer), ``personas`` by code and ``attributes`` (``_event_attributes``).
    """
    if campaign is None:
        return events, None
    code = [p.name for p in personas].index(campaign.persona)
    treated = treated_by_day(campaign, code, spans, len(shop.taste))
    ever = np.asarray(treated.any(axis=0))
    if campaign.uplift == 0:
        return events, ever
    rng = np.random.default_rng([seed, STREAM])
    rates = np.array([p.purchases_per_day for p in personas])
    cust, day = _won(rng, campaign, treated, spans, until, events, rates)
    if len(cust) == 0:
        return events, ever
    own_shop = dataclasses.replace(shop, rng=rng)  # the same choices, from this stream
    added = _purchases(rng, campaign.start, code, cust, day, own_shop, attributes)
    added["event_time"] = added["event_time"].astype(events["event_time"].dtype)
    out = pd.concat([events, added[events.columns]], ignore_index=True)
    # the generator's order (by customer index, not id); stable: its rows keep their order
    out = out.sort_values(["event_time", "_cust"], kind="stable", ignore_index=True)
    return out, ever


def treated_by_day(campaign: Campaign, code: int, spans: Spans, customers: int) -> np.ndarray:
    """Who the campaign treats on each of its days: flags [campaign day, customer] (persona
    ``code`` at the time, arrived by the campaign's first day, not in the control group)."""
    a = spans[2]
    order, first = _first_spans(spans, customers)
    arrived = np.floor(a[order][first]) <= campaign.first
    config = ControlConfig()
    ids = pd.Series(customer_ids(np.arange(customers)))
    control = control_numbers(ids, config.salt) < config.share
    persona = np.stack([persona_on(spans, customers, d) for d in campaign.day_numbers])
    return (persona == code) & arrived & ~control


def persona_on(spans: Spans, customers: int, day: int) -> np.ndarray:
    """Each customer's persona (code) on ``day`` (days from the start): that of their latest
    behaviour span to start by its end (at a tie the later span: a drift's), or of their first
    span if none has."""
    cust, persona, a, _ = spans
    order, first = _first_spans(spans, customers)
    started = np.bincount(cust[a < day + 1], minlength=customers)
    # a customer's spans are in time order from ``first``: the started ones come first
    return persona[order][first + np.maximum(started - 1, 0)]


def customer_ids(codes: np.ndarray) -> np.ndarray:
    """The generator's customer ids (``C0000042``...) of customer indices."""
    return ("C" + pd.Series(codes).astype(str).str.zfill(7)).to_numpy()


def _first_spans(spans: Spans, customers: int) -> tuple[np.ndarray, np.ndarray]:
    """The spans in order of customer, start and position, and where each customer's begin.

    Every customer has a span (the generator gives each one, if empty)."""
    cust, _, a, _ = spans
    order = np.lexsort((np.arange(len(cust)), a, cust))
    return order, np.searchsorted(cust[order], np.arange(customers))


def _won(
    rng: np.random.Generator,
    campaign: Campaign,
    treated: np.ndarray,
    spans: Spans,
    until: np.ndarray | None,
    events: pd.DataFrame,
    rates: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The customers the campaign makes buy, and on which days (from the start): each treated
    one without a purchase on a day, with probability min(1, U / (1 - p)) = min(1, U exp(Λ)).

    One uniform draw per customer and day, every customer's, day by day in id order."""
    customers = treated.shape[1]
    bought = _purchase_days(campaign, events, customers)
    won, on = [], []
    for j, day in enumerate(campaign.day_numbers):
        chance = campaign.uplift * np.exp(expected_purchases(spans, until, rates, customers, day))
        draw = rng.random(customers)
        who = np.flatnonzero(treated[j] & ~bought[j] & (draw < chance))
        won.append(who)
        on.append(np.full(len(who), day))
    return np.concatenate(won), np.concatenate(on)


def expected_purchases(
    spans: Spans, until: np.ndarray | None, rates: np.ndarray, customers: int, day: int
) -> np.ndarray:
    """Each customer's Λ on ``day``: the mean of their Poisson number of purchases that day
    without the campaign (``rates``: purchases per day by persona code)."""
    cust, persona, a, b = spans
    end = np.minimum(b, day + 1.0)
    if until is not None:
        end = np.minimum(end, until[cust])
    time = np.clip(end - np.maximum(a, float(day)), 0.0, None)
    return np.bincount(cust, weights=rates[persona] * time, minlength=customers)


def _purchase_days(campaign: Campaign, events: pd.DataFrame, customers: int) -> np.ndarray:
    """Who has a purchase among ``events`` on each of the campaign's days: flags [campaign
    day, customer]."""
    bought = np.zeros((campaign.days, customers), dtype=bool)
    purchase = (events["event_type"] == "purchase").to_numpy()
    since = events.loc[purchase, "event_time"] - pd.Timestamp(campaign.start, tz="UTC")
    j = (since // pd.Timedelta(days=1)).to_numpy() - campaign.first
    inside = (j >= 0) & (j < campaign.days)
    bought[j[inside], events["_cust"].to_numpy()[purchase][inside]] = True
    return bought


def _purchases(
    rng: np.random.Generator,
    start: dt.date,
    code: int,
    cust: np.ndarray,
    day: np.ndarray,
    shop: sp.Shop,
    attributes: Attributes,
) -> pd.DataFrame:
    """One purchase of persona ``code`` by each of ``cust`` on ``day`` (and the bundles it
    leads), as the generator's rows: sorted, ``_cust`` included, event ids ``K...``."""
    n = len(cust)
    second = day * SECONDS_PER_DAY + rng.integers(0, SECONDS_PER_DAY, n)
    persona = np.full(n, code)
    purchase = np.ones(n, dtype=bool)
    columns = attributes(rng, persona, purchase)
    category = columns.pop("_category")
    out = pd.DataFrame(
        {
            "customer_id": pd.Series(cust),
            "event_time": pd.Timestamp(start, tz="UTC") + pd.to_timedelta(second, unit="s"),
            "event_type": "purchase",
            **columns,
        }
    )
    t = second / SECONDS_PER_DAY
    out, _ = sp.with_products(shop, out, category, persona, t, purchase)
    out = out.sort_values(["event_time", "customer_id"], kind="stable", ignore_index=True)
    out["_cust"] = out["customer_id"]
    out["customer_id"] = customer_ids(out["_cust"].to_numpy())
    out["product_id"] = "P" + out["product_id"].astype(str).str.zfill(5)
    number = pd.Series(np.arange(1, len(out) + 1)).astype(str).str.zfill(9)
    out.insert(0, "event_id", ID_PREFIX + number)
    return out
