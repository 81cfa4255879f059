"""The ablation stage: each variant of ``ablation.variants`` (parameter overrides) trained over
every cross-validation fold and compared with the reference fold by fold.

A fold model trained by an earlier run of the stage is reused when its checkpoint's run id is
the one the fold would train now (same model config, recipe, data and training rows): adding a
variant to ``params.yaml`` trains that variant alone. ``results/ablation/models`` is a DVC
``persist`` output, so the earlier run's models are still there when the stage reruns.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import torch

from ciderlab.checkpoint import load_checkpoint
from ciderlab.evaluation.fold_scores import classification_scores, paired_differences
from ciderlab.evaluation.metrics import headline_classes
from ciderlab.io import SpectraSet, atomic_path
from ciderlab.spectranet.train import cross_validate_head
from ciderlab.training import distributed
from ciderlab.training.heads import CLASSIFIER


def variant_folder(name: str) -> str:
    """The folder of a variant's fold models: its name in lower case, other characters as '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "variant"


def variant_folders(names) -> dict[str, str]:
    """``{name: folder}`` for the variants; ValueError when two names share a folder."""
    folders = {name: variant_folder(name) for name in names}
    seen: dict[str, str] = {}
    for name, folder in folders.items():
        if folder in seen:
            raise ValueError(f"ablation.variants: '{seen[folder]}' and '{name}' both make the "
                             f"folder '{folder}'; rename one")
        seen[folder] = name
    return folders


def trained_fold_models(folders: list[Path], device: torch.device | str = "cpu"
                        ) -> dict[str, tuple[torch.nn.Module, bytes]]:
    """The fold models an earlier run left in ``folders``, by the run id each checkpoint
    records, with the checkpoint's bytes; a file that does not load is skipped (retrained)."""
    found: dict[str, tuple[torch.nn.Module, bytes]] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*/fold_*.pt")):
            try:
                model, described = load_checkpoint(path, map_location=device)
            except (ValueError, OSError, RuntimeError, KeyError):
                continue
            if described.get("run_id"):
                found[described["run_id"]] = (model, path.read_bytes())
    return found


def run_ablation(params: dict, class_info: dict, spectra: SpectraSet, folds: pd.DataFrame,
                 reference_predictions: pd.DataFrame, data_hash: str, state_dir: Path | None,
                 models_dir: Path | None = None,
                 device: torch.device | str = "cpu") -> tuple[pd.DataFrame, dict, dict]:
    """Every variant's cross-validated test predictions (one table, a ``variant`` column),
    ``{"reference": scores, "variants": {name: {overrides, folder, scores, difference}}}`` (the
    difference paired over folds with ``reference_predictions``, ``cross_validate``'s), and
    ``{name: [folds reused from an earlier run]}``.

    A variant's fold models go to ``models_dir/<folder>/fold_<k>.pt`` (``variant_folder``).
    Those already in ``models_dir`` with the run id a fold would have are reused, not
    retrained. The new set is written beside it (``<models_dir>.new``) and replaces it at the
    end, so an interrupted run loses no model: the next run reuses both folders' models.
    """
    classes = class_info["classes"]
    headline = headline_classes(classes, params["labels"]["separate_classes"])
    reference = classification_scores(reference_predictions, spectra.meta, classes, headline)
    variants = params["ablation"]["variants"]
    folders = variant_folders(variants)
    writing = None if models_dir is None else Path(f"{models_dir}.new")
    previous = ({} if models_dir is None
                else trained_fold_models([Path(models_dir), writing], device))
    written: set[Path] = set()
    results, pieces, reused = {}, [], {name: [] for name in variants}
    for name, variant in variants.items():
        overrides = {"train_classifier": variant.get("train_classifier") or {},
                     "model": variant.get("model") or {}}
        folder = None if writing is None else writing / folders[name]

        def keep(fold: int, run_id: str, folder=folder, name=name) -> None:
            reused[name].append(fold)
            if folder is not None and distributed.is_main():
                path = folder / f"fold_{fold}.pt"
                with atomic_path(path) as tmp:
                    tmp.write_bytes(previous[run_id][1])
                written.add(path)

        predictions = cross_validate_head(
            CLASSIFIER, params, class_info, spectra, folds, data_hash, state_dir, folder, device,
            reusable={run_id: model for run_id, (model, _) in previous.items()},
            name=f"ablation_{len(results)}", overrides=overrides, on_reused=keep)
        if folder is not None:
            written.update(folder.glob("fold_*.pt"))
        test = predictions[predictions["split"] == "test"].drop(columns="split")
        scores = classification_scores(test, spectra.meta, classes, headline)
        results[name] = {"overrides": overrides, "folder": folders[name], "scores": scores,
                         "difference": paired_differences(reference, scores)}
        pieces.append(test.assign(variant=name))
    if writing is not None and distributed.is_main():
        _replace_folder(Path(models_dir), writing, written)
    return (pd.concat(pieces, ignore_index=True), {"reference": reference, "variants": results},
            reused)


def _replace_folder(target: Path, staged: Path, keep: set[Path]) -> None:
    """Make ``staged`` (less any file not in ``keep``, an interrupted run's leftovers) the new
    ``target``."""
    staged.mkdir(parents=True, exist_ok=True)
    for path in staged.glob("*/*"):
        if path not in keep:
            path.unlink()
    for folder in staged.iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    shutil.rmtree(target, ignore_errors=True)
    staged.rename(target)
