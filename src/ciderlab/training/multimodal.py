"""AppleCiDEr training: stratified k-fold cross-validation by object, one model per mode and fold.

Every labelled object is a test object once; its alerts never sit in two folds. Each (mode,
fold) run is seeded, trains with class-weighted cross-entropy and AdamW (after optional
masked-event pre-training of the photometry encoder), and is resumable from a per-run state
file written atomically after every epoch. The result: per-alert predictions (full histories,
and for ``early_modes`` histories cut at ``early_days``), the router's weights per alert, and
macro-F1 per mode over folds.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F
from tqdm import tqdm

from ciderlab.alerts.metadata import TOWERS
from ciderlab.alerts.tables import AlertTables
from ciderlab.data.labels import UNLABELLED
from ciderlab.data.split import assign_folds
from ciderlab.evaluation.metrics import classification_metrics, spread
from ciderlab.io import atomic_path
from ciderlab.models.astrominn import AstroMiNNConfig
from ciderlab.models.fusion import MODES, FusionClassifier, fusion_config
from ciderlab.models.photometry_transformer import (PhotometryTransformerConfig,
                                                    masked_event_loss)
from ciderlab.provenance import fingerprint
from ciderlab.training.loop import load_resume_state, rng_state, set_rng_state
from ciderlab.training.multimodal_baselines import BASELINES, baseline_probabilities
from ciderlab.training.multimodal_data import (assemble_alerts, fold_tensors, object_labels,
                                               take, tower_sizes, trained_classes)

SPECTRA_SKIPPED = "no spectra for these alerts (the alert sample has no paired spectra)"


@dataclass
class MultimodalConfig:
    """The ``train_multimodal`` section of params.yaml."""

    modes: tuple[str, ...] = ("photo", "image", "meta", "ztf", "all")
    n_folds: int = 5
    salt: str = "ciderlab-alerts-v1"
    seed: int = 42
    epochs: int = 20
    pretrain_epochs: int = 0
    mask_fraction: float = 0.3
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    max_events: int = 64
    include_limits: bool = True
    early_days: tuple[float, ...] = (1, 3, 5, 10, 30)
    early_modes: tuple[str, ...] = ("photo",)
    towers: tuple[str, ...] = tuple(TOWERS)
    projection_dim: int = 32
    fusion_dropout: float = 0.1
    photometry: dict = field(default_factory=dict)
    astrominn: dict = field(default_factory=dict)

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
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in section.items() if k in names})


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


def fit_fold(model: FusionClassifier, batch: dict, cfg: MultimodalConfig,
             state_path: Path | None = None, run_id: str = "") -> list[dict]:
    """Train ``model`` in place on every row of ``batch``; return the per-epoch history.

    ``pretrain_epochs`` of masked-event loss on the photometry encoder (labels unused) come
    first when the mode reads photometry, then ``epochs`` of class-weighted cross-entropy.
    After each epoch the whole state goes to ``state_path`` atomically; a rerun with the same
    ``run_id`` resumes after the last completed epoch (a finished run is not trained again).
    """
    generator = torch.Generator().manual_seed(cfg.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_pretrain = cfg.pretrain_epochs if model.photometry is not None else 0
    weights = class_weights(batch["labels"], model.config.n_classes)
    epoch, history = 0, []
    saved = load_resume_state(state_path, run_id)
    if saved is not None:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        generator.set_state(saved["generator"])
        set_rng_state(saved["rng"], torch.device("cpu"))
        epoch, history = saved["epoch"], saved["history"]
    n_rows = len(batch["labels"])
    for epoch in range(epoch, n_pretrain + cfg.epochs):
        model.train()
        pretraining = epoch < n_pretrain
        order = torch.randperm(n_rows, generator=generator)
        total = 0.0
        for start in range(0, n_rows, cfg.batch_size):
            part = take(batch, order[start:start + cfg.batch_size])
            if pretraining:
                loss = masked_event_loss(model.photometry, part["events"], part["padding"],
                                         generator, cfg.mask_fraction)
            else:
                loss = F.cross_entropy(model(part)["logits"], part["labels"], weight=weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            total += loss.item() * len(part["labels"])
        history.append({"epoch": epoch + 1, "phase": "pretrain" if pretraining else "train",
                        "loss": total / n_rows})
        if state_path is not None:
            with atomic_path(state_path) as tmp:
                torch.save({"run_id": run_id, "epoch": epoch + 1, "history": history,
                            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "generator": generator.get_state(),
                            "rng": rng_state(torch.device("cpu"))}, tmp)
    return history


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
                     state_dir: Path | None = None, progress: bool = True) -> MultimodalResult:
    """Cross-validate every mode of ``cfg.modes`` on the labelled alerts of ``tables``.

    Classes: the alert classes with at least ``min_objects_per_class`` labelled objects.
    A mode that needs spectra is skipped (listed in ``metrics["skipped_modes"]``) when the
    alerts have none. State files go to ``state_dir`` and are removed once all runs finish.
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


