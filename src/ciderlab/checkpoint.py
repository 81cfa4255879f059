"""Self-describing model checkpoints, one format for every model ciderlab trains (SpectraNet's
heads, GalSpecNet, AppleCiDEr's fusion models): weights, the model's class and config, and what
made it (recipe, classes, preprocessing, split and data hashes). A notebook or a command
rebuilds the model from the file alone."""

from __future__ import annotations

from pathlib import Path

import torch

from ciderlab import __version__
from ciderlab.io import atomic_path
from ciderlab.spectranet.model import SpectraNet

# The layout of the payload below. Raise it whenever a key is renamed or its meaning changes,
# so an old file is refused with a message instead of rebuilding a subtly different model.
# 2: the model's class is recorded (format 1 held SpectraNet only).
CHECKPOINT_FORMAT = 2
REQUIRED_KEYS = ("checkpoint_format", "state_dict", "model_class", "model_config",
                 "ciderlab_version")


def save_checkpoint(path: str | Path, model: torch.nn.Module, **describe) -> None:
    """Write ``model``'s weights, class and config, and any description (recipe, classes,
    split hash, ...). The model's class needs a ``config`` with ``to_dict()`` and a
    ``config_class`` that rebuilds it from that dict."""
    reserved = sorted(set(describe) & set(REQUIRED_KEYS))
    if reserved:
        raise ValueError(f"save_checkpoint writes {', '.join(reserved)} itself; "
                         "pass them under another name")
    payload = {"checkpoint_format": CHECKPOINT_FORMAT, "state_dict": model.state_dict(),
               "model_class": type(model).__name__, "model_config": model.config.to_dict(),
               "ciderlab_version": __version__, **describe}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def _read_payload(path: Path, map_location: str | torch.device = "cpu") -> dict:
    """The checkpoint's dictionary, or a ValueError saying why the file is not one."""
    try:
        payload = torch.load(path, map_location=map_location, weights_only=False)
    except OSError as error:
        if error.filename is not None:
            raise  # unreadable (permissions, a directory): the system's message says it best
        # No file named: torch's zip reader failing on a file cut short ("Invalid argument").
        raise ValueError(f"{path}: damaged or truncated checkpoint (torch.load failed: "
                         f"{error}); rerun the training stage that writes it") from error
    except Exception as error:  # torch raises several unrelated types for a foreign file
        raise ValueError(f"{path}: not a ciderlab checkpoint (torch.load failed: {error}); "
                         "pass the .pt file a training stage wrote") from error
    if not isinstance(payload, dict):
        raise ValueError(f"{path}: not a ciderlab checkpoint (holds a {type(payload).__name__}, "
                         "not a dictionary); pass the .pt file a training stage wrote")
    if "checkpoint_format" not in payload and "ciderlab_version" not in payload:
        raise ValueError(f"{path}: not a ciderlab checkpoint (no checkpoint_format or "
                         "ciderlab_version key); pass the .pt file a training stage wrote")
    found = payload.get("checkpoint_format")
    if found != CHECKPOINT_FORMAT:
        written_by = payload.get("ciderlab_version")
        raise ValueError(
            f"{path}: checkpoint format {found if found is not None else 'unrecorded'} "
            f"(written by ciderlab {written_by or 'of an unknown version'}), but ciderlab "
            f"{__version__} reads format {CHECKPOINT_FORMAT}; retrain (rerun the training "
            f"stage, e.g. `dvc repro`) or load it with "
            f"{f'ciderlab {written_by}' if written_by else 'the ciderlab that wrote it'}")
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise ValueError(f"{path}: damaged checkpoint (missing {', '.join(missing)}); retrain")
    return payload


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu",
                    model_class: type = SpectraNet) -> tuple[torch.nn.Module, dict]:
    """Rebuild the ``model_class`` model from a checkpoint; return it (eval mode) and the full
    description.

    The model is placed on ``map_location`` (``"cpu"``, ``"cuda:0"``, a torch.device) whatever
    device the checkpoint was saved from; the file is read onto the CPU first, so a device
    this machine lacks fails in ``Module.to``, not as an unreadable file.

    Raises FileNotFoundError for a missing file and ValueError, naming the file, for one that
    is not a ciderlab checkpoint or was written in another checkpoint format.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no checkpoint; run the training stage first")
    payload = _read_payload(path, "cpu")
    if payload["model_class"] != model_class.__name__:
        raise ValueError(f"{path}: holds a {payload['model_class']} model, not a "
                         f"{model_class.__name__}; pass the checkpoint of the model asked for")
    try:
        model = model_class(model_class.config_class(**payload["model_config"]))
        model.load_state_dict(payload["state_dict"])
    except (TypeError, RuntimeError) as error:
        raise ValueError(f"{path}: the weights do not fit the model config stored with them "
                         f"({error}); the file is damaged or was edited: retrain") from error
    model.to(map_location).eval()
    return model, payload
