"""The one exception type users see: a message that names the thing and how to fix it."""

from __future__ import annotations


class SegmentationError(Exception):
    """A problem with input or configuration, explained for the person running the pipeline.

    The CLI prints ``str(error)`` alone (no traceback) and exits non-zero; inside Airflow the
    same message is the task's failure reason.
    """


class BadInput(SegmentationError):
    """A problem that running again cannot fix: the input or the config must change first.

    Airflow fails such a task at once instead of retrying it.
    """


class ConfigError(BadInput):
    """The configuration file is missing, malformed, or has an unknown or invalid key."""


class SourceError(SegmentationError):
    """The event source cannot be read yet (say a file has not landed): a retry may help."""


class MalformedSource(SourceError, BadInput):
    """The source's files do not match their configured shape or format."""


class SinkError(SegmentationError):
    """An output (a sink such as the warehouse) cannot be written yet: a retry may help."""


class WarehouseUnavailable(SinkError):
    """The warehouse cannot be reached or refuses the connection: a retry may help."""


class SecondLineage(BadInput):
    """A new night older than the home's first model: training it would start a second model
    lineage, whose segment ids would mean other things than the first one's."""


class ValidationFailed(BadInput):
    """A Great Expectations gate failed; the batch was quarantined."""


class TrainingDataError(SegmentationError, ValueError):
    """The features cannot be segmented as they are: too few customers, missing or infinite
    values, or too little variety for the segments asked for.

    A ``ValueError`` too, as scikit-learn expects of an estimator's ``fit`` given bad data.
    """


class RetentionExpired(BadInput):
    """A night older than what the retention cleanup kept for reruns (``retention.state_days``)."""
