"""Model outputs in batches, in eval mode: the one way every stage, the CLI and the book predict.

Below both training (validation scores) and evaluation (test scores), so scoring a model never
imports the training code. Imports only numpy and torch.
"""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(array: np.ndarray) -> torch.Tensor:
    """A float32 tensor of ``array`` (copied only if it is not already contiguous float32)."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


@torch.no_grad()
def outputs(model: torch.nn.Module, inputs, batch_size: int = 512) -> torch.Tensor:
    """The model's raw outputs (N, K) for inputs (N, L) on the CPU.

    ``inputs`` is a tensor, an array, or anything that returns a batch's (B, L) inputs when
    sliced (a memory-mapped array reads one batch at a time). The model runs in eval mode on
    its own device and is left in the mode it was in.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    pieces = []
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start:start + batch_size]
        batch = batch if isinstance(batch, torch.Tensor) else to_tensor(batch)
        pieces.append(model(batch.to(device)).float().cpu())
    model.train(was_training)
    return torch.cat(pieces)


def probabilities(model: torch.nn.Module, inputs, batch_size: int = 512) -> np.ndarray:
    """Class probabilities (N, K): the softmax of a classifier's logits."""
    return torch.softmax(outputs(model, inputs, batch_size), dim=1).numpy()


def redshifts(model: torch.nn.Module, inputs, batch_size: int = 512) -> np.ndarray:
    """Redshifts (N,) from a redshift model."""
    return outputs(model, inputs, batch_size).numpy().astype(float).reshape(-1)
