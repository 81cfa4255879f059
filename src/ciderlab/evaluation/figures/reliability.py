"""Figures of how far the classifier can be trusted: reliability diagram, accuracy against
coverage, and purity against completeness."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def fig_reliability(tables: dict[str, pd.DataFrame],
                    ece: dict[str, float] | None = None) -> Figure:
    """Accuracy against mean confidence per confidence bin (top), and spectra per bin (bottom).

    Parameters
    ----------
    tables : dict of str to DataFrame
        One :func:`~ciderlab.evaluation.calibration.reliability_table` per label (e.g.
        "before", "after" calibration); empty bins are not drawn.
    ece : dict of str to float, optional
        Expected calibration error per label, quoted in the legend.
    """
    fig = Figure(figsize=(5.5, 6.5), layout="constrained")
    ax, ax_count = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="perfectly calibrated")
    for name, table in tables.items():
        filled = table[table["count"] > 0]
        label = name if ece is None or name not in ece else f"{name} (ECE {ece[name]:.3f})"
        (line,) = ax.plot(filled["confidence"], filled["accuracy"], "o-", label=label)
        ax_count.stairs(table["count"], np.append(table["bin_low"], table["bin_high"].iloc[-1]),
                        color=line.get_color())
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend(loc="upper left")
    ax_count.set_yscale("log")
    ax_count.set_xlabel("confidence (top class probability)")
    ax_count.set_ylabel("spectra")
    return fig


def fig_accuracy_coverage(tables: dict[str, pd.DataFrame]) -> Figure:
    """Accuracy of the answered spectra against the share answered, one curve per label, from
    :func:`~ciderlab.evaluation.calibration.accuracy_coverage` tables."""
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.subplots()
    for name, table in tables.items():
        ax.plot(table["coverage"], table["accuracy"], "-", label=name)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("coverage (share of spectra answered)")
    ax.set_ylabel("accuracy of the answered spectra")
    ax.legend(loc="lower left")
    return fig


def fig_purity_completeness(table: pd.DataFrame, operating_point: dict | None = None) -> Figure:
    """Purity against completeness of one class as its probability threshold varies.

    Parameters
    ----------
    table : DataFrame
        :func:`~ciderlab.evaluation.calibration.purity_completeness` output.
    operating_point : dict, optional
        :func:`~ciderlab.evaluation.calibration.completeness_at_contamination` output, marked
        with a star unless no threshold was pure enough (NaN threshold).
    """
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(table["completeness"], table["purity"], "-", label="all thresholds")
    threshold = None if operating_point is None else operating_point["threshold"]
    if threshold is not None and np.isfinite(threshold):  # None: no threshold reaches it
        ax.plot(operating_point["completeness"], operating_point["purity"], "*", ms=14,
                label=f"completeness {operating_point['completeness']:.2f} at purity "
                      f"{operating_point['purity']:.3f} (p >= {operating_point['threshold']:.2f})")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("completeness")
    ax.set_ylabel("purity")
    ax.legend(loc="lower left")
    return fig
