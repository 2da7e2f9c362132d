"""The synthetic shop's products: a catalogue, customers' tastes and planted bundles.

Uniform product ids leave an association-rules or a collaborative-filtering model nothing to
find. Three structures are planted instead, each with a known answer:

- a **catalogue** of products ``P00001``..., split evenly over the categories, with a
  Zipf-like popularity within each category (weight ``1 / rank ** ZIPF_EXPONENT``);
- **tastes** finer than personas: every customer belongs to one of ``TASTES_PER_PERSONA``
  taste groups of their persona, and every group has ``FAVOURITES`` favourite products in
  each category. An event of category c is, with probability ``FAVOURITE_SHARE``, one of its
  customer's group's favourites in c, else a product of c drawn by popularity. A customer's
  neighbours in taste know more than their segment's most popular items can;
- **bundles**, ``BUNDLE_SIZES`` per persona (two pairs and a triple): when a customer of the
  bundle's persona buys its lead product, with probability ``bundle_rate`` they buy the
  others at the same time. Leads are the most popular products of the persona's two
  preferred categories (so the bundles have baskets enough to be found); the others are
  drawn uniformly, mostly from the long tail, so a pair stands out against chance.

The event's category is given (drawn as before), so every other column stays as it was. The
catalogue is drawn from a stream of its own, ``[seed, 16]``, so it is the same whatever the
customers and days; tastes, product picks and bundles from ``[seed, 17]``, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TASTES_PER_PERSONA = 4
FAVOURITES = 5  # per taste group and category
FAVOURITE_SHARE = 0.6  # of events that pick one of the taste group's favourites
ZIPF_EXPONENT = 1.0
BUNDLE_SIZES = (2, 2, 3)  # per persona: two pairs and a triple
LEAD_CATEGORIES = 2  # a persona's bundles are led from its this many preferred categories
CATALOGUE_STREAM = 16
SHOPPING_STREAM = 17
BATCH = 1 << 22  # events whose products are picked at once


@dataclass(frozen=True)
class Catalogue:
    """Products as integer codes: product code k is ``P{k + 1:05d}``."""

    categories: tuple[str, ...]  # category names, by category code
    personas: tuple[str, ...]  # persona names, by persona code
    category: np.ndarray  # each product's category code
    popularity: np.ndarray  # each product's share of its category's popularity draws
    ranked: np.ndarray  # product codes by category code, most popular first
    cumulative: np.ndarray  # along ``ranked``: category code + cumulative popularity
    favourites: np.ndarray  # [taste group, category, FAVOURITES] product codes
    bundles: np.ndarray  # [bundle, max size] product codes, lead first, -1 past its end
    bundle_persona: np.ndarray  # each bundle's persona code


@dataclass(frozen=True)
class Shop:
    """Who buys what: the catalogue, each customer's taste group and the bundles' rate."""

    catalogue: Catalogue
    taste: np.ndarray  # each customer's taste group: persona code x TASTES_PER_PERSONA + k
    bundle_rate: float
    medians: np.ndarray  # each persona's median purchase amount (the companions' amounts)
    rng: np.random.Generator  # ``[seed, 17]``, drawn from in a fixed order


def least_products(categories: int) -> int:
    """The smallest catalogue with room for a taste group's favourites in every category."""
    return FAVOURITES * categories


def build_catalogue(
    products: int,
    seed: int,
    category_weights: np.ndarray,
    categories: tuple[str, ...],
    personas: tuple[str, ...],
) -> Catalogue:
    """A catalogue of ``products`` products with taste groups and bundles for ``personas``.

    ``category_weights`` (persona x category) says which categories a persona prefers: its
    bundles' leads are in its top ones, their other products drawn by these weights.
    """
    if products < least_products(len(categories)):
        raise ValueError(
            f"products must be at least {least_products(len(categories))} ({FAVOURITES} "
            f"favourites in each of the {len(categories)} categories), not {products}"
        )
    rng = np.random.default_rng([seed, CATALOGUE_STREAM])
    category = rng.permutation(np.arange(products) % len(categories))
    # within a category, a random order of its products is their popularity rank
    ranked = np.lexsort((rng.random(products), category))
    first = np.searchsorted(category[ranked], np.arange(len(categories)))
    rank = np.empty(products, dtype=np.int64)
    rank[ranked] = np.arange(products) - first[category[ranked]]
    weight = (rank + 1.0) ** -ZIPF_EXPONENT
    popularity = weight / np.bincount(category, weights=weight)[category]
    ranked, cumulative = popularity_index(category, popularity, len(categories))
    weights = category_weights / category_weights.sum(axis=1, keepdims=True)
    favourites = _favourites(rng, ranked, category, len(personas) * TASTES_PER_PERSONA)
    bundles, bundle_persona = _bundles(rng, ranked, category, weights)
    return Catalogue(
        categories=categories,
        personas=personas,
        category=category,
        popularity=popularity,
        ranked=ranked,
        cumulative=cumulative,
        favourites=favourites,
        bundles=bundles,
        bundle_persona=bundle_persona,
    )


