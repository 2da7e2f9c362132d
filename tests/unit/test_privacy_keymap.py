"""The pseudonym map: keys made once per id and key, read back under any key, and a key it
does not know named as an error instead of a silently lost customer."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.layout import Home
from segmentation.privacy.keymap import Pseudonyms, ids_of, keys_known

pytestmark = pytest.mark.unit


def by_hand(key: bytes, customer: str) -> str:
    return hmac.new(key, customer.encode(), hashlib.sha256).hexdigest()


def test_keys_are_hmacs_and_read_back_after_a_rotation(tmp_path: Path) -> None:
    home = Home(tmp_path)
    old, new = Pseudonyms(home, b"old"), Pseudonyms(home, b"new")
    frame = pd.DataFrame({"run": [1, 1, 1], "customer_id": ["C2", "C1", "C2"]})

    keyed = old.replace(frame)
    assert list(keyed.columns) == ["run", "customer_key"]
    assert list(keyed["customer_key"]) == [by_hand(b"old", c) for c in ("C2", "C1", "C2")]
    assert list(frame["customer_id"]) == ["C2", "C1", "C2"]  # the input is left alone

    rekeyed = new.keys_of(np.array(["C1", "C3"], dtype=object))
    assert list(rekeyed) == [by_hand(b"new", "C1"), by_hand(b"new", "C3")]
    both = pd.Series([*keyed["customer_key"], *rekeyed])
    assert list(ids_of(home, both, "test")) == ["C2", "C1", "C2", "C1", "C3"]
    assert keys_known(home, ["C1"]) == {by_hand(b"old", "C1"), by_hand(b"new", "C1")}
    files = sorted(home.pseudonym_map.glob("*.parquet"))
    assert [len(pd.read_parquet(f)) for f in files] == [2, 2]  # (C1, C2) old, (C1, C3) new

    old.keys_of(np.array(["C1", "C2"], dtype=object))  # all known: no file added
    assert sorted(home.pseudonym_map.glob("*.parquet")) == files


def test_a_key_the_map_does_not_know_is_named(tmp_path: Path) -> None:
    home = Home(tmp_path)
    Pseudonyms(home, b"k").keys_of(np.array(["C1"], dtype=object))
    stray = pd.Series([by_hand(b"k", "C1"), by_hand(b"k", "C9")])
    with pytest.raises(SegmentationError, match=r"output/x holds 1 customer_key value\(s\)"):
        ids_of(home, stray, "output/x")
