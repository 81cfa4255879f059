"""SpectraNet: the multi-scale 1-D CNN of the SpectraNet paper (architecture from the authors' code).

Imports only torch. One class, built from one config dataclass; the paper profile (4096 bins,
channels 64-1024, ~25 M parameters) and the smaller CPU profiles are configurations of it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class SpectraNetConfig:
    n_bins: int = 4096  # input length; the network accepts any length, this documents the grid
    n_outputs: int = 9  # classes, or 1 for the redshift head
    head: str = "classifier"  # "classifier" (logits) or "redshift" (softplus, z >= 0)
    channels: tuple[int, ...] = (64, 128, 256, 512, 1024)
    kernels: tuple[tuple[int, ...], ...] = field(default_factory=lambda: (
        (3, 61, 1021), (3, 31, 251), (3, 15, 61), (3, 11, 31), (3, 7, 13)))
    pool: int = 4
    hidden: int = 384
    dropout: float = 0.5

    def __post_init__(self):
        self.channels = tuple(int(c) for c in self.channels)
        self.kernels = tuple(tuple(int(k) for k in ks) for ks in self.kernels)
        if len(self.channels) != len(self.kernels):
            raise ValueError("one kernel triple per stage: channels and kernels differ in length")
        if self.head not in ("classifier", "redshift"):
            raise ValueError(f"unknown head {self.head!r}")
        if any(k % 2 == 0 for ks in self.kernels for k in ks):
            raise ValueError("kernels must be odd so 'same' padding keeps the length")

    def to_dict(self) -> dict:
        return asdict(self)


class MultiScaleStage(nn.Module):
    """Parallel convolutions of several widths -> concat -> LayerNorm -> GELU [-> 1x1 -> pool]."""

    def __init__(self, in_channels: int, channels: int, kernels: tuple[int, ...], pool: int,
                 reduce: bool):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv1d(in_channels, channels, k, padding=k // 2) for k in kernels)
        width = channels * len(kernels)
        self.norm = nn.LayerNorm(width)  # over channels, applied in (B, L, C) layout
        self.reduce = nn.Conv1d(width, channels, 1) if reduce else None
        # ceil_mode keeps at least one bin, so the network accepts any input length.
        self.pool = nn.MaxPool1d(pool, ceil_mode=True) if reduce else None
        self.out_channels = channels if reduce else width

    def forward(self, x):
        x = torch.cat([branch(x) for branch in self.branches], dim=1)  # (B, k*C, L)
        # LayerNorm and GELU on the (B, L, C) view, made contiguous once on the way back: GELU's
        # backward on the strided view took a fifth of a CPU training step.
        x = F.gelu(self.norm(x.transpose(1, 2))).transpose(1, 2).contiguous()  # (B, k*C, L)
        if self.reduce is not None:
            x = self.pool(self.reduce(x))  # (B, C, ceil(L / pool))
        return x


class SpectraNet(nn.Module):
    def __init__(self, config: SpectraNetConfig):
        super().__init__()
        self.config = config
        stages, in_channels = [], 1
        for i, (channels, kernels) in enumerate(zip(config.channels, config.kernels)):
            stage = MultiScaleStage(in_channels, channels, kernels, config.pool,
                                    reduce=i < len(config.channels) - 1)
            stages.append(stage)
            in_channels = stage.out_channels
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.Linear(in_channels, config.hidden), nn.LayerNorm(config.hidden), nn.GELU(),
            nn.Dropout(config.dropout), nn.Linear(config.hidden, config.n_outputs))

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        """(B, L) or (B, 1, L) flux -> (B, n_outputs) logits, or (B,) redshift."""
        x = flux.unsqueeze(1) if flux.dim() == 2 else flux  # (B, 1, L)
        x = self.stages(x)  # (B, C_last, L')
        x = x.amax(dim=-1)  # (B, C_last): global max pool
        out = self.head(x)  # (B, n_outputs)
        if self.config.head == "redshift":
            return F.softplus(out.squeeze(-1))  # (B,)
        return out


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(config: SpectraNetConfig, n_bins: int | None = None) -> int:
    """Multiply-accumulates for one spectrum (convolutions and linear layers)."""
    length, in_channels, macs = n_bins or config.n_bins, 1, 0
    for i, (channels, kernels) in enumerate(zip(config.channels, config.kernels)):
        macs += sum(in_channels * channels * k * length for k in kernels)
        in_channels = channels * len(kernels)
        if i < len(config.channels) - 1:
            macs += in_channels * channels * length
            in_channels = channels
            length = -(-length // config.pool)
    macs += in_channels * config.hidden + config.hidden * config.n_outputs
    return int(macs)
