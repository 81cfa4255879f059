"""The calibration figures build from tiny in-memory tables and show what their captions say."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: tests never open a window

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ciderlab.evaluation.calibration import (accuracy_coverage, completeness_at_contamination,
                                             purity_completeness, reliability_table)
from ciderlab.evaluation.figures import reliability as figures

PROBA = np.array([[0.95, 0.05], [0.9, 0.1], [0.55, 0.45], [0.6, 0.4], [0.97, 0.03]])
Y = np.array([0, 1, 1, 0, 0])


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_reliability_draws_the_diagonal_and_one_curve_per_table_without_empty_bins():
    tables = {"before": reliability_table(PROBA, Y, n_bins=10),
              "after": reliability_table(np.full((5, 2), 0.5), Y, n_bins=10)}
    fig = figures.fig_reliability(tables, ece={"before": 0.1234})
    assert isinstance(fig, Figure)
    ax, ax_count = fig.axes
    assert legend_texts(ax) == ["perfectly calibrated", "before (ECE 0.123)", "after"]
    diagonal, before, after = ax.get_lines()
    np.testing.assert_allclose(diagonal.get_xydata(), [[0, 0], [1, 1]])
    # bins (0.5, 0.6], (0.8, 0.9], (0.9, 1]: accuracy 0.5, 0, 1
    np.testing.assert_allclose(before.get_xdata(), [0.575, 0.9, 0.96])
    np.testing.assert_allclose(before.get_ydata(), [0.5, 0.0, 1.0])
    assert len(after.get_xdata()) == 1  # every spectrum at confidence 0.5
    np.testing.assert_allclose(ax_count.patches[0].get_data()[0], tables["before"]["count"])


def test_accuracy_coverage_draws_each_table():
    tables = {"before": accuracy_coverage(PROBA, Y)}
    fig = figures.fig_accuracy_coverage(tables)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), tables["before"]["coverage"])
    np.testing.assert_allclose(line.get_ydata(), tables["before"]["accuracy"])
    assert legend_texts(ax) == ["before"] and "coverage" in ax.get_xlabel()


@pytest.mark.parametrize("max_contamination, stars", [(0.01, 1), (0.0, 0)])
def test_purity_completeness_marks_the_operating_point_only_when_there_is_one(
        max_contamination, stars):
    score = np.array([0.9, 0.8, 0.7, 0.4])
    positive = np.array([True, False, True, False])
    if stars == 0:
        positive = ~positive  # the top score is a contaminant: no threshold is pure
    table = purity_completeness(score, positive)
    point = completeness_at_contamination(score, positive, max_contamination)
    fig = figures.fig_purity_completeness(table, point)
    (ax,) = fig.axes
    curve, *marked = ax.get_lines()
    np.testing.assert_allclose(curve.get_xdata(), table["completeness"])
    assert len(marked) == stars
    if stars:
        assert marked[0].get_xydata().tolist() == [[0.5, 1.0]]
        assert legend_texts(ax)[1] == "completeness 0.50 at purity 1.000 (p >= 0.90)"


def test_purity_completeness_without_an_operating_point():
    table = pd.DataFrame({"threshold": [0.1, 0.5], "purity": [0.5, 1.0],
                          "completeness": [1.0, 0.5]})
    assert len(figures.fig_purity_completeness(table).axes[0].get_lines()) == 1


@pytest.mark.parametrize("name", [n for n in dir(figures) if n.startswith("fig_")])
def test_every_figure_function_is_covered_here(name):
    assert any(f"figures.{name}(" in line for line in Path(__file__).read_text().splitlines()
               if not line.lstrip().startswith("@")), f"{name} has no test in {Path(__file__).name}"
