"""Pseudonymous outputs: ``customer_id`` becomes ``customer_key`` where tables are staged, and
back again where the pipeline reads its own published tables.

Published files carry only ``customer_key = HMAC-SHA256(key, customer_id)``. The pipeline
still joins last night's tables with tonight's features, the lake and the customers source,
which hold raw ids; rather than re-keying every raw side of every join, home keeps the map
of every pseudonym it published, ``privacy/keys/`` (``customer_id``, ``customer_key``,
``key_id``; one file per batch of new ids), and the readers of published tables
(:func:`segmentation.io.parquet.read_table`) turn keys back into ids through it, in one
DuckDB join (0.5 s for a million keys). The map stays inside home, like the lake: it is
never published, and ``forget`` removes its rows like any other file's.

A new key (rotation) gets its own ``key_id``: tables published under the old key still read
back, so the night after a rotation publishes new keys without losing last night's segments.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

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
        """The pseudonym of each id under the key, adding the ids new to the map."""
        codes, unique = pd.factorize(np.asarray(ids, dtype=object))
        if (codes < 0).any():
            raise SegmentationError("a customer_id is missing: it cannot be given a customer_key")
        kid = key_id(self.key)
        keys = _lookup(self.home, unique, ID_COLUMN, KEY_COLUMN, kid)
        new = pd.isna(keys)
        if new.any():
            keys[new] = customer_keys(unique[new].astype(object), self.key)
            self._add(unique[new], keys[new], kid)
        return keys[codes]

    def replace(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with ``customer_key`` in the place of ``customer_id``."""
        keys = self.keys_of(frame[ID_COLUMN])
        out = frame.copy()
        out[ID_COLUMN] = keys
        return out.rename(columns={ID_COLUMN: KEY_COLUMN})

    def _add(self, ids: np.ndarray, keys: np.ndarray, kid: str) -> None:
        """A new file of the map: appending never rewrites what is there."""
        order = np.argsort(ids.astype(str), kind="stable")
        table = pa.table(
            {ID_COLUMN: ids[order], KEY_COLUMN: keys[order], KEY_ID: [kid] * len(ids)},
            schema=_SCHEMA,
        )
        folder = self.home.pseudonym_map
        with locks.shared(self.home):  # two nights at once each add theirs
            n = len(list(folder.glob("part-*.parquet"))) if folder.is_dir() else 0
            lake.write_file(table, folder / f"part-{n:06d}.parquet")


def ids_of(home: Home, keys: pd.Series, where: str) -> np.ndarray:
    """The customer id of each pseudonym in ``keys`` (any key's), read from ``where``."""
    if keys.isna().any():
        raise SegmentationError(f"{where} has rows without a customer_key")
    found = _lookup(home, keys, KEY_COLUMN, ID_COLUMN, None)
    unknown = int(pd.isna(found).sum())
    if unknown:
        raise SegmentationError(
            f"{where} holds {unknown} customer_key value(s) that "
            f"{home.pseudonym_map} does not know (was it deleted or copied without it?); "
            "rerun the nights that published them, or restore the map"
        )
    return found


def keys_known(home: Home, ids: list[str]) -> set[str]:
    """Every pseudonym the home published for ``ids``, under any key (before a rotation too)."""
    files = _files(home)
    if not files:
        return set()
    con = duckdb.connect()
    try:
        rows = con.sql(
            f"SELECT DISTINCT {KEY_COLUMN} FROM read_parquet($files) WHERE {ID_COLUMN} IN "
            "(SELECT unnest($ids))",
            params={"files": files, "ids": ids},
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


def _files(home: Home) -> list[str]:
    folder = home.pseudonym_map
    return sorted(str(p) for p in folder.glob("part-*.parquet")) if folder.is_dir() else []


def _lookup(
    home: Home, values: np.ndarray | pd.Series, by: str, want: str, kid: str | None
) -> np.ndarray:
    """For each of ``values``, the map's ``want`` where its ``by`` equals it (of
    key ``kid``, or of any key), None where the map has none; one DuckDB join, in order."""
    out = np.full(len(values), None, dtype=object)
    files = _files(home)
    if not files or not len(values):
        return out
    query = pa.table({"i": np.arange(len(values)), "v": pa.array(values, pa.large_string())})
    only = "AND m.key_id = $kid" if kid is not None else ""
    con = duckdb.connect()
    try:
        con.register("query", query)
        found = con.sql(
            f"SELECT q.i, m.{want} AS w FROM query q JOIN read_parquet($files) m "
            f"ON m.{by} = q.v {only}",
            params={"files": files, **({"kid": kid} if kid is not None else {})},
        ).to_arrow_table()
    finally:
        con.close()
    out[found.column("i").to_numpy()] = found.column("w").to_numpy(zero_copy_only=False)
    return out


def for_config(cfg: Config) -> Pseudonyms | None:
    """Tonight's pseudonyms when ``privacy.pseudonymize`` is on (the key must be set), else
    None: the tables are published with ``customer_id``."""
    if not cfg.privacy.pseudonymize:
        return None
    return Pseudonyms(Home(cfg.home), pseudonym_key(cfg.privacy))
