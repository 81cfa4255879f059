"""SpectraNet: the multi-scale 1-D CNN of the SpectraNet paper (architecture from the authors' code).

Imports only torch. One class, built from one config dataclass; the paper profile (4096 bins,
channels 64-1024, ~25 M parameters) and the smaller CPU profiles are configurations of it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from ciderlab.spectranet.fft_conv import conv1d_same_fft, conv1d_same_fft_channels_last

CONV_MODES = ("fft", "direct")

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
    # How the multi-scale branches are computed; the weights are the same either way, so a
    # checkpoint loads into both. "fft": a branch whose kernel is at least `fft_min_kernel` goes
    # through the FFT (fft_conv.py), the shorter ones through nn.Conv1d; "direct": all through
    # nn.Conv1d (e.g. for ONNX export). Equal results up to float32 rounding. The threshold is
    # our choice, measured on 2 CPU cores (benchmarks/bench_spectranet.py; params.yaml `model`).
    conv: str = "fft"
    fft_min_kernel: int = 61  # paper profile; the default profile uses 15 (params.yaml)

    def __post_init__(self):
        self.channels = tuple(int(c) for c in self.channels)
        self.kernels = tuple(tuple(int(k) for k in ks) for ks in self.kernels)
        if len(self.channels) != len(self.kernels):
            raise ValueError("one kernel triple per stage: channels and kernels differ in length")
        if self.head not in ("classifier", "redshift"):
            raise ValueError(f"unknown head {self.head!r}")
        if any(k % 2 == 0 for ks in self.kernels for k in ks):
            raise ValueError("kernels must be odd so 'same' padding keeps the length")
        if self.conv not in CONV_MODES:
            raise ValueError(f"unknown conv {self.conv!r}: use one of {', '.join(CONV_MODES)}")
        self.fft_min_kernel = int(self.fft_min_kernel)
        if self.fft_min_kernel < 1:
            raise ValueError(f"fft_min_kernel must be >= 1, got {self.fft_min_kernel}")

    def uses_fft(self, kernel: int) -> bool:
        """Whether a branch with this kernel length is computed through the FFT."""
        return self.conv == "fft" and kernel >= self.fft_min_kernel

    def to_dict(self) -> dict:
        return asdict(self)


class MultiScaleStage(nn.Module):
    """Parallel convolutions of several widths -> concat -> LayerNorm -> GELU [-> 1x1 -> pool].

    The branches are nn.Conv1d modules (they hold the weights); those flagged in ``use_fft``
    are evaluated through one shared FFT (``conv1d_same_fft``) instead of their own forward.
    """

    def __init__(self, in_channels: int, channels: int, kernels: tuple[int, ...], pool: int,
                 reduce: bool, use_fft: tuple[bool, ...] | None = None):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv1d(in_channels, channels, k, padding=k // 2) for k in kernels)
        self.use_fft = tuple(use_fft) if use_fft is not None else (False,) * len(kernels)
        if len(self.use_fft) != len(kernels):
            raise ValueError("use_fft needs one flag per kernel")
        width = channels * len(kernels)
        self.norm = nn.LayerNorm(width)  # over channels, applied in (B, L, C) layout
        self.reduce = nn.Conv1d(width, channels, 1) if reduce else None
        # ceil_mode keeps at least one bin, so the network accepts any input length.
        self.pool = nn.MaxPool1d(pool, ceil_mode=True) if reduce else None
        self.out_channels = channels if reduce else width

    def forward(self, x):  # x: (B, C_in, L)
        if any(self.use_fft):
            return self._forward_channels_last(x)
        # The plain path (conv="direct", e.g. ONNX export): nn.Conv1d modules throughout.
        fft_branches = [b for b, fft in zip(self.branches, self.use_fft) if fft]
        fft_outputs = iter(conv1d_same_fft(x, [b.weight for b in fft_branches],
                                           [b.bias for b in fft_branches]))  # each (B, C, L)
        # The concatenation keeps the branches' order, whichever way each was computed.
        x = torch.cat([next(fft_outputs) if fft else branch(x)
                       for branch, fft in zip(self.branches, self.use_fft)], dim=1)  # (B, k*C, L)
        # LayerNorm and GELU on the (B, L, C) view, made contiguous once on the way back: GELU's
        # backward on the strided view took a fifth of a CPU training step.
        x = F.gelu(self.norm(x.transpose(1, 2))).transpose(1, 2).contiguous()  # (B, k*C, L)
        if self.reduce is not None:
            x = self.pool(self.reduce(x))  # (B, C, ceil(L / pool))
        return x

    def _forward_channels_last(self, x):  # x: (B, C_in, L), any strides
        """The same computation with the activations in (B, L, C) memory from end to end.

        The FFT branches produce that layout, LayerNorm and GELU act over its last axis, the
        1x1 reduce is a matmul with the same (C, k*C, 1) weight and the pool runs on the
        channels-last view: no transposing copies of the large activations, which took most of
        a CPU training step's time outside the convolutions. Returns a (B, C, L') view of
        (B, L', C) memory, which the next stage (or the global max pool) reads as it is.
        """
        x_last = x.transpose(1, 2)  # (B, L, C_in)
        fft_branches = [b for b, fft in zip(self.branches, self.use_fft) if fft]
        fft_outputs = iter(conv1d_same_fft_channels_last(
            x_last, [b.weight for b in fft_branches], [b.bias for b in fft_branches]))
        # nn.Conv1d wants (B, C_in, L) memory: one copy for all the direct branches, not one each.
        x = x.contiguous() if not all(self.use_fft) else x  # (B, C_in, L)
        # The concatenation keeps the branches' order, whichever way each was computed.
        x = torch.cat([next(fft_outputs) if fft else branch(x).transpose(1, 2)
                       for branch, fft in zip(self.branches, self.use_fft)], dim=2)  # (B, L, k*C)
        x = F.gelu(self.norm(x))  # (B, L, k*C)
        if self.reduce is None:
            return x.transpose(1, 2)  # (B, k*C, L)
        x = F.linear(x, self.reduce.weight.squeeze(-1), self.reduce.bias)  # (B, L, C)
        # (B, C, L, 1) with channels-last strides: max_pool2d pools over L in that layout.
        x = x.transpose(1, 2).unsqueeze(-1)  # (B, C, L, 1)
        x = F.max_pool2d(x, (self.pool.kernel_size, 1), ceil_mode=True)  # (B, C, L', 1)
        return x.squeeze(-1)  # (B, C, ceil(L / pool))


class SpectraNet(nn.Module):
    config_class = SpectraNetConfig  # a checkpoint's model_config rebuilds it

    def __init__(self, config: SpectraNetConfig):
        super().__init__()
        self.config = config
        stages, in_channels = [], 1
        for i, (channels, kernels) in enumerate(zip(config.channels, config.kernels)):
            stage = MultiScaleStage(in_channels, channels, kernels, config.pool,
                                    reduce=i < len(config.channels) - 1,
                                    use_fft=tuple(config.uses_fft(k) for k in kernels))
            stages.append(stage)
            in_channels = stage.out_channels
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.Linear(in_channels, config.hidden), nn.LayerNorm(config.hidden), nn.GELU(),
            nn.Dropout(config.dropout), nn.Linear(config.hidden, config.n_outputs))

    def embed(self, flux: torch.Tensor) -> torch.Tensor:
        """(B, L) or (B, 1, L) flux -> (B, C_last): the pooled features the head reads."""
        x = flux.unsqueeze(1) if flux.dim() == 2 else flux  # (B, 1, L)
        x = self.stages(x)  # (B, C_last, L')
        return x.amax(dim=-1)  # (B, C_last): global max pool

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        """(B, L) or (B, 1, L) flux -> (B, n_outputs) logits, or (B,) redshift."""
        out = self.head(self.embed(flux))  # (B, n_outputs)
        if self.config.head == "redshift":
            return F.softplus(out.squeeze(-1))  # (B,)
        return out


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(config: SpectraNetConfig, n_bins: int | None = None) -> int:
    """Multiply-accumulates for one spectrum (convolutions and linear layers).

    Counts the direct convolution's MACs, ``C_in * C_out * K * L`` per branch: the network's
    arithmetic size, the same for ``conv="fft"`` and ``"direct"``. With ``conv="fft"`` the long
    branches actually cost far less (two transforms and ``C_in * C_out`` complex products per
    frequency); benchmarks/bench_spectranet.py measures the difference in time.
    """
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
