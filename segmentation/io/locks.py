"""One run of a date at a time, and one writer at a time of what all dates share.

An exclusive lock per (home, run date):

A second run of the same date, from the CLI beside Airflow or a manual run beside a backfill,
is refused at once with a message saying who holds the date; in Airflow that error is retried
later, so in effect it waits. The lock is an OS file lock (``flock``): it is released when its
holder exits, even on SIGKILL, so a crashed run never leaves a stale lock behind. Reentrant
within a process, so ``pipeline.run`` holds it across all its steps.

A shared-state lock per home (:func:`shared`) around the short read-decide-write sections on
state that every date shares: whether ``current`` moves, the membership history fold, the
model registry. A backfill of older dates beside the nightly run waits for it (it is held
for milliseconds to seconds), so ``current`` never moves backwards and no fold is lost.
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
from segmentation.layout import Home

_held: dict[Path, int] = {}  # lock file -> depth, for reentrancy within this process
F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def run_lock(home: Home, day: dt.date, what: str) -> Iterator[None]:
    """Hold the lock of ``day`` under ``home``, or raise at once if another process does."""

    def refuse(fd: int) -> SegmentationError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
        return SegmentationError(
            f"{day} is being processed by another run ({holder}); {what} was not started. "
            "Wait for that run to finish (Airflow retries this task later), then rerun "
            "this date if needed."
        )

    with _flock(home.run_lock(day), f"pid {os.getpid()}, {what}", refuse):
        yield


@contextlib.contextmanager
def shared(home: Home) -> Iterator[None]:
    """Hold the home's shared-state lock, waiting for another holder to finish."""
    with _flock(home.shared_lock, f"pid {os.getpid()}", None):
        yield


@contextlib.contextmanager
def steps(home: Home) -> Iterator[None]:
    """Held (shared) by every running step: ``forget`` waits for none, it refuses (below)."""
    with _flock(home.erasure_lock, "", None, shared=True):
        yield


@contextlib.contextmanager
def no_steps(home: Home, what: str) -> Iterator[None]:
    """Hold off every step of every night (they wait) while ``what`` runs; refuse at once
    when a step is running."""

    def refuse(fd: int) -> SegmentationError:
        return SegmentationError(
            f"a step of a night is running under {home.root}; {what} was not started. Run "
            "it between nights (when the night's tasks have finished)."
        )

    with _flock(home.erasure_lock, f"pid {os.getpid()}, {what}", refuse):
        yield


@contextlib.contextmanager
def _flock(
    path: Path,
    holder: str,
    refuse: Callable[[int], Exception] | None,
    shared: bool = False,
) -> Iterator[None]:
    """An exclusive (or ``shared``) ``flock`` on ``path``, reentrant within this process.

    With ``refuse``, a lock held elsewhere raises ``refuse(fd)`` at once; without, it waits.
    """
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
            mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
            fcntl.flock(fd, mode | (fcntl.LOCK_NB if refuse else 0))
        except BlockingIOError:
            assert refuse is not None
            raise refuse(fd) from None
        if not shared:  # readers do not say who they are: there may be many
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.encode(), 0)
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
        home = Home(cfg.home)
        with run_lock(home, day, step.__name__), steps(home):
            return step(cfg, day, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
