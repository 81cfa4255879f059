"""AppleCiDEr training: stratified k-fold cross-validation by object, one model per mode and fold.

Every labelled object is a test object once; its alerts never sit in two folds. Each (mode,
fold) run is seeded and goes through the one training loop (``training.loop.fit``) with
class-weighted cross-entropy (after optional masked-event pre-training of the photometry
encoder), resumable from a per-run state file written atomically after every epoch. The
result: per-alert predictions (full histories, and for ``early_modes`` histories cut at
``early_days``), the router's weights per alert, macro-F1 per mode over folds, and every
trained model as a checkpoint (``save_fold_model``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F
from tqdm import tqdm

from ciderlab.applecider.alerts.metadata import TOWERS
from ciderlab.applecider.alerts.tables import AlertTables
from ciderlab.data.labels import UNLABELLED
from ciderlab.data.split import assign_folds
from ciderlab.applecider.scores import issued_by, multimodal_metrics
from ciderlab.checkpoint import save_checkpoint
from ciderlab.applecider.astrominn import AstroMiNNConfig
from ciderlab.applecider.fusion import MODES, FusionClassifier, fusion_config
from ciderlab.applecider.photometry_transformer import (PhotometryTransformerConfig,
                                                    masked_event_loss)
from ciderlab.params import section_config
from ciderlab.provenance import fingerprint
from ciderlab.training.heads import Objective
from ciderlab.training.loop import TrainConfig, fit
from ciderlab.applecider.baselines import BASELINES, baseline_probabilities
from ciderlab.applecider.inputs import (assemble_alerts, fold_tensors, object_labels,
                                        take, tower_sizes, trained_classes)

SPECTRA_SKIPPED = "no spectra for these alerts (the alert sample has no paired spectra)"


@dataclass
class MultimodalConfig:
    """The ``train_multimodal`` section of params.yaml, which holds every value."""

    modes: tuple[str, ...]
    n_folds: int
    salt: str
    seed: int
    epochs: int
    pretrain_epochs: int
    mask_fraction: float
    batch_size: int
    lr: float
    weight_decay: float
    warmup_epochs: int
    restart_epochs: int | None  # None: a constant learning rate
    use_ema: bool
    grad_clip: float
    max_events: int
    include_limits: bool
    early_days: tuple[float, ...]
    early_modes: tuple[str, ...]
    towers: tuple[str, ...]
    projection_dim: int
    fusion_dropout: float
    photometry: dict
    astrominn: dict

    def __post_init__(self):
        for name in ("modes", "early_days", "early_modes", "towers"):
            setattr(self, name, tuple(getattr(self, name)))
        unknown = [m for m in (*self.modes, *self.early_modes) if m not in MODES]
        if unknown:
            raise ValueError(f"train_multimodal: unknown modes {unknown}; known: "
                             f"{', '.join(MODES)}")
        bad = [t for t in self.towers if t not in TOWERS]
        if bad:
            raise ValueError(f"train_multimodal.towers: unknown {bad}; known: {', '.join(TOWERS)}")

    @classmethod
    def from_params(cls, section: dict) -> "MultimodalConfig":
        return section_config(cls, section, "train_multimodal")

    def recipe(self, pretrain_epochs: int) -> TrainConfig:
        """The training loop's recipe: ``pretrain_epochs`` + ``epochs``, no validation set."""
        return TrainConfig.from_params({
            "seed": self.seed, "lr": self.lr, "weight_decay": self.weight_decay,
            "batch_size": self.batch_size, "max_epochs": pretrain_epochs + self.epochs,
            "warmup_epochs": self.warmup_epochs, "restart_epochs": self.restart_epochs,
            "use_ema": self.use_ema, "grad_clip": self.grad_clip})


@dataclass
class MultimodalResult:
    predictions: pd.DataFrame  # one row per (mode, test alert, history cut)
    routing: pd.DataFrame      # one row per (mode with AstroMiNN, test alert), full histories
    metrics: dict
    classes: list[str]
    seconds_per_mode: dict     # wall time of each mode's runs (not a metric: it varies)


def build_model_config(mode: str, classes: list[str], cfg: MultimodalConfig):
    """The FusionConfig of one mode from the params section."""
    photometry = PhotometryTransformerConfig(**cfg.photometry,
                                             pretrain_head=cfg.pretrain_epochs > 0)
    astrominn = AstroMiNNConfig(**cfg.astrominn, tower_sizes=tower_sizes(cfg.towers))
    return fusion_config(mode, len(classes), photometry, astrominn,
                         projection_dim=cfg.projection_dim, dropout=cfg.fusion_dropout)


