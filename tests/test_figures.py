"""Every book figure builds from tiny in-memory results and shows what its caption says."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: tests never open a window

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from ciderlab.applecider import figures as alert_figures
from ciderlab.evaluation import figures

CLASSES = ["SN Ia", "SN Ib", "TDE"]


def cell_texts(ax) -> list[str]:
    """The non-empty annotations written inside a heatmap's cells, row by row."""
    return [t.get_text() for t in ax.texts if t.get_text()]


def history(n_epochs=4):
    epoch = np.arange(1, n_epochs + 1)
    return pd.DataFrame({"epoch": epoch, "train_loss": 1.0 / epoch, "val_loss": 1.2 / epoch,
                         "val_macro_f1": [0.3, 0.6, 0.5, 0.55][:n_epochs],
                         "val_accuracy": [0.4, 0.7, 0.6, 0.65][:n_epochs],
                         "val_rms_dz": 0.1 / epoch})


def meta():
    """Seven realised spectra of three classes in three splits; one phase unknown."""
    return pd.DataFrame({"label": ["SN Ia", "SN Ia", "SN Ia", "SN Ia", "SN Ib", "TDE", "TDE"],
                         "split": ["train", "train", "val", "test", "train", "train", "test"],
                         "redshift": [0.02, 0.04, 0.05, 0.08, 0.03, 0.1, 0.12],
                         "snr": [12.0, 14.0, 30.0, 80.0, 20.0, 15.0, 50.0],
                         "age_days": [-5.0, 1.0, 3.0, 400.0, 10.0, np.nan, 20.0]})


def comparison():
    return pd.DataFrame({"label": ["SN Ia", "SN Ia", "SN Ib", "TDE"],
                         "spectranet_class": ["SN Ia", "SN Ia", "SN Ia", "TDE"],
                         "snid_class": ["SN Ia", "other", "SN Ib", "SN Ia"],
                         "redshift": [0.05, 0.1, 0.03, 0.07],
                         "spectranet_redshift": [0.051, 0.12, 0.03, 0.08],
                         "snid_redshift": [0.05, np.nan, 0.2, 0.07],
                         "template": ["sn1", "sn2", "sn3", "tde1"]})


def predictions():
    return pd.DataFrame({"label": ["SN Ia", "SN Ia", "SN Ib", "TDE", "SN Ib", "TDE"],
                         "predicted": ["SN Ia", "SN Ib", "SN Ib", "TDE", "SN Ia", "TDE"],
                         "p_SN Ia": [0.9, 0.4, 0.2, 0.1, 0.6, 0.2],
                         "p_SN Ib": [0.05, 0.5, 0.7, 0.1, 0.3, 0.1],
                         "p_TDE": [0.05, 0.1, 0.1, 0.8, 0.1, 0.7],
                         "p_AGN": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # no AGN among them
                         "snr": [12.0, 15.0, 30.0, 35.0, 60.0, 90.0]})


def test_confusion_matrix_annotates_counts_and_row_percentages():
    matrix = [[8, 2, 0], [1, 3, 0], [0, 0, 0]]
    fig = figures.fig_confusion_matrix(matrix, CLASSES, title="test")
    assert isinstance(fig, Figure)
    ax_counts, ax_percent = fig.axes[:2]  # then the two colour bars
    assert len(fig.axes) == 4
    # zero cells stay blank; the rest read the count, and the percentage of the true class
    assert cell_texts(ax_counts) == ["8", "2", "1", "3"]
    assert cell_texts(ax_percent) == ["80%", "20%", "25%", "75%"]
    assert [t.get_text() for t in ax_counts.get_yticklabels()] == CLASSES
    assert [t.get_text() for t in ax_percent.get_xticklabels()] == CLASSES
    assert ax_counts.get_xlabel() == "predicted class" and ax_counts.get_ylabel() == "true class"


