"""The annotated heatmap both confusion-matrix figures draw their panels with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns


def annotated_heatmap(ax, values: np.ndarray, annot: np.ndarray, rows: list[str],
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


def cell_text(values: np.ndarray, counts: np.ndarray, fmt: str) -> np.ndarray:
    """``values`` formatted with ``fmt``, blank where the count is zero (an empty cell reads
    faster than a grid of zeros)."""
    return np.array([[fmt.format(v) if n else "" for v, n in zip(value_row, count_row)]
                     for value_row, count_row in zip(values, counts)], dtype=object)
