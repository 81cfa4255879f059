"""SpectraNet's training stages as library functions: the fixed-fold models over seeds, the
cross-validated fold models of either head, and each run's self-describing checkpoint.

The CLI's ``train_classifier``, ``train_redshift`` and ``cross_validate`` read their files,
call one function here and write what it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd
import torch

from ciderlab.data.spectra_source import scored_realisations
from ciderlab.checkpoint import save_checkpoint
from ciderlab.data.split import scored_rows
from ciderlab.evaluation.metrics import headline_classes
from ciderlab.io import SpectraSet, save_table
from ciderlab.provenance import git_revision
from ciderlab.spectra.preprocess import PreprocessConfig
from ciderlab.training import distributed
from ciderlab.training.folds import cross_validate
from ciderlab.training.heads import Head
from ciderlab.training.loop import recipe_dict
from ciderlab.training.runs import (TrainedModel, model_config_from_params, recipe_from_params,
                                    train_seeds, with_seed)
from ciderlab.workers import resolve_workers


def headline_indices(params: dict, classes: list[str], head: Head) -> list[int] | None:
    """Indices into ``classes`` of the headline classes a classifier's early stopping scores
    (all but ``labels.separate_classes``); None for a head without classes."""
    if head.n_outputs(classes) == 1:
        return None
    return [classes.index(c) for c in headline_classes(classes,
                                                       params["labels"]["separate_classes"])]


def train_fixed_fold(head: Head, params: dict, classes: list[str], spectra: SpectraSet,
                     data_hash: str, state_dir: Path | None,
                     device: torch.device | str = "cpu") -> list[TrainedModel]:
    """One model per seed of ``train_<head>.seeds`` on the fixed split; the first is *the* model
    every later stage uses."""
    stage = f"train_{head.name}"
    cfg = recipe_from_params(params, stage)
    seeds = params[stage].get("seeds") or [cfg.seed]
    return train_seeds(head, head.inputs(spectra), head.targets(spectra.meta, classes),
                       scored_rows(spectra.meta, "train", 10**9),
                       scored_rows(spectra.meta, "val", scored_realisations(params)),
                       model_config_from_params(params, head, classes),
                       with_seed(cfg, seeds[0]), seeds, data_hash, state_dir=state_dir,
                       device=device, headline=headline_indices(params, classes, head))


def save_trained(trained: TrainedModel, path: Path, head: Head, class_info: dict,
                 params: dict, data_hash: str, history: Path | None = None,
                 **describe) -> float:
    """The run's checkpoint (with its preprocessing, classes, split and data hashes) and its
    history (default ``<stem>_history.csv`` beside it); returns the recorded metric."""
    best = head.metric_value(trained.best_score)
    save_checkpoint(path, trained.model, recipe=recipe_dict(trained.recipe),
                    classes=class_info["classes"], split_hash=class_info["split_hash"],
                    data_hash=data_hash, git_revision=git_revision(), epoch=trained.best_epoch,
                    best_metric={head.metric: best}, input_frame=head.frame,
                    preprocess=PreprocessConfig.from_resolved(params).to_dict(),
                    run_id=trained.run_id, **describe)
    save_table(pd.DataFrame(trained.history),
               history or path.with_name(f"{path.stem}_history.csv"))
    return best


def cross_validate_head(head: Head, params: dict, class_info: dict, spectra: SpectraSet,
                        folds: pd.DataFrame, data_hash: str, state_dir: Path | None,
                        models_dir: Path | None, device: torch.device | str = "cpu",
                        reusable: dict[str, torch.nn.Module] | None = None,
                        name: str | None = None, overrides: dict | None = None,
                        on_reused: Callable[[int, str], None] | None = None) -> pd.DataFrame:
    """One ``head`` model per cross-validation fold (``training.folds.cross_validate``), each
    saved to ``models_dir/fold_<k>.pt``; returns the test and validation predictions.

    ``reusable`` maps a checkpoint's ``run_id`` to its model: a fold whose run would have that
    very id (same model config, recipe, data, training rows and headline) reuses the model
    instead of training it again (the main model is the fixed fold's). ``overrides``
    (``{"train_classifier": ..., "model": ...}``) make an ablation variant; ``on_reused(fold,
    run_id)`` is told of each reused fold (``training.folds.cross_validate``).
    """
    classes, split = class_info["classes"], params["split"]
    overrides = overrides or {}
    model_config = model_config_from_params(params, head, classes, overrides.get("model"))
    cfg = recipe_from_params(params, f"train_{head.name}", overrides.get(f"train_{head.name}"))

    def save(fold: int, trained: TrainedModel) -> None:
        if models_dir is not None and distributed.is_main():
            save_trained(trained, Path(models_dir) / f"fold_{fold}.pt", head, class_info, params,
                         data_hash, fold=fold)

    return cross_validate(
        head, head.inputs(spectra), head.targets(spectra.meta, classes), spectra.meta, folds,
        split["val_fraction"], split["salt"], scored_realisations(params), model_config,
        cfg, data_hash, reusable=reusable, state_dir=state_dir, device=device, name=name,
        workers=resolve_workers(params["cross_validate"]["workers"], "cross_validate.workers"),
        headline=headline_indices(params, classes, head), on_trained=save,
        on_reused=on_reused)
