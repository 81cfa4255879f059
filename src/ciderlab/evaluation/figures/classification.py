"""Figures of the classifier: confusion matrix, ROC curves, accuracy in bins, and training and
validation curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ciderlab.evaluation.figures.heatmap import annotated_heatmap, cell_text
from ciderlab.evaluation.metrics import row_normalise


def fig_confusion_matrix(matrix, classes: list[str], title: str = "") -> Figure:
    """Counts (left) and row-normalised percentages (right) of a confusion matrix.

    Parameters
    ----------
    matrix : array-like, shape (n_classes, n_classes)
        Rows true class, columns predicted class, in ``classes`` order.
    """
    counts = np.asarray(matrix)
    percent = 100 * row_normalise(counts)
    fig = Figure(figsize=(12, 5.2), layout="constrained")
    ax_counts, ax_percent = fig.subplots(1, 2)
    annotated_heatmap(ax_counts, counts, cell_text(counts, counts, "{:.0f}"), classes, classes,
                       vmax=max(counts.max(initial=0), 1), cbar_label="spectra")
    annotated_heatmap(ax_percent, percent, cell_text(percent, counts, "{:.0f}%"), classes,
                       classes, vmax=100, cbar_label="% of true class")
    ax_counts.set_title("counts")
    ax_percent.set_title("row-normalised")
    if title:
        fig.suptitle(title)
    return fig


def fig_roc(predictions: pd.DataFrame, classes: list[str]) -> Figure:
    """One-vs-rest ROC curve per class with its AUC (test spectra, known redshift)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.subplots()
    for name in classes:
        truth = (predictions["label"] == name).to_numpy()
        if truth.all() or not truth.any():
            continue
        score = predictions[f"p_{name}"].to_numpy()
        fpr, tpr, _ = roc_curve(truth, score)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(truth, score):.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def fig_accuracy_vs(predictions: pd.DataFrame, column: str, bins, xlabel: str,
                    log: bool = False) -> Figure:
    """Test accuracy in bins of ``column`` (phase, S/N, redshift), with binomial error bars and
    the number of spectra per bin."""
    values = predictions[column].to_numpy(float)
    correct = (predictions["label"] == predictions["predicted"]).to_numpy()
    edges = np.asarray(bins, float)
    centres, accuracy, error, counts = [], [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (values >= lo) & (values < hi)
        n = int(inside.sum())
        if n == 0:
            continue
        p = correct[inside].mean()
        centres.append(np.sqrt(lo * hi) if log else 0.5 * (lo + hi))
        accuracy.append(p)
        error.append(np.sqrt(p * (1 - p) / n))
        counts.append(n)
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    ax.errorbar(centres, accuracy, yerr=error, fmt="o-", capsize=3)
    for x, y, n in zip(centres, accuracy, counts):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(0, 8), ha="center",
                    fontsize=7, color="grey")
    if not counts:  # e.g. a catalogue's observed spectra: no host fraction, no phase known
        ax.text(0.5, 0.5, f"no test spectrum with a known {xlabel}", ha="center",
                va="center", transform=ax.transAxes)
    elif log:
        ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (test spectra)")
    return fig


def fig_training_curves(history: pd.DataFrame, loss_name: str = "loss") -> Figure:
    """Training and validation loss (``loss_name`` on the axis), and validation macro-F1 /
    accuracy, per epoch."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    (ax_loss, ax_score) = fig.subplots(1, 2)
    ax_loss.plot(history["epoch"], history["train_loss"], "o-", label="train (edge-masked)")
    ax_loss.plot(history["epoch"], history["val_loss"], "s-", label="validation (EMA weights)")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel(loss_name)
    ax_loss.legend()
    ax_score.plot(history["epoch"], history["val_macro_f1"], "o-", label="macro-F1")
    ax_score.plot(history["epoch"], history["val_accuracy"], "s-", label="accuracy")
    best = history["val_macro_f1"].idxmax()
    ax_score.axvline(history["epoch"][best], color="grey", ls=":", label="saved (best) epoch")
    ax_score.set_xlabel("epoch")
    ax_score.set_ylabel("validation score")
    ax_score.set_ylim(0, 1)
    ax_score.legend()
    return fig


def fig_paired_differences(ablation: dict) -> Figure:
    """Each ablation variant minus the reference, fold by fold: one dot per fold, the mean and
    its standard deviation as a bar, per headline score and per class's F1.

    ``ablation`` is results/ablation/metrics.json (``variants``: name -> ``difference`` from
    ``evaluation.cross_validation.paired_differences``).
    """
    variants = ablation["variants"]
    scores = list(next(iter(variants.values()))["difference"])
    scores.remove("folds")
    labels = {"macro_f1": "macro-F1", "accuracy": "accuracy",
              "ia_vs_non_ia_accuracy": "SN Ia vs non-Ia"}
    fig = Figure(figsize=(7, 0.45 * len(scores) * len(variants) + 1.2), layout="constrained")
    ax = fig.subplots()
    rows, names = 0, []
    for name, variant in variants.items():
        for key in scores:
            diff = variant["difference"][key]
            y = -rows
            ax.scatter(diff["values"], [y] * len(diff["values"]), s=14, color="0.5", zorder=2)
            ax.errorbar(diff["mean"], y, xerr=diff["std"], fmt="o", color="C3", capsize=3,
                        zorder=3)
            names.append(f"{labels.get(key, key.replace('f1 ', 'F1 '))}"
                         + (f" ({name})" if len(variants) > 1 else ""))
            rows += 1
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks([-k for k in range(rows)], names)
    ax.set_xlabel("variant − reference (grey: each fold; red: mean ± std over folds)")
    if len(variants) == 1:
        ax.set_title(next(iter(variants)))
    return fig