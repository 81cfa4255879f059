"""The phrases the book's prose quotes (ciderlab.evaluation.sentences)."""

import math

import pytest

from ciderlab.evaluation import sentences

SEEN = {"classes": ["AGN", "SN Ia", "SN Ib", "TDE"],
        "seen_all": {"n_objects": 40, "f1": {"AGN": 1.0, "SN Ia": 0.99, "SN Ib": 0.9, "TDE": 0.5}},
        "seen_clean": {"n_objects": 30, "f1": {"AGN": 1.0, "SN Ia": 1.0, "SN Ib": 0.95,
                                               "TDE": 0.7}},
        "unseen_all": {"n_objects": 12, "f1": {"AGN": 0.0, "SN Ia": 0.95, "SN Ib": 0.3,
                                               "TDE": 0.4}}}


def test_the_largest_seen_to_new_gaps_come_first_and_separate_classes_stay_out():
    values = sentences.seen_against_new(SEEN, separate=["AGN"])
    # AGN has the largest gap (1.0) but is reported on its own: SN Ib (0.6) leads
    assert values["largest_gaps"].startswith("SN Ib (0.90 on seen objects, 0.30 on new ones)")
    assert "AGN" not in values["largest_gaps"] and "AGN" not in values["hardest_seen"]
    assert values["hardest_seen"].startswith("TDE (0.50, clean 0.70)")
    assert values["n_seen_objects"] == 40


def test_the_clean_subset_verdict_says_which_way_it_went():
    clean = {"n_spectra": 5, "selection": {"snr_min": 40, "host_fraction_max": 0.15},
             "macro_f1_same_classes": {"clean": 0.61, "all_test": 0.70, "classes": ["SN Ia"]}}
    values = sentences.clean_subset(clean)
    assert values["clean_verdict"].startswith("lower by 0.09")
    higher = sentences.clean_subset({**clean, "macro_f1_same_classes": {
        "clean": 0.8, "all_test": 0.7, "classes": ["SN Ia"]}})
    assert higher["clean_verdict"].startswith("higher by 0.10")
    without = sentences.clean_subset({k: v for k, v in clean.items()
                                      if k != "macro_f1_same_classes"})
    assert math.isnan(without["clean_macro_f1"]) and without["clean_classes"] == ""


def test_weakest_and_strongest_classes_and_the_top_confusion():
    spread = {"mean": 0.7, "std": 0.05, "values": [0.65, 0.75]}
    cv = {"n_folds": 2, "macro_f1": spread, "accuracy": spread, "ia_vs_non_ia_accuracy": spread,
          "headline_classes": ["SN Ia", "SN Ib", "TDE"], "separate": {},
          "pooled": {"n_objects": {"SN Ia": 10, "SN Ib": 3, "TDE": 2}, "n_spectra": 90,
                     "classes": ["SN Ia", "SN Ib", "TDE"],
                     "confusion_matrix": [[50, 0, 0], [6, 14, 0], [0, 1, 19]],
                     "per_class": {"SN Ia": {"f1": 0.94, "support": 50},
                                   "SN Ib": {"f1": 0.8, "support": 20},
                                   "TDE": {"f1": 0.97, "support": 20}}}}
    values = sentences.cross_validated_classes(cv)
    assert values["weakest"].startswith("SN Ib (0.80)")
    assert values["strongest"].startswith("TDE (0.97)")
    assert values["top_confusions"].startswith("SN Ib called SN Ia (30 %)")
    assert values["separate_classes"] == "none" and values["n_cv_objects"] == 15


