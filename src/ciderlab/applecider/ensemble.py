"""One AppleCiDEr mode as users run it: its cross-validation fold models averaged, each with the
scalers of its own training fold, on *unscaled* alert inputs.

``train_multimodal`` saves one checkpoint per (mode, fold), each with the event and metadata
scalers fitted on that fold's training alerts. ``AlertEnsemble`` holds a mode's fold models and
applies each fold's scaling inside ``forward``, so the one module is what ``ciderlab
classify-alerts`` runs and what ``ciderlab export --alerts`` writes to ONNX: a broker feeds it
the same unscaled arrays (events, padding, cutouts, metadata with NaN where missing) and gets
the same probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ciderlab.applecider.alerts.metadata import METADATA_FIELDS, TOWERS
from ciderlab.applecider.fusion import MODES, FusionClassifier
from ciderlab.applecider.inputs import N_SCALED, AlertInputs
from ciderlab.errors import InputError

# Modes in the order ciderlab reports them: each modality alone, then the fused one.
REPORT_ORDER = ("photo", "image", "meta", "ztf", "all")
FUSED_MODE = "ztf"  # everything an alert carries, fused (the paper's multimodal answer)


class FoldScaling(nn.Module):
    """One fold's input scaling, as ``inputs.fold_tensors`` applies it, in torch.

    Events: the first N_SCALED channels standardised, padded positions zero. Metadata: each
    field ``(x - centre) / scale``, 0 where missing (NaN or infinite), followed by its missing
    mask, gathered per tower in ``tower_columns`` order.
    """

    def __init__(self, inputs: dict, towers: list[str]):
        super().__init__()
        events, metadata = inputs["event_scaler"], inputs["metadata_scaler"]
        self.register_buffer("event_mean", torch.tensor(events["mean"], dtype=torch.float32))
        self.register_buffer("event_std", torch.tensor(events["std"], dtype=torch.float32))
        fields = list(METADATA_FIELDS)
        absent = [f for t in towers for f in TOWERS[t] if f not in metadata["fields"]]
        if absent:
            raise InputError(f"checkpoint: its metadata scaler lacks {sorted(set(absent))}")
        self.register_buffer("centre", torch.tensor(
            [metadata["center"].get(f, 0.0) for f in fields], dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(
            [metadata["scale"].get(f, 1.0) for f in fields], dtype=torch.float64))
        self.towers = list(towers)
        position = {f: k for k, f in enumerate(fields)}
        for tower in self.towers:
            self.register_buffer(f"columns_{tower}", torch.tensor(
                [position[f] for f in TOWERS[tower]], dtype=torch.long))

    def events(self, events: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        scaled = (events[..., :N_SCALED] - self.event_mean) / self.event_std  # (B, T, 4)
        out = torch.cat([scaled, events[..., N_SCALED:]], dim=-1)  # (B, T, 8)
        return out.masked_fill(padding.unsqueeze(-1), 0.0)

    def metadata(self, values: torch.Tensor) -> dict[str, torch.Tensor]:
        """(B, len(METADATA_FIELDS)) unscaled values, NaN where missing -> {tower: (B, 2 F)}."""
        values = values.to(torch.float64)
        missing = ~torch.isfinite(values)
        scaled = torch.where(missing, torch.zeros_like(values),
                             (values - self.centre) / self.scale)  # float64, as numpy scales
        towers = {}
        for tower in self.towers:
            columns = getattr(self, f"columns_{tower}")
            towers[tower] = torch.cat([scaled[:, columns], missing[:, columns].to(torch.float64)],
                                      dim=1).to(torch.float32)
        return towers


class AlertEnsemble(nn.Module):
    """A mode's fold models on unscaled inputs: the mean of their class probabilities.

    ``forward(events, padding, cutouts, metadata)`` takes ``events`` (B, T, 8) unscaled
    EVENT_CHANNELS, ``padding`` (B, T) bool, ``cutouts`` (B, 3, 63, 63) and ``metadata``
    (B, len(METADATA_FIELDS)) float64 in METADATA_FIELDS order, NaN where missing (float64,
    as the tables hold them: coordinates keep their digits); returns the
    probabilities (B, K), averaged over the folds.
    """

    def __init__(self, models: list[FusionClassifier], payloads: list[dict]):
        super().__init__()
        if not models:
            raise InputError("an ensemble needs at least one fold model")
        self.mode = models[0].config.mode
        self.classes = list(payloads[0]["classes"])
        self.towers = list(payloads[0]["inputs"]["towers"])
        self.max_events = int(payloads[0]["inputs"]["max_events"])
        self.include_limits = bool(payloads[0]["inputs"]["include_limits"])
        for payload in payloads[1:]:
            if list(payload["classes"]) != self.classes:
                raise InputError(f"mode {self.mode}: its fold models disagree on the classes "
                                 f"({payload['classes']} vs {self.classes}); retrain them")
        self.payloads = list(payloads)  # each fold checkpoint's description
        self.models = nn.ModuleList(models)
        self.scaling = nn.ModuleList(FoldScaling(p["inputs"], self.towers) for p in payloads)
        self.inputs = MODES[self.mode]

    def forward(self, events, padding, cutouts, metadata):
        probabilities = []
        for model, scaling in zip(self.models, self.scaling):
            batch = {"cutouts": cutouts}
            if "photometry" in self.inputs:
                batch["events"], batch["padding"] = scaling.events(events, padding), padding
            if "metadata" in self.inputs:
                batch["metadata"] = scaling.metadata(metadata)
            probabilities.append(torch.softmax(model(batch)["logits"], dim=-1))
        return torch.stack(probabilities).mean(dim=0)  # (B, K)


def ensemble_arrays(inputs: AlertInputs) -> tuple[np.ndarray, ...]:
    """``AlertEnsemble``'s four inputs for the alerts of ``inputs`` (unscaled, as assembled)."""
    metadata = np.array(inputs.metadata.reindex(columns=list(METADATA_FIELDS)), np.float64)
    return (inputs.events, inputs.padding, inputs.cutouts, metadata)