def test_training_curves_mark_the_best_epoch():
    fig = figures.fig_training_curves(history(), "cross-entropy")
    ax_loss, ax_score = fig.axes
    assert ax_loss.get_ylabel() == "cross-entropy"
    best = [line for line in ax_score.get_lines() if line.get_label() == "saved (best) epoch"]
    assert best[0].get_xdata()[0] == 2  # highest validation macro-F1
    assert len(ax_loss.get_lines()) == 2


def test_paired_differences_show_every_fold_and_the_mean_of_each_score():
    diff = {"folds": [0, 1, 2],
            "macro_f1": {"mean": 0.02, "std": 0.01, "values": [0.01, 0.02, 0.03]},
            "f1 TDE": {"mean": -0.1, "std": 0.1, "values": [-0.2, -0.1, 0.0]}}
    fig = figures.fig_paired_differences({"variants": {"no EMA": {"difference": diff}}})
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["macro-F1", "F1 TDE"]
    dots = [c for c in ax.collections if c.get_offsets().shape[0] == 3]
    assert len(dots) == 2 and list(dots[0].get_offsets()[:, 0]) == [0.01, 0.02, 0.03]
    assert ax.get_title() == "no EMA"


def test_preprocessing_shows_five_stages_and_quotes_snr_per_resolution_element():
    wave = np.linspace(3000, 9000, 50)
    flux = np.where((wave > 3500) & (wave < 8500), 1.0, 0.0)
    examples = {"wave_template_aa": wave, "wave_obs_aa": wave, "wave_rest_aa": wave,
                "SN_Ia/info": np.array(["sn2011fe", "3.0", "0.05", "25.0", "0.2"]),
                "SN_Ia/template": flux, "SN_Ia/degraded": flux + 1, "SN_Ia/raw_obs": flux + 1,
                "SN_Ia/covered_obs": flux > 0, "SN_Ia/flux_obs": flux,
                "SN_Ia/flux_rest": flux, "SN_Ia/covered_rest": flux > 0}
    fig = figures.fig_preprocessing(examples, "SN Ia")
    assert len(fig.axes) == 5
    assert "S/N = 25 per resolution element" in fig.axes[2].get_title(loc="left")
    assert "+3 d" in fig.get_suptitle()


def test_continuum_draws_show_temperatures_by_class_and_both_reddenings():
    table = pd.DataFrame({"label": ["SN Ia", "SN Ia", "TDE", "AGN"],
                          "age_days": [-5.0, 40.0, 10.0, np.nan],
                          "temperature_k": [12000.0, 6000.0, 30000.0, np.nan],
                          "ebv_host": [0.1, 0.0, 0.3, 0.05], "ebv_mw": [0.02, 0.1, 0.05, 0.0]})
    fig = figures.fig_continuum_draws(table)
    assert len(fig.axes) == 3
    # the power-law AGN has no temperature: only SN Ia and TDE get a box
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["SN Ia", "TDE"]
    assert [t.get_text() for t in fig.axes[2].get_legend().get_texts()] == ["host", "Milky Way"]
    assert "E(B-V)" in fig.axes[2].get_xlabel()


def test_distributions_show_classes_by_split_and_snr_per_resolution_element():
    fig = figures.fig_distributions(meta())
    ax_n, ax_z, ax_snr, ax_age = fig.axes
    assert "resolution element" in ax_snr.get_xlabel()
    assert "per bin" not in ax_snr.get_xlabel()
    assert ax_snr.get_xscale() == "log" and ax_n.get_xscale() == "log"
    # one row per class, shared by every panel
    assert [t.get_text() for t in ax_n.get_yticklabels()] == CLASSES
    assert all(ax.get_shared_y_axes().joined(ax, ax_n) for ax in (ax_z, ax_snr, ax_age))
    # bar lengths are the spectra per class and split: one bar per split a class is in
    bars = [p for p in ax_n.patches if p.get_width() > 0]
    per_class = {}
    for bar in bars:
        row = CLASSES[round(bar.get_y() + bar.get_height() / 2)]
        per_class[row] = per_class.get(row, 0) + bar.get_width()
    assert len(bars) == 6 and per_class == {"SN Ia": 4, "SN Ib": 1, "TDE": 2}
    assert [t.get_text() for t in ax_n.get_legend().get_texts()] == ["train", "val", "test"]
    # the 400-day phase is clipped to the axis range, not dropped
    assert ax_age.get_xlim()[1] < 200


