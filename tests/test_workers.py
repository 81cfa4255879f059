"""fork_map's contract: results in order, one-thread workers, shared data never pickled."""

import torch

from ciderlab import workers


def describe(shared, item):
    """What a call saw: its item through the shared function, and its torch threads."""
    return shared["scale"](item), torch.get_num_threads()


def test_fork_map_returns_results_in_order_from_one_thread_workers():
    shared = {"scale": lambda x: 10 * x}  # a lambda cannot be pickled: it must be inherited
    side_by_side = list(workers.fork_map(describe, shared, range(5), workers=2))
    assert [value for value, _ in side_by_side] == [0, 10, 20, 30, 40]
    assert {threads for _, threads in side_by_side} == {1}
    assert workers._SHARED is None  # nothing left behind for the next map


def test_fork_map_with_one_worker_runs_in_turn_in_this_process():
    threads = torch.get_num_threads()
    in_turn = list(workers.fork_map(describe, {"scale": lambda x: -x}, [1, 2], workers=1))
    assert in_turn == [(-1, threads), (-2, threads)]

