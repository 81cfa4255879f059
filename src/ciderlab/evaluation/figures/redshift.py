"""Figures of the redshift model: predicted against true redshift with its residuals, and its
training curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure


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