def test_redshift_figure_shows_residual_distribution_with_clipped_outliers():
    z_true = np.array([0.05, 0.1, 0.2, 0.3])
    z_pred = np.array([0.05, 0.11, 0.2, 1.0])  # the last one is a far outlier
    fig = figures.fig_redshift(z_true, z_pred)
    ax_z, ax_d, ax_hist = fig.axes
    np.testing.assert_allclose(ax_d.collections[0].get_offsets()[:, 1],
                               (z_pred - z_true) / (1 + z_true))
    # all four spectra are counted, the far outlier in the last bin of the +-0.225 range
    heights = [p.get_height() for p in ax_hist.patches]
    assert sum(heights) == 4 and heights[-1] == 1
    assert ax_hist.patches[-1].get_x() + ax_hist.patches[-1].get_width() == pytest.approx(0.225)
    assert ax_hist.get_yscale() == "log"
    assert ax_hist.get_xlim()[1] < 0.3


def test_redshift_training_plots_rms_per_epoch():
    fig = figures.fig_redshift_training(history())
    ax_loss, ax_rms = fig.axes
    assert ax_loss.get_yscale() == "log"
    np.testing.assert_allclose(ax_rms.get_lines()[0].get_ydata(), history()["val_rms_dz"])


def test_method_confusion_rows_are_present_classes_and_columns_include_other():
    fig = figures.fig_method_confusion(comparison(), CLASSES + ["AGN"], "other")
    ax_net, ax_snid = fig.axes[:2]
    assert len(fig.axes) == 3  # one shared colour bar
    assert [t.get_text() for t in ax_snid.get_xticklabels()] == CLASSES + ["AGN", "other"]
    # AGN has no test spectrum here: no row for it
    assert [t.get_text() for t in ax_snid.get_yticklabels()] == CLASSES
    # SNID-SAGE: SN Ia 50 % right, 50 % other; SN Ib right; TDE called SN Ia
    assert cell_texts(ax_snid) == ["50", "50", "100", "100"]
    assert cell_texts(ax_net) == ["100", "100", "100"]


def spectral_branches():
    """Cross-validated scores of two spectra models over three folds (TDE tested in two)."""
    def stats(*values):
        return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)),
                "values": list(values)}
    return {"SpectraNet": {"per_class_f1": {"SN Ia": stats(0.9, 0.95, 0.92),
                                            "TDE": stats(0.6, 0.8)},
                           "macro_f1": stats(0.75, 0.85, 0.8)},
            "GalSpecNet": {"per_class_f1": {"SN Ia": stats(0.8, 0.85, 0.9),
                                            "TDE": stats(0.2, 0.4)},
                           "macro_f1": stats(0.5, 0.6, 0.55)}}


