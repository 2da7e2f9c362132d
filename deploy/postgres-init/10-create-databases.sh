#!/usr/bin/env bash
# Runs once, when the postgres container starts on an empty data volume: one role and one
# database for Airflow's metadata, one for the warehouse the pipeline mirrors its tables to.
# Passwords come from the container's environment (docker-compose.yaml, from .env); psql's
# :'var' quoting keeps any character in them safe.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v airflow_password="$AIRFLOW_DB_PASSWORD" \
  -v warehouse_password="$WAREHOUSE_DB_PASSWORD" <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE segmentation LOGIN PASSWORD :'warehouse_password';
CREATE DATABASE warehouse OWNER segmentation;
SQL
