"""``segmentation forget``: erase customers from home and the warehouse, for good.

The ids go into ``privacy.erasure_list`` first, so that every later extract drops them (a
re-sent export never brings them back); then every file under home is cleaned
(:mod:`segmentation.privacy.erasure`), then the warehouse; last, the audit log under home
records when, how many customers (as HMACs keyed apart from the pseudonyms, never raw ids)
and how many rows per area. It runs between nights: a night in progress makes it stop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from segmentation.config import Config, pseudonym_key, secret_from_env
from segmentation.errors import BadInput, ConfigError, SegmentationError
from segmentation.io import lake, locks, warehouse_erase
from segmentation.layout import RUN_KEY, Home
from segmentation.privacy import erasure, keymap
from segmentation.privacy.pseudonyms import KEY_COLUMN, audit_keys, customer_keys

log = logging.getLogger(__name__)


def forget(cfg: Config, ids: Sequence[str], at: dt.datetime) -> dict[str, Any]:
    """Remove the customers ``ids`` from everything; ``at`` (when, for the audit) is the
    caller's clock, never read here."""
    path = cfg.privacy.erasure_list
    if path is None:
        raise ConfigError(
            "forget needs privacy.erasure_list: a file outside home (e.g. beside the config) "
            "where the forgotten ids are kept, so that no later night takes them in again"
        )
    wanted = sorted({i.strip() for i in ids if i and i.strip()})
    if not wanted:
        raise BadInput("forget: no customer id given; pass --customer ID or --file FILE")
    key = pseudonym_key(cfg.privacy)  # the audit's HMACs need it even without pseudonyms
    home = Home(cfg.home)
    with locks.no_steps(home, "forget"), _between_nights(home), locks.shared(home):
        _refuse_night_in_progress(home)
        erasure.append_erasure_list(path, wanted)  # from now on, every extract drops them
        # their pseudonyms under tonight's key and any key the home published before; the
        # warehouse first, so that a retry after its failure still finds them in the map
        known = keymap.keys_known(home, wanted)
        keys = {*customer_keys(np.array(wanted, dtype=object), key), *known}
        who = erasure.Forgotten(frozenset(wanted), frozenset(keys))
        in_warehouse = _erase_warehouse(cfg, who)
        rows = erasure.erase_files(home.root, who)
        newest = lake.partition_days(home.table_root("customer_segments"), RUN_KEY)
        entry = {
            "at": at.isoformat(timespec="seconds"),
            "customers": len(wanted),
            "customers_hmac": audit_keys(wanted, key),
            "newest_night": newest[-1].isoformat() if newest else None,
            "rows": rows,
            "warehouse_rows": in_warehouse,
        }
        _append_audit(home, entry)
    log.info(
        "forgot %d customer(s): %d rows under home, %d in the warehouse",
        len(wanted),
        sum(rows.values()),
        sum(in_warehouse.values()),
    )
    return {
        "customers": len(wanted),
        "rows": rows,
        "warehouse_rows": in_warehouse,
        "erasure_list": str(path),
        "audit": str(home.erasure_audit),
    }


def _refuse_night_in_progress(home: Home) -> None:
    """A night between its tasks (Airflow) leaves staged events or staged tables: erasing
    under it would break its accounting, so finish (or rerun) it first."""
    pending = sorted(
        p.name.partition("=")[2]
        for root in (home.staging, home.work_area)
        if root.is_dir()
        for p in root.iterdir()
        if p.is_dir() and "=" in p.name
    )
    if pending:
        raise SegmentationError(
            f"the night(s) of {', '.join(sorted(set(pending)))} are in progress (staged "
            f"under {home.staging} or {home.work_area}); forget was not started: "
            "let them finish, or rerun them, then run forget"
        )


@contextlib.contextmanager
def _between_nights(home: Home) -> Iterator[None]:
    """Hold the lock of every night that has one, refusing at once if a night is running."""
    with contextlib.ExitStack() as stack:
        for lock in sorted(home.locks.glob(f"{RUN_KEY}=*.lock")):
            day = dt.date.fromisoformat(lock.stem.partition("=")[2])
            stack.enter_context(locks.run_lock(home, day, "forget"))
        yield


def _erase_warehouse(cfg: Config, who: erasure.Forgotten) -> dict[str, int]:
    if cfg.warehouse is None:
        return {}
    url = secret_from_env(cfg.warehouse.url_env, "warehouse")
    values = {"customer_id": sorted(who.ids), KEY_COLUMN: sorted(who.keys)}
    return warehouse_erase.erase(url, cfg.warehouse.schema, values, url_env=cfg.warehouse.url_env)


def _append_audit(home: Home, entry: dict[str, Any]) -> None:
    """One JSON line per erasure, appended by rewriting the file atomically."""
    path = home.erasure_audit
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    lake.write_text(text + json.dumps(entry, sort_keys=True) + "\n", path)


def erasures(home: Home) -> list[dict[str, Any]]:
    """The audit log's entries, oldest first."""
    path = home.erasure_audit
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return [json.loads(line) for line in lines if line.strip()]


def erased_since(home: Home, day: dt.date) -> int:
    """How many customers were erased after night ``day`` had been run: a rerun of it no
    longer sees them, so its tables differ from the first run's."""
    return sum(
        e["customers"]
        for e in erasures(home)
        if e["newest_night"] is not None and dt.date.fromisoformat(e["newest_night"]) >= day
    )