def issued_by(predictions: pd.DataFrame, classes: list[str], days: tuple[float, ...]) -> dict:
    """Every mode (and baseline) scored on the alerts issued within N days of the object's
    first detection in its alert history: the same alerts for every mode at each date.

    Unlike the history cut of ``early_modes`` (photometry only, every alert), nothing is
    hidden from an alert: its light curve, metadata and stamps are all those of its own time,
    so every mode can be cut at the same dates. Macro-F1 runs over every trained class (one
    with no alert issued yet scores zero); folds without such an alert are left out.
    Returns mode -> days (as str) -> {"macro_f1": spread over folds, "n_alerts"}.
    """
    index = {c: k for k, c in enumerate(classes)}
    columns = [f"p_{c}" for c in classes]
    out = {}
    for mode, rows in predictions[predictions["history_days"].isna()].groupby("mode", sort=False):
        out[mode] = {}
        for cut in days:
            part = rows[rows["days_since_first_detection"] <= cut]
            scores = [classification_metrics(r["true"].map(index).to_numpy(),
                                             r[columns].to_numpy(), classes, classes)["macro_f1"]
                      for _, r in part.groupby("fold")]
            if scores:
                out[mode][f"{cut:g}"] = {"macro_f1": spread(scores), "n_alerts": int(len(part))}
    return out


def multimodal_metrics(predictions: pd.DataFrame, classes: list[str], folds: pd.DataFrame,
                       skipped: dict) -> dict:
    """Macro-F1 and accuracy per mode over folds (mean, std, values), pooled reports, early cuts."""
    index = {c: k for k, c in enumerate(classes)}
    columns = [f"p_{c}" for c in classes]

    def score(rows: pd.DataFrame) -> dict:  # every class trained on is a headline class
        return classification_metrics(rows["true"].map(index).to_numpy(),
                                      rows[columns].to_numpy(), classes, classes)

    modes, early = {}, {}
    for mode, rows in predictions.groupby("mode", sort=False):
        full = rows[rows["history_days"].isna()]
        per_fold = [score(r) for _, r in full.groupby("fold")]
        pooled = score(full)
        modes[mode] = {"macro_f1": spread([m["macro_f1"] for m in per_fold]),
                       "accuracy": spread([m["accuracy"] for m in per_fold]),
                       "n_alerts": int(len(full)), "pooled": pooled}
        cut = rows[rows["history_days"].notna()]
        if len(cut):
            early[mode] = {f"{days:g}": {"macro_f1": spread([score(r)["macro_f1"]
                                                             for _, r in part.groupby("fold")])}
                           for days, part in cut.groupby("history_days")}
    counts = folds["label"].value_counts()
    return {"classes": classes, "objects_per_class": {c: int(counts.get(c, 0)) for c in classes},
            "alerts_per_class": predictions[predictions["history_days"].isna()]
            .drop_duplicates("candid")["true"].value_counts().reindex(classes, fill_value=0)
            .astype(int).to_dict(),
            "n_folds": int(folds["fold"].nunique()), "modes": modes, "early": early,
            "skipped_modes": skipped}