def popularity_index(
    category: np.ndarray, weight: np.ndarray, categories: int
) -> tuple[np.ndarray, np.ndarray]:
    """Products (their positions) grouped by category code, most popular first, and along
    them the category code plus the cumulative share of the category's popularity.

    The second increases through the whole array and ends each category's block at exactly
    code + 1, so one ``searchsorted`` of code + uniform draws a product of every event's
    category by popularity (``draw_popular``).
    """
    ranked = np.lexsort((-weight, category))
    code = category[ranked]
    sizes = np.bincount(code, minlength=categories)
    total = np.cumsum(weight[ranked])
    before = np.concatenate([[0.0], total])[np.cumsum(sizes) - sizes]
    share = (total - before[code]) / np.bincount(code, weights=weight[ranked])[code]
    share[np.cumsum(sizes)[sizes > 0] - 1] = 1.0  # no rounding gap at a block's end
    return ranked, code + share


def draw_popular(
    rng: np.random.Generator, ranked: np.ndarray, cumulative: np.ndarray, category: np.ndarray
) -> np.ndarray:
    """A product of each of ``category`` (codes that have products), by popularity."""
    if len(category) == 0:  # and maybe no products at all
        return ranked[:0]
    position = np.searchsorted(cumulative, category + rng.random(len(category)), side="right")
    last = np.searchsorted(cumulative, np.arange(int(cumulative[-1])) + 1.0)  # each block's
    return ranked[np.minimum(position, last[category])]  # code + u may round up to code + 1


def _favourites(
    rng: np.random.Generator, ranked: np.ndarray, category: np.ndarray, tastes: int
) -> np.ndarray:
    """``FAVOURITES`` products of every category for each taste group, uniformly from the
    category: different groups' favourites are disjoint while the category has room."""
    categories = int(category.max()) + 1
    favourites = np.empty((tastes, categories, FAVOURITES), dtype=np.int64)
    for c in range(categories):  # a loop over categories, not events
        members = rng.permutation(ranked[category[ranked] == c])
        # cyclic: every FAVOURITES in a row are distinct, as a category has that many
        favourites[:, c, :] = np.resize(members, tastes * FAVOURITES).reshape(tastes, -1)
    return favourites


