"""What several training commands share: the device and process group, the torch threads."""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def runtime(args, params: dict):
    """The training device; under torchrun this process drives GPU ``LOCAL_RANK`` (or a CPU)
    and is in the process group for the block, else it is the only process."""
    from ciderlab.device import stage_device
    from ciderlab.training.distributed import context_from_env, process_group

    context = context_from_env()
    device = stage_device(args.device, params,
                          context.local_rank if context.is_distributed else None)
    with process_group(context, device):
        yield device


def set_threads(section: dict) -> None:
    """A stage section's ``torch_threads`` (the 2 cores shared with the other stages)."""
    if section.get("torch_threads"):
        import torch

        torch.set_num_threads(section["torch_threads"])
