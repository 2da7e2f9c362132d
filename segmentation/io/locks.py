"""One run of a date at a time: an exclusive lock per (home, run date).

A second run of the same date, from the CLI beside Airflow or a manual run beside a backfill,
is refused at once with a message saying who holds the date; in Airflow that error is retried
later, so in effect it waits. The lock is an OS file lock (``flock``): it is released when its
holder exits, even on SIGKILL, so a crashed run never leaves a stale lock behind. Reentrant
within a process, so ``pipeline.run`` holds it across all its steps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from segmentation.errors import SegmentationError

_held: dict[Path, int] = {}  # lock file -> depth, for reentrancy within this process
F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def run_lock(home: Path, day: dt.date, what: str) -> Iterator[None]:
    """Hold the lock of ``day`` under ``home``, or raise at once if another process does."""
    path = home / "locks" / f"run_date={day.isoformat()}.lock"
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise SegmentationError(
                f"{day} is being processed by another run ({holder}); {what} was not started. "
                "Wait for that run to finish (Airflow retries this task later), then rerun "
                "this date if needed."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {what}".encode(), 0)
        _held[path] = 1
        try:
            yield
        finally:
            del _held[path]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def locked(step: F) -> F:
    """Run a pipeline step ``step(cfg, day)`` under the lock of its date."""

    @functools.wraps(step)
    def wrapper(cfg: Any, day: dt.date, *args: Any, **kwargs: Any) -> Any:
        with run_lock(cfg.home, day, step.__name__):
            return step(cfg, day, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
