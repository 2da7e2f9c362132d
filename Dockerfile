# The Airflow image for docker-compose.yaml: the official image at the apache-airflow version
# pinned in constraints.txt, plus this project installed from the lock (docker compose build).
FROM apache/airflow:3.3.2-python3.11

# /opt/segmentation holds the project; /opt/airflow/auth the simple auth manager's passwords
# file (a named volume inherits this owner; group 0 keeps it writable for any AIRFLOW_UID).
USER root
RUN mkdir -p /opt/segmentation /opt/airflow/auth \
    && chown airflow:0 /opt/segmentation /opt/airflow/auth \
    && chmod 770 /opt/airflow/auth
USER airflow

# docker-compose.yaml bind-mounts dags/, plugins/, segmentation/, expectations/ and the
# config over these copies at run time; the copies make the image complete on its own.
COPY --chown=airflow:0 pyproject.toml constraints.txt README.md /opt/segmentation/
COPY --chown=airflow:0 segmentation/ /opt/segmentation/segmentation/
COPY --chown=airflow:0 expectations/ /opt/segmentation/expectations/
COPY --chown=airflow:0 dags/ /opt/segmentation/dags/
COPY --chown=airflow:0 plugins/ /opt/segmentation/plugins/

# Editable, so the mounted segmentation/ is the code that runs; exact versions from the lock.
# The image's own packages that the lock does not name (the postgres provider, psycopg2)
# stay as the image ships them.
RUN pip install --no-cache-dir -c /opt/segmentation/constraints.txt -e /opt/segmentation
