"""AppleCiDEr's late fusion: L2-normalised modality embeddings -> class logits, one model per mode.

Imports only torch (and the sibling model files). The encoders are the photometry transformer,
AstroMiNN (cutouts and/or metadata, already mixed by its router: in the paper the image and
metadata towers meet inside AstroMiNN, so they enter the fusion as its one embedding) and,
for sources that have a spectrum, SpectraNet's penultimate features. Each embedding is
projected, L2-normalised, zeroed where the source lacks that modality, concatenated and
classified (SPEC §7c). The modes are the paper's training modes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import torch
from torch import nn
from torch.nn import functional as F

from ciderlab.applecider.astrominn import AstroMiNN, AstroMiNNConfig
from ciderlab.applecider.photometry_transformer import (PhotometryTransformer,
                                                    PhotometryTransformerConfig)
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig

# Mode -> the inputs it reads. "ztf" is everything an alert carries; "all" adds spectra.
MODES = {
    "photo": ("photometry",),
    "image": ("image",),
    "meta": ("metadata",),
    "ztf": ("photometry", "image", "metadata"),
    "all": ("photometry", "image", "metadata", "spectra"),
}


@dataclass
class FusionConfig:
    mode: str = "ztf"
    n_classes: int = 5
    projection_dim: int = 64   # authors' code: 5 or 64 per modality
    dropout: float = 0.1       # our choice, on the fused vector
    photometry: PhotometryTransformerConfig | None = None
    astrominn: AstroMiNNConfig | None = None
    spectranet: SpectraNetConfig | None = None

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; known: {', '.join(MODES)}")
        # Sub-configs arrive as dicts when a checkpoint is read back.
        for name, cls in (("photometry", PhotometryTransformerConfig),
                          ("astrominn", AstroMiNNConfig), ("spectranet", SpectraNetConfig)):
            if isinstance(getattr(self, name), dict):
                setattr(self, name, cls(**getattr(self, name)))
        inputs = MODES[self.mode]
        needs = {"photometry": "photometry" in inputs,
                 "astrominn": "image" in inputs or "metadata" in inputs,
                 "spectranet": "spectra" in inputs}
        for name, needed in needs.items():
            if needed and getattr(self, name) is None:
                raise ValueError(f"mode {self.mode!r} needs a {name} config")
            if not needed:
                setattr(self, name, None)
        if self.astrominn is not None:
            if self.astrominn.use_image != ("image" in inputs):
                raise ValueError(f"mode {self.mode!r}: astrominn.use_image must be "
                                 f"{'image' in inputs}; build the config with fusion_config()")
            if bool(self.astrominn.tower_sizes) != ("metadata" in inputs):
                raise ValueError(f"mode {self.mode!r}: astrominn.tower_sizes must be "
                                 f"{'set' if 'metadata' in inputs else 'empty'}; build the "
                                 f"config with fusion_config()")

    def to_dict(self) -> dict:
        return asdict(self)


def fusion_config(mode: str, n_classes: int, photometry: PhotometryTransformerConfig,
                  astrominn: AstroMiNNConfig, spectranet: SpectraNetConfig | None = None,
                  **options) -> FusionConfig:
    """A FusionConfig for ``mode`` from full encoder configs: each trimmed to what the mode reads.

    ``astrominn`` should hold the image tower and every metadata tower; the mode keeps the image
    tower (image), the metadata towers (meta) or both (ztf, all). All heads get ``n_classes``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    inputs = MODES[mode]
    uses_astrominn = "image" in inputs or "metadata" in inputs
    return FusionConfig(
        mode=mode, n_classes=n_classes,
        photometry=replace(photometry, n_classes=n_classes) if "photometry" in inputs else None,
        astrominn=replace(astrominn, n_classes=n_classes, use_image="image" in inputs,
                          tower_sizes=astrominn.tower_sizes if "metadata" in inputs else {})
        if uses_astrominn else None,
        spectranet=replace(spectranet, n_outputs=n_classes, head="classifier")
        if "spectra" in inputs and spectranet is not None else None,
        **options)


def spectranet_features(model: SpectraNet, flux: torch.Tensor) -> torch.Tensor:
    """SpectraNet's penultimate features: (B, L) flux -> (B, hidden), before the last Linear."""
    x = model.stages(flux.unsqueeze(1))  # (B, C_last, L')
    return model.head[:-1](x.amax(dim=-1))  # (B, C_last) -> (B, hidden)


class FusionClassifier(nn.Module):
    config_class = FusionConfig  # a checkpoint's model_config rebuilds it

    def __init__(self, config: FusionConfig):
        super().__init__()
        self.config = config
        c = config
        self.photometry = PhotometryTransformer(c.photometry) if c.photometry else None
        self.astrominn = AstroMiNN(c.astrominn) if c.astrominn else None
        self.spectranet = SpectraNet(c.spectranet) if c.spectranet else None
        widths = {"photometry": c.photometry.d_model if c.photometry else 0,
                  "astrominn": c.astrominn.embedding_dim if c.astrominn else 0,
                  "spectra": c.spectranet.hidden if c.spectranet else 0}
        self.projections = nn.ModuleDict({name: nn.Linear(width, c.projection_dim)
                                          for name, width in widths.items() if width})
        self.dropout = nn.Dropout(c.dropout)
        self.classifier = nn.Linear(c.projection_dim * len(self.projections), c.n_classes)

    def forward(self, batch: dict) -> dict:
        """Inputs by name -> {"logits": (B, K), "routing": (B, E) or None, "embeddings": {...}}.

        ``batch`` holds what the mode reads: ``events`` (B, T, C) and ``padding`` (B, T);
        ``cutouts`` (B, 3, 63, 63); ``metadata`` {tower: (B, F)}; ``spectra`` (B, L) with
        ``has_spectrum`` (B,) bool (a source without a spectrum gets a zero spectra embedding).
        """
        embeddings, present, routing = {}, {}, None
        if self.photometry is not None:
            embeddings["photometry"] = self.photometry(batch["events"],
                                                       batch["padding"])["embedding"]
        if self.astrominn is not None:
            out = self.astrominn(batch.get("cutouts"), batch.get("metadata"))
            embeddings["astrominn"], routing = out["embedding"], out["routing"]
        if self.spectranet is not None:
            embeddings["spectra"] = spectranet_features(self.spectranet, batch["spectra"])
            present["spectra"] = batch["has_spectrum"].float().unsqueeze(-1)  # (B, 1)
        fused = []
        for name, embedding in embeddings.items():
            z = F.normalize(self.projections[name](embedding), dim=-1)  # (B, P)
            fused.append(z * present[name] if name in present else z)
        x = self.dropout(torch.cat(fused, dim=-1))  # (B, n_modalities * P)
        return {"logits": self.classifier(x), "routing": routing, "embeddings": embeddings}
