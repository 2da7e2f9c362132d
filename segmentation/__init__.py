"""Customer segmentation pipeline: the domain package (never imports Airflow)."""
