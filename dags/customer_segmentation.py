"""
### Customer segmentation, nightly

Extracts the day that just closed into the Parquet lake, validates it with Great Expectations,
builds per-customer features, retrains the segmentation model, assigns every customer a
segment, predicts who will buy again, what they are worth and who is about to leave,
mines the items bought together and recommends what to offer each customer, and
publishes the output tables (declared as Assets); then exports the configured audiences
(tables and CSV files for marketing tools), measures every running campaign against its
control group, computes drift and sends a drift alert to the configured target (log,
webhook or email). Last, a cleanup deletes what the configured retention no longer keeps
(`retention` in the config), never what a rerun of the last `retention.state_days` nights
or tomorrow's night needs.

* **Nightly**: the run triggered just after midnight (UTC) processes the previous day.
* **Manual**: trigger with `{"run_date": "YYYY-MM-DD"}` to (re)process one day.
* **Backfill**: a backfill over a date range gives one run per day, oldest first.

The configuration file comes from `SEGMENTATION_CONFIG`. Every task only calls a
`segmentation.pipeline` step: see the README for what each one reads and writes.

**Assets**: one per output table, named after it (`customer_segments`, ...), its URI the
`file://` URI of the table under the configured home: the folder of its `run_date=D`
partitions (`file:///data/output/customer_segments`), or for `segment_history` its one file
(`file:///data/output/current/segment_history.parquet`). Lineage tools (OpenLineage) follow
these to the files. Airflow knows an asset by name and URI, so a downstream DAG builds the
same Asset from the same config (`examples/downstream_segment_sizes.py`); each event's extra
is `{"run_date": "YYYY-MM-DD", "current_moved": bool, "rows": int}`. The URIs need the
config's `home` while parsing: the dag-processor needs `SEGMENTATION_CONFIG` too.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset, BaseNotifier, Param, dag, get_current_context, task

# cheap to import while parsing: the table catalog (standard library only) and the config's
# reader, of which only the home is read here (PyYAML, which airflow.sdk has imported)
from segmentation.config import CONFIG_ENV, configured_home
from segmentation.errors import ConfigError
from segmentation.layout import TABLES, Home

try:
    HOME = Home(configured_home())
except ConfigError as exc:
    raise ConfigError(
        f"{exc} (the DAG's Assets name the tables under the configured home, so the "
        f"dag-processor needs {CONFIG_ENV} as well as the workers)"
    ) from None
OUTPUTS = {t.name: Asset(name=t.name, uri=HOME.table_location(t.name).as_uri()) for t in TABLES}


def _outlets(step: str) -> list[Asset]:
    return [OUTPUTS[t.name] for t in TABLES if t.step == step]


class DriftNotifier(BaseNotifier):
    """Sends compute_drift's decision to the configured alert target (`alerts` in the config)."""

    def notify(self, context: dict) -> None:
        from segmentation.config import load_config
        from segmentation.monitoring import alerts

        result = context["ti"].xcom_pull(task_ids="compute_drift")
        alerts.notify(result, load_config().alerts, result.get("report"))


def _step(name: str, upstream: dict | None = None) -> dict:
    """Run one pipeline step for this run's date (taken from the upstream result if any)."""
    import datetime as dt

    from airflow.sdk.exceptions import AirflowFailException

    from segmentation import pipeline
    from segmentation.config import load_config
    from segmentation.errors import BadInput

    try:
        cfg = load_config()
        # database URLs (with their passwords) from Airflow connections, for this task's
        # process only: never in the config file, never in XCom or logs
        for section in (cfg.source, cfg.warehouse):
            if section is not None and section.conn_id:
                import os

                from airflow.sdk import BaseHook

                conn = BaseHook.get_connection(section.conn_id)
                os.environ[section.url_env] = conn.get_uri()
        if upstream is None:
            ctx = get_current_context()
            day = pipeline.resolve_run_date(
                ctx["params"].get("run_date"), ctx.get("logical_date"), cfg
            )
        else:
            day = dt.date.fromisoformat(upstream["run_date"])
        result = getattr(pipeline, name)(cfg, day)
    except BadInput as exc:
        # retrying cannot fix bad data or a bad config: fail now, with the message
        raise AirflowFailException(str(exc)) from exc
    # each published table's asset event says which run it is and whether current moved
    events = get_current_context()["outlet_events"]
    for table, facts in result.get("assets", {}).items():
        events[OUTPUTS[table]].extra = facts
    return result


@dag(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={
        "run_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Day to process (YYYY-MM-DD); empty: the day before the logical date",
        )
    },
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["segmentation"],
)
def customer_segmentation() -> None:
    @task
    def extract_events() -> dict:
        return _step("extract_events")

    @task
    def validate_events(extracted: dict) -> dict:
        return _step("validate_events", extracted)

    @task
    def build_features(validated: dict) -> dict:
        return _step("build_features", validated)

    @task
    def train_model(features: dict) -> dict:
        return _step("train_model", features)

    @task
    def assign_segments(trained: dict) -> dict:
        return _step("assign_segments", trained)

    @task
    def predict_customers(assigned: dict) -> dict:
        return _step("predict_customers", assigned)

    @task
    def recommend_items(predicted: dict) -> dict:
        return _step("recommend_items", predicted)

    @task(outlets=_outlets("publish_tables"))
    def publish_tables(recommended: dict) -> dict:
        return _step("publish_tables", recommended)

    @task(outlets=_outlets("export_audiences"))
    def export_audiences(published: dict) -> dict:
        return _step("export_audiences", published)

    @task(outlets=_outlets("measure_campaigns"))
    def measure_campaigns(exported: dict) -> dict:
        return _step("measure_campaigns", exported)

    @task(outlets=_outlets("compute_drift"), on_success_callback=DriftNotifier())
    def compute_drift(measured: dict) -> dict:
        return _step("compute_drift", measured)

    @task
    def clean_up(drifted: dict) -> dict:
        return _step("clean_up", drifted)

    assigned = assign_segments(train_model(build_features(validate_events(extract_events()))))
    published = publish_tables(recommend_items(predict_customers(assigned)))
    clean_up(compute_drift(measure_campaigns(export_audiences(published))))


dag = customer_segmentation()
