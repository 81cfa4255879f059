"""The book's tables hold the numbers their results say, and show() displays them as tables."""

import re

import numpy as np
import pandas as pd
import pytest

from ciderlab.applecider import tables as alert_tables
from ciderlab.evaluation import tables
from ciderlab.evaluation.fold_scores import paired_differences
from ciderlab.evaluation.metrics import spread


def metrics(acc, f1_a, f1_b):
    """Scores of a classifier on classes A, B (and C, without test spectra)."""
    per_class = {"A": {"precision": f1_a, "recall": f1_a, "f1": f1_a, "roc_auc": 0.9, "support": 3},
                 "B": {"precision": f1_b, "recall": f1_b, "f1": f1_b, "roc_auc": 0.8, "support": 2},
                 "C": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "roc_auc": 0.5, "support": 0}}
    return {"accuracy": acc, "macro_f1": (f1_a + f1_b) / 2, "top3_accuracy": 1.0,
            "macro_roc_auc": 0.85, "per_class": per_class,
            "ia_vs_non_ia": {"accuracy": acc, "purity": 1.0, "completeness": acc}}


def cells(styler) -> list[list[str]]:
    """The rendered table as rows of cell texts, header row first."""
    html = styler.to_html()
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S) for row in rows]


def test_dataset_counts_objects_template_spectra_and_realisations_per_split():
    split_table = pd.DataFrame({"object_id": ["a1", "a2", "a3", "b1"],
                                "label": ["A", "A", "A", "B"],
                                "split": ["train", "train", "test", "val"]})
    # a1: two template spectra realised twice each; a3: one spectrum realised once
    meta = pd.DataFrame({"template": ["a1", "a1", "a1", "a1", "a3", "b1"],
                         "epoch": [0, 0, 1, 1, 0, 0], "label": ["A"] * 5 + ["B"],
                         "split": ["train"] * 4 + ["test", "val"]})
    table = tables.table_dataset(split_table, meta).set_index("class")
    assert table.loc["A", "train objects"] == 2 and table.loc["A", "test objects"] == 1
    assert table.loc["A", "train spectra"] == 2 and table.loc["A", "realised spectra"] == 5
    assert table.loc["B", "val objects"] == 1
    assert table.loc["total"].to_dict() == {
        "train objects": 2, "train spectra": 2, "val objects": 1, "val spectra": 1,
        "test objects": 1, "test spectra": 1, "realised spectra": 6}


def test_folds_count_objects_per_class_and_fold():
    split = pd.DataFrame({"object_id": ["a", "b", "c", "d", "e"],
                          "label": ["SN Ia", "SN Ia", "SN Ia", "TDE", "TDE"],
                          "fold": [0, 1, 1, 0, 2]})
    table = tables.table_folds(split)
    assert table.loc["SN Ia"].to_dict() == {"fold 0": 1, "fold 1": 2, "fold 2": 0, "objects": 3}
    assert table.loc["TDE", "objects"] == 2


def test_duplicates_table_names_both_names_and_the_evidence():
    duplicates = pd.DataFrame({"object_id": ["ptf11kly"], "duplicate_of": ["sn2011fe"],
                               "label": ["SN Ia"], "duplicate_of_label": ["SN Ia"],
                               "n_matching_spectra": [3], "max_correlation": [0.9997]})
    table = tables.table_duplicates(duplicates)
    assert table.to_dict("records") == [{"name merged away": "ptf11kly", "kept as": "sn2011fe",
                                         "class": "SN Ia", "matching spectra": 3,
                                         "correlation": 0.9997}]
    assert tables.table_duplicates(duplicates.iloc[:0]).empty


def test_dropped_classes_keep_their_reasons():
    table = tables.table_dropped_classes({"SLSN-I": "no templates", "Ca-rich": "too few"})
    assert table.values.tolist() == [["SLSN-I", "no templates"], ["Ca-rich", "too few"]]


