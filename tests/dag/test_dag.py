"""The DAG parses cleanly and cheaply; the domain package stays orchestrator-free."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.dag

ROOT = Path(__file__).resolve().parents[2]
DAG_FILE = ROOT / "dags" / "customer_segmentation.py"
EXAMPLE = ROOT / "examples" / "downstream_segment_sizes.py"
ORDER = [
    "extract_events",
    "validate_events",
    "build_features",
    "train_model",
    "assign_segments",
    "predict_customers",
    "recommend_items",
    "publish_tables",
    "export_audiences",
    "measure_campaigns",
    "compute_drift",
]


def run_python(code: str, tmp_path: Path, config: bool = True) -> dict:
    """Run ``code`` in a fresh interpreter, with a config naming ``tmp_path/home`` (or none)."""
    env = {
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILE.parent),
        "PATH": "/usr/bin:/bin",
    }
    if config:
        (tmp_path / "config.yaml").write_text("home: ./home\n")
        env["SEGMENTATION_CONFIG"] = str(tmp_path / "config.yaml")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_dagbag_imports_without_errors(tmp_path: Path) -> None:
    result = run_python(
        f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(DAG_FILE.parent)!r})
dag = bag.dags.get("customer_segmentation")
print(json.dumps({{
    "errors": {{k: str(v) for k, v in bag.import_errors.items()}},
    "dags": sorted(bag.dags),
    "tasks": [t.task_id for t in dag.topological_sort()] if dag else [],
    "max_active_runs": dag.max_active_runs if dag else None,
    "retries": [t.retries for t in dag.tasks] if dag else [],
    "outlets": sorted(a.name for t in dag.tasks for a in t.outlets) if dag else [],
    "uris": {{a.name: a.uri for t in dag.tasks for a in t.outlets}} if dag else {{}},
    "params": sorted(dag.params.keys()) if dag else [],
    "doc": bool(dag.doc_md) if dag else False,
    "drift_callbacks": [
        type(c).__name__ for c in dag.get_task("compute_drift").on_success_callback
    ] if dag else [],
}}))
""",
        tmp_path,
    )
    assert result["errors"] == {}
    assert result["dags"] == ["customer_segmentation"]
    assert result["tasks"] == ORDER
    assert result["max_active_runs"] == 1
    assert min(result["retries"]) >= 1
    from segmentation.layout import TABLE_NAMES as TABLES

    assert result["outlets"] == sorted(TABLES)  # every published table is an Asset
    # named by the table, its URI the file:// URI of the table under the config's home
    home = tmp_path / "home"
    assert result["uris"] == {
        t: (home / "output" / t).as_uri() for t in TABLES if t != "segment_history"
    } | {"segment_history": (home / "output" / "current" / "segment_history.parquet").as_uri()}
    assert result["uris"]["customer_segments"] == f"file://{home}/output/customer_segments"
    assert result["drift_callbacks"] == ["DriftNotifier"]
    assert result["params"] == ["run_date"]
    assert result["doc"]


def test_parsing_is_cheap_no_queries_no_connections_no_heavy_imports(tmp_path: Path) -> None:
    # Every way out of the process is made to fail loudly while the DAG file is executed.
    result = run_python(
        f"""
import json, socket, sqlite3, sys, runpy
opened = []
def refuse(*args, **kwargs):
    opened.append(repr(args)[:80])
    raise RuntimeError("I/O at parse time")
socket.socket.connect = refuse
socket.create_connection = refuse
sqlite3.connect = refuse
before = set(sys.modules)
import airflow.sdk, pendulum
with_airflow = set(sys.modules)
# what our parse-time modules add to what airflow.sdk imported: the standard library only
import segmentation.config, segmentation.layout
third_party = sorted(m for m in set(sys.modules) - with_airflow
    if m.split(".")[0] not in sys.stdlib_module_names | {{"segmentation"}})
namespace = runpy.run_path({str(DAG_FILE)!r})
new = set(sys.modules) - before
heavy = sorted(m for m in new if m.split(".")[0] in
    {{"pandas", "sklearn", "great_expectations", "duckdb", "pyarrow"}})
ours = sorted(m for m in new if m.split(".")[0] == "segmentation")
dags = [v.dag_id for v in namespace.values() if type(v).__name__ == "DAG"]
print(json.dumps({{"opened": opened, "heavy": heavy, "ours": ours, "third_party": third_party,
    "dags": dags}}))
""",
        tmp_path,
    )
    assert result["opened"] == []
    assert result["heavy"] == []
    # the table catalog and the config's reader, for the Assets' names and URIs: standard
    # library only, besides PyYAML, which airflow.sdk had imported already
    assert result["ours"] == [
        "segmentation",
        "segmentation.catalog",
        "segmentation.catalog_campaigns",
        "segmentation.catalog_types",
        "segmentation.config",
        "segmentation.config_campaigns",
        "segmentation.config_checks",
        "segmentation.config_coerce",
        "segmentation.config_privacy",
        "segmentation.config_sources",
        "segmentation.errors",
        "segmentation.identifiers",
        "segmentation.layout",
    ]
    assert result["third_party"] == []
    assert result["dags"] == ["customer_segmentation"]


