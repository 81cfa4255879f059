"""Self-describing model checkpoints: a notebook rebuilds the model from the file alone."""

from __future__ import annotations

import subprocess
from pathlib import Path

import torch

from . import __version__
from .io import atomic_path
from .model import SpectraNet, SpectraNetConfig


def git_revision(cwd: str | Path = ".") -> str:
    """The commit the code ran from ("unknown" outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


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
