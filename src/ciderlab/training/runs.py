"""Training runs: one model from arrays and configs, scored rows, summaries over seeds.

The CLI's training stages (``train_classifier``, ``train_redshift``, ``cross_validate``,
``ablation``) are thin shells over these functions; each function takes arrays and configs
and returns results, so the tests drive them without files.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from ciderlab.evaluation.metrics import classification_metrics, spread
from ciderlab.models.spectranet import SpectraNet, SpectraNetConfig
from ciderlab.params import merge
from ciderlab.provenance import fingerprint
from ciderlab.training import distributed
from ciderlab.training.loop import (TrainConfig, classifier_objective, fit, predict, recipe_dict,
                    redshift_objective, to_tensor)


@dataclass
class TrainedModel:
    """A model holding its best weights, with what produced it."""

    model: torch.nn.Module
    model_config: SpectraNetConfig  # or the config of the model ``train_one`` was given
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
              data_id: str, state_path: Path | None = None, progress: bool = True,
              device: torch.device | str = "cpu",
              build_model: Callable[..., torch.nn.Module] = SpectraNet,
              headline: Sequence[int] | None = None) -> TrainedModel:
    """Train a SpectraNet classifier (``head="classifier"``) or redshift model from scratch.

    ``build_model(model_config)`` makes another model instead (GalSpecNet): its config needs
    ``n_outputs`` and ``to_dict()``. ``flux`` (N, L) holds every spectrum, or is anything that
    returns those rows' (B, L) inputs when indexed with rows (``GalSpecInputs``); the rows
    select training and validation. The run is
    resumable from ``state_path``; ``data_id`` (e.g. the spectra file's checksum) joins the
    run's fingerprint so a state file of other data is never resumed. The model is built on
    the CPU (the same initial weights on every device) and trained on ``device``; under
    torchrun every rank calls this with its own device (see ``training.distributed``).
    A classifier stops early on the validation macro-F1 over the class indices ``headline``
    (``labels.separate_classes`` left out; default every class).
    """
    if len(train_rows) == 0 or len(val_rows) == 0:
        raise ValueError("the training or validation set is empty")
    if head == "classifier":
        loss_fn, score_fn = classifier_objective(target[train_rows], model_config.n_outputs, cfg,
                                                 headline)
    else:
        loss_fn, score_fn = redshift_objective()
    run_id = fingerprint(model_config.to_dict(), recipe_dict(cfg), data_id,
                         fingerprint(np.asarray(train_rows).tolist()),
                         None if headline is None else [int(k) for k in headline])
    device = torch.device(device)
    # The seed governs initial weights and dropout; the caller's global RNG state is restored.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(cfg.seed)
        model = build_model(model_config).to(device)
        if distributed.world_size() > 1:
            # Same initial weights on every rank; different dropout masks on each rank's share.
            torch.manual_seed(cfg.seed + distributed.rank())
        result = fit(model, BatchRows(flux, train_rows), target[train_rows],
                     to_tensor(flux[val_rows]), target[val_rows], cfg, loss_fn, score_fn,
                     state_path=state_path, run_id=run_id, progress=progress)
    model.load_state_dict(result["state_dict"])
    model.eval()
    return TrainedModel(model, model_config, cfg, run_id, result["history"], result["best_epoch"],
                        result["best_score"], result["epochs_run"])


class BatchRows:
    """Rows ``rows`` of a (N, L) array, read as a float32 tensor one batch at a time.

    ``fit`` indexes its training set once per batch; with ``flux`` memory-mapped
    (``load_spectra(lazy=True)``) only those rows are read, where ``flux[rows]`` would read
    the whole training set at once.
    """

    def __init__(self, flux: np.ndarray, rows: np.ndarray):
        self.flux, self.rows = flux, np.asarray(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index) -> torch.Tensor:  # (B, L)
        if isinstance(index, torch.Tensor):
            index = index.numpy()
        return to_tensor(self.flux[self.rows[index]])


def train_seeds(head: str, flux: np.ndarray, target: torch.Tensor, train_rows: np.ndarray,
                val_rows: np.ndarray, model_config: SpectraNetConfig, cfg: TrainConfig,
                seeds: list[int], data_id: str, state_dir: Path | None = None,
                progress: bool = True, device: torch.device | str = "cpu",
                headline: Sequence[int] | None = None) -> list[TrainedModel]:
    """The same run once per seed (the paper's protocol: seeds 42, 777, 888, mean +- std).

    A finished seed's state file stays until every seed is done, so a rerun after an
    interruption recovers the finished seeds at once instead of training them again.
    """
    states = [None if state_dir is None else Path(state_dir) / f"{head}_seed{seed}.pt"
              for seed in seeds]
    trained = [train_one(head, flux, target, train_rows, val_rows, model_config,
                         with_seed(cfg, seed), data_id, state_path=state, progress=progress,
                         device=device, headline=headline)
               for seed, state in zip(seeds, states)]
    for state in states:
        if state is not None and distributed.is_main():
            state.unlink(missing_ok=True)
    return trained


def scored_rows(meta: pd.DataFrame, split: str, n_scored: int) -> np.ndarray:
    """Rows of ``split`` that are scored: the first ``n_scored`` realisations of each spectrum.

    Rare classes carry extra realisations for training; scoring only the first ``n_scored``
    keeps every template spectrum's weight equal in validation and test.
    """
    return np.flatnonzero((meta["split"].to_numpy() == split)
                          & (meta["realisation"].to_numpy() < n_scored))


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

    runs = list(metrics_by_seed.values())
    summary = {"seeds": list(metrics_by_seed)}
    for key in SEED_SUMMARY_KEYS:
        summary[key] = spread([m[key] for m in runs])
    if all("ia_vs_non_ia" in m for m in runs):
        summary["ia_vs_non_ia"] = {key: spread([m["ia_vs_non_ia"][key] for m in runs])
                                   for key in ("accuracy", "purity", "completeness")}
    summary["per_class"] = {
        name: {key: spread([m["per_class"][name][key] for m in runs])
               for key in ("precision", "recall", "f1")}
        for name in classes if runs[0]["per_class"][name]["support"] > 0}
    return summary


def model_config_from_params(params: dict, head: str, classes: list[str],
                             overrides: dict | None = None) -> SpectraNetConfig:
    """SpectraNet's config from resolved params.yaml (``grid.n_bins`` and ``model``, then the
    head's own ``train_<head>.model`` overrides, then ``overrides``): one output per class for
    the classifier, one for the redshift model."""
    n_outputs = len(classes) if head == "classifier" else 1
    own = params.get(f"train_{head}", {}).get("model") or {}
    return SpectraNetConfig(n_bins=params["grid"]["n_bins"], n_outputs=n_outputs, head=head,
                            **merge(merge(params["model"], own), overrides or {}))


def recipe_from_params(params: dict, stage: str, overrides: dict | None = None) -> TrainConfig:
    """The training recipe of section ``stage`` (with ``overrides``) at the stage's first seed."""
    section = merge(params[stage], overrides or {})
    cfg = TrainConfig.from_params(section)
    return with_seed(cfg, (section.get("seeds") or [cfg.seed])[0])


def with_seed(cfg: TrainConfig, seed: int) -> TrainConfig:
    return replace(cfg, seed=int(seed))


def evaluate_classifier(model: torch.nn.Module, flux_rest: np.ndarray, y_true: np.ndarray,
                        classes: list[str], headline: list[str]) -> dict:
    return classification_metrics(y_true, classify(model, flux_rest), classes, headline)
