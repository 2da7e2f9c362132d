"""The generator's products: a catalogue with power-law popularity, tastes finer than personas,
bundles bought together, and nothing else changed.

The planted structure is checked against what it was built to be: a product of an event is of
the event's category; a product no taste favours is drawn ``1 - FAVOURITE_SHARE`` of the time
in proportion to its popularity (1 / rank); a taste group's favourites take the share of its
events the mixture says; a bundle's other products come with its lead at ``bundle_rate`` of its
persona's lead purchases and never with other personas'. Every column but ``product_id`` is
the generator's before the catalogue (a digest of its output then, and a run with another
catalogue size).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation import synthetic
from segmentation import synthetic_products as sp
from segmentation.synthetic_shop import order_lines

pytestmark = pytest.mark.unit

START = dt.date(2024, 1, 1)
NAMES = [p.name for p in (*synthetic.PERSONAS, synthetic.EMERGING)]  # persona codes
RATE = 0.4


@pytest.fixture(scope="module")
def plain() -> synthetic.GeneratedData:
    """A year of 5,000 customers, no bundles: every event a pick of the taste mixture."""
    return synthetic.generate(5000, START, 365, seed=7)


@pytest.fixture(scope="module")
def year() -> synthetic.GeneratedData:
    """The same year with bundles."""
    return synthetic.generate(5000, START, 365, seed=7, bundle_rate=RATE)


def _with_truth(data: synthetic.GeneratedData) -> pd.DataFrame:
    return data.events.merge(data.ground_truth, on="customer_id")


def test_the_catalogue_splits_the_products_over_the_categories_by_a_power_law() -> None:
    products = synthetic.generate(50, START, 5, seed=3).products
    assert products["product_id"].tolist() == [f"P{k:05d}" for k in range(1, 2001)]
    sizes = products.groupby("category").size()
    assert set(sizes.index) == set(synthetic.CATEGORIES) and set(sizes) == {333, 334}
    for _, group in products.groupby("category"):
        share = np.sort(group["popularity"].to_numpy())[::-1]
        rank = np.arange(1, len(share) + 1)
        harmonic = (1.0 / rank).sum()
        # Zipf with exponent 1: the r-th most popular product has 1 / (r x H_n) of the draws
        assert share == pytest.approx(1.0 / (rank * harmonic), rel=1e-9)


def test_draws_by_popularity_follow_the_rank_frequency_law() -> None:
    catalogue = synthetic.catalogue(seed=5)
    rng = np.random.default_rng(0)
    category = np.repeat(np.arange(len(synthetic.CATEGORIES)), 40_000).astype(np.int8)
    drawn = sp.draw_popular(rng, catalogue.ranked, catalogue.cumulative, category)
    assert (catalogue.category[drawn] == category).all()
    counts = np.bincount(drawn, minlength=len(catalogue.category))
    for c in range(len(synthetic.CATEGORIES)):
        members = np.flatnonzero(catalogue.category == c)
        top = members[np.argsort(-catalogue.popularity[members])][:30]
        expected = 40_000 * catalogue.popularity[top]
        assert counts[top].sum() == pytest.approx(expected.sum(), rel=0.03)
        slope = np.polyfit(np.log(np.arange(1, 31)), np.log(counts[top]), 1)[0]
        assert -1.2 < slope < -0.8  # frequency ~ 1 / rank


def test_every_event_buys_a_product_of_its_own_category(year: synthetic.GeneratedData) -> None:
    category = year.products.set_index("product_id")["category"]
    assert (year.events["product_id"].map(category) == year.events["category"]).all()


def test_products_nobody_favours_sell_by_their_popularity(
    plain: synthetic.GeneratedData,
) -> None:
    catalogue = synthetic.catalogue(seed=7)
    favoured = np.unique(catalogue.favourites)
    ev = plain.events
    counts = ev["product_id"].value_counts()
    per_category = ev["category"].value_counts()
    products = plain.products[~plain.products.index.isin(favoured)]
    expected = (
        (1 - sp.FAVOURITE_SHARE)
        * products["category"].map(per_category).to_numpy()
        * products["popularity"].to_numpy()
    )
    seen = products["product_id"].map(counts).fillna(0).to_numpy()
    assert seen.sum() == pytest.approx(expected.sum(), rel=0.02)
    enough = expected >= 30
    slope = np.polyfit(np.log(expected[enough]), np.log(seen[enough]), 1)[0]
    assert 0.9 < slope < 1.1


def test_tastes_are_groups_within_personas_and_favour_their_products(
    plain: synthetic.GeneratedData,
) -> None:
    truth = plain.ground_truth
    code = truth["persona"].map({name: i for i, name in enumerate(NAMES)})
    assert (truth["taste"] // sp.TASTES_PER_PERSONA == code).all()
    spread = truth.groupby("persona")["taste"].value_counts(normalize=True)
    assert spread.between(0.25 - 0.07, 0.25 + 0.07).all()
    # an event is a favourite by choice (FAVOURITE_SHARE), or by popularity by chance
    catalogue = synthetic.catalogue(seed=7)
    ev = _with_truth(plain)
    product = ev["product_id"].str[1:].astype(int).to_numpy() - 1
    category = pd.Index(synthetic.CATEGORIES).get_indexer(ev["category"])
    favourites = catalogue.favourites[ev["taste"].to_numpy(), category]
    hit = (favourites == product[:, None]).any(axis=1)
    chance = catalogue.popularity[favourites].sum(axis=1)
    expected = sp.FAVOURITE_SHARE + (1 - sp.FAVOURITE_SHARE) * chance
    assert hit.mean() == pytest.approx(expected.mean(), abs=0.01)
    # the taste groups of one persona favour different products: the persona is coarser
    assert len(np.unique(catalogue.favourites[:4])) == 4 * 6 * sp.FAVOURITES


def _baskets(data: synthetic.GeneratedData) -> pd.Series:
    """Each (customer, time) of a purchase: the products bought then."""
    bought = data.events[data.events["event_type"] == "purchase"]
    return bought.groupby(["customer_id", "event_time"])["product_id"].agg(frozenset)


def test_a_bundle_comes_with_its_lead_for_its_persona_only(year: synthetic.GeneratedData) -> None:
    bundles = year.bundles
    assert len(bundles) == 3 * len(NAMES)
    assert all(sorted(map(len, s)) == [2, 2, 3] for _, s in bundles.groupby("persona")["items"])
    baskets = _baskets(year)
    ev = _with_truth(year)
    lead_buys = ev[ev["event_type"] == "purchase"]
    own_n = own_with = other_n = other_with = 0
    for bundle in bundles.itertuples():
        lead, others = bundle.items[0], frozenset(bundle.items[1:])
        buys = lead_buys[lead_buys["product_id"] == lead]
        together = [
            others <= baskets[k] for k in zip(buys["customer_id"], buys["event_time"], strict=True)
        ]
        own = (buys["persona"] == bundle.persona).to_numpy()
        own_n, own_with = own_n + own.sum(), own_with + np.sum(np.array(together)[own])
        other_n, other_with = other_n + (~own).sum(), other_with + np.sum(np.array(together)[~own])
    assert own_n > 500 and other_n > 1000
    error = 3 * np.sqrt(RATE * (1 - RATE) / own_n)
    assert own_with / own_n == pytest.approx(RATE, abs=error)
    assert other_with == 0


def test_leads_are_popular_products_of_their_persona_s_preferred_categories() -> None:
    catalogue = synthetic.catalogue(seed=7)
    for b, items in enumerate(catalogue.bundles):
        persona = (*synthetic.PERSONAS, synthetic.EMERGING)[catalogue.bundle_persona[b]]
        lead = items[0]
        top_two = np.sort(persona.categories)[-2]
        assert persona.categories[catalogue.category[lead]] >= top_two
        members = catalogue.popularity[catalogue.category == catalogue.category[lead]]
        assert (members > catalogue.popularity[lead]).sum() < 10  # among the ten most popular
    used = catalogue.bundles[catalogue.bundles >= 0]
    assert len(np.unique(used)) == len(used)  # no product in two bundles


def test_bundles_only_add_purchases_like_their_persona_s() -> None:
    kw = {"dropout": 2.0}
    base = synthetic.generate(5000, START, 365, seed=2, **kw)
    more = synthetic.generate(5000, START, 365, seed=2, bundle_rate=0.8, **kw)
    columns = [c for c in base.events.columns if c != "event_id"]
    merged = more.events.merge(base.events[columns], how="left", indicator=True)
    extra = merged[merged["_merge"] == "left_only"]
    assert (merged["_merge"] == "both").sum() == len(base.events)  # all of them, nothing else
    assert len(extra) > 500 and (extra["event_type"] == "purchase").all()
    assert extra["quantity"].between(1, 3).all()
    # each extra row shares its customer and time with a lead bought then
    baskets = _baskets(more)
    leads = {items[0] for items in more.bundles["items"]}
    assert all(
        leads & baskets[k] for k in zip(extra["customer_id"], extra["event_time"], strict=True)
    )
    # amounts drawn as the persona's: lognormal around its median
    truth = more.ground_truth.set_index("customer_id")["persona"]
    median = (
        extra["customer_id"].map(truth).map({p.name: p.basket_median for p in synthetic.PERSONAS})
    )
    ratio = np.log(extra["amount"] / median)
    assert abs(ratio.median()) < 0.15 and 0.3 < ratio.std() < 0.6
    assert more.ground_truth.equals(base.ground_truth) and more.customers.equals(base.customers)
    # dropout ends the bundles too: nothing after a customer's dropout day
    ev = _with_truth(more)
    assert not (ev["event_time"].dt.tz_localize(None).dt.normalize() > ev["dropout_day"]).any()


def test_only_product_id_depends_on_the_catalogue_size() -> None:
    kw = {"dropout": 1.0, "bad_rows": 12, "emerging_from": START + dt.timedelta(days=30)}
    big = synthetic.generate(800, START, 60, seed=4, **kw)
    small = synthetic.generate(800, START, 60, seed=4, products=synthetic.MIN_PRODUCTS, **kw)
    others = [c for c in big.events.columns if c != "product_id"]
    assert big.events[others].equals(small.events[others])
    assert big.customers.equals(small.customers)
    assert big.ground_truth.equals(small.ground_truth)
    assert small.events["product_id"].nunique() <= synthetic.MIN_PRODUCTS
    assert (big.events["product_id"] != small.events["product_id"]).mean() > 0.5
    with pytest.raises(ValueError, match="products must be at least 30"):
        synthetic.generate(10, START, 5, seed=1, products=29)
    with pytest.raises(ValueError, match="bundle_rate must be between 0 and 1"):
        synthetic.generate(10, START, 5, seed=1, bundle_rate=1.5)


def test_the_other_columns_are_as_the_generator_wrote_them_before_the_catalogue() -> None:
    kw = {"bad_rows": 8, "dropout": 1.0, "drift_from": START + dt.timedelta(days=20)}
    data = synthetic.generate(400, START, 60, seed=3, emerging_from=START + dt.timedelta(30), **kw)
    text = data.events.drop(columns="product_id").to_csv(index=False)
    # the digest of the same call's output at commit 9a478d8, the generator before products
    before = "249e9f754039f996a48f6917f61042d020d5daf13156f71800b5a4c5d7dc2e8a"
    assert hashlib.sha256(text.encode()).hexdigest() == before


def test_same_arguments_same_files_and_a_catalogue_whatever_the_customers(
    tmp_path: Path,
) -> None:
    for name in ("a", "b"):
        data = synthetic.generate(200, START, 10, seed=9, bundle_rate=0.5, products=300)
        synthetic.write(data, tmp_path / name, "csv")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert {Path("products.csv"), Path("bundles.csv")} <= set(files)
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    written = pd.read_csv(tmp_path / "a" / "bundles.csv")
    assert written["items"].str.split(" ").map(tuple).tolist() == data.bundles["items"].tolist()
    assert list(written.columns) == ["bundle_id", "persona", "items"]
    products = pd.read_csv(tmp_path / "a" / "products.csv")
    assert list(products.columns) == ["product_id", "category", "popularity"]
    other = synthetic.generate(900, START, 40, seed=9, products=300)
    assert other.products.equals(data.products) and other.bundles.equals(data.bundles)
    reseeded = synthetic.generate(200, START, 10, seed=10, products=300)
    assert not reseeded.products.equals(data.products)


def test_order_lines_keep_a_bundle_in_one_order_and_draw_extra_lines_from_the_catalogue() -> None:
    data = synthetic.generate(600, START, 60, seed=4, bundle_rate=1.0)
    purchases = data.events[data.events["event_type"] == "purchase"]
    shop = order_lines(data.events, seed=4, products=data.products)
    lines = shop[shop["event_type"] == "purchase"]
    per_basket = lines.groupby(["customer_id", "event_time"])["order_id"].nunique()
    assert (per_basket == 1).all()  # one order per customer and time ...
    assert (lines.groupby("order_id")["event_time"].nunique() == 1).all()  # ... and back
    assert lines["order_id"].nunique() == len(_baskets(data)) < len(purchases)
    # every purchase's first line is its own product, so a bundle is one basket
    first = lines[lines["event_id"].str.endswith("-1")]
    own = purchases.set_index("event_id")["product_id"]
    assert (first["product_id"].to_numpy() == own[first["event_id"].str[:-2]].to_numpy()).all()
    order_items = lines.groupby("order_id")["product_id"].agg(frozenset)
    lead_orders = first[first["product_id"].isin({b[0] for b in data.bundles["items"]})]
    assert any(len(order_items[o]) >= 2 for o in lead_orders["order_id"])
    # the other lines: catalogue products of the purchase's category, most of them popular
    extra = lines[~lines["event_id"].str.endswith("-1")]
    catalogue = data.products.set_index("product_id")
    assert (extra["product_id"].map(catalogue["category"]) == extra["category"]).all()
    assert extra["product_id"].map(catalogue["popularity"]).median() > 1 / 333
    # without a catalogue: products the log's purchases bought, of the same category
    alone = order_lines(data.events, seed=4)
    more = alone[~alone["event_id"].str.endswith("-1") & (alone["event_type"] == "purchase")]
    bought = set(zip(purchases["product_id"], purchases["category"], strict=True))
    assert set(zip(more["product_id"], more["category"], strict=True)) <= bought


def test_the_cli_writes_the_catalogue_and_refuses_bad_sizes_and_rates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from segmentation.cli import MIN_PRODUCTS, main

    assert MIN_PRODUCTS == synthetic.MIN_PRODUCTS
    argv = ["generate", "--out", str(tmp_path), "--start", START.isoformat(), "--days", "5"]
    assert main([*argv, "--customers", "200", "--products", "120", "--bundle-rate", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["events_files"] == 5
    assert len(pd.read_csv(tmp_path / "products.csv")) == 120
    assert len(pd.read_csv(tmp_path / "bundles.csv")) == 3 * len(NAMES)
    for bad in ("29", "many", "-3"):
        with pytest.raises(SystemExit):
            main([*argv, "--products", bad])
        assert f"{bad!r} is not a whole number of products of at least 30" in (
            capsys.readouterr().err
        )
    for bad in ("1.5", "-0.1", "often"):
        with pytest.raises(SystemExit):
            main([*argv, "--bundle-rate", bad])
        assert f"{bad!r} is not a share between 0 and 1" in capsys.readouterr().err
