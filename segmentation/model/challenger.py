"""Tonight's challenger as a registry record: pure decisions on fitted models, no I/O.

The train step loads the champion, fits the challenger and scores both; these functions turn
those facts into the record the registry saves (ids aligned to the champion, names carried
over, the drift reference kept or reset, the lineage of a promotion).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segmentation.model import registry
from segmentation.model.alignment import Alignment, lineage_rows
from segmentation.model.registry import ModelRecord
from segmentation.model.segmenter import Segmenter
from segmentation.model.selection import WARM


def warm_start_centres(
    champion: ModelRecord | None, columns: Sequence[str], enabled: bool
) -> np.ndarray | None:
    """The champion's centres (log space) in the order of ``columns``, to start from.

    None when warm starts are off, there is no champion, or its features differ.
    """
    if not enabled or champion is None or set(champion.features) != set(columns):
        return None
    order = [champion.features.index(c) for c in columns]
    return np.asarray(champion.centers_log)[:, order]


def inherited_keys(alignment: Alignment, champion: ModelRecord | None) -> dict[int, str]:
    """Persona keys the challenger's segments inherit: an id kept from the champion keeps its
    key (its name), unless the profile has clearly moved on (decided by the personas)."""
    before = champion.keys_by_id if champion else {}
    return {
        new: before[old]
        for new, old in zip(alignment.segment_ids, alignment.previous_ids, strict=True)
        if old is not None and old in before
    }


def refines(champion: ModelRecord | None, challenger: Segmenter, forced: str | None) -> bool:
    """Whether the challenger only refined the champion's segments (warm start, same k, not
    forced by drift): such a champion keeps its predecessor's drift reference."""
    return (
        champion is not None
        and not forced
        and challenger.algorithm_.endswith(WARM)
        and challenger.n_segments_ == champion.n_segments
    )


@dataclass(frozen=True)
class Decision:
    """What was decided about tonight's challenger."""

    promoted: bool
    reason: str
    champion_score: float | None
    forced: str | None


def challenger_record(
    challenger: Segmenter,
    champion: ModelRecord | None,
    alignment: Alignment,
    keys: dict[int, str],
    decision: Decision,
    day: dt.date,
    columns: list[str],
    training_customers: int,
) -> ModelRecord:
    """The registry record of tonight's challenger, with its lineage if it is promoted."""
    version = registry.model_version(day)
    previous = inherited_keys(alignment, champion)
    renamed = frozenset(s for s, key in previous.items() if keys[s] != key)
    refined = refines(champion, challenger, decision.forced)
    return ModelRecord(
        model_version=version,
        trained_run_date=day,
        algorithm=challenger.algorithm_,
        n_segments=challenger.n_segments_,
        features=columns,
        segment_ids=alignment.segment_ids,
        centers_log=challenger.centers_log_.tolist(),
        scale=challenger.scale_.tolist(),
        max_id_ever=max([*alignment.segment_ids, champion.max_id_ever if champion else -1]),
        scores={**challenger.scores_, "champion_silhouette": decision.champion_score},
        candidates=challenger.candidates_,
        training_customers=training_customers,
        random_state=challenger.random_state,
        promoted=decision.promoted,
        reason=decision.reason,
        compared_with=champion.model_version if champion else None,
        reference_run_date=champion.reference_day if refined and champion else day,
        segment_keys={str(k): v for k, v in sorted(keys.items())},
        lineage=lineage_rows(alignment, version, champion, renamed) if decision.promoted else [],
    )
