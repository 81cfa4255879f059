"""Figures of SpectraNet beside SNID-SAGE on the same spectra: confusion matrices, redshift
residuals, and spectra the two disagree on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ciderlab.evaluation.figures.heatmap import annotated_heatmap, cell_text
from ciderlab.evaluation.metrics import row_normalise


def fig_method_confusion(comparison: pd.DataFrame, classes: list[str], other: str) -> Figure:
    """Row-normalised confusion matrices of SpectraNet and SNID-SAGE on the same spectra."""
    from ciderlab.evaluation.metrics import label_confusion_matrix

    predicted = list(classes) + [other]
    present = [c for c in classes if (comparison["label"] == c).any()]
    rows = [predicted.index(c) for c in present]
    fig = Figure(figsize=(13, 5.5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (title, column) in zip(axes, (("SpectraNet", "spectranet_class"),
                                          ("SNID-SAGE 0.9.0", "snid_class"))):
        counts = label_confusion_matrix(comparison["label"], comparison[column], predicted)[rows]
        percent = 100 * row_normalise(counts)
        annotated_heatmap(ax, percent, cell_text(percent, counts, "{:.0f}"), present, predicted,
                           vmax=100, cbar_label=None)
        ax.set_title(f"{title} (row %)")
    # One colour bar for both panels: they share the 0-100 % scale.
    fig.colorbar(axes[1].collections[0], ax=axes, shrink=0.8, label="% of true class")
    return fig


def fig_method_redshift(comparison: pd.DataFrame) -> Figure:
    """Redshift residuals dz/(1+z) of both methods against the true redshift (left), and the
    cumulative distribution of their size (right; spectra a method gave no redshift are left
    out of its curve, so each curve ends at 1)."""
    z_true = comparison["redshift"].to_numpy(float)
    residuals = pd.concat([pd.DataFrame({
        "method": label, "true redshift": z_true,
        "residual": (comparison[column].to_numpy(float) - z_true) / (1 + z_true)})
        for label, column in (("SpectraNet", "spectranet_redshift"),
                              ("SNID-SAGE 0.9.0", "snid_redshift"))], ignore_index=True)
    # A residual of exactly zero has no place on the log axis; 1e-5 is far below any real one.
    residuals["size"] = residuals["residual"].abs().clip(lower=1e-5)
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax_z, ax_cdf = fig.subplots(1, 2)
    sns.scatterplot(residuals, x="true redshift", y="residual", hue="method", style="method",
                    markers=["o", "s"], alpha=0.7, ax=ax_z)
    ax_z.axhline(0, color="k", lw=1)
    ax_z.set_ylabel("(z_pred - z_true) / (1 + z_true)")
    sns.ecdfplot(residuals.dropna(subset=["size"]), x="size", hue="method", log_scale=True,
                 legend=False, ax=ax_cdf)
    ax_cdf.axvline(0.15, color="r", ls="--", lw=1)
    ax_cdf.set_xlabel("|z_pred - z_true| / (1 + z_true)  (dashed: outlier threshold 0.15)")
    ax_cdf.set_ylabel("fraction of spectra with a redshift")
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


def fig_spectral_branches(runs: dict[str, dict]) -> Figure:
    """Per-class F1 of each spectra model side by side: bars at the mean over folds, error bars
    one standard deviation, macro-F1 as the last group.

    Parameters
    ----------
    runs : dict
        Model name -> its cross-validated scores (``per_class_f1``, ``macro_f1``; see
        ``evaluation.cross_validation.classification_scores``).
    """
    classes = list(next(iter(runs.values()))["per_class_f1"])
    groups = classes + ["macro-F1"]
    x = np.arange(len(groups))
    width = 0.8 / len(runs)
    fig = Figure(figsize=(max(6.0, 0.9 * len(groups) + 2), 4), layout="constrained")
    ax = fig.subplots()
    for i, (model, scores) in enumerate(runs.items()):
        stats = [scores["per_class_f1"].get(c, {"mean": np.nan, "std": np.nan}) for c in classes]
        stats.append(scores["macro_f1"])
        ax.bar(x + (i - (len(runs) - 1) / 2) * width, [s["mean"] for s in stats], width,
               yerr=[np.nan_to_num(s["std"]) for s in stats], capsize=2, label=model)
    ax.set_xticks(x, groups, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1 (mean ± std over folds)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the bars, never over them
    return fig
