"""Which torch device a run uses, and the determinism settings that go with it.

The CLI (the edge) resolves the device once, from ``--device`` or params.yaml's ``device``, and
passes it to the library; library functions never pick a device themselves.

Determinism: on CPU a seed fixes a run bit for bit (the tests check it). On CUDA cuDNN's
autotuner is off and deterministic algorithms are asked for where torch has them, so reruns on
the same GPU, driver and torch agree closely; bit-identity across devices (CPU vs GPU, one GPU
model vs another) is not promised: kernels sum in different orders and training uses bf16.
"""

from __future__ import annotations

import os

import torch

from ciderlab.errors import InputError

DEVICE_CHOICES = "'auto', 'cpu', 'cuda' or 'cuda:N'"


def resolve_device(name: str | None = "auto", local_rank: int | None = None) -> torch.device:
    """The torch device named by ``name``.

    Parameters
    ----------
    name : str or None
        ``"auto"`` (or None): the GPU when CUDA is available, else the CPU. ``"cpu"``,
        ``"cuda"`` or ``"cuda:N"`` (GPU number N).
    local_rank : int, optional
        Under torchrun, this process's rank on its node: ``"auto"`` and ``"cuda"`` then mean
        GPU number ``local_rank`` (one GPU per process).

    Returns
    -------
    torch.device
        ``cpu`` or ``cuda:N`` (always with an index).

    Raises
    ------
    InputError
        For an unknown name, or a GPU asked for that this machine does not have.
    """
    text = "auto" if name is None else str(name).strip().lower()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    if text == "cpu":
        return torch.device("cpu")
    try:
        device = torch.device(text)
    except RuntimeError:
        device = None
    if device is None or device.type != "cuda":
        raise InputError(f"device {name!r}: ciderlab runs on {DEVICE_CHOICES}; pass one of these "
                         "with --device or params.yaml's `device`")
    if not torch.cuda.is_available():
        raise InputError(f"device {name!r}: this machine has no CUDA GPU that torch can use "
                         f"(torch {torch.__version__}); pass --device cpu, or --device auto to "
                         "use a GPU only where there is one")
    index = device.index if device.index is not None else (local_rank or 0)
    count = torch.cuda.device_count()
    if index >= count:
        hint = ("start at most that many processes per node (torchrun --nproc-per-node)"
                if device.index is None and local_rank else f"pass cuda:0 .. cuda:{count - 1}")
        raise InputError(f"device {name!r}: GPU number {index} asked for, but this machine "
                         f"has {count}; {hint}")
    return torch.device("cuda", index)


def configure_determinism(device: torch.device) -> None:
    """Global settings that make reruns on ``device`` repeatable; call once, at the edge.

    CPU needs nothing (a seed already fixes a run). CUDA: cuDNN's autotuner off (it may pick
    different kernels run to run), cuDNN's deterministic kernels, and torch's deterministic
    algorithms where they exist (``warn_only``: an operation without one warns instead of
    failing). cuBLAS needs a fixed workspace for repeatable results; it must be set before
    cuBLAS starts, which is why this runs before any model is built.
    """
    if device.type != "cuda":
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=True)


def stage_device(option: str | None, params: dict, local_rank: int | None = None) -> torch.device:
    """A stage's device: the ``--device`` option, else params.yaml's ``device``; made
    repeatable (``configure_determinism``)."""
    device = resolve_device(option or params["device"], local_rank)
    configure_determinism(device)
    return device