def _bundles(
    rng: np.random.Generator, ranked: np.ndarray, category: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each persona's ``BUNDLE_SIZES`` bundles (product codes, lead first) and their personas.

    A persona's bundles are led, in turn, from its ``LEAD_CATEGORIES`` preferred categories
    (ties: in category order) by the category's most popular product not yet leading a
    bundle (taken again in a small catalogue). The others are drawn by the persona's
    category weights, uniformly in the category among products in no bundle yet (or, if
    none is left, not in this one).
    """
    personas, categories = weights.shape
    blocks = [ranked[category[ranked] == c] for c in range(categories)]
    taken = np.zeros(categories, dtype=np.int64)
    bundles = np.full((personas * len(BUNDLE_SIZES), max(BUNDLE_SIZES)), -1, dtype=np.int64)
    for p in range(personas):
        preferred = np.argsort(-weights[p], kind="stable")
        for j in range(len(BUNDLE_SIZES)):
            c = preferred[j % min(LEAD_CATEGORIES, categories)]
            bundles[p * len(BUNDLE_SIZES) + j, 0] = blocks[c][taken[c] % len(blocks[c])]
            taken[c] += 1
    for b in range(len(bundles)):  # leads first, so no lead is another bundle's companion
        p = b // len(BUNDLE_SIZES)
        for k in range(1, BUNDLE_SIZES[b % len(BUNDLE_SIZES)]):
            block = blocks[rng.choice(categories, p=weights[p])]
            free = np.setdiff1d(block, bundles[bundles >= 0])
            if free.size == 0:
                free = np.setdiff1d(block, bundles[b])
            bundles[b, k] = rng.choice(free)
    return bundles, np.repeat(np.arange(personas), len(BUNDLE_SIZES))


def product_ids(codes: np.ndarray) -> np.ndarray:
    """``P00001``... for product codes 0...: the generator's format."""
    return ("P" + pd.Series(codes + 1).astype(str).str.zfill(5)).to_numpy()


def products_frame(catalogue: Catalogue) -> pd.DataFrame:
    """The catalogue as a table: product_id, category, popularity (share of its category)."""
    return pd.DataFrame(
        {
            "product_id": product_ids(np.arange(len(catalogue.category))),
            "category": np.array(catalogue.categories)[catalogue.category],
            "popularity": catalogue.popularity,
        }
    )


def bundles_frame(catalogue: Catalogue) -> pd.DataFrame:
    """The planted bundles: bundle_id, persona, items (product ids, lead first)."""
    items = [tuple(product_ids(row[row >= 0])) for row in catalogue.bundles]
    return pd.DataFrame(
        {
            "bundle_id": [f"B{i + 1:02d}" for i in range(len(items))],
            "persona": np.array(catalogue.personas)[catalogue.bundle_persona],
            "items": items,
        }
    )


def open_shop(
    catalogue: Catalogue, seed: int, persona: np.ndarray, bundle_rate: float, medians: np.ndarray
) -> Shop:
    """Customers of ``persona`` (codes, one per customer) each in a taste group of their
    persona, drawn uniformly from the ``[seed, 17]`` stream."""
    if not 0.0 <= bundle_rate <= 1.0:
        raise ValueError(f"bundle_rate must be between 0 and 1, not {bundle_rate}")
    rng = np.random.default_rng([seed, SHOPPING_STREAM])
    taste = persona * TASTES_PER_PERSONA + rng.integers(0, TASTES_PER_PERSONA, len(persona))
    return Shop(catalogue, taste, bundle_rate, medians, rng)


def with_products(
    shop: Shop,
    events: pd.DataFrame,
    category: np.ndarray,
    persona: np.ndarray,
    t: np.ndarray,
    purchase: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """``events`` (customer_id: customer indices) with each event's product picked
    (``product_id``: 1-based product codes) and the bundles' purchases added
    (``add_bundles``), and ``t`` extended to them.

    Sets ``product_id`` in place: ``events`` is the generator's frame under construction,
    tens of millions of rows at a million customers, not worth a copy.
    """
    product = pick_products(shop, category, events["customer_id"].to_numpy())
    product += 1  # in place: at a million customers these are tens of millions of codes
    events["product_id"] = product
    return add_bundles(shop, events, persona, t, purchase)


def pick_products(shop: Shop, category: np.ndarray, customer: np.ndarray) -> np.ndarray:
    """The product code of each event of ``category`` (codes) by ``customer`` (indices): one of
    the customer's taste group's favourites in the category, or one by popularity.

    In batches of ``BATCH`` events (each vectorised), so the transient arrays stay small at a
    million customers' tens of millions of events.
    """
    product = np.empty(len(category), dtype=np.int64)
    for lo in range(0, len(category), BATCH):
        part = slice(lo, lo + BATCH)
        _pick(shop, category[part], customer[part], product[part])
    return product


def _pick(shop: Shop, category: np.ndarray, customer: np.ndarray, product: np.ndarray) -> None:
    """Fill ``product`` (a view) with the picks of one batch."""
    rng, catalogue = shop.rng, shop.catalogue
    favourite = rng.random(len(category)) < FAVOURITE_SHARE
    slot = rng.integers(0, FAVOURITES, int(favourite.sum()))
    taste = shop.taste[customer[favourite]]
    product[favourite] = catalogue.favourites[taste, category[favourite], slot]
    other = category[~favourite]
    product[~favourite] = draw_popular(rng, catalogue.ranked, catalogue.cumulative, other)


def add_bundles(
    shop: Shop, events: pd.DataFrame, persona: np.ndarray, t: np.ndarray, purchase: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """``events`` (product_id 1-based codes) with the bundles' other products bought too.

    A ``purchase`` of a bundle's lead by a customer of the bundle's ``persona`` (the event's)
    brings, with probability ``bundle_rate``, a purchase row of each other product: same
    customer, time (``t``, returned extended to the new rows) and channel, the product's own
    category, an amount and a quantity drawn like the persona's purchases. Appended at the
    end, so a stable sort by time and customer keeps them right after their lead.
    """
    if shop.bundle_rate == 0:
        return events, t
    catalogue, rng = shop.catalogue, shop.rng
    lead_of = np.full((len(catalogue.personas), len(catalogue.category)), -1)
    lead_of[catalogue.bundle_persona, catalogue.bundles[:, 0]] = np.arange(len(catalogue.bundles))
    rows = np.flatnonzero(purchase)
    bundle = lead_of[persona[rows], events["product_id"].to_numpy()[rows] - 1]
    rows, bundle = rows[bundle >= 0], bundle[bundle >= 0]
    bought = rng.random(len(rows)) < shop.bundle_rate
    rows, bundle = rows[bought], bundle[bought]
    others = catalogue.bundles[bundle, 1:]
    lead_row = np.repeat(rows, (others >= 0).sum(axis=1))
    other = others[others >= 0]  # row by row: in step with ``lead_row``
    extra = events.iloc[lead_row].reset_index(drop=True)
    amount = shop.medians[persona[lead_row]] * rng.lognormal(0.0, 0.45, len(other))
    extra["amount"] = amount.round(2)
    extra["category"] = np.array(catalogue.categories)[catalogue.category[other]]
    extra["product_id"] = other + 1
    extra["quantity"] = rng.integers(1, 4, len(other))
    return pd.concat([events, extra], ignore_index=True), np.concatenate([t, t[lead_row]])
