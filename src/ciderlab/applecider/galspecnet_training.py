"""GalSpecNet (AppleCiDEr paper I's spectra CNN) cross-validated on SpectraNet's realised spectra,
folds and scored rows, through the same training loop, so the two networks compare like for like.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
import torch

from ciderlab.data.spectra_source import scored_realisations
from ciderlab.applecider.galspecnet import GalSpecNet, GalSpecNetConfig
from ciderlab.applecider.galspecnet_input import GalSpecInputConfig, GalSpecInputs
from ciderlab.checkpoint import save_checkpoint
from ciderlab.errors import InputError
from ciderlab.evaluation.fold_scores import classification_scores
from ciderlab.evaluation.metrics import headline_classes
from ciderlab.io import SpectraSet
from ciderlab.provenance import fingerprint
from ciderlab.training import distributed
from ciderlab.training.folds import cross_validate
from ciderlab.training.heads import CLASSIFIER
from ciderlab.training.loop import TrainConfig, recipe_dict
from ciderlab.training.runs import TrainedModel
from ciderlab.workers import resolve_workers


def cross_validate_galspecnet(params: dict, class_info: dict, spectra: SpectraSet,
                              folds: pd.DataFrame, spectra_hash: str, state_dir: Path | None,
                              models_dir: Path | None,
                              device: torch.device | str = "cpu") -> tuple[pd.DataFrame, dict]:
    """One GalSpecNet per fold, each saved to ``models_dir/fold_<k>.pt``; returns the test
    predictions and their scores (``classification_scores``) with the model and recipe."""
    section, split = params["train_galspecnet"], params["split"]
    if spectra.flux_raw_obs is None:
        raise InputError("the realised spectra hold no raw observations (flux_raw_obs), which "
                         "GalSpecNet reads; re-run `ciderlab realise`")
    classes = class_info["classes"]
    headline = headline_classes(classes, params["labels"]["separate_classes"])
    input_cfg = GalSpecInputConfig.from_params(section)
    inputs = GalSpecInputs(spectra.flux_raw_obs, spectra.covered_obs, spectra.wave_obs_aa,
                           input_cfg)
    model_cfg = GalSpecNetConfig(n_bins=inputs.shape[1], n_outputs=len(classes),
                                 **section["model"])
    recipe = TrainConfig.from_params(section)
    # The data id joins the input grid to the spectra: a state file resumes the same inputs.
    data_id = fingerprint(spectra_hash, asdict(input_cfg))

    def save(fold: int, trained: TrainedModel) -> None:
        if models_dir is not None and distributed.is_main():
            save_checkpoint(Path(models_dir) / f"fold_{fold}.pt", trained.model,
                            recipe=recipe_dict(recipe), classes=classes, fold=fold,
                            split_hash=class_info["split_hash"], data_hash=spectra_hash,
                            inputs=asdict(input_cfg), epoch=trained.best_epoch,
                            best_metric={CLASSIFIER.metric: trained.best_score},
                            run_id=trained.run_id)

    predictions = cross_validate(
        CLASSIFIER, inputs, CLASSIFIER.targets(spectra.meta, classes), spectra.meta, folds,
        split["val_fraction"], split["salt"], scored_realisations(params), model_cfg,
        recipe, data_id, state_dir=state_dir, device=device, build_model=GalSpecNet,
        name="galspecnet",
        workers=resolve_workers(params["cross_validate"]["workers"], "cross_validate.workers"),
        headline=[classes.index(c) for c in headline], on_trained=save)
    predictions = predictions[predictions["split"] == "test"].reset_index(drop=True)
    metrics = classification_scores(predictions, spectra.meta, classes, headline)
    metrics["model"], metrics["recipe"] = model_cfg.to_dict(), recipe_dict(recipe)
    metrics["n_parameters"] = sum(p.numel() for p in GalSpecNet(model_cfg).parameters())
    return predictions, metrics
