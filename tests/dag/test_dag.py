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
ORDER = [
    "extract_events",
    "validate_events",
    "build_features",
    "train_model",
    "assign_segments",
    "publish_tables",
    "compute_drift",
]


def run_python(code: str, tmp_path: Path) -> dict:
    env = {
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FILE.parent),
        "PATH": "/usr/bin:/bin",
    }
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
namespace = runpy.run_path({str(DAG_FILE)!r})
new = set(sys.modules) - before
heavy = sorted(m for m in new if m.split(".")[0] in
    {{"pandas", "sklearn", "great_expectations", "duckdb", "pyarrow"}})
ours = sorted(m for m in new if m.split(".")[0] == "segmentation")
dags = [v.dag_id for v in namespace.values() if type(v).__name__ == "DAG"]
print(json.dumps({{"opened": opened, "heavy": heavy, "ours": ours, "dags": dags}}))
""",
        tmp_path,
    )
    assert result["opened"] == []
    assert result["heavy"] == []
    # only the table catalog (standard library only), for the Assets
    assert result["ours"] == ["segmentation", "segmentation.catalog", "segmentation.layout"]
    assert result["dags"] == ["customer_segmentation"]


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
