"""The real-spectra figures build from tiny in-memory tables and draw what their captions say."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: tests never open a window

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ciderlab.errors import InputError
from ciderlab.evaluation.figures import real_spectra as figures

TRAINED = ["Ia", "Ibc", "II"]
NAN = np.nan
# file, class, catalogue z; then per condition: predicted, probability, none_of_these,
# redshift_pred, z_low, z_high, error. e.fits could not be read; d.fits is Galactic (z = 0).
TRUTH = [("a.fits", "Ia", 0.05), ("b.fits", "Ia", 0.1), ("c.fits", "II", 0.02),
         ("d.fits", "CV", 0.0), ("e.fits", "Ia", 0.2)]
OURS = {"catalogue": [("Ia", 0.9, False, 0.05, NAN, NAN, ""),
                      ("II", 0.5, False, 0.1, NAN, NAN, ""),
                      ("II", 0.6, True, 0.02, NAN, NAN, ""),
                      ("Ia", 0.4, True, 0.0, NAN, NAN, ""),
                      (NAN, NAN, NAN, NAN, NAN, NAN, "unreadable FITS")],
        "predicted": [("Ia", 0.9, False, 0.06, 0.04, 0.08, ""),
                      ("II", 0.5, False, 0.5, 0.4, 0.6, ""),
                      ("II", 0.6, True, 0.021, NAN, NAN, ""),
                      ("Ia", 0.4, True, 0.01, 0.0, 0.02, ""),
                      (NAN, NAN, NAN, NAN, NAN, NAN, "unreadable FITS")]}
# predicted, redshift_pred, status
SNID = {"catalogue": [("Ia", 0.05, "ok"), ("other", 0.1, "ok"), ("II", 0.02, "ok"),
                      ("no answer", NAN, "no_match"), ("no answer", NAN, "unreadable")],
        "predicted": [("Ia", 0.05, "ok"), ("no answer", NAN, "no_match"), ("II", 0.3, "ok"),
                      ("Ia", 0.0, "ok"), ("no answer", NAN, "unreadable")]}


def make_ours() -> pd.DataFrame:
    rows = []
    for condition, answers in OURS.items():
        for (file, label, z), (pred, p, flag, z_pred, low, high, error) in zip(TRUTH, answers):
            rows.append({"file": file, "object": file[0], "class": label, "redshift": z,
                         "condition": condition, "predicted": pred, "probability": p,
                         "top3": "", "redshift_pred": z_pred, "z_low": low, "z_high": high,
                         "none_of_these": flag, "out_of_class_score": 0.0, "snr": 10.0,
                         "coverage": 1.0, "warnings": "", "error": error})
    return pd.DataFrame(rows)


def make_snid() -> pd.DataFrame:
    return pd.DataFrame([{"file": file, "object": file[0], "class": label, "redshift": z,
                          "condition": condition, "predicted": pred, "redshift_pred": z_pred,
                          "status": status}
                         for condition, answers in SNID.items()
                         for (file, label, z), (pred, z_pred, status) in zip(TRUTH, answers)])


def make_inputs() -> dict:
    wave = np.linspace(3000, 8000, 6)
    covered = np.array([[False, True, True, True, True, False]] * 4)
    flux = np.where(covered, np.arange(4)[:, None] + 1.0, 0.0)
    return {"flux_rest": flux, "covered_rest": covered, "wave_rest_aa": wave,
            "files": np.array(["c.fits", "a.fits", "b.fits", "d.fits"])}


def heatmap_cells(ax) -> dict[tuple[str, str], str]:
    """The non-blank cell annotations keyed by (true class, answer)."""
    rows = [t.get_text() for t in ax.get_yticklabels()]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    return {(rows[int(t.get_position()[1])], columns[int(t.get_position()[0])]): t.get_text()
            for t in ax.texts if t.get_text()}


def test_real_confusion_counts_each_method_with_none_of_these_and_no_answer_columns():
    fig = figures.fig_real_confusion(make_ours(), make_snid(), TRAINED)
    assert isinstance(fig, Figure)
    ours, snid = fig.axes[:2]
    for ax in (ours, snid):  # true classes present: trained in order (no Ibc file), then CV
        assert [t.get_text() for t in ax.get_yticklabels()] == ["Ia", "II", "CV"]
    assert [t.get_text() for t in ours.get_xticklabels()] == [
        "Ia", "Ibc", "II", "none of these", "no answer"]
    assert [t.get_text() for t in snid.get_xticklabels()] == [
        "Ia", "Ibc", "II", "other", "no answer"]
    # c.fits (II, top class II) and d.fits (CV) were flagged: both count as "none of these".
    assert heatmap_cells(ours) == {("Ia", "Ia"): "1", ("Ia", "II"): "1",
                                   ("Ia", "no answer"): "1", ("II", "none of these"): "1",
                                   ("CV", "none of these"): "1"}
    assert heatmap_cells(snid) == {("Ia", "Ia"): "1", ("Ia", "other"): "1",
                                   ("Ia", "no answer"): "1", ("II", "II"): "1",
                                   ("CV", "no answer"): "1"}
    assert ours.get_title().startswith("SpectraNet") and "5 files" in ours.get_title()
    assert snid.get_title().startswith("SNID-SAGE") and "catalogue" in snid.get_title()


def test_real_confusion_has_no_other_column_when_snid_sage_never_answers_other():
    snid = make_snid().replace({"predicted": {"other": "Ia"}})
    fig = figures.fig_real_confusion(make_ours(), snid, TRAINED)
    assert "other" not in [t.get_text() for t in fig.axes[1].get_xticklabels()]


def test_real_redshift_draws_answered_extragalactic_files_with_their_intervals():
    fig = figures.fig_real_redshift(make_ours(), make_snid())
    (ax,) = fig.axes
    ours_line = ax.containers[0].lines[0]
    (snid_line,) = [line for line in ax.get_lines() if line.get_label().startswith("SNID")]
    # Ours: a, b, c (d is Galactic, e unreadable); SNID-SAGE: a, c (b had no match).
    np.testing.assert_allclose(ours_line.get_xdata(), [0.05, 0.1, 0.02])
    np.testing.assert_allclose(ours_line.get_ydata(),
                               [0.01 / 1.05, 0.4 / 1.1, 0.001 / 1.02])
    np.testing.assert_allclose(snid_line.get_xdata(), [0.05, 0.02])
    np.testing.assert_allclose(snid_line.get_ydata(), [0.0, 0.28 / 1.02])
    (bars,) = ax.containers[0].lines[2]
    first, _, no_interval = bars.get_segments()
    np.testing.assert_allclose(first[:, 1], [0.01 / 1.05 - 0.02 / 1.05, 0.01 / 1.05 + 0.02 / 1.05])
    assert no_interval[0, 1] == pytest.approx(no_interval[1, 1])  # no interval, no bar
    dashed = sorted(line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--")
    assert dashed == [-0.15, 0.15]
    assert [0, 0] in [list(line.get_ydata()) for line in ax.get_lines()]
    assert ax.get_yscale() == "symlog" and ax.get_ylim()[1] > 0.4 / 1.1  # outlier on the plot
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "SpectraNet (3 files)", "SNID-SAGE (2 files)", "+-0.15: catastrophic beyond"]


def test_real_examples_shows_the_first_file_of_each_class_with_the_answer():
    fig = figures.fig_real_examples(make_inputs(), make_ours())
    shown = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in shown] == ["c.fits — II", "a.fits — Ia", "d.fits — CV"]
    (line,) = shown[0].get_lines()
    assert np.isfinite(line.get_ydata()).sum() == 4  # covered bins only
    assert shown[0].texts[0].get_text() == "SpectraNet: II (0.60)\nflagged: none of these"
    assert shown[1].texts[0].get_text() == "SpectraNet: Ia (0.90)"


def test_real_examples_stops_at_max_panels():
    fig = figures.fig_real_examples(make_inputs(), make_ours(), max_panels=2)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["c.fits — II",
                                                                     "a.fits — Ia"]


def test_real_examples_names_a_file_missing_from_the_results():
    inputs = make_inputs()
    inputs["files"] = np.array(["c.fits", "a.fits", "b.fits", "x.fits"])
    with pytest.raises(InputError, match="x.fits"):
        figures.fig_real_examples(inputs, make_ours())


def make_ood_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    groups = ["in-class validation"] * 50 + ["in-class test"] * 40 + [
        "out-of-class (choose)"] * 20 + ["out-of-class (measure)"] * 20
    return pd.DataFrame({"group": groups, "max_softmax": rng.uniform(0.2, 1.0, len(groups)),
                         "energy": rng.normal(size=len(groups))})


def test_out_of_class_scores_draws_a_density_per_group_and_the_threshold():
    fig = figures.fig_out_of_class_scores(make_ood_table(), "energy", threshold=-0.5)
    (ax,) = fig.axes
    assert len(ax.patches) == 4
    edges = np.diff(ax.patches[0].get_xy()[:, 0])
    heights = ax.patches[0].get_xy()[:, 1]
    assert np.sum(np.abs(edges) * heights[:-1]) == pytest.approx(1.0)  # a density
    (threshold,) = ax.get_lines()
    np.testing.assert_allclose(threshold.get_xdata(), [-0.5, -0.5])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "in-class validation (50)", "in-class test (40)", "out-of-class (choose) (20)",
        "out-of-class (measure) (20)", "none of these below"]
    assert ax.get_xlabel().startswith("energy")


def test_out_of_class_scores_names_the_scores_it_has():
    with pytest.raises(InputError, match="max_softmax"):
        figures.fig_out_of_class_scores(make_ood_table(), "odin", threshold=0.5)


@pytest.mark.parametrize("name", [n for n in dir(figures) if n.startswith("fig_")])
def test_every_figure_function_is_covered_here(name):
    assert any(f"figures.{name}(" in line for line in Path(__file__).read_text().splitlines()
               if not line.lstrip().startswith("@")), f"{name} has no test in {Path(__file__).name}"