def test_without_a_config_the_dag_does_not_parse_and_says_why(tmp_path: Path) -> None:
    # the Assets' URIs need the home: a dag-processor without the config reports a broken DAG
    result = run_python(
        f"""
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={str(DAG_FILE.parent)!r})
errors = [str(v) for v in bag.import_errors.values()]
print(json.dumps({{"errors": errors, "dags": sorted(bag.dags)}}))
""",
        tmp_path,
        config=False,
    )
    assert result["dags"] == []
    [error] = result["errors"]
    assert "no configuration given" in error and "dag-processor needs SEGMENTATION_CONFIG" in error


def test_example_downstream_dag_is_scheduled_on_the_asset_the_dag_updates(tmp_path: Path) -> None:
    result = run_python(
        f"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime
before = set(sys.modules)
bag = DagBag(dag_folder={str(EXAMPLE)!r})
new = set(sys.modules) - before
dag = bag.dags.get("downstream_segment_sizes")
producer = DagBag(dag_folder={str(DAG_FILE)!r}).dags["customer_segmentation"]
[published] = [a for a in producer.get_task("publish_tables").outlets
    if a.name == "customer_segments"]
print(json.dumps({{
    "errors": {{k: str(v) for k, v in bag.import_errors.items()}},
    "dags": sorted(bag.dags),
    "schedule": [[a.name, a.uri] for a in dag.timetable.asset_condition.objects],
    "published": [published.name, published.uri],
    "tasks": [t.task_id for t in dag.tasks] if dag else [],
    "doc": bool(dag.doc_md) if dag else False,
    "heavy": sorted({{m.split(".")[0] for m in new}} & {{"pandas", "pyarrow", "duckdb"}}),
    "lineage_schemes": sorted(ProvidersManagerTaskRuntime().asset_to_openlineage_converters),
}}))
""",
        tmp_path,
    )
    assert result["errors"] == {}
    assert result["dags"] == ["downstream_segment_sizes"]
    # the very Asset publish_tables updates (Airflow matches both name and URI), from the config
    uri = (tmp_path / "home" / "output" / "customer_segments").as_uri()
    assert result["schedule"] == [result["published"]] == [["customer_segments", uri]]
    assert result["tasks"] == ["count_segments"] and result["doc"]
    assert result["heavy"] == []  # pandas only in the task
    # file:// is a scheme Airflow's OpenLineage integration translates (common.io provider)
    assert "file" in result["lineage_schemes"]


def test_domain_package_never_imports_airflow(tmp_path: Path) -> None:
    offenders = []
    for path in sorted((ROOT / "segmentation").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "airflow"]
    assert offenders == []
    # and at run time: importing every module and running the CLI parser pulls in no airflow
    result = run_python(
        """
import json, sys, pkgutil, importlib, segmentation
for m in pkgutil.walk_packages(segmentation.__path__, "segmentation."):
    importlib.import_module(m.name)
print(json.dumps({
    "airflow": sorted(m for m in sys.modules if m.split(".")[0] == "airflow"),
    "imported": sorted(m for m in sys.modules if m.startswith("segmentation.")),
}))
""",
        tmp_path,
    )
    assert result["airflow"] == []
    assert {"segmentation.pipeline.run", "segmentation.report", "segmentation.io.sinks"} <= set(
        result["imported"]
    )  # the walk reached the subpackages
