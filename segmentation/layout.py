"""Where everything lives under ``home``, and the catalog of output tables.

``Home`` is the only code that joins paths under the configured home; the pipeline, the
report, the Airflow plugin, the CLI and the tests ask it. The catalog of output tables
(``TABLES``, ``table()``, ...) lives in :mod:`segmentation.catalog` and is re-exported here.

Standard library only: the DAG file imports this module at parse time for its Assets.

Layout under ``home``::

    staging/events/event_date=D/       extracted, not yet validated
    lake/events/event_date=D/          validated events (the only input to features)
    quarantine/events/event_date=D/    a batch that failed validation, with the GX result, or
                                       rows.parquet: the bad rows of a day promoted without them
    validation/events/run_date=D.json  the validation record of each day
    state/run_date=D/                  activity counters per customer (rolled forward)
    features/run_date=D/               one row per customer as of the end of D
    models/mYYYYMMDD/                  model artifact and metadata
    models/churn/cYYYYMMDD/            each night's churn classifier and its decision
    work/run_date=D/<table>.parquet    tables of D waiting to be published
    output/<table>/run_date=D/         the published partitions of per-run tables
    output/current/<table>.parquet     the newest run of each table (and report.html)
    output/reports/run_date=D/         each run's HTML report
    output/audiences/<a>/run_date=D/   an audience's members.csv and changes.csv of run D
    locks/                             one lock per run date, one for writes all dates share
    privacy/erasures.jsonl             the erasure audit: when, how many customers (as HMACs)
    privacy/keys/part-N.parquet        customer_id -> customer_key of pseudonymous outputs
    retention.json                     what the last retention cleanup kept (the rerun window)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from segmentation.catalog import TABLE_NAMES, TABLES, Table, staged_tables, table, tables_of

__all__ = ["TABLES", "TABLE_NAMES", "Home", "Table", "staged_tables", "table", "tables_of"]

PART = "part-0.parquet"
EVENT_KEY = "event_date"
RUN_KEY = "run_date"
REPORT = "report.html"


def partition_dir(root: Path, key: str, day: dt.date) -> Path:
    """The Hive-style folder ``<root>/<key>=<YYYY-MM-DD>``."""
    return root / f"{key}={day.isoformat()}"


@dataclass(frozen=True)
class Home:
    """Every path under the configured home folder."""

    root: Path

    # ---------------------------------------------------------------- events
    @property
    def staging(self) -> Path:
        return self.root / "staging" / "events"

    @property
    def lake(self) -> Path:
        return self.root / "lake" / "events"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine" / "events"

    @property
    def validation(self) -> Path:
        return self.root / "validation" / "events"

    def staged_events(self, day: dt.date) -> Path:
        return partition_dir(self.staging, EVENT_KEY, day)

    def lake_partition(self, day: dt.date) -> Path:
        return partition_dir(self.lake, EVENT_KEY, day)

    def quarantined(self, day: dt.date) -> Path:
        return partition_dir(self.quarantine, EVENT_KEY, day)

    def quarantined_rows(self, day: dt.date) -> Path:
        """The bad rows held back from a day that was promoted without them."""
        return self.quarantined(day) / "rows.parquet"

    def lake_file(self, day: dt.date) -> Path:
        return self.lake_partition(day) / PART

    @property
    def duplicates(self) -> Path:
        return self.root / "duplicates" / "events"

    def duplicates_file(self, day: dt.date) -> Path:
        """The re-sent copies night ``day`` dropped, kept so no later night counts them."""
        return partition_dir(self.duplicates, EVENT_KEY, day) / PART

    def staged_duplicates(self, day: dt.date) -> Path:
        return self.staged_events(day) / "duplicates.parquet"

    def validation_record(self, day: dt.date) -> Path:
        return self.validation / f"{RUN_KEY}={day.isoformat()}.json"

    # ---------------------------------------------------------------- working state
    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def features(self) -> Path:
        return self.root / "features"

    def state_file(self, day: dt.date) -> Path:
        return partition_dir(self.state, RUN_KEY, day) / PART

    def features_file(self, day: dt.date) -> Path:
        return partition_dir(self.features, RUN_KEY, day) / PART

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def churn_models(self) -> Path:
        """The churn classifiers (``segmentation.predictions.registry``), one folder each."""
        return self.models / "churn"

    @property
    def recommendation_models(self) -> Path:
        """The collaborative models (``segmentation.recommendations.registry``), one folder each."""
        return self.models / "recommendations"

    @property
    def work_area(self) -> Path:
        """Where each night's tables wait to be published, a folder per run date."""
        return self.root / "work"

    def work(self, day: dt.date) -> Path:
        return partition_dir(self.work_area, RUN_KEY, day)

    def staged_table(self, table: str, day: dt.date) -> Path:
        return self.work(day) / f"{table}.parquet"

    # ---------------------------------------------------------------- published
    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def current(self) -> Path:
        return self.output / "current"

    def table_root(self, table: str) -> Path:
        return self.output / table

    def partition(self, table: str, day: dt.date) -> Path:
        """The file of run ``day`` of a per-run table."""
        return partition_dir(self.table_root(table), RUN_KEY, day) / PART

    def current_table(self, table: str) -> Path:
        return self.current / f"{table}.parquet"

    def table_location(self, name: str) -> Path:
        """Where table ``name`` lives as a whole, as its Asset's ``file://`` URI names it: the
        folder of its ``run_date=D`` partitions, or the one current file of a whole table."""
        return self.table_root(name) if table(name).per_run else self.current_table(name)

    @property
    def audiences(self) -> Path:
        """The audiences' exported files, a folder per audience."""
        return self.output / "audiences"

    def audience_export(self, audience: str, day: dt.date) -> Path:
        """The folder of one night's files of an audience (members.csv, changes.csv)."""
        return partition_dir(self.audiences / audience, RUN_KEY, day)

    @property
    def reports(self) -> Path:
        return self.output / "reports"

    def report(self, day: dt.date) -> Path:
        return partition_dir(self.reports, RUN_KEY, day) / REPORT

    @property
    def current_report(self) -> Path:
        return self.current / REPORT

    # ---------------------------------------------------------------- privacy
    @property
    def erasure_audit(self) -> Path:
        """The audit log of ``segmentation forget``, one JSON line per erasure."""
        return self.root / "privacy" / "erasures.jsonl"

    @property
    def pseudonym_map(self) -> Path:
        """The folder of files of every ``customer_key`` published, with its ``customer_id``
        (never published), one file per batch of new ids."""
        return self.root / "privacy" / "keys"

    @property
    def retention_record(self) -> Path:
        """What the last retention cleanup kept: the oldest night that can be rerun."""
        return self.root / "retention.json"

    # ---------------------------------------------------------------- locks
    @property
    def locks(self) -> Path:
        return self.root / "locks"

    def run_lock(self, day: dt.date) -> Path:
        return self.locks / f"{RUN_KEY}={day.isoformat()}.lock"

    @property
    def erasure_lock(self) -> Path:
        """Shared by every running step, taken whole by ``forget`` (``io.locks.no_steps``)."""
        return self.locks / "erasure.lock"

    @property
    def shared_lock(self) -> Path:
        """Held around writes that every date shares: ``current``, the history, the registry."""
        return self.locks / "shared.lock"
