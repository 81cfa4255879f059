"""Calibration, "none of these" and redshift intervals, fitted per fold on validation only."""

import numpy as np
import pandas as pd
import pytest

from ciderlab.spectranet.out_of_class import DetectorConfig, ood_scores
from ciderlab.spectranet.reliability import (OutOfClassInputs, ReliabilityConfig,
                                             calibrate_folds, halving_scores, interval_folds,
                                             none_of_these, out_of_class_catalogue,
                                             out_of_class_halves, repeated_halvings,
                                             shipped_settings, summarise_halvings)
from ciderlab.spectranet.shipped import SETTINGS_FORMAT

CFG = ReliabilityConfig(calibration_bins=10, ood_retain=0.9, out_of_class_types=("SLSN", "Star"),
                        out_of_class_realisations=1,
                        outlier_detector=DetectorConfig(c=0.01, hidden=8, alpha=1.0),
                        outlier_detector_splits=2, interval_level=0.68, interval_snr_bins=2,
                        wide_interval=0.05, max_contamination=0.01,
                        auroc_bootstrap={"resamples": 200, "level": 0.95, "seed": 0})
CLASSES = ["SN Ia", "SN Ic"]


def overconfident_predictions(n, fold, split, rng):
    """Predictions right 75% of the time but claiming 99%: calibration must soften them."""
    y = rng.integers(0, 2, n)
    right = rng.random(n) < 0.75
    predicted = np.where(right, y, 1 - y)
    proba = np.where(predicted[:, None] == np.arange(2), 0.99, 0.01)
    return pd.DataFrame({"row": np.arange(n) + 1000 * fold + (0 if split == "val" else 500),
                         "fold": fold, "p_0": proba[:, 0], "p_1": proba[:, 1]}), y


def toy_folds(rng):
    val, test, labels = [], [], {}
    for fold in range(2):
        for split, frames in (("val", val), ("test", test)):
            frame, y = overconfident_predictions(300, fold, split, rng)
            frames.append(frame)
            labels.update(dict(zip(frame["row"], np.array(CLASSES)[y])))
    meta = pd.DataFrame({"label": pd.Series(labels)}).reindex(range(2000))
    meta["object_id"] = [f"object {row // 3}" for row in range(len(meta))]  # 3 spectra each
    return pd.concat(val, ignore_index=True), pd.concat(test, ignore_index=True), meta


def test_a_map_per_fold_lowers_the_calibration_error_of_its_test_spectra():
    val, test, meta = toy_folds(np.random.default_rng(0))
    scores, calibrated = calibrate_folds(val, test, meta, CLASSES, CFG)
    assert set(scores["settings_by_fold"]) == {0, 1}
    assert scores["method"] == min(scores["val_half_ece"], key=scores["val_half_ece"].get)
    for fit in scores["settings_by_fold"].values():
        assert fit["method"] == scores["method"]
        if fit["method"] == "temperature":
            assert fit["temperature"] > 1  # softened
        else:  # claimed 0.99, right 75% of the time
            assert fit["top_label_map"]["calibrated"][-1] == pytest.approx(0.75, abs=0.06)
    assert scores["ece_before"] > 0.2 and scores["ece_after"] < 0.05
    assert len(calibrated) == len(test)
    # The labels' order follows the rows, and the argmax (the answer) is unchanged.
    before = test.set_index("row").loc[calibrated["row"], ["p_0", "p_1"]].to_numpy().argmax(1)
    assert (calibrated[["p_0", "p_1"]].to_numpy().argmax(1) == before).all()


def test_the_calibration_never_sees_the_test_spectra():
    rng = np.random.default_rng(1)
    val, test, meta = toy_folds(rng)
    scores, _ = calibrate_folds(val, test, meta, CLASSES, CFG)
    # Replace the test predictions: the chosen map and its fits stay the same.
    other, _ = overconfident_predictions(len(test), 0, "test", rng)
    other = other.assign(row=test["row"].to_numpy(), fold=test["fold"].to_numpy())
    again, _ = calibrate_folds(val, other, meta, CLASSES, CFG)
    assert again["settings_by_fold"] == scores["settings_by_fold"]
    assert again["val_half_ece"] == scores["val_half_ece"]


def test_redshift_intervals_from_validation_residuals_cover_the_level_on_test_spectra():
    rng = np.random.default_rng(2)
    n = 4000
    snr = rng.uniform(5, 60, n)
    z = rng.uniform(0.01, 0.2, n)
    z_pred = z + (1 + z) * rng.normal(0, 0.2 / snr)  # noisier at low S/N
    meta = pd.DataFrame({"redshift": z, "snr": snr})
    rows = np.arange(n)
    fold = rows % 2
    split = np.where(rows % 4 < 2, "val", "test")
    frame = pd.DataFrame({"row": rows, "fold": fold, "redshift_pred": z_pred})
    scores, table = interval_folds(frame[split == "val"], frame[split == "test"], meta, CFG)
    assert 0.64 <= scores["coverage"] <= 0.72
    for by_fold in scores["by_fold"].values():
        assert by_fold["halfwidths"][0] > by_fold["halfwidths"][1]  # low S/N: wider
    assert (table["z_low"] <= table["redshift_pred"]).all()
    assert (table["redshift_pred"] <= table["z_high"]).all()


