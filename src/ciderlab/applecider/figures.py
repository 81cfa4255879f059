"""Figures of the real ZTF alerts the ``alerts`` stage tabulates: light curves with their upper
limits, cutout triplets, and which metadata each class actually carries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

BAND_COLOURS = {"g": "tab:green", "r": "tab:red", "i": "tab:brown"}
STAMP_NAMES = ("science", "template", "difference")


def example_objects(metadata: pd.DataFrame, per_class: int = 1) -> pd.DataFrame:
    """The labelled objects with the longest histories, ``per_class`` of each label.

    Returns one row per chosen object (its last alert): objectId, label, candid.
    """
    last = (metadata.sort_values("jd").groupby("objectId").tail(1)
            .query("label != 'unlabelled'"))
    last = last.assign(n=last["n_detections_g"] + last["n_detections_r"] + last["n_detections_i"])
    chosen = (last.sort_values(["n", "objectId"], ascending=[False, True])
              .groupby("label").head(per_class).sort_values(["label", "objectId"]))
    return chosen[["objectId", "label", "candid"]].reset_index(drop=True)


def fig_alert_light_curves(lightcurve: pd.DataFrame, examples: pd.DataFrame) -> Figure:
    """One panel per example object: detections (difference flux in µJy, 1σ bars) and upper
    limits (down-pointing triangles at the 5σ limiting flux), in days from first detection.

    Parameters
    ----------
    lightcurve : DataFrame
        The ``alerts`` stage's light curve: objectId, band, is_limit, flux_ujy, flux_err_ujy,
        limit_flux_ujy, dt_days.
    examples : DataFrame
        objectId and label per panel (``example_objects``).
    """
    n = len(examples)
    cols = min(3, max(n, 1))
    rows = -(-n // cols)
    fig = Figure(figsize=(4.3 * cols, 2.8 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (_, example) in zip(axes, examples.iterrows()):
        points = lightcurve[lightcurve["objectId"] == example["objectId"]]
        for band, colour in BAND_COLOURS.items():
            seen = points[(points["band"] == band) & ~points["is_limit"]]
            limits = points[(points["band"] == band) & points["is_limit"]]
            if len(seen):
                ax.errorbar(seen["dt_days"], seen["flux_ujy"], yerr=seen["flux_err_ujy"],
                            fmt="o", ms=3, color=colour, label=f"{band} detection")
            if len(limits):
                ax.scatter(limits["dt_days"], limits["limit_flux_ujy"], marker="v", s=12,
                           color=colour, alpha=0.35, label=f"{band} upper limit")
        ax.set_title(f"{example['objectId']} ({example['label']})", fontsize=9)
        ax.set_xlabel("days from first detection")
        ax.set_ylabel("difference flux [µJy]")
    for ax in axes[n:]:
        ax.set_visible(False)
    if n:
        axes[0].legend(fontsize=7)
    return fig


def fig_cutout_triplets(cutouts: np.ndarray, cutout_index: pd.DataFrame,
                        examples: pd.DataFrame) -> Figure:
    """Science, template and difference stamps (as the models see them) of each example's last
    alert, one row per example.

    Parameters
    ----------
    cutouts : (N, H, W, 3) float32
        Normalised stamps, in the order of ``cutout_index``.
    cutout_index : DataFrame
        objectId, candid per stamp triplet.
    examples : DataFrame
        objectId, label, candid (``example_objects``).
    """
    position = {int(c): i for i, c in enumerate(cutout_index["candid"])}
    fig = Figure(figsize=(6.5, 2.2 * len(examples)), layout="constrained")
    axes = fig.subplots(len(examples), 3, squeeze=False)
    for r, (row, (_, example)) in enumerate(zip(axes, examples.iterrows())):
        triplet = cutouts[position[int(example["candid"])]]  # (H, W, 3)
        for k, ax in enumerate(row):
            stamp = triplet[..., k]
            low, high = np.percentile(stamp, [1, 99.5])
            ax.imshow(stamp, origin="lower", cmap="gray", vmin=low, vmax=high)
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_ylabel(f"{example['objectId']}\n{example['label']}", fontsize=8)
            if r == 0:
                ax.set_title(STAMP_NAMES[k], fontsize=9)
    return fig


def fig_metadata_coverage(metadata: pd.DataFrame, fields: list[str]) -> Figure:
    """Fraction of alerts per class whose field holds a real value (not missing, not a
    sentinel such as -999 for "no PS1/Gaia match"), one column per metadata field.

    Parameters
    ----------
    metadata : DataFrame
        The ``alerts`` stage's metadata: label and ``<field>_missing`` indicators.
    fields : list of str
        The fields to show, in tower order.
    """
    shown = [f for f in fields if f"{f}_missing" in metadata.columns]
    present = 1.0 - metadata.groupby("label")[[f"{f}_missing" for f in shown]].mean()
    present.columns = shown
    fig = Figure(figsize=(max(8.0, 0.28 * len(shown)), 0.5 * len(present) + 1.8),
                 layout="constrained")
    ax = fig.subplots()
    sns.heatmap(present, vmin=0, vmax=1, cmap="viridis", ax=ax,
                cbar_kws={"label": "fraction of alerts with a value"})
    ax.set_xlabel("metadata field")
    ax.set_ylabel("")
    return fig


def fig_early_classification(early: dict,
                             xlabel: str = "history kept: days since first detection") -> Figure:
    """Macro-F1 (mean ± std over folds) at N days after the object's first detection: the
    paper's "early classification" curve, one line per mode.

    Parameters
    ----------
    early : dict
        ``metrics.json["early"]`` (histories cut at N days) or ``["early_issued"]`` (the
        alerts issued within N days): mode -> days (as str) -> {"macro_f1": {mean, std}}.
    xlabel : what N counts
    """
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.subplots()
    for mode, by_days in early.items():
        days = sorted(by_days, key=float)
        mean = np.array([by_days[d]["macro_f1"]["mean"] for d in days])
        std = np.array([by_days[d]["macro_f1"]["std"] for d in days])
        x = np.array([float(d) for d in days])
        ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=mode)
    ax.set_xscale("log")
    ticks = sorted({float(d) for by_days in early.values() for d in by_days})
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("macro-F1 (mean ± std over folds)")
    ax.legend(title="mode")
    return fig


def fig_expert_routing(routing: pd.DataFrame) -> Figure:
    """Mean routing weight of each AstroMiNN expert per true class (the router keeps the top 2
    of 4 experts per alert), one panel per mode that has a router.

    Parameters
    ----------
    routing : DataFrame
        One row per alert and mode: mode, true, expert_0 .. expert_K.
    """
    experts = [c for c in routing.columns if c.startswith("expert_")]
    modes = list(dict.fromkeys(routing["mode"]))
    fig = Figure(figsize=(4.2 * len(modes), 0.45 * routing["true"].nunique() + 1.8),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(modes), squeeze=False)).ravel()
    for ax, mode in zip(axes, modes):
        mean = routing[routing["mode"] == mode].groupby("true")[experts].mean()
        sns.heatmap(mean, vmin=0, vmax=1, annot=True, fmt=".2f", cmap="mako", cbar=False,
                    ax=ax)
        ax.set_title(mode, fontsize=10)
        ax.set_xlabel("expert")
        ax.set_ylabel("true class")
    return fig
