"""Airflow plugin: a *Segments* view in the Airflow UI.

It lists the pipeline's runs (the run dates with a published ``customer_segments`` partition)
and opens, per run, the HTML report, the validation result, the segment table (the current
one, or that run's partition), 100 customers a page, filtered by segment, the customers'
predictions with the prediction models' status, their recommendations with what is served,
the held-out figures and the strongest rules of each segment, and the campaigns (whether each
one works) and audiences.

* ``fastapi_apps``: the pages, a FastAPI app mounted on the API server at ``/segmentation``
  (``segmentation_view_app.py``). Airflow does not protect plugin apps by itself: every route
  of this one depends on Airflow's ``requires_access_dag`` (a logged-in user allowed to read
  the runs of the ``customer_segmentation`` DAG), so an anonymous request gets 401/403.
* ``external_views``: the *Segments* entry of the UI's navigation bar, which shows those
  pages inside the UI (``/plugin/segmentation``). Airflow 3 draws a top-level entry as a
  56 px square button with its name on one line below the icon, cut with an ellipsis when
  longer (``NAV_LABEL``): "Segmentation" showed as "Segmenta…", "Segments" fits.

The app is built the first time Airflow asks for ``fastapi_apps``, which only the API server
(and ``airflow plugins``) do: the scheduler, the DAG processor and ``airflow dags test`` load
this file without importing Airflow's API security or reading the pipeline's configuration.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/segmentation"
NAV_LABEL = "Segments"  # fits the UI's navigation button (tests/e2e/test_airflow_view.py)


def _base_path() -> str:
    """The path of Airflow's ``[api] base_url`` (empty when Airflow is served at the root)."""
    return urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")


@functools.cache
def _app() -> Any:
    import segmentation_view_app  # the plugins folder is on sys.path

    return segmentation_view_app.build_app()


class SegmentationViewPlugin(AirflowPlugin):
    name = "segmentation_view"

    @property
    def external_views(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return [
            {
                "name": NAV_LABEL,
                "href": f"{_base_path()}{URL_PREFIX}/",
                "destination": "nav",
                "url_route": "segmentation",
                "nav_top_level": True,
            }
        ]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return [{"app": _app(), "url_prefix": URL_PREFIX, "name": "Segmentation"}]
