"""AppleCiDEr's photometry transformer: light-curve events -> CLS embedding and class logits.

Imports only torch. Per event (channels in ``EVENT_CHANNELS``): the standardised log time
since first detection, log time since the previous event, signed-log flux and its error, a
g/r/i one-hot and an upper-limit flag. A Time2Vec embedding of the time channel is added to
the events' linear projection, a learned CLS token is prepended and a TransformerEncoder with
a key padding mask reads the sequence (SPEC §7c, "BaselineCLS" of the authors' code). The
masked-event pre-training objective of the authors' code is ``masked_event_loss``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

# The event feature layout the data assembly writes (training/multimodal_data.py) and the
# model reads. The first four are standardised with training-fold statistics.
EVENT_CHANNELS = ("log_time", "log_dt_prev", "log_flux", "log_flux_err",
                  "band_g", "band_r", "band_i", "is_limit")
TIME, DT_PREV, FLUX = 0, 1, 2
BAND_SLICE = slice(4, 7)


@dataclass
class PhotometryTransformerConfig:
    n_channels: int = len(EVENT_CHANNELS)
    n_classes: int = 5
    d_model: int = 128         # authors' code
    n_heads: int = 8           # authors' code
    n_layers: int = 4          # authors' code
    ff_multiplier: int = 4     # feed-forward width = ff_multiplier * d_model (authors' code)
    dropout: float = 0.4       # authors' code
    pretrain_head: bool = False  # add the masked-event reconstruction head

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of n_heads "
                             f"({self.n_heads})")
        if self.d_model < 2:
            raise ValueError("d_model must be at least 2 (Time2Vec: one linear + sines)")

    def to_dict(self) -> dict:
        return asdict(self)


class Time2Vec(nn.Module):
    """Time2Vec (Kazemi et al. 2019): one linear and ``dim - 1`` periodic features of a time."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.periodic = nn.Linear(1, dim - 1)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """(B, T) times -> (B, T, dim)."""
        t = t.unsqueeze(-1)  # (B, T, 1)
        return torch.cat([self.linear(t), torch.sin(self.periodic(t))], dim=-1)  # (B, T, dim)


class PhotometryTransformer(nn.Module):
    def __init__(self, config: PhotometryTransformerConfig):
        super().__init__()
        self.config = config
        d = config.d_model
        self.project = nn.Linear(config.n_channels, d)
        self.time2vec = Time2Vec(d)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        nn.init.normal_(self.cls_token, std=0.02)
        # A masked event's features are replaced by this learned vector (pre-training only).
        self.mask_token = nn.Parameter(torch.zeros(config.n_channels))
        layer = nn.TransformerEncoderLayer(d, config.n_heads, config.ff_multiplier * d,
                                           config.dropout, activation="gelu", batch_first=True)
        # enable_nested_tensor=False: the same arithmetic in train and eval mode.
        self.encoder = nn.TransformerEncoder(layer, config.n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.classifier = nn.Linear(d, config.n_classes)
        # Reconstruction of masked events: flux, dt_prev (regression) and band (3 logits).
        self.pretrain = nn.Linear(d, 2 + 3) if config.pretrain_head else None

    @property
    def embedding_dim(self) -> int:
        return self.config.d_model

    def encode(self, events: torch.Tensor,
               padding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Events (B, T, C) and padding (B, T), True where there is no event.

        Returns the normalised CLS embedding (B, d_model) and the event tokens (B, T, d_model).
        """
        batch = events.shape[0]
        x = self.project(events) + self.time2vec(events[..., TIME])  # (B, T, D)
        x = torch.cat([self.cls_token.expand(batch, -1, -1), x], dim=1)  # (B, 1 + T, D)
        keep_cls = torch.zeros(batch, 1, dtype=torch.bool, device=padding.device)
        mask = torch.cat([keep_cls, padding.bool()], dim=1)  # (B, 1 + T)
        x = self.encoder(x, src_key_padding_mask=mask)  # (B, 1 + T, D)
        return self.norm(x[:, 0]), x[:, 1:]  # (B, D), (B, T, D)

    def forward(self, events: torch.Tensor, padding: torch.Tensor) -> dict:
        """-> {"embedding": (B, d_model), "logits": (B, n_classes)}."""
        embedding, _ = self.encode(events, padding)
        return {"embedding": embedding, "logits": self.classifier(embedding)}


def masked_event_loss(model: PhotometryTransformer, events: torch.Tensor, padding: torch.Tensor,
                      generator: torch.Generator, mask_fraction: float = 0.3,
                      weights: tuple[float, float, float] = (5.0, 3.0, 5.0)) -> torch.Tensor:
    """The authors' self-supervised objective: hide events, predict their flux, band and dt_prev.

    A random ``mask_fraction`` of each sequence's real events (at least one) has its features
    replaced by the model's learned mask token; the pre-training head predicts, at those
    positions, the flux (MSE), band (cross-entropy) and time since the previous event (MSE).
    Loss = w_flux * L_flux + w_band * L_band + w_dt * L_dt, a sum (authors' weights 5, 3, 5;
    one port of their code multiplied the terms, SPEC §7c). Labels are not used, so unlabelled
    alerts can pre-train the encoder.

    Parameters
    ----------
    events : (B, T, C) tensor, padding : (B, T) bool tensor (True = no event)
    generator : torch.Generator on the CPU, for the choice of masked events
    """
    if model.pretrain is None:
        raise ValueError("masked_event_loss needs PhotometryTransformerConfig(pretrain_head=True)")
    real = ~padding.bool()  # (B, T)
    scores = torch.rand(real.shape, generator=generator).to(events.device)  # (B, T)
    scores = torch.where(real, scores, torch.full_like(scores, 2.0))
    n_real = real.sum(dim=1, keepdim=True)  # (B, 1)
    n_masked = (n_real.float() * mask_fraction).round().long().clamp(min=1)  # (B, 1)
    rank = scores.argsort(dim=1).argsort(dim=1)  # (B, T): each event's place in the draw
    masked = (rank < n_masked) & real  # (B, T)
    hidden = torch.where(masked.unsqueeze(-1), model.mask_token.expand_as(events), events)
    _, tokens = model.encode(hidden, padding)  # (B, T, D)
    out = model.pretrain(tokens[masked])  # (M, 5)
    target = events[masked]  # (M, C)
    loss_flux = F.mse_loss(out[:, 0], target[:, FLUX])
    loss_dt = F.mse_loss(out[:, 1], target[:, DT_PREV])
    loss_band = F.cross_entropy(out[:, 2:], target[:, BAND_SLICE].argmax(dim=1))
    w_flux, w_band, w_dt = weights
    return w_flux * loss_flux + w_band * loss_band + w_dt * loss_dt
