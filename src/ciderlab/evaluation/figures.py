"""One ``fig_*`` function per book figure. Each reads results (tables, dicts, arrays) and returns
a matplotlib Figure; none reads files or trains anything, so restyling never recomputes.

Figures are built with the object-oriented API (no pyplot state): a notebook cell that
returns one shows it exactly once, and nothing needs a display.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ciderlab.evaluation.metrics import row_normalise
from ciderlab.spectra.grid import coverage_of


def fig_confusion_matrix(matrix, classes: list[str], title: str = "") -> Figure:
    """Counts (left) and row-normalised percentages (right) of a confusion matrix."""
    counts = np.asarray(matrix)
    fractions = row_normalise(counts)
    fig = Figure(figsize=(12, 5.2), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, values, fmt, label in ((axes[0], counts, "{:.0f}", "spectra"),
                                   (axes[1], 100 * fractions, "{:.0f}%", "% of true class")):
        image = ax.imshow(values, cmap="Blues")
        fig.colorbar(image, ax=ax, shrink=0.8, label=label)
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
        ax.set_yticks(range(len(classes)), classes)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        top = values.max() if values.size else 0
        for (i, j), value in np.ndenumerate(values):
            if value:
                ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=8,
                        color="white" if value > 0.6 * top else "black")
    axes[0].set_title("counts")
    axes[1].set_title("row-normalised")
    if title:
        fig.suptitle(title)
    return fig


def fig_training_curves(history: pd.DataFrame) -> Figure:
    """Training and validation loss, and validation macro-F1 / accuracy, per epoch."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    (ax_loss, ax_score) = fig.subplots(1, 2)
    ax_loss.plot(history["epoch"], history["train_loss"], "o-", label="train (edge-masked)")
    ax_loss.plot(history["epoch"], history["val_loss"], "s-", label="validation (EMA weights)")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("focal loss")
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


def fig_validation_curves(histories: dict[str, pd.DataFrame], metric: str = "val_macro_f1",
                          ylabel: str = "validation macro-F1") -> Figure:
    """One validation curve per run (e.g. reference and ablation), best epochs marked."""
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.subplots()
    for name, history in histories.items():
        (line,) = ax.plot(history["epoch"], history[metric], "o-", label=name)
        best = history[metric].idxmax()
        ax.plot(history["epoch"][best], history[metric][best], "*", ms=14, color=line.get_color())
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title("star: saved (best) epoch")
    ax.legend()
    return fig


def fig_preprocessing(examples: dict[str, np.ndarray], label: str) -> Figure:
    """A template's path to the model: rest-frame template -> host-mixed, degraded, redshifted,
    noisy SEDM-like spectrum -> flattened observed-frame input -> de-redshifted classifier input."""
    key = label.replace(" ", "_")
    name, age, redshift, snr, host = examples[f"{key}/info"]
    wave_t, wave_o, wave_r = (examples["wave_template_aa"], examples["wave_obs_aa"],
                              examples["wave_rest_aa"])
    covered_t = coverage_of(examples[f"{key}/template"])
    panels = [
        (wave_t, examples[f"{key}/template"] + 1, covered_t, "template (rest frame, flattened + 1)"),
        (wave_t, examples[f"{key}/degraded"], covered_t,
         f"+ host ({float(host):.0%}), degraded to R~100"),
        (wave_o, examples[f"{key}/noisy"], examples[f"{key}/covered_obs"],
         f"redshifted to z = {float(redshift):.3f}, SEDM grid, S/N = {float(snr):.0f}"),
        (wave_o, examples[f"{key}/flux_obs"], examples[f"{key}/covered_obs"],
         "re-flattened, normalised: redshift-model input (observed frame)"),
        (wave_r, examples[f"{key}/flux_rest"], examples[f"{key}/covered_rest"],
         "de-redshifted: classifier input (rest frame)"),
    ]
    fig = Figure(figsize=(9, 10), layout="constrained")
    axes = fig.subplots(len(panels), 1)
    for ax, (wave, flux, covered, text) in zip(axes, panels):
        shown = np.where(covered, flux, np.nan)
        ax.plot(wave, shown, lw=0.8)
        ax.set_title(text, fontsize=9, loc="left")
        ax.set_ylabel("flux (arb.)")
        ax.set_xlim(2500, 10000)
    axes[-1].set_xlabel("wavelength (Angstrom)")
    age_text = "unknown phase" if age == "nan" else f"{float(age):+.0f} d"
    fig.suptitle(f"{label}: {name} ({age_text})")
    return fig