def test_real_set_by_training_objects_names_the_least_trained_classes_first():
    import pandas as pd

    per_class = pd.DataFrame({"files": [15, 11, 2, 0], "bank objects": [341, 10, 3, 5],
                              "trained on": [230, 7, 2, 4],
                              "SpectraNet, z given": [11, 3, 0, 0]},
                             index=pd.Index(["SN Ia", "TDE", "AGN", "SN IIb"], name="class"))
    said = sentences.real_set_by_training_objects(per_class)
    assert said["fewest_trained"] == ("AGN (2 objects trained on): 0 of 2 files right; "
                                      "TDE (7 objects trained on): 3 of 11 files right")
    assert said["rest_right"] == "11 of 15"  # SN IIb has no file: left out
    assert said["rest_min_trained"] == 230


def test_seed_ensemble_says_where_the_mean_of_the_seeds_falls():
    def record(ensemble):
        return {"commit": "abcdef123", "scores": {
            "seed 42": {"macro_f1": 0.64}, "seed 777": {"macro_f1": 0.63},
            "mean of the seeds": {"macro_f1": ensemble}}}

    said = sentences.seed_ensemble([record(0.5), record(0.647)])  # the latest record counts
    assert said["ensemble_f1"] == "0.647" and said["ensemble_seed_range"] == "0.630-0.640"
    assert said["ensemble_verdict"] == "above the seeds' range by 0.007"
    assert sentences.seed_ensemble([record(0.635)])["ensemble_verdict"] == \
        "within the seeds' range"
    assert sentences.seed_ensemble([record(0.62)])["ensemble_verdict"] == \
        "below the seeds' range by 0.010"
    assert said["ensemble_commit"] == "abcdef1"
    assert said["ensemble_gain"] == "+0.007" and said["ensemble_seed_spread"] == "0.010"


HALVINGS = {"repeats": 3, "commit": "abcdef123", "chosen_auroc_mean": 0.8833, "chosen_auroc_std": 0.0153,
            "halvings": [{"auroc_measure": 0.88, "n_choose_objects": 40},
                         {"auroc_measure": 0.90, "n_choose_objects": 45},
                         {"auroc_measure": 0.87, "n_choose_objects": 38}],
            "by_score": {"energy": {"mean": 0.87, "low": 0.86, "high": 0.88, "times_chosen": 0,
                                    "times_best": 0},
                         "mahalanobis": {"mean": 0.913, "low": 0.90, "high": 0.93,
                                         "times_chosen": 1, "times_best": 2},
                         "outlier_detector_linear": {"mean": 0.89, "low": 0.87, "high": 0.91,
                                                     "times_chosen": 2, "times_best": 1}}}


def test_out_of_class_halvings_place_the_stages_halving_among_the_others():
    said = sentences.out_of_class_halvings([{"repeats": 1}, HALVINGS], stage_auroc=0.88)
    assert said["halvings_n"] == 3
    assert said["halvings_chosen"] == "0.883 (standard deviation 0.015, range 0.870–0.900)"
    assert said["halvings_stage_rank"] == "1 of the 3 halvings measure lower than the stage's own"
    assert said["halvings_best"] == "Mahalanobis (0.913 on average, chosen by 1 of 3 halvings)"
    assert said["halvings_learned"] == ("chosen by 2 of 3 halvings and best on the measuring "
                                        "half in 1")
    assert said["halvings_objects"] == "38–45" and said["halvings_commit"] == "abcdef1"
    with pytest.raises(ValueError, match="out_of_class_halvings.py"):
        sentences.out_of_class_halvings([], 0.9)


def test_paired_with_snid_says_whether_the_files_tell_the_methods_apart():
    real = {"paired": {"catalogue": {"ours_only": 3, "snid_sage_only": 7, "p_value": 0.34},
                       "predicted": {"ours_only": 0, "snid_sage_only": 9, "p_value": 0.004}}}
    said = sentences.paired_with_snid(real, level=0.95)
    assert said["paired_catalogue"] == ("3 files right for SpectraNet alone and 7 for SNID-SAGE "
                                        "alone (p = 0.34: the files do not tell the two apart)")
    assert said["paired_predicted"].endswith("(p = 0.00: the files tell the two apart)")
