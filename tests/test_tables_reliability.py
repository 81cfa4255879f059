"""The reliability and real-spectra tables hold what their results say."""

import pandas as pd
import pytest

from ciderlab.evaluation import tables

WIDE = {"accuracy_interval": [0.1, 0.9], "interval_level": 0.95}
SCORES = {"n_files": 3, "ours": {
    "catalogue": {"accuracy": 0.5, "n_right": 1, "n_typed": 2, **WIDE,
                  "per_class": {"SN Ia": {"n": 1, "right": 1}, "TDE": {"n": 1, "right": 0}}},
    "predicted": {"accuracy": 0.0, "n_right": 0, "n_typed": 2, "median_dz": 0.004,
                  "n_catastrophic": 1, **WIDE,
                  "per_class": {"SN Ia": {"n": 1, "right": 0}, "TDE": {"n": 1, "right": 0}}}},
    "snid_sage": {"catalogue": {"accuracy": 1.0, "n_right": 2, "n_typed": 2, **WIDE,
                                "per_class": {"SN Ia": {"n": 1, "right": 1}}}}}


def test_real_set_table_has_a_row_per_method_and_condition_present():
    table = tables.table_real_set(SCORES)
    assert list(table["method"]) == ["SpectraNet (ours)"] * 2 + ["SNID-SAGE 0.9.0"]
    assert list(table["right / typed files"]) == ["1 / 2", "0 / 2", "2 / 2"]
    assert table.loc[1, "catastrophic (> 0.15)"] == 1
    assert str(table["catastrophic (> 0.15)"].dtype) == "Int64"  # shown as 1, not 1.0000
    assert pd.isna(table.loc[0, "catastrophic (> 0.15)"])
    assert pd.isna(table.loc[0, "median |dz|/(1+z)"])
    assert list(table["95% interval"]) == ["0.10-0.90"] * 3


def test_domain_gap_sets_realised_beside_real():
    table = tables.table_domain_gap(SCORES, {"accuracy": {"mean": 0.86}}, 0.002)
    assert list(table["type accuracy, redshift given"]) == [0.86, 0.5]
    assert list(table["median |dz|/(1+z)"]) == [0.002, 0.004]


def test_per_class_counts_right_answers_per_method_and_condition():
    table = tables.table_real_per_class(SCORES)
    assert table.loc["SN Ia", "SpectraNet, z given"] == 1
    assert table.loc["TDE", "SpectraNet, own z"] == 0
    assert table.loc["SN Ia", "SNID-SAGE, z given"] == 1
    assert "bank objects" not in table


def test_per_class_counts_the_bank_objects_and_those_the_classifier_trained_on():
    split = pd.DataFrame({"object_id": ["a", "b", "c", "d", "e"],
                          "label": ["SN Ia", "SN Ia", "SN Ia", "TDE", "TDE"],
                          "split": ["train", "train", "test", "val", "test"]})
    table = tables.table_real_per_class(SCORES, split)
    assert table.loc["SN Ia", "bank objects"] == 3 and table.loc["SN Ia", "trained on"] == 2
    assert table.loc["TDE", "bank objects"] == 2 and table.loc["TDE", "trained on"] == 0
    assert list(table.columns[:3]) == ["files", "bank objects", "trained on"]


def test_none_of_these_marks_the_chosen_score():
    table = tables.table_none_of_these({"score": "energy", "by_score": {
        "max_softmax": {"auroc_choose": 0.8, "auroc_measure": 0.79},
        "energy": {"auroc_choose": 0.9, "auroc_measure": 0.88}}})
    assert list(table["chosen"]) == ["", "yes"]
    assert table.loc[1, "AUROC, measuring half"] == 0.88


def test_interval_coverage_per_fold_and_overall():
    intervals = pd.DataFrame({"fold": [0, 0, 1, 1], "inside": [True, False, True, True],
                              "halfwidth": [0.01, 0.02, 0.01, 0.01]})
    table = tables.table_interval_coverage(intervals)
    assert table.loc[0, "coverage (%)"] == 50 and table.loc["all", "coverage (%)"] == 75
    assert table.loc["all", "test spectra"] == 4


