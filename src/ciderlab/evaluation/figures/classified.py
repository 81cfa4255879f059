"""Figure of one classified spectrum: the file as read, what the models saw, the class probabilities."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def fig_classified_spectrum(wave_aa: np.ndarray, flux: np.ndarray, result,
                            title: str = "") -> Figure:
    """Three panels for one ``ciderlab.spectranet.classify.Classification``.

    Parameters
    ----------
    wave_aa, flux : (N,) the spectrum as read (observed frame, Angstrom; F_lambda or counts)
    result : the Classification of that spectrum (its ``inputs`` hold the model inputs)
    title : shown above the panels, e.g. the file name
    """
    inputs = result.inputs
    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_raw, ax_input, ax_proba = fig.subplots(1, 3, width_ratios=[1.2, 1.2, 0.8])
    ax_raw.plot(wave_aa, flux, lw=0.8, color="k")
    ax_raw.axvspan(inputs.wave_obs_aa[0], inputs.wave_obs_aa[-1], color="C0", alpha=0.08,
                   label="model window")
    ax_raw.set_xlabel("observed wavelength [AA]")
    ax_raw.set_ylabel("flux as read")
    ax_raw.legend(loc="best", fontsize=8)
    rest = np.where(inputs.covered_rest, inputs.flux_rest, np.nan)
    ax_input.plot(inputs.wave_rest_aa, rest, lw=0.8, color="C1")
    ax_input.set_xlabel("rest-frame wavelength [AA]")
    ax_input.set_ylabel("classifier input (continuum removed, normalised)")
    ax_input.set_title(f"z = {result.redshift:.3f} ({result.redshift_source})", fontsize=10)
    names = list(result.probabilities)
    values = np.array([result.probabilities[n] for n in names])
    order = np.argsort(values)
    ax_proba.barh(np.array(names)[order], values[order], color="C2")
    ax_proba.set_xlim(0, 1)
    ax_proba.set_xlabel("probability")
    best, p_best = result.top[0]
    ax_proba.set_title(f"{best} ({p_best:.2f})", fontsize=10)
    heading = title + (f"  [{len(result.warnings)} warning(s)]" if result.warnings else "")
    if heading:
        fig.suptitle(heading, fontsize=11)
    return fig