@torch.no_grad()
def ensemble_probabilities(ensemble: AlertEnsemble, arrays: tuple, batch_size: int = 128):
    """Probabilities (N, K) of ``ensemble`` on ``ensemble_arrays`` output, in batches."""
    ensemble.eval()
    events, padding, cutouts, metadata = arrays
    out = []
    for start in range(0, len(events), batch_size):
        part = slice(start, start + batch_size)
        length = max(int((~padding[part]).sum(axis=1).max(initial=1)), 1)  # padding is trailing
        out.append(ensemble(torch.from_numpy(events[part, :length]),
                            torch.from_numpy(padding[part, :length]),
                            torch.from_numpy(cutouts[part]),
                            torch.from_numpy(metadata[part])).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(ensemble.classes)), np.float32)


@dataclass
class AlertModels:
    """Every mode's ensemble found in a models folder, in REPORT_ORDER."""

    ensembles: dict[str, AlertEnsemble]
    folder: Path

    @property
    def classes(self) -> list[str]:
        return next(iter(self.ensembles.values())).classes

    @property
    def max_events(self) -> int:
        return next(iter(self.ensembles.values())).max_events

    @property
    def include_limits(self) -> bool:
        return next(iter(self.ensembles.values())).include_limits


def load_alert_models(folder: str | Path, modes: tuple[str, ...] | None = None) -> AlertModels:
    """The ``<mode>_fold<k>.pt`` checkpoints ``train_multimodal`` wrote, one ensemble per mode.

    Raises InputError when the folder holds none, or when the modes disagree on the classes
    or the event budget (checkpoints of two different runs mixed in one folder).
    """
    from ciderlab.checkpoint import load_checkpoint

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no AppleCiDEr models folder; run `dvc repro "
                         f"train_multimodal` (it writes results/train_multimodal/models) or pass "
                         f"--models")
    ensembles = {}
    for mode in REPORT_ORDER:
        if modes is not None and mode not in modes:
            continue
        files = sorted(folder.glob(f"{mode}_fold*.pt"),
                       key=lambda p: int(p.stem.rsplit("fold", 1)[1]))
        if not files:
            continue
        loaded = [load_checkpoint(f, model_class=FusionClassifier) for f in files]
        ensembles[mode] = AlertEnsemble([m for m, _ in loaded], [p for _, p in loaded]).eval()
    if not ensembles:
        raise InputError(f"{folder}: no <mode>_fold<k>.pt checkpoints"
                         + (f" of modes {list(modes)}" if modes else "")
                         + "; run `dvc repro train_multimodal`")
    first = next(iter(ensembles.values()))
    for mode, ensemble in ensembles.items():
        if (ensemble.classes, ensemble.max_events, ensemble.include_limits) != \
                (first.classes, first.max_events, first.include_limits):
            raise InputError(f"{folder}: mode {mode}'s models were trained on other classes or "
                             f"inputs than mode {first.mode}'s; the folder mixes two runs")
    return AlertModels(ensembles, folder)
