"""Pseudonymous outputs: ``customer_id`` becomes ``customer_key`` where tables are staged, and
back again where the pipeline reads its own published tables.

Published files carry only ``customer_key = HMAC-SHA256(key, customer_id)``. The pipeline
still joins last night's tables with tonight's features, the lake and the customers source,
which hold raw ids; rather than re-keying every raw side of every join, home keeps the map
``privacy/keys.parquet`` (``customer_id``, ``customer_key``, ``key_id``) of every pseudonym
it published, and the readers of published tables (:func:`segmentation.io.parquet.
read_customers_table`) turn keys back into ids through it. The map stays inside home, like
the lake: it is never published, and ``forget`` removes its rows like any other.

A new key (rotation) gets its own ``key_id``: tables published under the old key still read
back, so the night after a rotation publishes new keys without losing last night's segments.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation.config import Config, pseudonym_key
from segmentation.errors import SegmentationError
from segmentation.io import lake, locks
from segmentation.layout import Home
from segmentation.privacy.pseudonyms import KEY_COLUMN, customer_keys

ID_COLUMN = "customer_id"
KEY_ID = "key_id"
_SCHEMA = pa.schema(
    [(ID_COLUMN, pa.large_string()), (KEY_COLUMN, pa.large_string()), (KEY_ID, pa.string())]
)


def key_id(key: bytes) -> str:
    """A short fingerprint of the key (not the key): which key a pseudonym was made with."""
    return hmac.new(key, b"segmentation-key-id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class Pseudonyms:
    """The home's pseudonym map, and the key tonight's pseudonyms are made with."""

    home: Home
    key: bytes

    def keys_of(self, ids: pd.Series | np.ndarray) -> np.ndarray:
        """The pseudonym of each id under the key, adding new ones to the map."""
        codes, unique = pd.factorize(np.asarray(ids, dtype=object))
        if (codes < 0).any():
            raise SegmentationError("a customer_id is missing: it cannot be given a customer_key")
        mine = _read(self.home)
        mine = mine[mine[KEY_ID] == key_id(self.key)]
        found = pd.Index(mine[ID_COLUMN]).get_indexer(unique)
        new = found < 0
        keys = np.empty(len(unique), dtype=object)
        keys[~new] = mine[KEY_COLUMN].to_numpy(dtype=object)[found[~new]]
        if new.any():
            keys[new] = customer_keys(unique[new].astype(object), self.key)
            self._add(unique[new], keys[new])
        return keys[codes]

    def replace(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with ``customer_key`` in the place of ``customer_id``."""
        keys = self.keys_of(frame[ID_COLUMN])
        out = frame.copy()
        out[ID_COLUMN] = keys
        return out.rename(columns={ID_COLUMN: KEY_COLUMN})

    def _add(self, ids: np.ndarray, keys: np.ndarray) -> None:
        added = pd.DataFrame({ID_COLUMN: ids, KEY_COLUMN: keys, KEY_ID: key_id(self.key)})
        with locks.shared(self.home):  # two nights at once each add theirs
            frame = pd.concat([_read(self.home), added], ignore_index=True)
            frame = frame.drop_duplicates([ID_COLUMN, KEY_ID]).sort_values([KEY_ID, ID_COLUMN])
            table = pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)
            lake.write_file(table, self.home.pseudonym_map)


def ids_of(home: Home, keys: pd.Series, where: str) -> np.ndarray:
    """The customer id of each pseudonym in ``keys`` (any key's), read from ``where``."""
    codes, unique = pd.factorize(keys.to_numpy(dtype=object))
    if (codes < 0).any():
        raise SegmentationError(f"{where} has rows without a customer_key")
    known = _read(home)
    found = pd.Index(known[KEY_COLUMN]).get_indexer(unique)
    if (found < 0).any():
        raise SegmentationError(
            f"{where} holds {(found < 0).sum()} customer_key value(s) that "
            f"{home.pseudonym_map} does not know (was it deleted or copied without it?); "
            "rerun the nights that published them, or restore the map"
        )
    return known[ID_COLUMN].to_numpy(dtype=object)[found][codes]


def keys_known(home: Home, ids: list[str]) -> set[str]:
    """Every pseudonym the home published for ``ids``, under any key (before a rotation too)."""
    known = _read(home)
    return set(known.loc[known[ID_COLUMN].isin(ids), KEY_COLUMN])


def _read(home: Home) -> pd.DataFrame:
    path = home.pseudonym_map
    if not path.is_file():
        return _SCHEMA.empty_table().to_pandas()
    return pq.read_table(path).to_pandas()


def for_config(cfg: Config) -> Pseudonyms | None:
    """Tonight's pseudonyms when ``privacy.pseudonymize`` is on (the key must be set), else
    None: the tables are published with ``customer_id``."""
    if not cfg.privacy.pseudonymize:
        return None
    return Pseudonyms(Home(cfg.home), pseudonym_key(cfg.privacy))
