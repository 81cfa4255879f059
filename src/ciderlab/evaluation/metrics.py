"""Every metric the book reports (SPEC §8), each defined once here and tested."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score,
                             precision_recall_fscore_support, roc_auc_score, top_k_accuracy_score)

SN_IA = "SN Ia"


def finite_array(values, name: str, ndim: int) -> np.ndarray:
    """``values`` as a non-empty float array of ``ndim`` dimensions without NaN/inf, or a
    ValueError naming ``name``: the check every score function makes of its inputs."""
    values = np.asarray(values, float)
    if values.ndim != ndim or len(values) == 0:
        shape = "(N,)" if ndim == 1 else "(N, L)"
        raise ValueError(f"{name} must be a non-empty {shape} array; got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN/inf; drop those spectra first")
    return values


def headline_classes(classes: Sequence[str], separate: Sequence[str]) -> list[str]:
    """The classes every headline score runs over: ``classes`` in order, less ``separate``
    (``labels.separate_classes`` in params.yaml, the one place the set is named)."""
    return [str(c) for c in classes if c not in set(separate)]


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, classes: list[str],
                           headline: Sequence[str]) -> dict:
    """The one definition of every classification score the book reports.

    ``y_true`` (N,) holds indices into ``classes``, ``proba`` (N, K) class probabilities.
    Every headline score (accuracy, top-3, macro-F1, macro ROC AUC, per-class scores, the
    confusion matrix, SN Ia vs non-Ia) runs over the spectra of the ``headline`` classes only;
    macro-F1 averages over exactly those classes, a headline class with no spectrum scoring
    zero (so that sets with and without it compare). Spectra of the other classes (AGN) are
    reported under ``separate``: per class, their number and recall. Predictions of any class,
    headline or not, count against a spectrum.
    """
    y_true = np.asarray(y_true)
    if len(y_true) == 0:
        raise ValueError("no predictions to score")
    proba = finite_array(proba, "predicted probabilities", 2)
    unknown = sorted(set(headline) - set(classes))
    if unknown or not headline:
        raise ValueError(f"headline classes {list(headline)} must be a non-empty subset of "
                         f"{list(classes)}; not classes: {unknown}")
    labels = np.arange(len(classes))
    index = [classes.index(c) for c in headline]
    y_pred = proba.argmax(axis=1)
    kept = np.isin(y_true, index)
    result = {"headline_classes": list(headline), "classes": list(classes),
              "separate": {classes[k]: {"n_spectra": int((y_true == k).sum()),
                                        "recall": float(np.mean(y_pred[y_true == k] == k))}
                           for k in sorted(set(y_true[~kept].tolist()))}}
    y_true, y_pred, proba = y_true[kept], y_pred[kept], proba[kept]
    result["n_spectra"] = int(len(y_true))
    if len(y_true) == 0:
        return result
    present = np.unique(y_true)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    per_class = {}
    for k in index:
        auc = float("nan")
        if k in present and len(present) > 1:
            auc = float(roc_auc_score(y_true == k, proba[:, k]))
        per_class[classes[k]] = {"precision": float(precision[k]), "recall": float(recall[k]),
                                 "f1": float(f1[k]), "support": int(support[k]), "roc_auc": auc}
    aucs = [per_class[classes[k]]["roc_auc"] for k in present]
    top3 = float("nan")
    if len(classes) > 3:
        top3 = float(top_k_accuracy_score(y_true, proba, k=3, labels=labels))
    result.update({
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "top3_accuracy": top3,
        "macro_f1": macro_f1_over(y_true, y_pred, index),
        "macro_roc_auc": float(np.nanmean(aucs)) if np.isfinite(aucs).any() else float("nan"),
        "per_class": per_class,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    })
    if SN_IA in headline:
        result["ia_vs_non_ia"] = ia_vs_non_ia(y_true == classes.index(SN_IA),
                                              y_pred == classes.index(SN_IA))
    return result


def spread(values) -> dict:
    """Mean, sample standard deviation (ddof = 1; NaN for one value) and the values themselves:
    how the book reports a score over seeds or folds."""
    values = np.asarray(values, float)
    std = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
    return {"mean": float(np.mean(values)), "std": std, "values": values.tolist()}


def proportion_interval(k: int, n: int, level: float = 0.95) -> list[float]:
    """[low, high]: the Wilson score interval of a proportion of ``k`` successes in ``n``
    trials at confidence ``level`` (scipy); how far a rate measured on few spectra can be
    trusted. [nan, nan] when ``n`` is 0."""
    from scipy.stats import binomtest

    if n == 0:
        return [float("nan"), float("nan")]
    low, high = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return [float(low), float(high)]


def paired_exact_test(right_a, right_b) -> dict:
    """Two methods' answers on the same items, right or wrong: the exact McNemar test.

    Only the items one method gets right and the other wrong tell them apart; under "equally
    good" each such item goes either way with probability 1/2. Returns {a_only, b_only,
    p_value} (two-sided binomial p; 1.0 when no item tells them apart).
    """
    from scipy.stats import binomtest

    right_a, right_b = np.asarray(right_a, bool), np.asarray(right_b, bool)
    if right_a.shape != right_b.shape:
        raise ValueError(f"paired answers differ in shape: {right_a.shape} vs {right_b.shape}")
    a_only, b_only = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    p_value = binomtest(a_only, a_only + b_only).pvalue if a_only + b_only else 1.0
    return {"a_only": a_only, "b_only": b_only, "p_value": float(p_value)}


def grouped_bootstrap_interval(statistic, groups: Sequence[np.ndarray], resamples: int,
                               seed: int, level: float = 0.95) -> list[float]:
    """[low, high]: the percentile interval of ``statistic`` over bootstrap resamples that draw
    whole groups (objects) with replacement, each sample of groups separately.

    ``groups``: one array of group labels per sample (e.g. the in-class and the out-of-class
    spectra's objects); ``statistic(*rows)`` gets, per sample, the row indices drawn (a group
    drawn twice contributes its rows twice). Spectra of one object are not independent, so the
    object is what is resampled.
    """
    rng = np.random.default_rng(seed)
    members = []
    for labels in groups:
        labels = np.asarray(labels)
        unique, inverse = np.unique(labels, return_inverse=True)
        members.append([np.flatnonzero(inverse == g) for g in range(len(unique))])
    values = []
    for _ in range(resamples):
        rows = [np.concatenate([per[i] for i in rng.integers(0, len(per), len(per))])
                for per in members]
        values.append(statistic(*rows))
    tail = 100 * (1 - level) / 2
    return [float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))]


def macro_f1_over(y_true: np.ndarray, y_pred: np.ndarray, labels: list[int]) -> float:
    """Macro-F1 over exactly the class indices ``labels`` (a fixed set, so subsets compare).

    A class among ``labels`` with no spectrum in ``y_true`` and none predicted scores zero.
    """
    return float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))


def ia_vs_non_ia(true_ia: np.ndarray, pred_ia: np.ndarray) -> dict:
    """SN Ia vs non-Ia: accuracy, purity (precision of Ia) and completeness (recall of Ia)."""
    true_ia, pred_ia = np.asarray(true_ia, bool), np.asarray(pred_ia, bool)
    hits = np.sum(true_ia & pred_ia)
    return {"accuracy": float(np.mean(true_ia == pred_ia)),
            "purity": float(hits / pred_ia.sum()) if pred_ia.any() else float("nan"),
            "completeness": float(hits / true_ia.sum()) if true_ia.any() else float("nan")}


def row_normalise(matrix: np.ndarray) -> np.ndarray:
    """Confusion matrix rows as fractions of the true class (rows with no support stay zero)."""
    matrix = np.asarray(matrix, dtype=float)
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)


def redshift_metrics(z_pred: np.ndarray, z_true: np.ndarray, outlier_threshold: float = 0.15) -> dict:
    """Delta = (z_pred - z_true) / (1 + z_true): RMS, bias, sigma_NMAD, outliers, MAE."""
    z_pred, z_true = np.asarray(z_pred, float), np.asarray(z_true, float)
    if len(z_true) == 0:
        raise ValueError("no redshifts to score")
    delta = (z_pred - z_true) / (1.0 + z_true)
    return {
        "rms": float(np.sqrt(np.mean(delta**2))),
        "bias": float(np.mean(delta)),
        "sigma_nmad": float(1.4826 * np.median(np.abs(delta - np.median(delta)))),
        # The authors' code omits the centring on the median; reported for comparison only.
        "sigma_nmad_uncentred_authors": float(1.4826 * np.median(np.abs(delta))),
        "outlier_fraction": float(np.mean(np.abs(delta) > outlier_threshold)),
        "mae": float(np.mean(np.abs(z_pred - z_true))),
        "n_spectra": int(len(z_true)),
    }


def label_confusion_matrix(true_labels, predicted_labels, labels: list[str]) -> np.ndarray:
    """Confusion matrix (rows true, columns predicted) of string labels in ``labels`` order."""
    return confusion_matrix(list(true_labels), list(predicted_labels), labels=labels)


def label_scores(true_labels, predicted_labels) -> dict:
    """Accuracy and SN Ia vs non-Ia scores of string labels (methods without probabilities)."""
    true_labels, predicted_labels = np.asarray(true_labels), np.asarray(predicted_labels)
    return {"accuracy": float(np.mean(true_labels == predicted_labels)),
            "ia_vs_non_ia": ia_vs_non_ia(true_labels == SN_IA, predicted_labels == SN_IA)}


def object_accuracy(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per object (columns label, object_id, predicted): spectra, accuracy, most common answer."""
    rows = []
    for (label, object_id), group in predictions.groupby(["label", "object_id"]):
        rows.append({"class": label, "object": object_id, "spectra": len(group),
                     "accuracy": float((group["predicted"] == label).mean()),
                     "most often called": group["predicted"].value_counts().idxmax()})
    return pd.DataFrame(rows, columns=["class", "object", "spectra", "accuracy",
                                       "most often called"])


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
