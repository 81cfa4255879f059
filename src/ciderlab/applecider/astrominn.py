"""AstroMiNN: AppleCiDEr's cutout + metadata network, its towers mixed by a top-2-of-4 router.

Imports only torch. An image tower (a small CNN over the science/template/difference stamps;
the authors use ConvNeXt-Tiny from scratch) and one gated residual MLP tower per named
metadata group feed a router that picks the top 2 of ``n_experts`` expert MLPs per sample
(SPEC §7c). Metadata arrive as a dict keyed by tower name, each tensor holding that tower's
scaled fields then their missing-value masks; the tower sizes come from the caller
(``ciderlab.applecider.alerts.metadata.tower_columns``), never from column indices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn


@dataclass
class AstroMiNNConfig:
    n_classes: int = 5
    use_image: bool = True
    # Metadata tower name -> number of input columns (fields + their masks); empty: no towers.
    tower_sizes: dict[str, int] = field(default_factory=dict)
    image_channels: tuple[int, ...] = (16, 32, 64)  # our choice (authors: ConvNeXt-Tiny)
    stem_stride: int = 2       # first convolution's stride (ConvNeXt's stem patchifies by 4)
    tower_hidden: int = 16     # authors' code (x2-3 for the bigger towers; one width here)
    tower_out: int = 32        # authors' code
    tower_dropout: float = 0.25  # authors' code
    n_experts: int = 4         # authors' code
    top_k: int = 2             # authors' code
    expert_hidden: int = 64    # our choice
    embedding_dim: int = 64    # our choice: the experts' output, AstroMiNN's embedding
    router_dropout: float = 0.3  # authors' code

    def __post_init__(self):
        self.image_channels = tuple(int(c) for c in self.image_channels)
        self.tower_sizes = {str(k): int(v) for k, v in dict(self.tower_sizes).items()}
        if not self.use_image and not self.tower_sizes:
            raise ValueError("AstroMiNN needs the image tower or at least one metadata tower")
        if not 1 <= self.top_k <= self.n_experts:
            raise ValueError(f"top_k ({self.top_k}) must be between 1 and n_experts "
                             f"({self.n_experts})")

    def to_dict(self) -> dict:
        return asdict(self)


class GatedResidualMLP(nn.Module):
    """Linear -> GELU, then (LayerNorm -> Dropout -> Linear) x sigmoid gate + a linear skip."""

    def __init__(self, n_in: int, hidden: int, n_out: int, dropout: float):
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(n_in, hidden), nn.GELU())
        self.out = nn.Sequential(nn.LayerNorm(hidden), nn.Dropout(dropout),
                                 nn.Linear(hidden, n_out))
        self.gate = nn.Linear(hidden, n_out)
        self.skip = nn.Linear(n_in, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, n_in) -> (B, n_out)."""
        h = self.inner(x)  # (B, hidden)
        return self.out(h) * torch.sigmoid(self.gate(h)) + self.skip(x)


class StampCNN(nn.Module):
    """Conv -> GroupNorm -> GELU -> MaxPool per stage over the 3-channel stamps (the first conv
    strided, as a stem: 63 -> 32 pixels with stride 2), then a global
    average pool and a gated MLP head. GroupNorm, not BatchNorm: a sample's output does not
    depend on the rest of its batch (small batches, a last batch of one)."""

    def __init__(self, channels: tuple[int, ...], n_out: int, dropout: float, stem_stride: int):
        super().__init__()
        layers, c_in = [], 3
        for i, c in enumerate(channels):
            stride = stem_stride if i == 0 else 1
            layers += [nn.Conv2d(c_in, c, 3, stride=stride, padding=1), nn.GroupNorm(1, c),
                       nn.GELU(), nn.MaxPool2d(2)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.head = GatedResidualMLP(c_in, n_out, n_out, dropout)

    def forward(self, stamps: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, n_out)."""
        x = self.features(stamps)  # (B, C, H', W')
        return self.head(x.mean(dim=(2, 3)))  # (B, C) -> (B, n_out)


def top_k_routing(gate_logits: torch.Tensor, k: int) -> torch.Tensor:
    """Softmax gate, keep the ``k`` largest weights per row, renormalise them to sum to 1.

    (B, E) logits -> (B, E) weights with exactly ``k`` non-zero entries per row.
    """
    weights = torch.softmax(gate_logits, dim=-1)  # (B, E)
    top_values, top_index = weights.topk(k, dim=-1)  # (B, k)
    sparse = torch.zeros_like(weights).scatter(-1, top_index, top_values)  # (B, E)
    return sparse / sparse.sum(dim=-1, keepdim=True)


class AstroMiNN(nn.Module):
    def __init__(self, config: AstroMiNNConfig):
        super().__init__()
        self.config = config
        c = config
        self.image = (StampCNN(c.image_channels, c.tower_out, c.tower_dropout, c.stem_stride)
                      if c.use_image else None)
        self.towers = nn.ModuleDict({
            name: GatedResidualMLP(size, c.tower_hidden, c.tower_out, c.tower_dropout)
            for name, size in c.tower_sizes.items()})
        n_fused = c.tower_out * (len(c.tower_sizes) + int(c.use_image))
        self.router = nn.Sequential(nn.Linear(n_fused, c.expert_hidden), nn.Tanh(),
                                    nn.Dropout(c.router_dropout),
                                    nn.Linear(c.expert_hidden, c.n_experts))
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(n_fused, c.expert_hidden), nn.GELU(),
                          nn.Linear(c.expert_hidden, c.embedding_dim))
            for _ in range(c.n_experts))
        self.classifier = nn.Linear(c.embedding_dim, c.n_classes)

    @property
    def embedding_dim(self) -> int:
        return self.config.embedding_dim

    def forward(self, cutouts: torch.Tensor | None = None,
                metadata: dict[str, torch.Tensor] | None = None) -> dict:
        """Cutouts (B, 3, 63, 63) and/or metadata {tower: (B, F_tower)} -> dict.

        Returns ``embedding`` (B, embedding_dim), ``logits`` (B, n_classes) and ``routing``
        (B, n_experts): the router's weights, ``top_k`` non-zero per sample, summing to 1.
        """
        parts = []
        if self.image is not None:
            if cutouts is None:
                raise ValueError("this AstroMiNN has an image tower: pass cutouts")
            parts.append(self.image(cutouts))  # (B, tower_out)
        for name, tower in self.towers.items():
            if metadata is None or name not in metadata:
                raise ValueError(f"metadata tower {name!r} is missing from the input; pass a "
                                 f"dict with {', '.join(self.towers)}")
            parts.append(tower(metadata[name]))  # (B, tower_out)
        fused = torch.cat(parts, dim=1)  # (B, n_towers * tower_out)
        routing = top_k_routing(self.router(fused), self.config.top_k)  # (B, E)
        # Every expert runs on every sample (4 small MLPs: cheaper than gathering); the
        # unselected ones get weight 0, so they neither contribute nor receive gradients.
        outputs = torch.stack([expert(fused) for expert in self.experts], dim=1)  # (B, E, D)
        embedding = (routing.unsqueeze(-1) * outputs).sum(dim=1)  # (B, D)
        return {"embedding": embedding, "logits": self.classifier(embedding),
                "routing": routing}
