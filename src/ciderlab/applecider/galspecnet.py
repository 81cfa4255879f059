"""GalSpecNet: AppleCiDEr paper I's spectra CNN (Wu et al. 2023 via the AppleCiDEr code).

Imports only torch. Stacked Conv1d (no padding) -> ReLU blocks, a MaxPool after each block but
the last, dropout, and one fully connected layer over the flattened features (SPEC §7). The
authors' code takes the widths, kernel and pool sizes from its config (``s_conv_channels``,
``s_kernel_size``, ``s_mp_kernel_size``, ``s_dropout``) and their values are not public: ours
are in params.yaml (``train_galspecnet.model``), chosen for the CPU budget.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class GalSpecNetConfig:
    n_bins: int = 3481  # input length: 4500-7980 AA in 1 AA bins
    n_outputs: int = 9  # classes
    channels: tuple[int, ...] = (8, 16, 32, 32)  # output channels of each conv block
    kernel_size: int = 5
    pool_size: int = 4  # MaxPool1d after every block but the last
    dropout: float = 0.5

    def __post_init__(self):
        self.channels = tuple(int(c) for c in self.channels)
        if not self.channels:
            raise ValueError("GalSpecNet needs at least one conv block (channels is empty)")
        if self.feature_length() < 1:
            raise ValueError(f"{self.n_bins} input bins are too few for {len(self.channels)} "
                             f"blocks of kernel {self.kernel_size} and pool {self.pool_size}")

    def feature_length(self) -> int:
        """Length of the last block's output: each conv trims kernel - 1, each pool divides."""
        length = self.n_bins
        for i in range(len(self.channels)):
            length -= self.kernel_size - 1
            if i < len(self.channels) - 1:
                length //= self.pool_size
        return length

    def to_dict(self) -> dict:
        return asdict(self)


class GalSpecNet(nn.Module):
    """(B, L) spectra on the 1 AA grid -> (B, n_outputs) class logits."""
    config_class = GalSpecNetConfig  # a checkpoint's model_config rebuilds it


    def __init__(self, config: GalSpecNetConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        in_channels = 1
        for i, channels in enumerate(config.channels):
            layers += [nn.Conv1d(in_channels, channels, config.kernel_size), nn.ReLU()]
            if i < len(config.channels) - 1:
                layers.append(nn.MaxPool1d(config.pool_size))
            in_channels = channels
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(config.channels[-1] * config.feature_length(), config.n_outputs)

    def forward(self, flux: torch.Tensor) -> torch.Tensor:
        x = self.features(flux.unsqueeze(1))  # (B, 1, L) -> (B, C, L')
        x = self.dropout(x.flatten(1))  # (B, C * L')
        return self.fc(x)  # (B, n_outputs)
