"""How many worker processes a parallel step uses (``realise``, ``cross_validate``, ``baselines``)."""

from __future__ import annotations

import os

from ciderlab.errors import InputError


def resolve_workers(workers: int, setting: str) -> int:
    """Worker processes to use: ``workers``, or every CPU this process may run on when 0."""
    if workers < 0:
        raise InputError(f"{setting} = {workers}: use 0 (every available CPU) or a "
                         "positive number of processes")
    if workers == 0:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    return workers
