"""Worker processes for parallel steps (``realise``, ``cross_validate``, ``compare_preprocessing``,
``baselines``): how many, and a map over forked processes that share the caller's data."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator

from ciderlab import params_read
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


def fork_map(function: Callable, shared, items: Iterable, workers: int) -> Iterator:
    """``function(shared, item)`` for each item, in order, as an iterator.

    With ``workers`` > 1 and more than one item, the calls run in that many forked processes
    of one torch thread each: on 2 cores two one-thread trainings side by side did 1.6x the work
    of one two-thread training. ``shared`` (the data every call reads) is inherited by the
    forked processes, never pickled, so a memory-mapped array stays memory-mapped; ``items``
    and the results are pickled. Otherwise the calls run in turn in this process, with its
    threads. A one-thread result can differ from a two-thread one in the last float digits.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        yield from (function(shared, item) for item in items)
        return
    global _SHARED
    _SHARED = (function, shared)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(workers, len(items)), mp_context=context) as pool:
            for result, read in pool.map(_call_in_worker, items):
                params_read.note_all(read)  # what the worker read of params.yaml is ours too
                yield result
    finally:
        _SHARED = None


# (function, shared) of the fork_map in progress, set just before its workers fork.
_SHARED: tuple | None = None


def _call_in_worker(item):
    import torch  # here, so that importing this module stays free of torch

    torch.set_num_threads(1)
    function, shared = _SHARED
    return function(shared, item), params_read.read_so_far()
