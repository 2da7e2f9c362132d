"""The segmentation model: the estimator, its selection, the registry, stable ids.

``segmenter``: ``Segmenter`` (a scikit-learn clusterer) and ``train`` (tonight's challenger
from the config). ``selection``: the candidate search, the rule that chooses one, quality
scores and seeded samples. ``registry``: model records, save and load, the champion as of a
date, promotion, the ``model_registry`` and ``segment_lineage`` tables. ``alignment``: segment
ids that keep their meaning across retrains, and their lineage.

The estimator's, the selection's and the alignment's public names below are importable
from ``segmentation.model`` itself; the registry is used as its module.
"""

from segmentation.model.alignment import Alignment, align_segment_ids, lineage_rows
from segmentation.model.segmenter import Segmenter, _ImputeBasket, _Log1p, train
from segmentation.model.selection import (
    ALGORITHMS,
    WARM,
    choose,
    quality,
    run_seed,
    sample_rows,
    silhouette,
)

# Artifacts saved before ``model`` became a package pickled these as ``segmentation.model.*``:
# keep those names resolvable so an existing registry still loads.
_PICKLED_BEFORE_THE_SPLIT = (_ImputeBasket, _Log1p)

__all__ = [
    "ALGORITHMS",
    "WARM",
    "Alignment",
    "Segmenter",
    "align_segment_ids",
    "choose",
    "lineage_rows",
    "quality",
    "run_seed",
    "sample_rows",
    "silhouette",
    "train",
]