def test_dropped_templates_are_grouped_by_reason_most_common_first():
    catalogue = pd.DataFrame({"template": ["t1", "t2", "t3", "t4", "t5"],
                              "object_id": ["o1", "o1", "o2", "o3", "o4"],
                              "reason": ["bad data", "bad data", "type not configured", None, ""]})
    table = tables.table_dropped_templates(catalogue)
    assert table.to_dict("records") == [
        {"reason": "bad data", "spectra": 2, "objects": 1},
        {"reason": "type not configured", "spectra": 1, "objects": 1}]


def test_label_fixes_list_each_template_once():
    catalogue = pd.DataFrame({"template": ["t1", "t1", "t2"], "subtype": ["Ib", "Ib", "Ia"],
                              "label_fix": ["helium seen", "helium seen", None]})
    table = tables.table_label_fixes(catalogue)
    assert table.to_dict("records") == [{"template": "t1", "corrected subtype": "Ib",
                                         "reason": "helium seen"}]


def test_classification_report_leaves_out_classes_without_support_and_adds_macro_row():
    table = tables.table_classification_report(metrics(0.8, 0.6, 0.4)).set_index("class")
    assert list(table.index) == ["A", "B", "macro average"]
    assert table.loc["macro average", "f1"] == pytest.approx(0.5)
    assert table.loc["macro average", "roc_auc"] == pytest.approx(0.85)
    assert table.loc["macro average", "support"] == 5


def test_redshift_metrics_keep_the_spectrum_count_an_integer():
    redshift = {"rms": 0.0213, "bias": -0.001, "sigma_nmad": 0.012,
                "sigma_nmad_uncentred_authors": 0.0125, "outlier_fraction": 0.004,
                "mae": 0.003, "n_spectra": 1234}
    table = tables.table_redshift_metrics(redshift).set_index("metric")["value"]
    assert table["RMS of dz/(1+z)"] == 0.0213
    assert table["test spectra"] == 1234 and isinstance(table["test spectra"], int)
    assert cells(tables.show(tables.table_redshift_metrics(redshift), precision=4))[-1] == [
        "test spectra", "1,234"]


def test_scenarios_have_one_row_per_test_condition():
    table = tables.table_scenarios({"true redshift": metrics(0.8, 0.6, 0.4),
                                    "predicted redshift": metrics(0.7, 0.5, 0.3)})
    assert table["test condition"].tolist() == ["true redshift", "predicted redshift"]
    assert table["macro-F1"].tolist() == [0.5, 0.4]
    assert table["SN Ia vs non-Ia accuracy"].tolist() == [0.8, 0.7]


def test_literature_values_are_labelled_as_literature():
    table = tables.table_literature().set_index("method")
    assert table.loc["NGSF", "SN Ia vs non-Ia accuracy"] == 0.876
    assert table["source"].str.contains("literature").all()


def comparison():
    return pd.DataFrame({"label": ["SN Ia", "SN Ia", "SN Ib", "SN Ib"],
                         "spectranet_class": ["SN Ia", "SN Ia", "SN Ia", "SN Ib"],
                         "snid_class": ["SN Ia", "other", "SN Ib", "SN Ib"],
                         "redshift": [0.05, 0.1, 0.03, 0.07],
                         "spectranet_redshift": [0.05, 0.1, 0.03, 0.07],
                         "snid_redshift": [0.05, np.nan, 0.5, 0.07]})


def test_method_comparison_has_a_row_per_metric_and_a_column_per_method():
    timing = {"spectranet_spectra_per_second": 5000.0, "snid_sage_spectra_per_second": 0.25}
    table = tables.table_method_comparison(comparison(), timing)
    # narrow: one column per method, whatever the number of metrics
    assert list(table.columns) == ["SpectraNet", "SNID-SAGE 0.9.0"]
    assert table.loc["class accuracy"].tolist() == [0.75, 0.75]
    assert table.loc["SN Ia purity"].tolist() == [pytest.approx(2 / 3, abs=1e-4), 1.0]
    assert table.loc["spectra with a redshift"].tolist() == [4, 3]
    # SNID-SAGE's one redshift at 0.5 instead of 0.03 is its one outlier in three
    assert table.loc["redshift outlier fraction", "SNID-SAGE 0.9.0"] == pytest.approx(1 / 3, abs=1e-4)
    assert table.loc["spectra per second"].tolist() == [5000.0, 0.25]
    assert cells(tables.show(table))[0] == ["metric", "SpectraNet", "SNID-SAGE 0.9.0"]