def class_weights(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Balanced weights N / (K n_k) of the training labels (a class absent from them gets 0)."""
    counts = torch.bincount(labels, minlength=n_classes).float()
    return torch.where(counts > 0, len(labels) / (n_classes * counts.clamp_min(1)), 0.0)


class AlertBatches:
    """Training alerts for the training loop: every row of ``batch`` (``fold_tensors``)."""

    def __init__(self, batch: dict):
        self.data = batch

    def __len__(self) -> int:
        return len(self.data["labels"])

    def batch(self, rows: torch.Tensor, generator: torch.Generator):
        part = take(self.data, rows)
        return part, part["labels"]


def objective(model: FusionClassifier, labels: torch.Tensor, n_pretrain: int,
              mask_fraction: float) -> Objective:
    """``n_pretrain`` epochs of masked-event loss on the photometry encoder (labels unused),
    then class-weighted cross-entropy; no validation score (a fixed number of epochs)."""
    weights = class_weights(labels, model.config.n_classes)

    def loss(network, inputs, target, epoch, generator):
        if epoch < n_pretrain:
            return masked_event_loss(network.photometry, inputs["events"], inputs["padding"],
                                     generator, mask_fraction)
        return F.cross_entropy(network(inputs)["logits"], target, weight=weights)

    return Objective(loss, phase=lambda epoch: "pretrain" if epoch < n_pretrain else "train")


def fit_fold(model: FusionClassifier, batch: dict, cfg: MultimodalConfig,
             state_path: Path | None = None, run_id: str = "") -> list[dict]:
    """Train ``model`` in place on every row of ``batch``; return the per-epoch history.

    ``pretrain_epochs`` of masked-event loss come first when the mode reads photometry. A
    rerun with the same ``run_id`` resumes after the last completed epoch of ``state_path``.
    """
    n_pretrain = cfg.pretrain_epochs if model.photometry is not None else 0
    result = fit(model, AlertBatches(batch), cfg.recipe(n_pretrain),
                 objective(model, batch["labels"], n_pretrain, cfg.mask_fraction),
                 state_path=state_path, run_id=run_id, progress=False)
    model.load_state_dict(result["state_dict"])
    return result["history"]


def save_fold_model(path: Path, model: FusionClassifier, classes: list[str], fold: int,
                    scalers: tuple, cfg: MultimodalConfig, data_id: str, run_id: str,
                    stamps: dict | None = None) -> None:
    """The checkpoint of one (mode, fold) model, with what rebuilds its inputs: the fold's
    event and metadata scalers, the towers, the event budget and how the stamps were cut
    (``stamps``: ``stamp_size``, ``stamp_normalisation`` of params.yaml ``alerts``)."""
    event_scaler, metadata_scaler = scalers
    save_checkpoint(path, model, classes=list(classes), fold=fold, recipe=asdict(cfg),
                    inputs={"max_events": cfg.max_events, "include_limits": cfg.include_limits,
                            "towers": list(cfg.towers), "event_scaler": event_scaler.to_dict(),
                            "metadata_scaler": metadata_scaler.to_dict(), **(stamps or {})},
                    data_hash=data_id, run_id=run_id)


@torch.no_grad()
def predict(model: FusionClassifier, batch: dict, batch_size: int = 256):
    """Class probabilities (N, K) and router weights (N, E) or None, in eval mode."""
    model.eval()
    proba, routing = [], []
    for start in range(0, len(batch["labels"]), batch_size):
        out = model(take(batch, slice(start, start + batch_size)))
        proba.append(torch.softmax(out["logits"], dim=1))
        if out["routing"] is not None:
            routing.append(out["routing"])
    return torch.cat(proba).numpy(), (torch.cat(routing).numpy() if routing else None)


def _prediction_rows(alerts: pd.DataFrame, proba: np.ndarray, classes: list[str], mode: str,
                     fold: int, history_days: float) -> pd.DataFrame:
    table = alerts[["objectId", "candid", "days_since_first_detection"]].copy()
    table.insert(2, "fold", fold)
    table.insert(3, "mode", mode)
    table.insert(4, "history_days", history_days)
    table["true"] = alerts["label"].to_numpy()
    table["predicted"] = np.asarray(classes)[proba.argmax(axis=1)]
    for k, name in enumerate(classes):
        table[f"p_{name}"] = proba[:, k]
    return table


def train_multimodal(tables: AlertTables, cfg: MultimodalConfig, min_objects_per_class: int,
                     state_dir: Path | None = None, progress: bool = True,
                     models_dir: Path | None = None,
                     stamps: dict | None = None) -> MultimodalResult:
    """Cross-validate every mode of ``cfg.modes`` on the labelled alerts of ``tables``.

    Classes: the alert classes with at least ``min_objects_per_class`` labelled objects.
    A mode that needs spectra is skipped (listed in ``metrics["skipped_modes"]``) when the
    alerts have none. State files go to ``state_dir`` and are removed once all runs finish;
    each trained model goes to ``models_dir/<mode>_fold<k>.pt``, recording ``stamps`` (how
    the alert tables cut the stamps) with its inputs.
    """
    classes = trained_classes(tables.metadata, min_objects_per_class)
    inputs = assemble_alerts(tables, classes, cfg.max_events, cfg.include_limits)
    objects = object_labels(tables.metadata)
    folds = assign_folds(objects[objects["label"].isin(classes)], cfg.n_folds, cfg.salt)
    fold_of = inputs.alerts["objectId"].map(dict(zip(folds["object_id"], folds["fold"])))
    fold_of = fold_of.to_numpy(int)
    early = {days: assemble_alerts(tables, classes, cfg.max_events, cfg.include_limits,
                                   history_days=days) for days in cfg.early_days}
    for days, early_inputs in early.items():  # the same alerts in the same order, cut or not
        if not early_inputs.alerts["candid"].equals(inputs.alerts["candid"]):
            raise RuntimeError(f"history cut at {days} days changed the alerts selected")
    data_id = fingerprint(inputs.alerts[["candid", "label"]].to_numpy().tolist())
    predictions, routing, skipped, states = [], [], {}, []
    runs = [(m, f) for m in cfg.modes if "spectra" not in MODES[m] for f in range(cfg.n_folds)]
    skipped = {m: SPECTRA_SKIPPED for m in cfg.modes if "spectra" in MODES[m]}
    seconds = {}
    for mode, fold in tqdm(runs, desc="train_multimodal", unit="run", disable=not progress):
        started = time.perf_counter()
        train_rows, test_rows = np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)
        batch, scalers = fold_tensors(inputs, train_rows, cfg.towers)
        model_config = build_model_config(mode, classes, cfg)
        run_id = fingerprint(model_config.to_dict(), asdict(cfg), data_id, fold)
        state = None if state_dir is None else Path(state_dir) / f"{mode}_fold{fold}.pt"
        states.append(state)
        # The seed fixes initial weights and dropout; the caller's global RNG is restored.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed + 1000 * fold)
            model = FusionClassifier(model_config)
            fit_fold(model, take(batch, train_rows), cfg, state, run_id)
        if models_dir is not None:
            save_fold_model(Path(models_dir) / f"{mode}_fold{fold}.pt", model, classes, fold,
                            scalers, cfg, data_id, run_id, stamps)
        proba, weights = predict(model, take(batch, test_rows))
        test_alerts = inputs.alerts.iloc[test_rows]
        predictions.append(_prediction_rows(test_alerts, proba, classes, mode, fold, np.nan))
        if weights is not None:
            table = test_alerts[["objectId", "candid"]].assign(fold=fold, mode=mode,
                                                              true=test_alerts["label"])
            for e in range(weights.shape[1]):
                table[f"expert_{e}"] = weights[:, e]
            routing.append(table)
        if mode in cfg.early_modes:
            for days, early_inputs in early.items():
                early_batch, _ = fold_tensors(early_inputs, train_rows, cfg.towers, scalers)
                proba, _ = predict(model, take(early_batch, test_rows))
                predictions.append(_prediction_rows(early_inputs.alerts.iloc[test_rows], proba,
                                                    classes, mode, fold, float(days)))
        seconds[mode] = seconds.get(mode, 0.0) + time.perf_counter() - started
    for state in states:
        if state is not None:
            state.unlink(missing_ok=True)
    for fold in range(cfg.n_folds):  # chance and a simple model on the same folds
        train_rows, test_rows = np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)
        batch, _ = fold_tensors(inputs, train_rows, ("all",))
        features, labels = batch["metadata"]["all"].numpy(), batch["labels"].numpy()
        for name in BASELINES:
            proba = baseline_probabilities(name, features[train_rows], labels[train_rows],
                                           features[test_rows], len(classes), cfg.seed + fold)
            predictions.append(_prediction_rows(inputs.alerts.iloc[test_rows], proba, classes,
                                                name, fold, np.nan))
    predictions = pd.concat(predictions, ignore_index=True)
    routing = (pd.concat(routing, ignore_index=True) if routing
               else pd.DataFrame(columns=["objectId", "candid", "fold", "mode", "true"]))
    labelled = tables.metadata[tables.metadata["label"] != UNLABELLED]
    conflicting = int((labelled.groupby("objectId")["label"].nunique() > 1).sum())
    metrics = multimodal_metrics(predictions, classes, folds, skipped)
    metrics["baselines"] = list(BASELINES)
    metrics["early_issued"] = issued_by(predictions, classes, cfg.early_days)
    metrics["objects_left_out_for_conflicting_labels"] = conflicting
    return MultimodalResult(predictions, routing, metrics, classes, seconds)
