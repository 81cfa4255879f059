"""Figures of the realised data set: class and split counts with redshift, S/N and phase
distributions, the random continua drawn, and one template's path through preprocessing."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from ciderlab.spectra.grid import coverage_of


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
        if phases["age_days"].notna().any():
            sns.boxplot(phases, x="age_days", y="label", ax=ax_age, **box)
        else:  # a catalogue without phases
            _say(ax_age, "no phase known")
    ax_z.set_xlabel("redshift z")
    ax_snr.set_xlabel("S/N per resolution element")
    ax_age.set_xlabel("phase (days from maximum;\nclipped to -30..150; unknown left out)")
    for ax in (ax_n, ax_z, ax_snr, ax_age):
        ax.set_ylabel("")
    return fig


def _say(ax, text: str) -> None:
    """A panel with nothing to draw: says why."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9)
    ax.set_xticks([])


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
    if "temperature_k" not in meta or meta["temperature_k"].isna().all():
        for ax in axes:  # a catalogue's spectra: observed, no continuum drawn
            _say(ax, "no continuum drawn:\nthe spectra are observed ones")
        return fig
    hot = meta.dropna(subset=["temperature_k"])
    with warnings.catch_warnings():
        # seaborn 0.13.2 passes boxplot's deprecated `vert` to Matplotlib 3.11
        warnings.filterwarnings("ignore", "vert: bool", MatplotlibDeprecationWarning)
        sns.boxplot(data=hot, x="temperature_k", y="label", ax=axes[0], color="C0", fliersize=1)
    axes[0].set(xlabel="colour temperature (1000 K)", ylabel="", xscale="log")
    phased = hot[hot["age_days"].between(-30, 200)]
    sns.scatterplot(data=phased, x="age_days", y="temperature_k", hue="label", s=4,
                    linewidth=0, ax=axes[1], legend=False)
    # Plain thousands of kelvin on the log axes, without crowded minor-tick labels.
    kilo = FuncFormatter(lambda value, _: f"{value / 1000:g}")
    axes[0].xaxis.set_major_formatter(kilo)
    axes[0].xaxis.set_minor_formatter(NullFormatter())
    axes[1].yaxis.set_major_formatter(kilo)
    axes[1].yaxis.set_minor_formatter(NullFormatter())
    axes[1].set(xlabel="days from maximum", ylabel="colour temperature (1000 K)", yscale="log")
    for column, text in (("ebv_host", "host"), ("ebv_mw", "Milky Way")):
        sns.histplot(meta[column], bins=40, element="step", fill=False, ax=axes[2], label=text)
    axes[2].set(xlabel="E(B-V) (mag)", ylabel="spectra")
    axes[2].legend()
    return fig


def fig_preprocessing(examples: dict[str, np.ndarray], label: str) -> Figure:
    """A template's path to the model: rest-frame flattened template -> with a continuum and
    host, reddened, degraded -> redshifted, noisy SEDM-like observation -> continuum removed and
    normalised (redshift-model input) -> de-redshifted (classifier input). A catalogue's
    spectrum (spectra.source a folder) starts at the observation."""
    key = label.replace(" ", "_")
    name, age, redshift, snr, host = examples[f"{key}/info"]
    wave_t, wave_o, wave_r = (examples.get("wave_template_aa"), examples["wave_obs_aa"],
                              examples["wave_rest_aa"])
    if f"{key}/template" in examples:
        covered_t = coverage_of(examples[f"{key}/template"])
        panels = [
            (wave_t, examples[f"{key}/template"] + 1, covered_t,
             "template (rest frame, flattened + 1)"),
            (wave_t, examples[f"{key}/degraded"], covered_t,
             f"x random continuum, + host ({float(host):.0%}), reddened, degraded to R~100"),
            (wave_o, examples[f"{key}/raw_obs"], examples[f"{key}/covered_obs"],
             f"redshifted to z = {float(redshift):.3f}, SEDM grid, instrument response, "
             f"S/N = {float(snr):.0f} per resolution element")]
    else:  # a catalogue's spectrum: observed, nothing drawn before the grid
        panels = [(wave_o, examples[f"{key}/raw_obs"], examples[f"{key}/covered_obs"],
                   f"as observed (z = {float(redshift):.3f}), on the model grid, "
                   f"S/N = {float(snr):.0f} per resolution element")]
    panels += [
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