def test_spectral_branches_give_mean_std_over_folds_per_model_on_the_same_spectra():
    def stats(*values):
        return {"mean": float(np.mean(values)), "std": float(np.std(values, ddof=1)),
                "values": list(values)}
    def scores(ia, tde, macro):
        return {"headline_classes": ["SN Ia", "TDE"],
                "per_class_f1": {"SN Ia": stats(*ia), **({"TDE": stats(*tde)} if tde else {})},
                "macro_f1": stats(*macro), "accuracy": stats(0.9, 0.8),
                "ia_vs_non_ia_accuracy": stats(0.95, 0.97), "pooled": {"n_spectra": 120}}
    table = tables.table_spectral_branches({"SpectraNet": scores((0.9, 0.8), (0.5, 0.7), (0.7, 0.75)),
                                            "GalSpecNet": scores((0.6, 0.8), None, (0.4, 0.5))})
    assert list(table.columns) == ["SpectraNet", "GalSpecNet"]
    assert list(table.index) == ["F1 SN Ia", "F1 TDE", "macro-F1 (SN Ia, TDE)", "accuracy",
                                 "SN Ia vs non-Ia accuracy", "test spectra (all folds)"]
    assert table.loc["F1 SN Ia"].tolist() == ["0.850 ± 0.071", "0.700 ± 0.141"]
    assert table.loc["F1 TDE", "GalSpecNet"] == "-"  # a class the model never scored
    assert table.loc["test spectra (all folds)"].tolist() == [120, 120]


def test_architecture_counts_parameters_of_each_configuration():
    from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig, count_parameters

    small = SpectraNetConfig(n_bins=64, n_outputs=3, channels=(4, 8), kernels=((3, 5), (3, 5)),
                             hidden=16)
    table = tables.table_architecture({"small": small, "as dict": small.to_dict()})
    assert table["parameters"].tolist() == [count_parameters(SpectraNet(small))] * 2
    assert table.loc[0, "channels"] == "4/8" and table.loc[0, "kernels (per stage)"] == "3,5; 3,5"


def test_seed_report_has_per_class_rows_then_headline_scores():
    stats = {"mean": 0.5, "std": 0.1, "values": [0.4, 0.6]}
    seeds = {"per_class": {"A": {"precision": stats, "recall": stats, "f1": stats}},
             "accuracy": stats, "macro_f1": stats, "top3_accuracy": stats, "macro_roc_auc": stats,
             "ia_vs_non_ia": {"accuracy": stats, "purity": stats, "completeness": stats}}
    table = tables.table_seed_report(seeds)
    assert list(table.index) == ["A", "accuracy", "macro-F1", "top-3 accuracy", "macro ROC-AUC",
                                 "SN Ia vs non-Ia accuracy", "SN Ia vs non-Ia purity",
                                 "SN Ia vs non-Ia completeness"]
    assert table.loc["A", "precision"] == "0.500 ± 0.100"
    assert table.loc["accuracy", "precision"] == ""
    # show() keeps the row labels, as the first column
    assert [row[0] for row in cells(tables.show(table))][:3] == ["", "A", "accuracy"]


