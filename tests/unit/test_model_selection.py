"""Model selection: every candidate is scored, the documented rule picks the winner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.model.segmenter import Segmenter
from segmentation.model.selection import choose

pytestmark = pytest.mark.unit


def blobs(n_per: int, centers: list[tuple[float, float]], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    points = np.vstack([rng.normal(c, 0.3, size=(n_per, 2)) for c in centers])
    return pd.DataFrame(points, columns=["x", "y"])


FOUR = [(0, 0), (6, 0), (0, 6), (6, 6)]


def candidate(algorithm: str, k: int, sil: float, db: float, ch: float, stab: float) -> dict:
    return {
        "algorithm": algorithm,
        "k": k,
        "silhouette": sil,
        "davies_bouldin": db,
        "calinski_harabasz": ch,
        "stability": stab,
        "smallest_share": 0.05,
    }


def test_the_best_mean_rank_among_stable_candidates_wins() -> None:
    cands = [
        candidate("kmeans", 7, 0.34, 1.19, 860, 0.99),  # ranks 2, 1, 1
        candidate("kmeans", 8, 0.35, 1.21, 830, 0.99),  # ranks 1, 2, 2
        candidate("gmm", 7, 0.33, 1.30, 750, 0.95),  # ranks 3, 3, 3
    ]
    assert choose(cands, min_stability=0.8) is cands[0]
    # an unstable candidate is not eligible however good its scores
    cands.append(candidate("ward", 6, 0.50, 0.90, 990, 0.50))
    assert choose(cands, min_stability=0.8) is cands[0]
    assert choose(cands, min_stability=0.4) is cands[3]
    # when nothing is stable enough, the rule still picks among all
    assert choose(cands, min_stability=1.0) is cands[3]


def test_ties_go_to_the_more_stable_then_fewer_segments_then_the_simpler_algorithm() -> None:
    same = {"sil": 0.3, "db": 1.0, "ch": 500.0}
    a = candidate("ward", 5, **same, stab=0.9)
    b = candidate("gmm", 5, **same, stab=0.95)
    assert choose([a, b], 0.8) is b
    c = candidate("kmeans", 6, **same, stab=0.95)
    assert choose([c, b], 0.8) is b
    d = candidate("kmeans", 5, **same, stab=0.95)
    assert choose([b, d], 0.8) is d


def test_well_separated_groups_are_found_and_every_candidate_is_recorded() -> None:
    X = blobs(150, FOUR)
    truth = np.repeat(np.arange(4), 150)
    seg = Segmenter(k_min=2, k_max=6, skewed=(), random_state=3).fit(X)
    assert seg.n_segments_ == 4
    assert adjusted_rand_score(truth, seg.predict(X)) == pytest.approx(1.0)
    recorded = {(c["algorithm"], c["k"]) for c in seg.candidates_}
    assert recorded == {(a, k) for a in ("kmeans", "gmm", "ward") for k in range(2, 7)}
    assert {"silhouette", "davies_bouldin", "calinski_harabasz", "stability"} <= set(seg.scores_)


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm", "ward"])
def test_each_algorithm_fits_and_assigns_everyone(algorithm: str) -> None:
    X = blobs(150, FOUR, seed=1)
    truth = np.repeat(np.arange(4), 150)
    seg = Segmenter(
        algorithms=(algorithm,), n_segments=4, score_sample=200, skewed=(), random_state=0
    ).fit(X)
    # ward is fitted on the 200-customer sample; everyone else goes to the nearest centroid
    assert seg.algorithm_ == algorithm
    assert adjusted_rand_score(truth, seg.predict(X)) == pytest.approx(1.0)
    assert seg.centers_scaled_.shape == (4, 2)


def test_large_inputs_switch_to_minibatch_kmeans() -> None:
    X = blobs(150, FOUR)
    small = Segmenter(algorithms=("kmeans",), n_segments=4, skewed=(), minibatch_above=1000)
    large = Segmenter(algorithms=("kmeans",), n_segments=4, skewed=(), minibatch_above=100)
    assert small.fit(X).algorithm_ == "kmeans"
    assert large.fit(X).algorithm_ == "minibatch_kmeans"


def test_the_basket_size_of_non_buyers_does_not_make_a_segment_of_its_own() -> None:
    rng = np.random.default_rng(0)
    n = 400
    freq = rng.poisson(3, n).astype(float)
    X = pd.DataFrame(
        {"frequency": freq, "avg_order_value": np.where(freq > 0, rng.normal(50, 5, n), 0.0)}
    )
    seg = Segmenter(n_segments=2, skewed=(), random_state=0).fit(X)
    scaled = seg.transform(X)
    buyers_median = np.median(X.loc[freq > 0, "avg_order_value"])
    # non-buyers sit where a buyer with the median basket size sits on that axis
    imputed = seg.transform(pd.DataFrame({"frequency": [1.0], "avg_order_value": [buyers_median]}))
    assert np.allclose(scaled[freq == 0, 1], imputed[0, 1])


def test_a_warm_start_within_the_margin_wins_over_a_reshuffle() -> None:
    cold = candidate("kmeans", 5, 0.35, 1.1, 900, 0.99)
    warm = candidate("kmeans_warm", 5, 0.34, 1.2, 850, 0.99)
    assert choose([cold, warm], 0.8, continuity_margin=0.02, champion_k=5) is warm
    assert choose([cold, warm], 0.8, continuity_margin=0.0, champion_k=5) is cold
    # only the champion's segments refined count, not a warm start that adds segments
    added = candidate("kmeans_warm", 6, 0.349, 1.2, 850, 0.99)
    assert choose([cold, added], 0.8, continuity_margin=0.02, champion_k=5) is cold
    # a clearly better structure wins over continuity
    better = candidate("kmeans", 6, 0.40, 1.0, 950, 0.99)
    assert choose([better, warm], 0.8, continuity_margin=0.02, champion_k=5) is better


def test_a_segment_too_small_to_act_on_makes_a_candidate_ineligible() -> None:
    tiny = {**candidate("kmeans", 8, 0.40, 1.0, 950, 0.99), "smallest_share": 0.005}
    fine = candidate("kmeans", 7, 0.35, 1.1, 900, 0.99)
    assert choose([tiny, fine], 0.8, min_segment_share=0.01) is fine
    assert choose([tiny, fine], 0.8, min_segment_share=0.0) is tiny


def test_the_champions_centres_are_kept_and_a_new_group_gets_a_centre_of_its_own() -> None:
    old = blobs(150, FOUR[:3], seed=2)
    champion = Segmenter(algorithms=("kmeans",), n_segments=3, skewed=(), random_state=0).fit(old)
    grown = blobs(150, FOUR, seed=3)
    seg = Segmenter(
        k_min=2, k_max=6, skewed=(), random_state=1, warm_centers=champion.centers_log_
    ).fit(grown)
    assert seg.n_segments_ == 4
    # the warm start is a candidate, its first three centres start at the champion's
    warm = [c for c in seg.candidates_ if c["algorithm"] == "kmeans_warm"]
    assert sorted(c["k"] for c in warm) == [3, 4, 5, 6]
    centres = seg.centers_log_
    distance = np.linalg.norm(centres[:, None, :] - champion.centers_log_[None], axis=2)
    # every old centre is still there, nearly unmoved, and the fourth is the new group
    assert (distance.min(axis=0) < 0.15).all()
    newcomer = int(np.argmax(distance.min(axis=1)))
    assert np.allclose(centres[newcomer], FOUR[3], atol=0.15)


def test_with_the_same_groups_the_champions_segments_are_refined_not_replaced() -> None:
    X = blobs(150, FOUR, seed=5)
    champion = Segmenter(algorithms=("gmm",), n_segments=4, skewed=(), random_state=0).fit(X)
    again = Segmenter(
        k_min=2, k_max=6, skewed=(), random_state=9, warm_centers=champion.centers_log_
    ).fit(blobs(150, FOUR, seed=6))
    assert again.algorithm_ == "kmeans_warm"
    assert np.allclose(again.centers_log_, champion.centers_log_, atol=0.15)


def test_the_fast_silhouette_equals_scikit_learns() -> None:
    from sklearn.metrics import pairwise_distances, silhouette_score

    from segmentation.model.selection import silhouette

    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 3))
    labels = rng.integers(0, 5, 300) * 2  # not contiguous: 0, 2, 4, ...
    labels[0] = 11  # a lone customer
    D = pairwise_distances(X)
    assert silhouette(D, labels) == pytest.approx(silhouette_score(X, labels), abs=1e-12)
