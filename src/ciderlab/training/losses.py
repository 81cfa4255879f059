"""Focal loss with class-balanced weights (Lin et al. 2017; Cui et al. 2019). Imports only torch."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def class_balanced_weights(counts: torch.Tensor, beta: float = 0.9999) -> torch.Tensor:
    """alpha_c proportional to (1 - beta) / (1 - beta**n_c), normalised to sum to one.

    A class with no training samples gets weight zero (it cannot be learned, and must not
    blow up the normalisation).
    """
    counts = counts.to(torch.float64)
    effective = 1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), counts)
    weights = torch.where(counts > 0, (1.0 - beta) / effective.clamp_min(1e-300),
                          torch.zeros_like(counts))
    if weights.sum() <= 0:
        raise ValueError("no class has any training sample")
    return (weights / weights.sum()).to(torch.float32)


def focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: torch.Tensor | None = None,
               gamma: float = 2.0) -> torch.Tensor:
    """Mean over the batch of -alpha_y (1 - p_y)^gamma log p_y.

    logits (B, K), target (B,) int64, alpha (K,) or None. gamma = 0 and alpha = None is
    cross-entropy.
    """
    log_p = F.log_softmax(logits.float(), dim=-1).gather(1, target[:, None]).squeeze(1)  # (B,)
    loss = -torch.pow(1.0 - log_p.exp(), gamma) * log_p
    if alpha is not None:
        loss = alpha.to(loss.device)[target] * loss
    return loss.mean()