def fig_distributions(meta: pd.DataFrame) -> Figure:
    """Realised spectra per class and split, and their redshift, S/N and phase distributions."""
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 2)
    counts = meta.groupby(["label", "split"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=[c for c in ("train", "val", "test") if c in counts])
    counts.plot.barh(stacked=True, ax=axes[0, 0], logx=True)
    axes[0, 0].set_xlabel("realised spectra")
    axes[0, 0].set_ylabel("")
    axes[0, 1].hist(meta["redshift"], bins=30)
    axes[0, 1].set_xlabel("redshift z")
    axes[1, 0].hist(meta["snr"], bins=np.geomspace(meta["snr"].min(), meta["snr"].max(), 30))
    axes[1, 0].set_xscale("log")
    axes[1, 0].set_xlabel("S/N per bin")
    ages = meta["age_days"].dropna()
    axes[1, 1].hist(ages.clip(-30, 150), bins=36)
    axes[1, 1].set_xlabel("phase (days from maximum; clipped to -30..150)")
    for ax in (axes[0, 1], axes[1, 0], axes[1, 1]):
        ax.set_ylabel("spectra")
    return fig


def fig_redshift(z_true: np.ndarray, z_pred: np.ndarray, outlier_threshold: float = 0.15) -> Figure:
    """Predicted vs true redshift with the +-threshold(1+z) outlier bands, and the residuals
    Delta z / (1 + z) against true redshift."""
    z_true, z_pred = np.asarray(z_true, float), np.asarray(z_pred, float)
    delta = (z_pred - z_true) / (1 + z_true)
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    ax_z, ax_d = fig.subplots(1, 2)
    top = max(z_true.max(), z_pred.max()) * 1.05
    grid = np.linspace(0, top, 50)
    ax_z.scatter(z_true, z_pred, s=4, alpha=0.4, label="test spectra")
    ax_z.plot(grid, grid, "k-", lw=1, label="z_pred = z_true")
    for sign in (-1, 1):
        ax_z.plot(grid, grid + sign * outlier_threshold * (1 + grid), "r--", lw=1,
                  label=f"+-{outlier_threshold}(1+z)" if sign > 0 else None)
    ax_z.set_xlim(0, top)
    ax_z.set_ylim(0, top)
    ax_z.set_xlabel("true redshift")
    ax_z.set_ylabel("predicted redshift")
    ax_z.legend(loc="upper left")
    ax_d.scatter(z_true, delta, s=4, alpha=0.4)
    ax_d.axhline(0, color="k", lw=1)
    ax_d.set_xlabel("true redshift")
    ax_d.set_ylabel("(z_pred - z_true) / (1 + z_true)")
    return fig


def fig_redshift_training(history: pd.DataFrame) -> Figure:
    """Redshift model: training/validation MSE and validation RMS of dz/(1+z) per epoch."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax_loss, ax_rms = fig.subplots(1, 2)
    ax_loss.semilogy(history["epoch"], history["train_loss"], "o-", label="train (edge-masked)")
    ax_loss.semilogy(history["epoch"], history["val_loss"], "s-", label="validation")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("MSE in z")
    ax_loss.legend()
    ax_rms.plot(history["epoch"], history["val_rms_dz"], "o-")
    ax_rms.set_xlabel("epoch")
    ax_rms.set_ylabel("validation RMS of dz/(1+z)")
    return fig


def fig_method_confusion(comparison: pd.DataFrame, classes: list[str], other: str) -> Figure:
    """Row-normalised confusion matrices of SpectraNet and SNID-SAGE on the same spectra."""
    from ciderlab.evaluation.metrics import label_confusion_matrix

    predicted = list(classes) + [other]
    present = [c for c in classes if (comparison["label"] == c).any()]
    fig = Figure(figsize=(13, 5.5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (title, column) in zip(axes, (("SpectraNet", "spectranet_class"),
                                          ("SNID-SAGE 0.9.0", "snid_class"))):
        matrix = label_confusion_matrix(comparison["label"], comparison[column], predicted)
        rows = [predicted.index(c) for c in present]
        values = 100 * row_normalise(matrix[rows])
        image = ax.imshow(values, cmap="Blues", vmin=0, vmax=100)
        ax.set_xticks(range(len(predicted)), predicted, rotation=45, ha="right")
        ax.set_yticks(range(len(present)), present)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title(f"{title} (row %)")
        for (i, j), value in np.ndenumerate(values):
            if value:
                ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=8,
                        color="white" if value > 60 else "black")
    fig.colorbar(image, ax=axes, shrink=0.8, label="% of true class")
    return fig


def fig_method_redshift(comparison: pd.DataFrame) -> Figure:
    """Redshift residuals dz/(1+z) of both methods against the true redshift."""
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    z_true = comparison["redshift"].to_numpy(float)
    for label, column, marker in (("SpectraNet", "spectranet_redshift", "o"),
                                  ("SNID-SAGE 0.9.0", "snid_redshift", "s")):
        z = comparison[column].to_numpy(float)
        ax.scatter(z_true, (z - z_true) / (1 + z_true), marker=marker, label=label, alpha=0.7)
    ax.axhline(0, color="k", lw=1)
    ax.set_xlabel("true redshift")
    ax.set_ylabel("(z_pred - z_true) / (1 + z_true)")
    ax.legend()
    return fig


def fig_disagreements(comparison: pd.DataFrame, spectra: dict, n_examples: int = 4) -> Figure:
    """Test spectra on which the two methods disagree, with both answers and the truth."""
    differ = np.flatnonzero((comparison["spectranet_class"] != comparison["snid_class"]).to_numpy())
    shown = differ[:n_examples] if len(differ) else np.arange(min(n_examples, len(comparison)))
    fig = Figure(figsize=(10, 2.4 * max(len(shown), 1)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(max(len(shown), 1), 1))
    wave = spectra["wave_obs_aa"]
    for ax, i in zip(axes, shown):
        row = comparison.iloc[i]
        covered = spectra["covered"][i]
        ax.plot(wave, np.where(covered, spectra["flux_flat"][i] + 1, np.nan), lw=0.8)
        ax.set_title(f"{row['template']} (true {row['label']}, z = {row['redshift']:.3f}): "
                     f"SpectraNet {row['spectranet_class']}, SNID-SAGE {row['snid_class']}",
                     fontsize=9, loc="left")
        ax.set_ylabel("flux / continuum")
    axes[-1].set_xlabel("observed wavelength (Angstrom)")
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
    if log:
        ax.set_xscale("log")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (test spectra)")
    return fig