def test_real_answers_say_none_of_these_with_the_nearest_class():
    ours = pd.DataFrame({"file": ["a", "a"], "class": ["CV", "CV"], "redshift": [0.0, 0.0],
                         "condition": ["catalogue", "predicted"], "predicted": ["SN Ic"] * 2,
                         "none_of_these": [True, False], "redshift_pred": [0.0, 0.03],
                         "error": ["", ""]})
    table = tables.table_real_answers(ours, None)
    assert table.loc[0, "SpectraNet, z given"] == "none of these (SN Ic)"
    assert table.loc[0, "SpectraNet, own z"] == "SN Ic"
    assert table.loc[0, "SpectraNet z"] == pytest.approx(0.03)


def test_realism_switches_name_the_reference_and_keep_the_latest_record():
    records = [{"switch": "none=0", "auc_rest": 0.85, "auc_obs": 0.8,
                "mismatch_obs": {"O2 A": 2.2}},
               {"switch": "snr_max=300", "auc_rest": 0.9, "auc_obs": 0.8,
                "mismatch_obs": {"O2 A": 2.0}},
               {"switch": "snr_max=300", "auc_rest": 0.86, "auc_obs": 0.81,
                "mismatch_obs": {"O2 A": 2.1}}]
    table = tables.table_realism_switches(records)
    assert list(table["switch"]) == ["none (params.yaml)", "snr_max=300"]
    assert table.loc[1, "AUC rest frame"] == 0.86 and table.loc[1, "O2 A scatter"] == 2.1


def test_redshift_averaging_table_is_the_latest_record():
    old = {"n_spectra": 10, "commit": "a" * 40,
           "scores": {"catalogue redshift": {"accuracy": 0.1, "macro_f1": 0.1}}}
    new = {"n_spectra": 3366, "commit": "b" * 40,
           "scores": {"catalogue redshift": {"accuracy": 0.86, "macro_f1": 0.61},
                      "predicted redshift, one point": {"accuracy": 0.85, "macro_f1": 0.59}}}
    table = tables.table_redshift_averaging([old, new])
    assert list(table.index) == ["catalogue redshift", "predicted redshift, one point"]
    assert table.loc["predicted redshift, one point", "macro-F1"] == 0.59
    assert "3,366" in table.index.name and "bbbbbbb" in table.index.name
    with pytest.raises(ValueError, match="redshift_averaging.py"):
        tables.table_redshift_averaging([])


def test_switches_measured_at_another_commit_keep_their_own_reference():
    records = [{"switch": "none=0", "commit": "a" * 40, "auc_rest": 0.9, "auc_obs": 0.8},
               {"switch": "snr_max=300", "commit": "a" * 40, "auc_rest": 0.9, "auc_obs": 0.8},
               {"switch": "none=0", "commit": "b" * 40, "auc_rest": 0.8, "auc_obs": 0.7},
               {"switch": "snr_max=300", "commit": "b" * 40, "auc_rest": 0.7, "auc_obs": 0.7}]
    table = tables.table_realism_switches(records)
    assert list(table["switch"]) == ["none (params.yaml at aaaaaaa)", "snr_max=300",
                                     "none (params.yaml at bbbbbbb)", "snr_max=300"]
    assert list(table["at"]) == ["aaaaaaa"] * 2 + ["bbbbbbb"] * 2
    assert list(table["AUC rest frame"]) == [0.9, 0.9, 0.8, 0.7]


def test_out_of_class_halvings_table_is_the_latest_record_per_score():
    record = {"repeats": 20, "by_score": {
        "energy": {"mean": 0.87, "low": 0.85, "high": 0.9, "times_chosen": 4, "times_best": 9},
        "outlier_detector_linear": {"mean": 0.88, "low": 0.86, "high": 0.91, "times_chosen": 16,
                                    "times_best": 11}}}
    table = tables.table_out_of_class_halvings([{"repeats": 1, "by_score": {}}, record])
    assert list(table.index) == ["energy", "outlier detector: linear"]
    assert table.loc["energy", "chosen (of 20 halvings)"] == 4
    assert table.loc["energy", "measured best"] == 9
    assert table.loc["outlier detector: linear", "AUROC, measuring half (mean)"] == 0.88
    with pytest.raises(ValueError, match="out_of_class_halvings.py"):
        tables.table_out_of_class_halvings([])