def cross_validation():
    stats = lambda mean, std: {"mean": mean, "std": std, "values": [mean - std, mean + std]}
    return {"n_folds": 5, "headline_classes": ["SN Ia", "TDE"],
            "macro_f1": stats(0.8, 0.05), "accuracy": stats(0.9, 0.02),
            "ia_vs_non_ia_accuracy": stats(0.97, 0.01), "redshift_rms": stats(0.0081, 0.0012),
            "redshift_outlier_fraction": stats(0.0, 0.0), "redshift_sigma_nmad": stats(0.004, 0.001),
            "pooled": {"macro_f1": 0.79, "accuracy": 0.9, "ia_vs_non_ia": {"accuracy": 0.97},
                       "n_objects": {"SN Ia": 300, "TDE": 10},
                       "per_class": {"SN Ia": {"precision": 0.95, "recall": 0.96, "f1": 0.955,
                                               "support": 1800},
                                     "TDE": {"precision": 0.7, "recall": 0.6, "f1": 0.646,
                                             "support": 60},
                                     "AGN": {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                             "support": 0}}},
            "pooled_redshift": {"rms": 0.0079, "outlier_fraction": 0.0, "sigma_nmad": 0.0041},
            "separate": {"AGN": {"n_objects": 3, "recall": 1 / 3, "objects_mostly_correct": 1}}}


def test_cross_validation_table_has_mean_std_over_folds_and_pooled_scores():
    table = tables.table_cross_validation(cross_validation())
    assert table.loc["macro-F1 (SN Ia, TDE)", "mean ± std over 5 folds"] == "0.800 ± 0.050"
    assert table.loc["macro-F1 (SN Ia, TDE)", "pooled over every object"] == 0.79
    assert table.loc["redshift RMS Δz/(1+z)", "mean ± std over 5 folds"] == "0.0081 ± 0.0012"
    assert table.loc["SN Ia vs non-Ia accuracy", "pooled over every object"] == 0.97


def test_cross_validation_classes_count_objects_and_keep_agn_apart():
    table = tables.table_cross_validation_classes(cross_validation())
    assert list(table.index) == ["SN Ia", "TDE", "AGN (outside the headline)"]
    assert table.loc["TDE", "objects"] == 10 and table.loc["TDE", "spectra"] == 60
    assert table.loc["AGN (outside the headline)", "recall"] == pytest.approx(1 / 3)
    assert pd.isna(table.loc["AGN (outside the headline)", "F1"])


def test_preprocessing_options_best_first():
    options = pd.DataFrame({"option": ["spline 0.074", "median"], "val_macro_f1": [0.5, 0.7],
                            "val_accuracy": [0.8, 0.9], "val_ia_vs_non_ia_accuracy": [0.9, 0.95],
                            "best_epoch": [5, 6], "minutes": [1.0, 1.2]})
    table = tables.table_preprocessing_options(options)
    assert list(table.index) == ["median", "spline 0.074"]
    assert table.loc["median", "validation macro-F1"] == 0.7
    assert "realism AUC (real vs realised)" not in table  # a run without the real files


def test_preprocessing_options_show_the_realism_auc_and_mark_the_chosen_option():
    options = pd.DataFrame({"option": ["spline 0.074", "median"], "val_macro_f1": [0.5, 0.7],
                            "val_accuracy": [0.8, 0.9], "val_ia_vs_non_ia_accuracy": [0.9, 0.95],
                            "realism_auc": [0.78, 0.9], "best_epoch": [5, 6],
                            "minutes": [1.0, 1.2]})
    table = tables.table_preprocessing_options(options, chosen="spline 0.074")
    assert list(table.index) == ["median", "spline 0.074 (chosen)"]
    assert table.loc["spline 0.074 (chosen)", "realism AUC (real vs realised)"] == 0.78


def ablation_record():
    def cv(values, f1_b):
        return {"headline_classes": ["A", "B"],
                "per_fold": [{"fold": k, "macro_f1": v, "accuracy": v, "ia_vs_non_ia_accuracy": v,
                              "f1": {"A": v, "B": f1_b[k]}} for k, v in enumerate(values)],
                **{key: spread(values) for key in ("macro_f1", "accuracy",
                                                   "ia_vs_non_ia_accuracy")},
                "per_class_f1": {"A": spread(values), "B": spread(f1_b)}}

    reference, variant = cv([0.8, 0.7], [0.6, 0.5]), cv([0.7, 0.7], [0.7, 0.6])
    return {"reference": reference,
            "variants": {"no EMA": {"scores": variant,
                                    "difference": paired_differences(reference, variant)}}}


