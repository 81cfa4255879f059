"""Data-parallel training under torchrun: the process group, each rank's share, rank 0's writes.

``torchrun --nproc-per-node N -m ciderlab.cli train_classifier ...`` starts N copies of the
command. Each joins the process group (:func:`process_group`, NCCL on GPUs, gloo on CPUs),
draws the same epoch order from the same seeded generator, takes its contiguous share of every
global batch (:func:`shard`) and lets DistributedDataParallel average the gradients. Weighting
each rank's mean loss by its share of the batch (:func:`share_weight`) makes the averaged
gradient the gradient of the global batch's mean loss, so N ranks with batch B reproduce one
process with batch B up to floating-point summation order (with dropout off: each rank draws
its own dropout masks). Validation runs on rank 0 and its verdict is broadcast; only rank 0
writes files, the others wait at a barrier.

Outside torchrun (no process group) every function here is a no-op for one process.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import torch
import torch.distributed as dist

from ciderlab.errors import InputError


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands among torchrun's: ``world_size`` processes in all, this one
    ``rank`` (0 .. world_size - 1), ``local_rank`` on its node (which GPU it drives)."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def context_from_env(environ: Mapping[str, str] | None = None) -> DistributedContext:
    """The context torchrun describes in ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``.

    Without those variables (a plain ``ciderlab`` command) this is one process of one.
    """
    environ = os.environ if environ is None else environ
    if "WORLD_SIZE" not in environ:
        return DistributedContext()
    try:
        context = DistributedContext(int(environ["WORLD_SIZE"]), int(environ.get("RANK", 0)),
                                     int(environ.get("LOCAL_RANK", 0)))
    except ValueError as error:
        raise InputError(f"torchrun's WORLD_SIZE/RANK/LOCAL_RANK are not integers ({error}); "
                         "start the command with torchrun, or unset them") from error
    if not 0 <= context.rank < context.world_size or context.local_rank < 0:
        raise InputError(f"RANK {context.rank} / LOCAL_RANK {context.local_rank} do not fit "
                         f"WORLD_SIZE {context.world_size}; start the command with torchrun")
    return context


@contextmanager
def process_group(context: DistributedContext, device: torch.device) -> Iterator[None]:
    """Join torchrun's process group for the block and leave it afterwards (one process: no-op).

    NCCL when this rank drives a GPU, gloo on CPUs. The rendezvous address comes from the
    variables torchrun sets (``MASTER_ADDR``, ``MASTER_PORT``).
    """
    if not context.is_distributed or dist.is_initialized():
        yield
        return
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", rank=context.rank, world_size=context.world_size,
                                device_id=device)
    else:
        dist.init_process_group("gloo", rank=context.rank, world_size=context.world_size)
    try:
        yield
    finally:
        dist.destroy_process_group()


def world_size() -> int:
    """Processes in the current process group; 1 when there is none."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This process's rank in the current process group; 0 when there is none."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    """True on the process that writes files: rank 0, or the only process."""
    return rank() == 0


def barrier() -> None:
    """Wait until every rank gets here (after rank 0's writes); no-op for one process."""
    if world_size() > 1:
        dist.barrier()


def shard(n_global: int) -> slice:
    """This rank's contiguous share of a global batch of ``n_global`` samples.

    Shares differ by at most one sample; together the ranks cover the batch exactly once.
    """
    size, me = world_size(), rank()
    return slice(n_global * me // size, n_global * (me + 1) // size)


def share_weight(n_local: int, n_global: int) -> float:
    """Factor on a rank's mean loss so that DDP's averaged gradient is the global batch's.

    DDP averages gradients over ranks; a rank holding ``n_local`` of ``n_global`` samples
    contributes ``n_local * world_size / n_global`` times its mean (1 for equal shares).
    """
    return n_local * world_size() / n_global


def check_batches(n_samples: int, batch_size: int) -> None:
    """Refuse a schedule in which some global batch leaves a rank without samples.

    Every rank must run every step (DDP's gradient averaging waits for all of them).
    """
    size = world_size()
    if size == 1:
        return
    last = n_samples % batch_size or batch_size
    if min(batch_size, last, n_samples) < size:
        raise InputError(
            f"{size} processes cannot share batches of {min(batch_size, last, n_samples)} "
            f"spectra (batch_size {batch_size}, {n_samples} spectra per epoch): every process "
            "needs at least one per step; use fewer processes (torchrun --nproc-per-node) or "
            "change batch_size / samples_per_epoch in params.yaml")


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` wrapped in DistributedDataParallel under a process group, else itself."""
    if world_size() == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda"
                                   else None)


def sum_over_ranks(value: torch.Tensor) -> torch.Tensor:
    """``value`` summed over every rank (in place; returned for chaining)."""
    if world_size() > 1:
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def broadcast_from_main(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (picklable; keep tensors on the CPU)."""
    if world_size() == 1:
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def gather_to_all(obj: Any) -> list:
    """Every rank's ``obj``, in rank order, on every rank (picklable; CPU tensors)."""
    if world_size() == 1:
        return [obj]
    gathered = [None] * world_size()
    dist.all_gather_object(gathered, obj)
    return gathered
