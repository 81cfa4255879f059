"""Training runs built from params.yaml: one seed, several seeds, leave-one-object-out folds.

The CLI's training stages (``train_classifier``, ``train_redshift``, ``leave_one_out``,
``ablation``) are thin shells over these functions; each function takes arrays and configs
and returns results, so the tests drive them without files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ciderlab.evaluation.metrics import classification_metrics
from ciderlab.models.spectranet import SpectraNet, SpectraNetConfig
from ciderlab.provenance import fingerprint
from ciderlab.training.loop import (TrainConfig, classifier_objective, fit, predict, recipe_dict,
                    redshift_objective, to_tensor)


@dataclass
class TrainedModel:
    """A model holding its best weights, with what produced it."""

    model: SpectraNet
    model_config: SpectraNetConfig
    recipe: TrainConfig
    run_id: str
    history: list[dict]
    best_epoch: int
    best_score: float
    epochs_run: int


def class_targets(labels: pd.Series, classes: list[str]) -> torch.Tensor:
    """Integer class indices for a column of class names; unknown names are an error."""
    index = labels.map({c: k for k, c in enumerate(classes)})
    if index.isna().any():
        unknown = sorted(set(labels[index.isna()]))
        raise ValueError(f"labels not among the classes {classes}: {unknown}")
    return torch.as_tensor(index.to_numpy(dtype=np.int64, copy=True))


def train_one(head: str, flux: np.ndarray, target: torch.Tensor, train_rows: np.ndarray,
              val_rows: np.ndarray, model_config: SpectraNetConfig, cfg: TrainConfig,
              data_id: str, state_path: Path | None = None,
              progress: bool = True) -> TrainedModel:
    """Train a SpectraNet classifier (``head="classifier"``) or redshift model from scratch.

    ``flux`` (N, L) holds every spectrum; the rows select training and validation. The run is
    resumable from ``state_path``; ``data_id`` (e.g. the spectra file's checksum) joins the
    run's fingerprint so a state file of other data is never resumed.
    """
    if len(train_rows) == 0 or len(val_rows) == 0:
        raise ValueError("the training or validation set is empty")
    if head == "classifier":
        loss_fn, score_fn = classifier_objective(target[train_rows], model_config.n_outputs, cfg)
    else:
        loss_fn, score_fn = redshift_objective()
    torch.manual_seed(cfg.seed)
    model = SpectraNet(model_config)
    run_id = fingerprint(model_config.to_dict(), recipe_dict(cfg), data_id,
                         fingerprint(np.asarray(train_rows).tolist()))
    result = fit(model, to_tensor(flux[train_rows]), target[train_rows], to_tensor(flux[val_rows]),
                 target[val_rows], cfg, loss_fn, score_fn, state_path=state_path, run_id=run_id,
                 progress=progress)
    model.load_state_dict(result["state_dict"])
    model.eval()
    return TrainedModel(model, model_config, cfg, run_id, result["history"], result["best_epoch"],
                        result["best_score"], result["epochs_run"])


def classify(model: torch.nn.Module, flux_rest: np.ndarray) -> np.ndarray:
    """Class probabilities (N, K) for rest-frame spectra (N, L)."""
    return torch.softmax(predict(model, to_tensor(flux_rest)), dim=1).numpy()


SEED_SUMMARY_KEYS = ("accuracy", "macro_f1", "top3_accuracy", "macro_roc_auc")


def seed_summary(metrics_by_seed: dict[int, dict], classes: list[str]) -> dict:
    """Mean and standard deviation over seeds of the headline and per-class metrics.

    ``metrics_by_seed`` maps each seed to its ``classification_metrics`` on the same test
    spectra. The standard deviation is the sample one (ddof = 1); with one seed it is NaN.
    """
    if not metrics_by_seed:
        raise ValueError("no seeds to summarise")

    def stats(values):
        values = np.asarray(values, float)
        std = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
        return {"mean": float(np.mean(values)), "std": std, "values": values.tolist()}

    runs = list(metrics_by_seed.values())
    summary = {"seeds": list(metrics_by_seed)}
    for key in SEED_SUMMARY_KEYS:
        summary[key] = stats([m[key] for m in runs])
    if all("ia_vs_non_ia" in m for m in runs):
        summary["ia_vs_non_ia"] = {key: stats([m["ia_vs_non_ia"][key] for m in runs])
                                   for key in ("accuracy", "purity", "completeness")}
    summary["per_class"] = {
        name: {key: stats([m["per_class"][name][key] for m in runs])
               for key in ("precision", "recall", "f1")}
        for name in classes if runs[0]["per_class"][name]["support"] > 0}
    return summary


@dataclass(frozen=True)
class Fold:
    """One leave-one-object-out fold: every realisation of ``object_id`` held out."""

    object_id: str
    label: str
    train_rows: np.ndarray
    val_rows: np.ndarray
    test_rows: np.ndarray


def leave_one_out_folds(meta: pd.DataFrame, loo_classes: list[str],
                        n_realisations: int) -> list[Fold]:
    """One fold per object of ``loo_classes``, in a stable order.

    Training: the training split, plus every *other* object of the left-out classes whatever
    its split (the point of leave-one-out is to learn a rare class from all its other
    objects). Validation (early stopping): the validation split without the left-out classes,
    so no object of those classes is seen there. Test: the first ``n_realisations`` of each of
    the held-out object's spectra (training objects carry extra realisations; these keep every
    spectrum's weight equal, as in the test split).
    """
    meta = meta.reset_index(drop=True)
    missing = [c for c in loo_classes if c not in set(meta["label"])]
    if missing:
        raise ValueError(f"leave-one-out classes without any spectrum: {missing}")
    in_loo = meta["label"].isin(loo_classes).to_numpy()
    split = meta["split"].to_numpy()
    objects = (meta.loc[in_loo, ["object_id", "label"]].drop_duplicates()
               .sort_values(["label", "object_id"]))
    val_rows = np.flatnonzero((split == "val") & ~in_loo)
    folds = []
    for object_id, label in objects.itertuples(index=False):
        held = (meta["object_id"] == object_id).to_numpy()
        train = ((split == "train") | in_loo) & ~held
        test = held & (meta["realisation"].to_numpy() < n_realisations)
        folds.append(Fold(object_id, label, np.flatnonzero(train), val_rows, np.flatnonzero(test)))
    return folds


def run_leave_one_out(flux_rest: np.ndarray, meta: pd.DataFrame, classes: list[str],
                      loo_classes: list[str], n_realisations: int,
                      model_config: SpectraNetConfig, cfg: TrainConfig, data_id: str,
                      state_dir: Path | None = None, progress: bool = True) -> pd.DataFrame:
    """Train one classifier per fold; return one row per held-out object.

    Columns: object_id, label, split (of the object in the main split), n_spectra, n_correct,
    recall (fraction of its spectra given its class), top_prediction (the class it is given
    most often) and best_epoch.
    """
    target = class_targets(meta["label"], classes)
    folds = leave_one_out_folds(meta, loo_classes, n_realisations)
    rows = []
    for fold in tqdm(folds, desc="leave-one-out", unit="object", disable=not progress):
        state = None if state_dir is None else Path(state_dir) / f"loo_{fold.object_id}.pt"
        trained = train_one("classifier", flux_rest, target, fold.train_rows, fold.val_rows,
                            model_config, cfg, data_id, state_path=state, progress=False)
        predicted = classify(trained.model, flux_rest[fold.test_rows]).argmax(axis=1)
        names = pd.Series([classes[k] for k in predicted])
        rows.append({"object_id": fold.object_id, "label": fold.label,
                     "split": meta["split"].iloc[fold.test_rows[0]],
                     "n_spectra": len(fold.test_rows),
                     "n_correct": int((names == fold.label).sum()),
                     "recall": float((names == fold.label).mean()),
                     "top_prediction": names.value_counts().idxmax(),
                     "best_epoch": trained.best_epoch})
    # Finished folds keep their state until all are done: a rerun recovers them at once.
    for fold in folds:
        if state_dir is not None:
            (Path(state_dir) / f"loo_{fold.object_id}.pt").unlink(missing_ok=True)
    return pd.DataFrame(rows)


def leave_one_out_summary(objects: pd.DataFrame) -> dict:
    """Per class: objects, spectra, recall over all spectra and the mean per-object recall."""
    summary = {}
    for label, group in objects.groupby("label"):
        summary[label] = {"n_objects": int(len(group)), "n_spectra": int(group["n_spectra"].sum()),
                          "recall": float(group["n_correct"].sum() / group["n_spectra"].sum()),
                          "mean_object_recall": float(group["recall"].mean()),
                          "objects_mostly_correct": int((group["top_prediction"] == label).sum())}
    return summary


def with_seed(cfg: TrainConfig, seed: int) -> TrainConfig:
    return replace(cfg, seed=int(seed))


def evaluate_classifier(model: torch.nn.Module, flux_rest: np.ndarray, y_true: np.ndarray,
                        classes: list[str]) -> dict:
    return classification_metrics(y_true, classify(model, flux_rest), classes)