def test_ablation_table_reports_the_paired_change_against_the_reference():
    table = tables.table_ablation(ablation_record())
    assert list(table.columns) == ["reference", "no EMA", "change: no EMA"]
    assert table.loc["macro-F1 (A, B)", "reference"] == "0.750 ± 0.071"
    # per fold: -0.1 and 0.0 -> mean -0.05, std 0.071
    assert table.loc["accuracy", "change: no EMA"] == "-0.050 ± 0.071"
    assert table.loc["F1 B", "change: no EMA"] == "0.100 ± 0.000"


def test_top_confusions_are_the_largest_off_diagonal_fractions():
    table = tables.table_top_confusions({"classes": ["A", "B"],
                                         "confusion_matrix": [[8, 2], [1, 1]]})
    assert table.iloc[0].to_dict() == {"true class": "B", "predicted as": "A", "spectra": 1,
                                       "% of true class": 50.0}
    assert len(table) == 2


def test_object_accuracy_is_per_object_and_leaves_out_sn_ia():
    predictions = pd.DataFrame({"label": ["SN Ib"] * 3 + ["SN Ic"] * 2 + ["SN Ia"],
                                "object_id": ["b1", "b1", "b2", "c1", "c1", "a1"],
                                "predicted": ["SN Ib", "SN Ic", "SN Ic", "SN Ic", "SN Ic", "SN Ia"]})
    table = tables.table_object_accuracy(predictions)
    assert table["object"].tolist() == ["b1", "b2", "c1"]
    assert table["accuracy"].tolist() == [0.5, 0.0, 1.0]
    assert table.set_index("object").loc["b2", "most often called"] == "SN Ic"


def test_show_hides_pandas_row_numbers():
    table = pd.DataFrame({"class": ["A", "B"], "spectra": [10, 20]})
    rows = cells(tables.show(table))
    assert rows == [["class", "spectra"], ["A", "10"], ["B", "20"]]
    assert "row_heading" not in tables.show(table).to_html()


def test_show_keeps_labelled_rows_of_a_table_indexed_by_metric():
    table = tables.table_ablation(ablation_record())
    rows = cells(tables.show(table))
    assert rows[0] == ["score", "reference", "no EMA", "change: no EMA"]
    assert rows[2] == ["accuracy", "0.750 ± 0.071", "0.700 ± 0.000", "-0.050 ± 0.071"]


def test_show_never_cuts_text_short():
    reason = "no template of this class in the SNID-SAGE 0.9.0 bank " * 4  # ~220 characters
    table = tables.table_dropped_classes({"SLSN-I": reason})
    with pd.option_context("display.max_colwidth", 20, "display.max_rows", 1):
        html = tables.show(table).to_html()
    assert reason.strip() in html
    assert "…" not in html and "..." not in html


def test_show_formats_numbers_and_missing_values_and_escapes_html():
    table = pd.DataFrame({"method": ["<b>x</b>", "y"], "score": [0.123456, np.nan]})
    table = table.assign(spectra=[12345, 7])
    rows = cells(tables.show(table, precision=2))
    assert rows[1:] == [["&lt;b&gt;x&lt;/b&gt;", "0.12", "12,345"], ["y", "–", "7"]]
    # numbers are right-aligned, text is not
    css = tables.show(table).to_html()
    assert re.search(r"td\.col1 \{\s*text-align: right", css)
    assert not re.search(r"td\.col0 \{\s*text-align: right", css)


def test_alert_classes_say_which_groups_are_trained_and_why_not():
    summary = {"objects_per_label": {"AGN-like": 12, "SN": 4, "unlabelled": 7},
               "trained_classes": ["AGN-like"],
               "dropped_classes": {"SN": "4 objects < alerts.min_objects_per_class (10)"}}
    metadata = pd.DataFrame({"label": ["AGN-like"] * 3 + ["SN"] + ["unlabelled"] * 2})
    table = alert_tables.table_alert_classes(summary, metadata)
    assert table["objects"].tolist() == [12, 4, 7] and table["alerts"].tolist() == [3, 1, 2]
    assert table["use"].tolist() == ["trained on",
                                     "not trained: 4 objects < alerts.min_objects_per_class (10)",
                                     "not trained: no SIMBAD type"]


