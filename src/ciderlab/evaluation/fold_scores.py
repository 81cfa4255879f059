"""Scores over every object: cross-validated predictions summarised per fold and pooled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ciderlab.evaluation.metrics import (classification_metrics, object_accuracy,
                                         redshift_metrics, spread)


def cross_validation_scores(class_predictions: pd.DataFrame, redshift_predictions: pd.DataFrame,
                            meta: pd.DataFrame, classes: list[str],
                            headline_classes: list[str]) -> dict:
    """Mean and std over folds of the headline scores, and per-class scores over all objects.

    ``class_predictions``: rows (``row`` into ``meta``, ``fold``, ``p_<k>``) from
    ``training.crossval.cross_validate``; ``redshift_predictions`` likewise with
    ``redshift_pred``. The classification part is ``classification_scores``; the redshift part
    adds RMS, outlier fraction and sigma_NMAD per fold and pooled.
    """
    result = classification_scores(class_predictions, meta, classes, headline_classes)
    redshift_per_fold = []
    for fold, group in redshift_predictions.groupby("fold"):
        z = redshift_metrics(group["redshift_pred"].to_numpy(),
                             meta["redshift"].to_numpy()[group["row"]])
        redshift_per_fold.append({"fold": int(fold), **{k: z[k] for k in
                                                       ("rms", "outlier_fraction", "sigma_nmad")}})
    result["redshift_per_fold"] = redshift_per_fold
    for key, name in (("rms", "redshift_rms"), ("outlier_fraction", "redshift_outlier_fraction"),
                      ("sigma_nmad", "redshift_sigma_nmad")):
        result[name] = spread([f[key] for f in redshift_per_fold])
    result["pooled_redshift"] = redshift_metrics(
        redshift_predictions["redshift_pred"].to_numpy(),
        meta["redshift"].to_numpy()[redshift_predictions["row"]])
    return result


def classification_scores(class_predictions: pd.DataFrame, meta: pd.DataFrame,
                          classes: list[str], headline_classes: list[str]) -> dict:
    """Cross-validated classification scores: per fold, mean and std over folds, and pooled.

    ``class_predictions``: rows (``row`` into ``meta``, ``fold``, ``p_<k>``) of any classifier
    cross-validated on the folds (SpectraNet, GalSpecNet). Every score is
    ``classification_metrics`` over ``headline_classes``; the other classes (AGN) are reported
    on their own under ``separate``, per object. A class's F1 is averaged over the folds that
    test it.
    """
    labels = meta["label"].to_numpy()
    index = {c: k for k, c in enumerate(classes)}
    proba_columns = [f"p_{k}" for k in range(len(classes))]
    per_fold = []
    for fold, group in class_predictions.groupby("fold"):
        y_true = np.array([index[c] for c in labels[group["row"]]])
        scores = classification_metrics(y_true, group[proba_columns].to_numpy(), classes,
                                        headline_classes)
        per_fold.append({"fold": int(fold), "macro_f1": scores["macro_f1"],
                         "accuracy": scores["accuracy"],
                         "ia_vs_non_ia_accuracy": scores["ia_vs_non_ia"]["accuracy"],
                         "f1": {name: values["f1"] for name, values in scores["per_class"].items()
                                if values["support"] > 0}})
    result = {"n_folds": len(per_fold), "headline_classes": list(headline_classes),
              "per_fold": per_fold}
    for key in ("macro_f1", "accuracy", "ia_vs_non_ia_accuracy"):
        result[key] = spread([f[key] for f in per_fold])
    result["per_class_f1"] = {name: spread([f["f1"][name] for f in per_fold if name in f["f1"]])
                              for name in headline_classes
                              if any(name in f["f1"] for f in per_fold)}
    # Pooled over every fold: each object is tested once, so per-class scores rest on all of them.
    rows = class_predictions["row"].to_numpy()
    y_all = np.array([index[c] for c in labels[rows]])
    result["pooled"] = classification_metrics(y_all, class_predictions[proba_columns].to_numpy(),
                                              classes, headline_classes)
    in_headline = np.isin(labels[rows], headline_classes)
    result["pooled"]["n_objects"] = (meta.iloc[rows[in_headline]].groupby("label")["object_id"]
                                     .nunique().to_dict())
    predicted = [classes[k] for k in class_predictions[proba_columns].to_numpy().argmax(axis=1)]
    objects = object_accuracy(meta.iloc[rows].assign(predicted=predicted).reset_index(drop=True))
    result["separate"] = {}
    for label, pooled in result["pooled"]["separate"].items():
        group = objects[objects["class"] == label]
        result["separate"][label] = {
            "n_objects": int(len(group)), "recall": pooled["recall"],
            "objects_mostly_correct": int((group["accuracy"] >= 0.5).sum())}
    return result


def cross_validation_predictions(class_predictions: pd.DataFrame,
                                 redshift_predictions: pd.DataFrame, meta: pd.DataFrame,
                                 classes: list[str]) -> pd.DataFrame:
    """One row per cross-validated test spectrum: its metadata, fold, class and redshift predicted."""
    proba_columns = [f"p_{k}" for k in range(len(classes))]
    table = meta.iloc[class_predictions["row"]].reset_index(drop=True).assign(
        fold=class_predictions["fold"].to_numpy(),
        predicted=[classes[k] for k in class_predictions[proba_columns].to_numpy().argmax(axis=1)])
    z = redshift_predictions.set_index("row")["redshift_pred"]
    table["redshift_pred"] = z.reindex(class_predictions["row"]).to_numpy()
    probabilities = class_predictions[proba_columns].set_axis([f"p_{c}" for c in classes], axis=1)
    return pd.concat([table, probabilities.reset_index(drop=True)], axis=1)


PAIRED_SCORES = ("macro_f1", "accuracy", "ia_vs_non_ia_accuracy")


def paired_differences(reference: dict, variant: dict) -> dict:
    """``variant`` minus ``reference`` fold by fold: two ``classification_scores`` of models
    trained on the same folds and scored on the same test spectra.

    Differencing within a fold removes what the folds share (which objects are hard), so the
    spread of the differences, not of either score, says whether a change is real. Returns, per
    score in ``PAIRED_SCORES`` and per headline class's F1 (``f1 <class>``), the mean, standard
    deviation and per-fold values of the differences, and the folds in their order.
    """
    ref = {f["fold"]: f for f in reference["per_fold"]}
    folds = [f["fold"] for f in variant["per_fold"]]
    if sorted(folds) != sorted(ref):
        raise ValueError(f"the variant was scored on folds {sorted(folds)}, the reference on "
                         f"{sorted(ref)}: a paired difference needs the same folds")
    out = {"folds": folds}
    for key in PAIRED_SCORES:
        out[key] = spread([f[key] - ref[f["fold"]][key] for f in variant["per_fold"]])
    for name in reference["headline_classes"]:
        pairs = [(f["f1"][name], ref[f["fold"]]["f1"][name]) for f in variant["per_fold"]
                 if name in f["f1"] and name in ref[f["fold"]]["f1"]]
        if pairs:
            out[f"f1 {name}"] = spread([a - b for a, b in pairs])
    return out
