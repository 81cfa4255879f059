"""Self-describing model checkpoints: a notebook rebuilds the model from the file alone."""

from __future__ import annotations

from pathlib import Path

import torch

from ciderlab import __version__
from ciderlab.io import atomic_path
from ciderlab.models.spectranet import SpectraNet, SpectraNetConfig


def save_checkpoint(path: str | Path, state_dict: dict, config: SpectraNetConfig, **describe) -> None:
    """Write weights, model config and any description (recipe, classes, split hash, ...)."""
    payload = {"state_dict": state_dict, "model_config": config.to_dict(),
               "ciderlab_version": __version__, **describe}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | Path, map_location: str = "cpu") -> tuple[SpectraNet, dict]:
    """Rebuild the model from a checkpoint; return it (eval mode) and the full description."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint; run the training stage first")
    payload = torch.load(path, map_location=map_location, weights_only=False)
    model = SpectraNet(SpectraNetConfig(**payload["model_config"]))
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, payload
