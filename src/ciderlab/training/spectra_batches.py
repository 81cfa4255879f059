"""Spectra as the training loop reads them: batches of rows of a (N, L) array, edge-masked."""

from __future__ import annotations

import numpy as np
import torch

from ciderlab.prediction import to_tensor


def edge_mask(flux: torch.Tensor, max_fraction: float, generator: torch.Generator) -> torch.Tensor:
    """Cut a random 0..max_fraction of each spectrum's covered span at each end, re-normalised.

    flux (B, L); the covered span is first..last non-zero bin. Emulates spectra whose blue or
    red end is lost (dichroic, sky, detector edge). The kept bins are re-normalised to zero mean
    and unit variance, as the preprocessing does to a spectrum that is really that short (and as
    the narrow-coverage evaluation does), so a cut spectrum looks like a short real one.
    """
    if max_fraction <= 0:
        return flux
    batch, length = flux.shape
    index = torch.arange(length, device=flux.device).expand(batch, length)  # (B, L)
    nonzero = flux != 0
    first = torch.where(nonzero, index, length).amin(dim=1)  # (B,)
    last = torch.where(nonzero, index, -1).amax(dim=1)  # (B,)
    span = (last - first + 1).clamp_min(0).float()
    cut = torch.rand((2, batch), generator=generator).to(flux.device) * max_fraction  # (2, B)
    lo = first + (cut[0] * span).long()
    hi = last - (cut[1] * span).long()
    keep = (index >= lo[:, None]) & (index <= hi[:, None]) & nonzero  # (B, L)
    n_kept = keep.sum(dim=1, keepdim=True).clamp_min(1)  # (B, 1)
    mean = (flux * keep).sum(dim=1, keepdim=True) / n_kept
    std = ((((flux - mean) * keep) ** 2).sum(dim=1, keepdim=True) / n_kept).sqrt()
    return torch.where(keep, (flux - mean) / std.clamp_min(1e-6), torch.zeros_like(flux))


class SpectraBatches:
    """Training spectra for ``fit``: rows ``rows`` of a (N, L) array and their targets, read as
    float32 one batch at a time (with ``flux`` memory-mapped only those rows are read), each
    batch edge-masked (``edge_mask``) with draws from the loop's generator."""

    def __init__(self, flux, rows: np.ndarray, target: torch.Tensor, edge_fraction: float):
        if edge_fraction is None:
            raise ValueError("training recipe: params.yaml lacks edge_mask_max_fraction")
        self.flux, self.rows, self.target = flux, np.asarray(rows), target
        self.edge_fraction = edge_fraction

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, index: torch.Tensor, generator: torch.Generator):
        flux = self.flux[self.rows[index.numpy()]]
        flux = flux if isinstance(flux, torch.Tensor) else to_tensor(flux)
        return edge_mask(flux, self.edge_fraction, generator), self.target[index]
