"""The ablation stage: each variant of ``ablation.variants`` (parameter overrides) trained over
every cross-validation fold and compared with the reference fold by fold."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from ciderlab.evaluation.fold_scores import classification_scores, paired_differences
from ciderlab.evaluation.metrics import headline_classes
from ciderlab.io import SpectraSet
from ciderlab.spectranet.train import cross_validate_head
from ciderlab.training.heads import CLASSIFIER


def run_ablation(params: dict, class_info: dict, spectra: SpectraSet, folds: pd.DataFrame,
                 reference_predictions: pd.DataFrame, data_hash: str, state_dir: Path | None,
                 models_dir: Path | None = None,
                 device: torch.device | str = "cpu") -> tuple[pd.DataFrame, dict]:
    """Every variant's cross-validated test predictions (one table, a ``variant`` column) and
    ``{"reference": scores, "variants": {name: {overrides, scores, difference}}}``, the
    difference paired over folds with ``reference_predictions`` (``cross_validate``'s). The
    i-th variant's fold models go to ``models_dir/variant_<i>/fold_<k>.pt``."""
    classes = class_info["classes"]
    headline = headline_classes(classes, params["labels"]["separate_classes"])
    reference = classification_scores(reference_predictions, spectra.meta, classes, headline)
    results, pieces = {}, []
    for name, variant in params["ablation"]["variants"].items():
        overrides = {"train_classifier": variant.get("train_classifier") or {},
                     "model": variant.get("model") or {}}
        predictions = cross_validate_head(CLASSIFIER, params, class_info, spectra, folds,
                                          data_hash, state_dir,
                                          models_dir and Path(models_dir) / f"variant_{len(results)}",
                                          device,
                                          name=f"ablation_{len(results)}", overrides=overrides)
        test = predictions[predictions["split"] == "test"].drop(columns="split")
        scores = classification_scores(test, spectra.meta, classes, headline)
        results[name] = {"overrides": overrides, "scores": scores,
                         "difference": paired_differences(reference, scores)}
        pieces.append(test.assign(variant=name))
    return pd.concat(pieces, ignore_index=True), {"reference": reference, "variants": results}
