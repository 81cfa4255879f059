"""One ``fig_*`` function per book figure. Each reads results (tables, dicts, arrays) and returns
a matplotlib Figure; none reads files or trains anything, so restyling never recomputes.

Figures are built with the object-oriented API (no pyplot state): a notebook cell that
returns one shows it exactly once, and nothing needs a display. Statistical plots (annotated
heatmaps, distributions by class, residual distributions) are seaborn's axes-level functions,
always handed an axes of our Figure; seaborn's global theme is never set.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.figure import Figure

from ciderlab.evaluation.metrics import row_normalise
from ciderlab.spectra.grid import coverage_of


def _annotated_heatmap(ax, values: np.ndarray, annot: np.ndarray, rows: list[str],
                       columns: list[str], vmax: float, cbar_label: str | None) -> None:
    """A Blues heatmap of ``values`` with the strings ``annot`` in its cells (rows true class,
    columns predicted class); no colour bar when ``cbar_label`` is None."""
    sns.heatmap(pd.DataFrame(values, index=rows, columns=columns), ax=ax, annot=annot, fmt="",
                cmap="Blues", vmin=0, vmax=vmax, linewidths=0.5, linecolor="white",
                annot_kws={"fontsize": 8}, cbar=cbar_label is not None,
                cbar_kws={"label": cbar_label, "shrink": 0.8} if cbar_label else None)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.tick_params(axis="y", rotation=0)
    ax.tick_params(axis="x", rotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")


def _cell_text(values: np.ndarray, counts: np.ndarray, fmt: str) -> np.ndarray:
    """``values`` formatted with ``fmt``, blank where the count is zero (an empty cell reads
    faster than a grid of zeros)."""
    return np.array([[fmt.format(v) if n else "" for v, n in zip(value_row, count_row)]
                     for value_row, count_row in zip(values, counts)], dtype=object)


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
    _annotated_heatmap(ax_counts, counts, _cell_text(counts, counts, "{:.0f}"), classes, classes,
                       vmax=max(counts.max(initial=0), 1), cbar_label="spectra")
    _annotated_heatmap(ax_percent, percent, _cell_text(percent, counts, "{:.0f}%"), classes,
                       classes, vmax=100, cbar_label="% of true class")
    ax_counts.set_title("counts")
    ax_percent.set_title("row-normalised")
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
    """A template's path to the model: rest-frame flattened template -> with a continuum and
    host, reddened, degraded -> redshifted, noisy SEDM-like observation -> continuum removed and
    normalised (redshift-model input) -> de-redshifted (classifier input)."""
    key = label.replace(" ", "_")
    name, age, redshift, snr, host = examples[f"{key}/info"]
    wave_t, wave_o, wave_r = (examples["wave_template_aa"], examples["wave_obs_aa"],
                              examples["wave_rest_aa"])
    covered_t = coverage_of(examples[f"{key}/template"])
    panels = [
        (wave_t, examples[f"{key}/template"] + 1, covered_t, "template (rest frame, flattened + 1)"),
        (wave_t, examples[f"{key}/degraded"], covered_t,
         f"x random continuum, + host ({float(host):.0%}), reddened, degraded to R~100"),
        (wave_o, examples[f"{key}/raw_obs"], examples[f"{key}/covered_obs"],
         f"redshifted to z = {float(redshift):.3f}, SEDM grid, instrument response, "
         f"S/N = {float(snr):.0f} per resolution element"),
        (wave_o, examples[f"{key}/flux_obs"], examples[f"{key}/covered_obs"],
         "continuum removed, normalised: redshift-model input (observed frame)"),
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


def fig_continuum_draws(meta: pd.DataFrame) -> Figure:
    """The random continua of the realised spectra: colour temperature by class and against
    phase, and the reddening drawn (host and Milky Way E(B-V)).

    Parameters
    ----------
    meta : DataFrame
        One row per realised spectrum with ``label``, ``age_days``, ``temperature_k``,
        ``ebv_host`` and ``ebv_mw`` (NaN temperature for power-law continua).
    """
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    hot = meta.dropna(subset=["temperature_k"])
    with warnings.catch_warnings():
        # seaborn 0.13.2 passes boxplot's deprecated `vert` to Matplotlib 3.11
        warnings.filterwarnings("ignore", "vert: bool", MatplotlibDeprecationWarning)
        sns.boxplot(data=hot, x="temperature_k", y="label", ax=axes[0], color="C0", fliersize=1)
    axes[0].set(xlabel="colour temperature (K)", ylabel="", xscale="log")
    phased = hot[hot["age_days"].between(-30, 200)]
    sns.scatterplot(data=phased, x="age_days", y="temperature_k", hue="label", s=4,
                    linewidth=0, ax=axes[1], legend=False)
    axes[1].set(xlabel="days from maximum", ylabel="colour temperature (K)", yscale="log")
    for column, text in (("ebv_host", "host"), ("ebv_mw", "Milky Way")):
        sns.histplot(meta[column], bins=40, element="step", fill=False, ax=axes[2], label=text)
    axes[2].set(xlabel="E(B-V) (mag)", ylabel="spectra")
    axes[2].legend()
    return fig


def fig_distributions(meta: pd.DataFrame) -> Figure:
    """Realised spectra per class and split, and each class's redshift, S/N and phase
    distribution (boxes: quartiles; whiskers: 1.5 IQR), one row per class across the panels.

    Parameters
    ----------
    meta : DataFrame
        One row per realised spectrum: label, split, redshift, snr (per resolution element),
        age_days (days from maximum; NaN where unknown).
    """
    classes = sorted(meta["label"].unique())
    splits = [s for s in ("train", "val", "test") if (meta["split"] == s).any()]
    phases = meta.assign(age_days=meta["age_days"].clip(-30, 150))
    fig = Figure(figsize=(14, 1.5 + 0.42 * len(classes)), layout="constrained")
    ax_n, ax_z, ax_snr, ax_age = fig.subplots(1, 4, sharey=True)
    # Log axis set afterwards: countplot(log_scale=True) in seaborn 0.13.2 draws every bar at 1.
    sns.countplot(meta, y="label", hue="split", order=classes, hue_order=splits, ax=ax_n)
    ax_n.set_xscale("log")
    ax_n.set_xlabel("realised spectra")
    ax_n.legend(title="split", fontsize=8, loc="lower right")
    box = {"order": classes, "color": "C0", "fliersize": 1.5, "linewidth": 0.8}
    with warnings.catch_warnings():
        # seaborn 0.13.2 still passes bxp(vert=...), which Matplotlib 3.11 deprecates; the
        # warning would otherwise print under the figure in the book.
        warnings.filterwarnings("ignore", "vert: bool", MatplotlibDeprecationWarning)
        sns.boxplot(meta, x="redshift", y="label", ax=ax_z, **box)
        # S/N is drawn log-uniformly, so its boxes are computed and drawn on a log axis.
        sns.boxplot(meta, x="snr", y="label", log_scale=True, ax=ax_snr, **box)
        sns.boxplot(phases, x="age_days", y="label", ax=ax_age, **box)
    ax_z.set_xlabel("redshift z")
    ax_snr.set_xlabel("S/N per resolution element")
    ax_age.set_xlabel("phase (days from maximum;\nclipped to -30..150; unknown left out)")
    for ax in (ax_n, ax_z, ax_snr, ax_age):
        ax.set_ylabel("")
    return fig


def fig_redshift(z_true: np.ndarray, z_pred: np.ndarray, outlier_threshold: float = 0.15) -> Figure:
    """Predicted vs true redshift with the +-threshold(1+z) outlier bands, the residuals
    Delta z / (1 + z) against true redshift, and their distribution (log counts, so the
    outliers in the tails show beside the core)."""
    z_true, z_pred = np.asarray(z_true, float), np.asarray(z_pred, float)
    delta = (z_pred - z_true) / (1 + z_true)
    fig = Figure(figsize=(15, 4.5), layout="constrained")
    ax_z, ax_d, ax_hist = fig.subplots(1, 3)
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
    # Outliers beyond the plotted range pile up in the edge bins instead of vanishing.
    limit = 1.5 * outlier_threshold
    sns.histplot(x=np.clip(delta, -limit, limit), bins=np.linspace(-limit, limit, 61), ax=ax_hist)
    ax_hist.set_yscale("log")
    for sign in (-1, 1):
        ax_hist.axvline(sign * outlier_threshold, color="r", ls="--", lw=1,
                        label=f"+-{outlier_threshold}: outliers beyond" if sign > 0 else None)
    ax_hist.set_xlabel(f"(z_pred - z_true) / (1 + z_true), clipped to +-{limit:g}")
    ax_hist.set_ylabel("test spectra")
    ax_hist.legend(loc="upper left", fontsize=8)
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
    rows = [predicted.index(c) for c in present]
    fig = Figure(figsize=(13, 5.5), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (title, column) in zip(axes, (("SpectraNet", "spectranet_class"),
                                          ("SNID-SAGE 0.9.0", "snid_class"))):
        counts = label_confusion_matrix(comparison["label"], comparison[column], predicted)[rows]
        percent = 100 * row_normalise(counts)
        _annotated_heatmap(ax, percent, _cell_text(percent, counts, "{:.0f}"), present, predicted,
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