def test_none_of_these_chooses_its_score_on_one_half_and_measures_on_the_other():
    rng = np.random.default_rng(3)
    confident = np.column_stack([rng.normal(6, 1, 400), rng.normal(0, 1, 400)])
    unsure = rng.normal(0, 1, (200, 2))
    halves = np.where(np.arange(200) % 2, "choose", "measure")
    scores, table = none_of_these(ood_scores(confident[:200]), ood_scores(confident[200:]),
                                  ood_scores(unsure), halves, CFG)
    assert scores["score"] in ("max_softmax", "energy")
    assert scores["auroc"] > 0.9
    assert scores["in_flagged_fraction"] == pytest.approx(1 - CFG.ood_retain, abs=0.06)
    assert scores["out_flagged_fraction"] > 0.8
    assert set(table["group"]) == {"in-class validation", "in-class test",
                                   "out-of-class (choose)", "out-of-class (measure)"}
    settings = shipped_settings({"method": "temperature", "temperature": 1.3}, scores, {"snr_edges": [-np.inf, 10, np.inf],
                                              "halfwidths": [0.02, 0.01]}, CFG)
    assert settings["none_of_these"]["threshold"] == scores["threshold"]
    assert settings["calibration"]["temperature"] == 1.3
    assert settings["format"] == SETTINGS_FORMAT  # what load_models checks
    assert "auroc_interval" not in scores  # without the spectra's objects, no interval


def test_the_measuring_auroc_gets_an_interval_from_resampled_objects():
    rng = np.random.default_rng(5)
    in_val, in_test = rng.normal(1.0, 1.0, (300, 1)), rng.normal(1.0, 1.0, (300, 1))
    out = rng.normal(-0.5, 1.0, (120, 1))
    logits = {name: np.column_stack([x[:, 0], -x[:, 0]]) for name, x in
              (("val", in_val), ("test", in_test), ("out", out))}
    out_objects = np.repeat(np.arange(40), 3)  # 40 objects of 3 spectra each
    halves = np.where(out_objects % 2, "choose", "measure")
    scores, _ = none_of_these(ood_scores(logits["val"]), ood_scores(logits["test"]),
                              ood_scores(logits["out"]), halves, CFG,
                              np.repeat(np.arange(60), 5), out_objects)
    low, high = scores["auroc_interval"]
    assert low < scores["auroc"] < high and high - low < 0.3
    assert scores["auroc_interval_level"] == 0.95
    again, _ = none_of_these(ood_scores(logits["val"]), ood_scores(logits["test"]),
                             ood_scores(logits["out"]), halves, CFG,
                             np.repeat(np.arange(60), 5), out_objects)
    assert again["auroc_interval"] == [low, high]


def test_out_of_class_objects_are_the_catalogue_rows_dropped_for_their_type_only():
    catalogue = pd.DataFrame({
        "spectrum_index": range(6), "object_id": ["a", "a", "b", "c", "d", "e"],
        "epoch": [0, 1, 0, 0, 0, 0], "age_days": [0.0, 30.0, 5.0, np.nan, 1.0, 2.0],
        "snid_type": ["SLSN", "SLSN", "Star", "Ia", "II", "SLSN"],
        "subtype": ["SLSN-I", "SLSN-I", "M-star", "Ia-norm", "II-pec", "SLSN-I"],
        "label": [None, None, None, "SN Ia", None, None],
        "coverage_fraction": [0.9, 0.9, 0.8, 0.9, 0.9, 0.08],
        "reason": ["subtype SLSN-I is not one of the configured classes"] * 2
        + ["subtype M-star is not one of the configured classes", "",
           "subtype II-pec is not one of the configured classes",
           "covers 8% of the rest-frame SEDM window (< 30%)"]})
    other = out_of_class_catalogue(catalogue, CFG.out_of_class_types)
    assert list(other["object_id"]) == ["a", "a", "b"]
    assert list(other["label"]) == ["SLSN-I", "SLSN-I", "M-star"]
    nearest = out_of_class_catalogue(catalogue, CFG.out_of_class_types, max_spectra_per_object=1)
    assert list(nearest["spectrum_index"]) == [0, 2]
    assert list(out_of_class_catalogue(catalogue, CFG.out_of_class_types, 0.85)["object_id"]) \
        == ["a", "a"]


def test_the_halves_are_stable_and_split_objects_not_spectra():
    ids = pd.Series(["a", "b", "c", "a", "b", "c"] * 20 + [f"x{i}" for i in range(200)])
    halves = out_of_class_halves(ids, "salt")
    assert (halves == out_of_class_halves(ids, "salt")).all()
    by_object = pd.Series(halves).groupby(ids.to_numpy()).nunique()
    assert (by_object == 1).all()
    assert 0.35 < np.mean(halves[-200:] == "choose") < 0.65

    assert (out_of_class_halves(ids, "salt", repeat=1) != halves).any()  # another halving ...
    assert (out_of_class_halves(ids, "salt", repeat=0) == halves).all()  # ... 0 is the stage's


