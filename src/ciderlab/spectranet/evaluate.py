"""Scoring the held-out test objects of the fixed split: seeds, redshift, end to end, narrow coverage.

``evaluate_test_set`` is the library half of ``ciderlab evaluate``: models and realised spectra
in, one metrics dictionary and one predictions table out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ciderlab.data.spectra_source import scored_realisations
from ciderlab.data.labels import class_indices
from ciderlab.data.split import scored_rows
from ciderlab.evaluation.metrics import (classification_metrics, macro_f1_over, object_accuracy,
                                         redshift_metrics, seed_summary)
from ciderlab.io import SpectraSet
from ciderlab.spectra.preprocess import PreprocessConfig, narrow_coverage, rest_frame_inputs
from ciderlab.prediction import probabilities, redshifts


@dataclass(frozen=True)
class EvaluateConfig:
    """The ``evaluate`` section of params.yaml."""

    narrow_obs_wave_min_aa: float
    narrow_obs_wave_max_aa: float
    clean_snr_min: float
    clean_host_fraction_max: float

    @classmethod
    def from_params(cls, section: dict) -> "EvaluateConfig":
        return cls(**{k: v for k, v in section.items() if k in cls.__dataclass_fields__})

    def is_clean(self, meta: pd.DataFrame) -> np.ndarray:
        """(N,) bool: the realisations with high S/N and little host light (an observed
        spectrum's host fraction is unknown, NaN: its S/N alone decides)."""
        host = meta["host_fraction"].fillna(0.0)
        return ((meta["snr"] >= self.clean_snr_min)
                & (host <= self.clean_host_fraction_max)).to_numpy()


def scored_test_set(spectra: SpectraSet, classes: list[str], n_scored: int) -> tuple[SpectraSet, np.ndarray]:
    """The scored test spectra (first ``n_scored`` realisations) and their integer labels."""
    rows = scored_rows(spectra.meta, "test", n_scored)
    if len(rows) == 0:
        raise ValueError("no test spectra in the realised set")
    test = spectra.select(rows)
    return test, class_indices(test.meta["label"], classes)


def evaluate_test_set(classifier: torch.nn.Module, classes: list[str], headline: list[str],
                      test: SpectraSet, y_true: np.ndarray, preprocess: PreprocessConfig,
                      cfg: EvaluateConfig,
                      seed_models: dict[int, torch.nn.Module],
                      redshift_model: torch.nn.Module | None = None) -> tuple[dict, pd.DataFrame]:
    """Every score of the fixed split's test objects; returns (metrics, predictions).

    ``seed_models`` maps each seed (the main classifier's included) to its model, for the mean
    and standard deviation over seeds. Every score is ``classification_metrics`` over the
    ``headline`` classes. With a redshift model, the classifier also runs end to
    end: each spectrum de-redshifted with the predicted redshift through the one preprocessing
    path (``rest_frame_inputs``), exactly as a real spectrum would be.
    """
    proba = probabilities(classifier, test.flux_rest)
    metrics = classification_metrics(y_true, proba, classes, headline)
    metrics["n_test_objects"] = test.meta.groupby("label")["object_id"].nunique().to_dict()
    metrics["seeds"] = seed_summary(
        {seed: classification_metrics(y_true, probabilities(model, test.flux_rest),
                                      classes, headline) for seed, model in seed_models.items()},
        headline)
    predictions = test.meta.assign(predicted=[classes[k] for k in proba.argmax(axis=1)])
    if redshift_model is not None:
        z_pred = redshifts(redshift_model, test.flux_obs)
        metrics["redshift"] = redshift_metrics(z_pred, test.meta["redshift"].to_numpy())
        proba_e2e = probabilities(classifier, rest_frame_inputs(test.flux_obs, test.covered_obs, z_pred,
                                                   preprocess))
        metrics["end_to_end"] = classification_metrics(y_true, proba_e2e, classes, headline)
        predictions = predictions.assign(
            redshift_pred=z_pred,
            predicted_end_to_end=[classes[k] for k in proba_e2e.argmax(axis=1)])
    # The paper's NGPS generalisation test, emulated: the test spectra cut to a narrower observed
    # range and re-normalised (as training's edge masking does), classified at the true z.
    window = (cfg.narrow_obs_wave_min_aa, cfg.narrow_obs_wave_max_aa)
    narrow_flux, narrow_covered = narrow_coverage(test.wave_obs_aa, test.flux_obs,
                                                  test.covered_obs, window)
    metrics["narrow_coverage"] = classification_metrics(
        y_true, probabilities(classifier, rest_frame_inputs(narrow_flux, narrow_covered,
                                               test.meta["redshift"].to_numpy(), preprocess)),
        classes, headline)
    metrics["narrow_coverage"]["obs_wave_range_aa"] = list(window)
    metrics["clean_subset"] = clean_subset_scores(y_true, proba, test.meta, classes, headline,
                                                  cfg)
    per_object = object_accuracy(predictions)
    metrics["objects_mostly_wrong"] = {
        label: int((group["accuracy"] < 0.5).sum()) for label, group in per_object.groupby("class")}
    predictions = pd.concat([predictions.reset_index(drop=True),
                             pd.DataFrame(proba, columns=[f"p_{c}" for c in classes])], axis=1)
    return metrics, predictions


def seen_against_unseen(classifier: torch.nn.Module, spectra: SpectraSet, classes: list[str],
                        headline: list[str], n_scored: int, cfg: EvaluateConfig) -> dict:
    """Per-class F1 on the training objects (seen) and the test objects (unseen), all and clean.

    What limits a class: a class scoring well on the objects it was trained on and badly on
    new ones is limited by how few objects it has (each object is one explosion, one host,
    one set of epochs); a class scoring badly on its own training objects is limited by what
    the realised spectra still show of it (noise, host light), or by the model and its budget.
    The training objects' spectra are the first ``n_scored`` realisations, which training saw.
    """
    out = {"classes": list(classes)}
    meta = spectra.meta
    for split, name in (("train", "seen"), ("test", "unseen")):
        rows = scored_rows(meta, split, n_scored)
        if len(rows) == 0:
            continue
        y_true = class_indices(meta["label"].iloc[rows], classes)
        proba = probabilities(classifier, spectra.flux_rest[rows])
        part = meta.iloc[rows]
        for subset, keep in (("all", np.ones(len(rows), bool)), ("clean", cfg.is_clean(part))):
            if not keep.any():
                continue
            scores = classification_metrics(y_true[keep], proba[keep], classes, headline)
            out[f"{name}_{subset}"] = {
                "n_objects": int(part["object_id"][keep].nunique()),
                "f1": {c: v["f1"] for c, v in scores["per_class"].items() if v["support"] > 0}}
    return out


def clean_subset_scores(y_true: np.ndarray, proba: np.ndarray, meta: pd.DataFrame,
                        classes: list[str], headline: list[str], cfg: EvaluateConfig) -> dict:
    """Scores on the cleanest test spectra (high S/N, little host light) beside the full set's.

    ``macro_f1`` is the headline one (a headline class without a clean spectrum scores zero);
    ``macro_f1_same_classes`` averages both sets over the same classes, the headline classes
    that have a clean spectrum, so the two can be compared: if the clean subset scores no
    higher, noise and host light are not what limits the classifier.
    """
    clean = cfg.is_clean(meta)
    selection = {"snr_min": cfg.clean_snr_min, "host_fraction_max": cfg.clean_host_fraction_max}
    if not clean.any():
        return {"n_spectra": 0, "selection": selection}
    scores = classification_metrics(y_true[clean], proba[clean], classes, headline)
    same = sorted(set(y_true[clean].tolist()) & {classes.index(c) for c in headline})
    y_pred = proba.argmax(axis=1)
    scores["macro_f1_same_classes"] = {
        "classes": [classes[k] for k in same],
        "clean": macro_f1_over(y_true[clean], y_pred[clean], same),
        "all_test": macro_f1_over(y_true, y_pred, same)}
    scores["selection"] = selection
    return scores


def evaluate_stage(params: dict, classifier: torch.nn.Module, checkpoint: dict,
                   seed_models: dict[int, torch.nn.Module], redshift_model: torch.nn.Module,
                   spectra: SpectraSet, class_cv: pd.DataFrame,
                   redshift_cv: pd.DataFrame) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """The ``evaluate`` stage: the fixed split's test objects (every seed, the redshift model,
    end to end, narrow coverage, seen against unseen) and the cross-validated predictions.
    Returns (metrics, test predictions, cross-validated predictions)."""
    from ciderlab.evaluation.fold_scores import (cross_validation_predictions,
                                                 cross_validation_scores)
    from ciderlab.evaluation.metrics import headline_classes

    classes = list(checkpoint["classes"])
    headline = headline_classes(classes, params["labels"]["separate_classes"])
    n_scored = scored_realisations(params)
    test, y_true = scored_test_set(spectra, classes, n_scored)
    cfg = EvaluateConfig.from_params(params["evaluate"])
    metrics, predictions = evaluate_test_set(
        classifier, classes, headline, test, y_true,
        PreprocessConfig.from_dict(checkpoint["preprocess"]), cfg, seed_models, redshift_model)
    metrics["seen_against_unseen"] = seen_against_unseen(classifier, spectra, classes, headline,
                                                         n_scored, cfg)
    metrics["cross_validation"] = cross_validation_scores(class_cv, redshift_cv, spectra.meta,
                                                          classes, headline)
    return metrics, predictions, cross_validation_predictions(class_cv, redshift_cv, spectra.meta,
                                                              classes)
