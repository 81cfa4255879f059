"""Grouped, class-stratified k-fold cross-validation by object: every object is a test object once.

With 2-4 test objects in the rare classes a single split's per-class scores are anecdotes; here
each fold trains on its own training objects (early stopping on its own validation objects) and
predicts its test objects, so the pooled predictions cover every object (SPEC §6).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ciderlab.data.split import scored_rows, split_for_fold
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.training import distributed
from ciderlab.training.heads import Head
from ciderlab.training.loop import TrainConfig
from ciderlab.training.runs import TrainedModel, run_fingerprint, train_one
from ciderlab.workers import fork_map


def fold_meta(meta: pd.DataFrame, folds: pd.DataFrame, fold: int, val_fraction: float,
              salt: str) -> pd.DataFrame:
    """``meta`` (one row per realised spectrum) with the ``split`` of cross-validation ``fold``."""
    split = split_for_fold(folds, fold, val_fraction, salt).set_index("object_id")["split"]
    missing = sorted(set(meta["object_id"]) - set(split.index))
    if missing:
        raise ValueError(f"realised objects missing from the folds table: {missing[:5]}")
    return meta.assign(split=meta["object_id"].map(split).to_numpy())


def cross_validate(head: Head, flux: np.ndarray, target: torch.Tensor, meta: pd.DataFrame,
                   folds: pd.DataFrame, val_fraction: float, salt: str, n_scored: int,
                   model_config: SpectraNetConfig, cfg: TrainConfig, data_id: str,
                   reusable: dict[str, torch.nn.Module] | None = None,
                   state_dir: Path | None = None, progress: bool = True,
                   device: torch.device | str = "cpu",
                   build_model: Callable[..., torch.nn.Module] = SpectraNet,
                   name: str | None = None, workers: int = 1,
                   headline: Sequence[int] | None = None,
                   on_trained: Callable[[int, TrainedModel], None] | None = None,
                   on_reused: Callable[[int, str], None] | None = None) -> pd.DataFrame:
    """Train one model per fold and predict each fold's test spectra.

    ``flux`` (N, L) and ``target`` (N,) cover every realised spectrum, ``meta`` its rows
    (object_id, realisation, ...). ``reusable`` maps a run id (``runs.run_fingerprint``, which a
    checkpoint records) to a model already trained: a fold whose run has that id reuses it
    instead of training again (the main classifier is the fixed fold's). Returns one row per scored test spectrum: ``row`` (index into ``flux``),
    ``fold``, ``best_epoch``, and ``p_<k>`` class probabilities or ``redshift_pred``.
    Models train on ``device`` (data-parallel under torchrun) and predict on their own device.
    ``build_model`` and ``name`` (of the state files and progress bar; default ``head``) train
    another model on the same folds (``train_one``); ``headline`` is the class indices a
    classifier's early stopping scores (``train_one``). ``on_trained(fold, trained)`` is
    called with each model trained here (in the process that trained it), to save it;
    ``on_reused(fold, run_id)`` with each fold that reused a model of ``reusable``.

    ``workers`` > 1 trains that many folds at once on the CPU, in forked processes of one torch
    thread each (on 2 cores, two one-thread trainings side by side do 1.6x the work of one
    two-thread training). A fold's result does not depend on the number of workers > 1; one
    worker trains in this process with its threads. Under torchrun or on a GPU folds run in turn.
    """
    reusable = reusable or {}
    name = name or head.name
    n_folds = int(folds["fold"].max()) + 1
    job = {"head": head, "flux": flux, "target": target, "model_config": model_config,
           "cfg": cfg, "data_id": data_id, "device": device, "build_model": build_model,
           "headline": headline, "on_trained": on_trained, "plans": {}}
    for fold in range(n_folds):
        split_meta = fold_meta(meta, folds, fold, val_fraction, salt)
        test_rows = scored_rows(split_meta, "test", n_scored)
        if len(test_rows):
            job["plans"][fold] = {
                "train": np.flatnonzero(split_meta["split"].to_numpy() == "train"),
                "val": scored_rows(split_meta, "val", n_scored), "test": test_rows,
                "state": (None if state_dir is None
                          else Path(state_dir) / f"cv_{name}_fold{fold}.pt")}
    trained = {}
    for fold, plan in job["plans"].items():
        run_id = run_fingerprint(model_config, cfg, data_id, plan["train"], headline)
        if run_id in reusable:
            trained[fold] = reusable[run_id]
            if on_reused is not None:
                on_reused(fold, run_id)
    to_train = [fold for fold in job["plans"] if fold not in trained]
    parallel = (workers > 1 and len(to_train) > 1 and distributed.world_size() == 1
                and torch.device(device).type == "cpu")
    outputs: dict[int, tuple[dict[str, np.ndarray], int]] = {}
    with tqdm(total=len(job["plans"]), desc=f"cross-validate {name}", unit="fold",
              disable=not progress) as bar:
        if parallel:  # the job is inherited by the forked workers (flux may be a memmap)
            for fold, output, best_epoch in fork_map(_train_fold, job, to_train, workers):
                outputs[fold] = (output, best_epoch)
                bar.update()
        for fold in job["plans"]:
            if fold not in outputs:
                model = trained.get(fold)
                outputs[fold] = ((_predict_plan(model, head, flux, job["plans"][fold]), -1)
                                 if model is not None else _train_fold(job, fold)[1:])
                bar.update()
    pieces = []
    for fold in sorted(outputs):
        by_split, best_epoch = outputs[fold]
        for split, output in by_split.items():
            piece = pd.DataFrame({"row": job["plans"][fold][split], "fold": fold, "split": split,
                                  "best_epoch": best_epoch})
            pieces.append(pd.concat([piece, head.columns(output)], axis=1))
    # Finished folds keep their state until all are done: a rerun recovers them at once.
    if state_dir is not None and distributed.is_main():
        for fold in range(n_folds):
            (Path(state_dir) / f"cv_{name}_fold{fold}.pt").unlink(missing_ok=True)
    return pd.concat(pieces, ignore_index=True)


def _predict_plan(model: torch.nn.Module, head: Head, flux: np.ndarray,
                  plan: dict) -> dict[str, np.ndarray]:
    """A fold model's predictions of its test and its validation spectra."""
    return {split: head.predict(model, flux[plan[split]]) for split in ("test", "val")}


def _train_fold(job: dict, fold: int) -> tuple[int, dict[str, np.ndarray], int]:
    """Train fold ``fold``'s model of ``job`` and predict its test and validation spectra."""
    plan = job["plans"][fold]
    result = train_one(job["head"], job["flux"], job["target"], plan["train"], plan["val"],
                       job["model_config"], job["cfg"], job["data_id"], state_path=plan["state"],
                       progress=False, device=job["device"], build_model=job["build_model"],
                       headline=job["headline"])
    if job["on_trained"] is not None:
        job["on_trained"](fold, result)
    return fold, _predict_plan(result.model, job["head"], job["flux"], plan), result.best_epoch