def toy_out_of_class_inputs(rng):
    """In-class embeddings around the origin, out-of-class ones shifted along one axis; the
    network's own score is minus the distance from the origin (as Mahalanobis would be)."""
    embedding = {"val": rng.normal(0, 1, (240, 4)), "test": rng.normal(0, 1, (240, 4)),
                 "out": rng.normal(0, 1, (240, 4)) + [2.5, 0, 0, 0]}
    network = {group: {"distance": -np.linalg.norm(x, axis=1)} for group, x in embedding.items()}
    objects = {group: np.repeat([f"{group}{i}" for i in range(40)], 6) for group in embedding}
    return OutOfClassInputs(embedding, network, objects, {},
                            pd.DataFrame({"object_id": objects["out"], "label": "SLSN-I"}))


def test_a_halvings_detector_scores_what_it_was_fitted_on_only_cross_fitted():
    inputs = toy_out_of_class_inputs(np.random.default_rng(7))
    choose = out_of_class_halves(inputs.objects["out"], "salt") == "choose"
    scores, detector = halving_scores(inputs, choose, CFG)
    assert set(scores["val"]) == {"distance", "outlier_detector_linear",
                                  "outlier_detector_network", "outlier_detector"}
    direct = ood_scores(np.zeros((240, 2)) + [1, 0], inputs.embedding["out"], detector)
    linear = scores["out"]["outlier_detector_linear"]
    # the measuring half is scored by the detector fitted on the choosing half ...
    assert np.allclose(linear[~choose], direct["outlier_detector_linear"][~choose])
    # ... the choosing half by detectors fitted without its object, so not the same numbers
    assert not np.allclose(linear[choose], direct["outlier_detector_linear"][choose])
    assert np.array_equal(scores["out"]["distance"], inputs.network_scores["out"]["distance"])


def test_repeated_halvings_repeat_the_stages_choice_on_other_halves():
    inputs = toy_out_of_class_inputs(np.random.default_rng(8))
    table = repeated_halvings(inputs, CFG, "salt", range(3))
    assert list(table["repeat"].unique()) == [0, 1, 2]
    assert (table.groupby("repeat")["chosen"].sum() == 1).all()  # one score chosen per halving
    assert (table.groupby("repeat")[["n_choose_objects", "n_measure_objects"]].sum().sum(axis=1)
            == 40 * 4).all()  # every out-of-class object in one half of every halving
    easy = table[table["score"].isin(["distance", "outlier_detector_linear"])]
    assert (easy["auroc_measure"] > 0.8).all()  # a shift along one axis: easy for these two
    # halving 0 is the stage's: the same choice and measuring AUROC as none_of_these there
    halves = out_of_class_halves(inputs.objects["out"], "salt")
    scores, _ = halving_scores(inputs, halves == "choose", CFG)
    stage, _ = none_of_these(scores["val"], scores["test"], scores["out"], halves, CFG)
    first = table[(table["repeat"] == 0) & table["chosen"]].iloc[0]
    assert first["score"] == stage["score"]
    assert first["auroc_measure"] == pytest.approx(stage["auroc"])
    assert table[table["repeat"] == 1]["auroc_measure"].tolist() \
        != table[table["repeat"] == 0]["auroc_measure"].tolist()


def test_the_halvings_summary_follows_the_chosen_score_of_each_halving():
    table = pd.DataFrame({
        "repeat": [0, 0, 1, 1, 2, 2], "score": ["energy", "mahalanobis"] * 3,
        "auroc_choose": [0.9, 0.8, 0.7, 0.95, 0.9, 0.85],
        "auroc_measure": [0.88, 0.91, 0.86, 0.90, 0.87, 0.93],
        "chosen": [True, False, False, True, True, False],
        "n_choose_objects": [40, 40, 45, 45, 38, 38], "n_measure_objects": [45, 45, 40, 40, 47, 47]})
    said = summarise_halvings(table)
    assert [h["chosen"] for h in said["halvings"]] == ["energy", "mahalanobis", "energy"]
    assert [h["auroc_measure"] for h in said["halvings"]] == [0.88, 0.90, 0.87]
    assert said["chosen_auroc_mean"] == pytest.approx(0.8833333)
    assert said["chosen_auroc_std"] == pytest.approx(np.std([0.88, 0.90, 0.87], ddof=1))
    assert said["by_score"]["mahalanobis"] == {"mean": pytest.approx(0.9133333), "low": 0.90,
                                               "high": 0.93, "times_chosen": 1, "times_best": 3}
    assert said["by_score"]["energy"]["times_chosen"] == 2
    assert said["by_score"]["energy"]["times_best"] == 0
