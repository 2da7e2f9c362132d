"""The one exception type users see: a message that names the thing and how to fix it."""

from __future__ import annotations


class SegmentationError(Exception):
    """A problem with input or configuration, explained for the person running the pipeline.

    The CLI prints ``str(error)`` alone (no traceback) and exits non-zero; inside Airflow the
    same message is the task's failure reason.
    """


class ConfigError(SegmentationError):
    """The configuration file is missing, malformed, or has an unknown or invalid key."""


class SourceError(SegmentationError):
    """The event source cannot be read, or does not match its configured shape."""


class ValidationFailed(SegmentationError):
    """A Great Expectations gate failed; the batch was quarantined."""