def test_spectral_branches_put_each_models_f1_side_by_side_per_class():
    fig = figures.fig_spectral_branches(spectral_branches())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["SN Ia", "TDE", "macro-F1"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SpectraNet", "GalSpecNet"]
    from matplotlib.container import BarContainer

    net, galspec = [c for c in ax.containers if isinstance(c, BarContainer)]
    np.testing.assert_allclose([b.get_height() for b in galspec], [0.85, 0.3, 0.55])
    np.testing.assert_allclose([b.get_height() for b in net], [0.9233, 0.7, 0.8], atol=1e-4)
    # side by side: each class's GalSpecNet bar just right of its SpectraNet bar
    assert all(g.get_x() > n.get_x() for n, g in zip(net, galspec))


def test_method_redshift_leaves_out_spectra_without_a_redshift():
    fig = figures.fig_method_redshift(comparison())
    ax_z, ax_cdf = fig.axes
    assert len(ax_z.collections[0].get_offsets()) == 7  # 4 SpectraNet, 3 SNID-SAGE
    assert ax_cdf.get_xscale() == "log"
    # each method's cumulative curve ends at 1: the missing SNID redshift is left out
    ends = [line.get_ydata()[-1] for line in ax_cdf.get_lines() if len(line.get_ydata()) > 2]
    assert ends == [1.0, 1.0]
    steps = sorted(len(np.unique(line.get_ydata())) for line in ax_cdf.get_lines()
                   if len(line.get_ydata()) > 2)
    assert steps == [4, 5]  # 3 SNID-SAGE and 4 SpectraNet redshifts, plus the 0 start


def test_disagreements_show_only_spectra_the_methods_disagree_on():
    n_bins = 20
    spectra = {"wave_obs_aa": np.linspace(3800, 9200, n_bins),
               "covered": np.ones((4, n_bins), bool), "flux_flat": np.zeros((4, n_bins))}
    fig = figures.fig_disagreements(comparison(), spectra)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert len(titles) == 3  # spectra 1, 2, 3 disagree; spectrum 0 does not
    assert titles[0].startswith("sn2 (true SN Ia")


def test_roc_reports_one_curve_per_class_with_its_auc():
    fig = figures.fig_roc(predictions(), CLASSES + ["AGN"])
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[-1] == "chance" and len(labels) == 4  # no curve for AGN: no AGN spectra
    assert labels[2] == "TDE (AUC 1.000)"


def test_accuracy_vs_snr_bins_and_counts():
    fig = figures.fig_accuracy_vs(predictions(), "snr", [10, 20, 40, 100],
                                  "S/N per resolution element", log=True)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "S/N per resolution element"
    assert [t.get_text() for t in ax.texts] == ["2", "2", "2"]
    accuracy = np.asarray(ax.get_lines()[0].get_ydata(), float)
    np.testing.assert_allclose(accuracy, [0.5, 1.0, 0.5])


@pytest.mark.parametrize("name", [n for n in dir(figures) if n.startswith("fig_")])
def test_every_figure_function_is_covered_here(name):
    assert any(f"figures.{name}(" in line for line in Path(__file__).read_text().splitlines()
               if not line.lstrip().startswith("@")), f"{name} has no test in test_figures.py"


def test_classified_spectrum_shows_input_model_view_and_ranked_probabilities(tmp_path):
    from ciderlab.spectranet.classify import classify_spectrum
    from ciderlab.spectranet.shipped import load_models
    from test_classify import WAVE, smoke_checkpoints, sn_like

    paths = smoke_checkpoints(tmp_path)
    models = load_models(paths["classifier"], paths["redshift"])
    flux, _ = sn_like(WAVE)
    result = classify_spectrum(WAVE, flux, models.classifier, models.redshift_model,
                               redshift=0.05)
    fig = figures.fig_classified_spectrum(WAVE, flux, result, title="sn.txt")
    ax_raw, ax_input, ax_proba = fig.axes
    assert "z = 0.050 (given)" == ax_input.get_title()
    bars = [p.get_width() for p in ax_proba.patches]
    assert bars == sorted(bars) and abs(sum(bars) - 1) < 1e-5  # every class, best on top
    assert ax_proba.get_title().startswith(result.top[0][0])
    assert fig.texts[0].get_text() == "sn.txt"


def alert_tables():
    """Two objects: one with detections and limits in g and r, one with a single detection."""
    lightcurve = pd.DataFrame({
        "objectId": ["ZTF1"] * 4 + ["ZTF2"], "band": ["g", "g", "r", "r", "g"],
        "is_limit": [False, True, False, True, False],
        "flux_ujy": [10.0, np.nan, 12.0, np.nan, 5.0], "flux_err_ujy": [1.0, np.nan, 1.0, np.nan, 1.0],
        "limit_flux_ujy": [np.nan, 3.0, np.nan, 4.0, np.nan],
        "dt_days": [0.0, -2.0, 1.0, -1.0, 0.0]})
    metadata = pd.DataFrame({
        "objectId": ["ZTF1", "ZTF1", "ZTF2"], "candid": [11, 12, 21], "jd": [1.0, 2.0, 1.0],
        "label": ["star", "star", "AGN-like"], "n_detections_g": [1, 1, 1],
        "n_detections_r": [0, 1, 0], "n_detections_i": [0, 0, 0],
        "sgscore1": [0.9, 0.8, np.nan], "sgscore1_missing": [False, False, True],
        "drb": [0.99, 0.98, 0.97], "drb_missing": [False, False, False]})
    return lightcurve, metadata


def test_alert_light_curves_keep_limits_apart_from_detections():
    lightcurve, metadata = alert_tables()
    examples = alert_figures.example_objects(metadata)
    assert examples["objectId"].tolist() == ["ZTF2", "ZTF1"]  # by label; the last alert each
    assert examples["candid"].tolist() == [21, 12]
    fig = alert_figures.fig_alert_light_curves(lightcurve, examples)
    ax = next(a for a in fig.axes if a.get_title().startswith("ZTF1"))
    labels = ax.get_legend_handles_labels()[1] if ax.get_legend() is None else [
        t.get_text() for t in ax.get_legend().get_texts()]
    assert {"g detection", "g upper limit", "r detection", "r upper limit"} <= set(labels)
    limits = [c for c in ax.collections if c.get_offsets().shape[0] and c.get_label().endswith(
        "upper limit")]
    assert sorted(y for c in limits for y in c.get_offsets()[:, 1]) == [3.0, 4.0]


def test_cutout_triplets_show_the_examples_stamps_in_science_template_difference_order():
    lightcurve, metadata = alert_tables()
    examples = alert_figures.example_objects(metadata)
    cutouts = np.zeros((3, 63, 63, 3), dtype=np.float32)
    cutouts[1, ..., 2] = np.arange(63 * 63).reshape(63, 63)  # ZTF1's last alert, difference
    index = pd.DataFrame({"objectId": ["ZTF1", "ZTF1", "ZTF2"], "candid": [11, 12, 21]})
    fig = alert_figures.fig_cutout_triplets(cutouts, index, examples)
    assert [a.get_title() for a in fig.axes[:3]] == ["science", "template", "difference"]
    shown = fig.axes[5].images[0].get_array()  # row 2 (ZTF1), difference
    np.testing.assert_array_equal(shown, cutouts[1, ..., 2])


def test_metadata_coverage_is_the_share_of_alerts_with_a_real_value():
    _, metadata = alert_tables()
    fig = alert_figures.fig_metadata_coverage(metadata, ["sgscore1", "drb", "not_a_field"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sgscore1", "drb"]
    values = ax.collections[0].get_array().reshape(2, 2)  # rows AGN-like, star
    np.testing.assert_allclose(values, [[0.0, 1.0], [1.0, 1.0]])


def test_early_classification_draws_one_line_per_mode_at_the_history_cuts():
    early = {"photo": {"1": {"macro_f1": {"mean": 0.3, "std": 0.05}},
                       "10": {"macro_f1": {"mean": 0.4, "std": 0.02}},
                       "3": {"macro_f1": {"mean": 0.35, "std": 0.04}}}}
    fig = alert_figures.fig_early_classification(early)
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [1, 3, 10])  # ordered by days, not as text
    np.testing.assert_allclose(line.get_ydata(), [0.3, 0.35, 0.4])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "10"]


def test_expert_routing_is_the_mean_weight_per_true_class_and_mode():
    routing = pd.DataFrame({"mode": ["image", "image", "image", "ztf"],
                            "true": ["star", "star", "YSO", "star"],
                            "expert_0": [0.6, 0.0, 0.5, 1.0], "expert_1": [0.4, 1.0, 0.5, 0.0]})
    fig = alert_figures.fig_expert_routing(routing)
    assert [ax.get_title() for ax in fig.axes] == ["image", "ztf"]
    assert cell_texts(fig.axes[0]) == ["0.50", "0.50", "0.30", "0.70"]  # rows YSO, star