def test_multimodal_modes_show_fold_spread_and_say_why_a_mode_was_skipped():
    scores = {"macro_f1": {"mean": 0.5, "std": 0.1, "values": [0.4, 0.6]},
              "accuracy": {"mean": 0.6, "std": 0.05, "values": [0.55, 0.65]},
              "pooled": {"macro_f1": 0.52}, "n_alerts": 30}
    table = alert_tables.table_multimodal_modes({"modes": {"ztf": scores},
                                           "skipped_modes": {"all": "no spectra"}})
    assert table["macro-F1 (folds)"].tolist() == ["0.500 ± 0.100", "-"]
    assert table.loc[1, "skipped"] == "no spectra" and table.loc[1, "alerts"] == 0


def test_selection_table_shows_each_choice_with_its_validation_score_and_verdict():
    records = [{"variant": f"classifier, {name}, seed {seed}", "head": "classifier",
                "seed": seed, "macro_f1": score, "best_epoch": 7, "minutes": 1.0,
                "scored_on": "validation", "epochs": 7, "samples_per_epoch": 5000}
               for name, seed, score in [("as params.yaml", 42, 0.64),
                                         ("as params.yaml", 777, 0.66),
                                         ("focal loss", 42, 0.61)]]
    table = tables.table_selection(records).set_index("choice")
    assert (table["model"] == "classifier").all()
    chosen = table.loc["as params.yaml"]
    assert chosen["value"] == "0.650 ± 0.014" and chosen["verdict"] == "chosen"
    assert chosen["seeds"] == "42, 777" and chosen["better by"] == ""
    focal = table.loc["focal loss"]
    assert focal["value"] == "0.610" and focal["better by"] == "-0.040"
    assert focal["verdict"] == "worse" and focal["score"] == "validation macro-F1"


def test_mean_std_never_prints_a_negative_zero():
    assert tables.mean_std({"mean": -0.00004, "std": 0.1, "values": [0.1, -0.1]}) == "0.000 ± 0.100"
    assert tables.mean_std({"mean": -0.0004, "std": 0.0, "values": [1]}, 3) == "0.000"


def test_the_source_note_speaks_only_for_a_catalogue_run():
    bank = pd.DataFrame({"object_id": ["a", "a"], "realisation": [0, 1],
                         "continuum_sed": ["blackbody", "power_law"]})
    assert tables.source_note(bank) == ""
    catalogue = pd.DataFrame({"object_id": ["a", "a", "b", "b"], "realisation": [0, 1, 0, 1],
                              "continuum_sed": "observed"})
    note = tables.source_note(catalogue)
    assert "2 observed spectra of 2 objects" in note and "1 varied copy " in note


def test_noise_texture_keeps_the_latest_record_per_switch_and_skips_older_records():
    def record(switch, auc, sedm):
        return {"switch": switch, "auc_rest": 0.8, "roughness_rest": {"auc": auc},
                "roughness_rest_instrument": {"instrument": "SED", "auc": sedm,
                                              "median_real": 0.3, "median_realised": 0.4}}

    records = [{"switch": "none=0", "auc_rest": 0.9}, record("noise_pixel_lnwave=0", 0.1, 0.2),
               record("none=0", 0.4, 0.5), {**record("none=0", 0.42, 0.55), "commit": "90af0c3abc"}]
    table = tables.table_noise_texture(records).set_index("switch")
    assert list(table.index) == ["noise_pixel_lnwave=0", "none (params.yaml at 90af0c3)"]
    assert table.loc["none (params.yaml at 90af0c3)", "roughness AUC, SED files"] == 0.55
    with pytest.raises(ValueError, match="no record"):
        tables.table_noise_texture(records[:1])
