from dataclasses import replace
import numpy as np
import pandas as pd
import pytest
import torch

from recipes import recipe
from ciderlab.training.heads import CLASSIFIER, REDSHIFT
from ciderlab.data.split import assign_folds
from ciderlab.evaluation.fold_scores import (cross_validation_predictions,
                                                  cross_validation_scores, paired_differences)
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.training.folds import cross_validate, fold_meta
from ciderlab.training.runs import run_fingerprint

TINY = SpectraNetConfig(n_bins=32, n_outputs=2, channels=(4, 4, 4, 4, 4), kernels=((3, 5, 7),) * 5,
                        hidden=8, dropout=0.0)
RECIPE = recipe(seed=1, lr=3e-3, batch_size=16, max_epochs=1, warmup_epochs=0, patience=1)


def toy_set(n_objects=12, n_realisations=3):
    """Two classes, ``n_objects`` objects each, two spectra per object; the first realisations
    of every spectrum are scored, rare extras (realisation 2) train only."""
    rng = np.random.default_rng(0)
    rows = []
    for label in ("SN Ia", "TDE"):
        for i in range(n_objects):
            for epoch in range(2):
                for r in range(n_realisations):
                    rows.append({"object_id": f"{label[-2:]}{i}", "label": label,
                                 "epoch": epoch, "realisation": r,
                                 "redshift": rng.uniform(0.01, 0.2)})
    meta = pd.DataFrame(rows)
    objects = meta.drop_duplicates("object_id")[["object_id", "label"]]
    folds = assign_folds(objects, 3, "salt")
    meta = meta.merge(folds[["object_id", "fold"]], on="object_id")
    flux = rng.normal(size=(len(meta), 32)).astype(np.float32)
    flux[meta["label"].to_numpy() == "TDE", 10:20] += 2.0
    target = torch.as_tensor((meta["label"] == "TDE").to_numpy().astype(np.int64))
    return meta, folds, flux, target


def test_every_scored_spectrum_is_tested_once_in_its_own_fold():
    meta, folds, flux, target = toy_set()
    predictions = cross_validate(CLASSIFIER, flux, target, meta, folds, 0.2, "salt", 2, TINY,
                                 RECIPE, "toy", progress=False)
    scored = np.flatnonzero(meta["realisation"].to_numpy() < 2)
    test = predictions[predictions["split"] == "test"]
    assert sorted(test["row"]) == sorted(scored)
    assert (test["fold"].to_numpy() == meta["fold"].to_numpy()[test["row"]]).all()
    assert np.allclose(predictions[["p_0", "p_1"]].sum(axis=1), 1.0, atol=1e-5)


def test_each_fold_also_predicts_its_own_validation_objects():
    meta, folds, flux, target = toy_set()
    predictions = cross_validate(CLASSIFIER, flux, target, meta, folds, 0.2, "salt", 2, TINY,
                                 RECIPE, "toy", progress=False)
    val = predictions[predictions["split"] == "val"]
    assert len(val) and set(val["fold"]) == {0, 1, 2}
    for fold, rows in val.groupby("fold"):
        split = fold_meta(meta, folds, fold, 0.2, "salt")
        assert (split["split"].to_numpy()[rows["row"]] == "val").all()
        assert (meta["realisation"].to_numpy()[rows["row"]] < 2).all()


def test_a_fold_never_trains_or_stops_on_its_test_objects():
    meta, folds, _, _ = toy_set()
    for fold in range(3):
        split = fold_meta(meta, folds, fold, 0.2, "salt")
        test = set(split.loc[split["split"] == "test", "object_id"])
        assert test == set(folds.loc[folds["fold"] == fold, "object_id"])
        assert not test & set(split.loc[split["split"] != "test", "object_id"])
        assert (split["split"] == "val").any() and (split["split"] == "train").any()


def fold_0_run(meta, folds, recipe_=None, data_id="toy"):
    """The run id fold 0's training would have (what a checkpoint of it records)."""
    rows = np.flatnonzero(fold_meta(meta, folds, 0, 0.2, "salt")["split"].to_numpy() == "train")
    return run_fingerprint(TINY, recipe_ or RECIPE, data_id, rows, None)


def test_a_model_already_trained_on_a_fold_is_reused():
    meta, folds, flux, target = toy_set()
    fixed = SpectraNet(TINY).eval()
    told = []
    predictions = cross_validate(CLASSIFIER, flux, target, meta, folds, 0.2, "salt", 2, TINY,
                                 RECIPE, "toy", reusable={fold_0_run(meta, folds): fixed},
                                 progress=False, on_reused=lambda *args: told.append(args))
    assert told == [(0, fold_0_run(meta, folds))]
    assert (predictions.loc[predictions["fold"] == 0, "best_epoch"] == -1).all()
    assert (predictions.loc[predictions["fold"] != 0, "best_epoch"] >= 1).all()


@pytest.mark.parametrize("what", ["recipe", "data"])
def test_a_model_of_another_run_is_not_reused(what):
    # Another recipe, or other data (spectra checksum): the run ids differ, the fold trains.
    meta, folds, flux, target = toy_set()
    other = (fold_0_run(meta, folds, recipe_=replace(RECIPE, lr=RECIPE.lr / 2)) if what == "recipe"
             else fold_0_run(meta, folds, data_id="other spectra"))
    predictions = cross_validate(CLASSIFIER, flux, target, meta, folds, 0.2, "salt", 2, TINY,
                                 RECIPE, "toy", reusable={other: SpectraNet(TINY).eval()},
                                 progress=False)
    assert (predictions["best_epoch"] >= 1).all()


def test_folds_trained_side_by_side_give_what_one_thread_in_turn_gives(tmp_path):
    meta, folds, flux, target = toy_set()
    fixed = SpectraNet(TINY).eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        in_turn = cross_validate(CLASSIFIER, flux, target, meta, folds, 0.2, "salt", 2, TINY,
                                 RECIPE, "toy", reusable={fold_0_run(meta, folds): fixed}, progress=False)
    finally:
        torch.set_num_threads(threads)
    side_by_side = cross_validate(CLASSIFIER, flux, target, meta, folds, 0.2, "salt", 2, TINY,
                                  RECIPE, "toy", reusable={fold_0_run(meta, folds): fixed}, progress=False, workers=2,
                                  state_dir=tmp_path)
    pd.testing.assert_frame_equal(in_turn, side_by_side)
    assert set(side_by_side["fold"]) == {0, 1, 2}
    assert not list(tmp_path.iterdir())  # the folds' state files go once all are done


def test_redshift_folds_predict_one_redshift_per_spectrum():
    meta, folds, flux, _ = toy_set()
    z = torch.as_tensor(meta["redshift"].to_numpy(copy=True), dtype=torch.float32)
    config = SpectraNetConfig(**{**TINY.to_dict(), "n_outputs": 1, "head": "redshift"})
    predictions = cross_validate(REDSHIFT, flux, z, meta, folds, 0.2, "salt", 2, config,
                                 RECIPE, "toy", progress=False)
    assert predictions["redshift_pred"].notna().all() and (predictions["redshift_pred"] >= 0).all()


def test_scores_are_mean_and_std_over_folds_and_pooled_over_every_object():
    meta, folds, _, _ = toy_set()
    classes = ["SN Ia", "TDE", "AGN"]
    scored = meta[meta["realisation"] < 2]
    # A perfect classifier except on one TDE object, which it calls SN Ia.
    wrong = (scored["object_id"] == "DE0").to_numpy()
    truth = scored["label"].map({"SN Ia": 0, "TDE": 1}).to_numpy()
    predicted = np.where(wrong, 0, truth)
    proba = np.eye(3)[predicted]
    class_predictions = pd.DataFrame({"row": scored.index, "fold": scored["fold"].to_numpy(),
                                      **{f"p_{k}": proba[:, k] for k in range(3)}})
    z_predictions = pd.DataFrame({"row": scored.index, "fold": scored["fold"].to_numpy(),
                                  "redshift_pred": scored["redshift"].to_numpy() * 1.01})
    scores = cross_validation_scores(class_predictions, z_predictions, meta, classes,
                                     ["SN Ia", "TDE"])
    assert scores["n_folds"] == 3
    fold_of_wrong = int(folds.set_index("object_id").loc["DE0", "fold"])
    per_fold = {f["fold"]: f for f in scores["per_fold"]}
    assert per_fold[fold_of_wrong]["accuracy"] < 1.0
    assert all(per_fold[f]["macro_f1"] == 1.0 for f in per_fold if f != fold_of_wrong)
    assert scores["macro_f1"]["mean"] == pytest.approx(np.mean([f["macro_f1"] for f in per_fold.values()]))
    assert scores["pooled"]["per_class"]["TDE"]["recall"] == pytest.approx(11 / 12)
    assert scores["pooled"]["n_objects"] == {"SN Ia": 12, "TDE": 12}
    # per-class F1 per fold, and over folds: only TDE's (and SN Ia's) in the fold of the miss
    assert per_fold[fold_of_wrong]["f1"]["TDE"] < 1.0
    assert scores["per_class_f1"]["TDE"]["mean"] == pytest.approx(
        np.mean([f["f1"]["TDE"] for f in per_fold.values()]))
    assert scores["per_class_f1"]["TDE"]["mean"] < 1.0 and set(scores["per_class_f1"]) == {
        "SN Ia", "TDE"}
    assert scores["redshift_rms"]["mean"] < 0.01
    table = cross_validation_predictions(class_predictions, z_predictions, meta, classes)
    assert len(table) == len(scored) and set(table.loc[wrong, "predicted"]) == {"SN Ia"}


def test_the_default_preprocessing_is_ranked_among_the_options():
    from ciderlab.spectranet.compare_preprocessing import default_option, rank_of_default

    table = pd.DataFrame({"option": ["a", "b", "c"], "val_macro_f1": [0.5, 0.7, 0.6],
                          "preprocess.continuum": ["spline", "spline", "median"],
                          "preprocess.knot_spacing_lnwave": [0.074, 0.115, np.nan]})
    assert rank_of_default(table, {"continuum": "spline", "knot_spacing_lnwave": 0.115}) == 1
    assert rank_of_default(table, {"continuum": "median", "knot_spacing_lnwave": 0.115}) == 2
    assert rank_of_default(table, {"continuum": "none"}) is None
    assert default_option(table, {"continuum": "median", "knot_spacing_lnwave": 0.115}) == "c"


def test_the_chosen_preprocessing_is_the_most_realistic_of_those_close_to_the_best():
    from ciderlab.spectranet.compare_preprocessing import choose_option

    table = pd.DataFrame({"option": ["fine", "middle", "coarse", "none"],
                          "val_macro_f1": [0.49, 0.57, 0.58, 0.60],
                          "realism_auc": [0.78, 0.81, 0.91, 0.98]})
    # "fine" is the most realistic but 0.11 below the best: outside the tolerance
    assert choose_option(table, 0.05) == "middle"
    assert choose_option(table, 0.15) == "fine"
    assert choose_option(table, 0.0) == "none"
    # without real files (no realism AUC) the best on validation
    assert choose_option(table.drop(columns="realism_auc"), 0.05) == "none"


def test_paired_differences_subtract_fold_by_fold():
    def scores(values, f1):
        return {"headline_classes": ["SN Ia", "TDE"],
                "per_fold": [{"fold": k, "macro_f1": v, "accuracy": v, "ia_vs_non_ia_accuracy": v,
                              "f1": {"SN Ia": f1[k], "TDE": f1[k]}} for k, v in enumerate(values)]}

    reference = scores([0.60, 0.70, 0.80], [0.9, 0.8, 0.7])
    variant = scores([0.62, 0.71, 0.83], [0.8, 0.8, 0.8])
    diff = paired_differences(reference, variant)
    assert diff["folds"] == [0, 1, 2]
    assert diff["macro_f1"]["values"] == pytest.approx([0.02, 0.01, 0.03])
    assert diff["macro_f1"]["mean"] == pytest.approx(0.02)
    assert diff["macro_f1"]["std"] == pytest.approx(0.01)
    # the folds differ by 0.1 from each other; their differences by 0.01: the pairing matters
    assert diff["f1 TDE"]["values"] == pytest.approx([-0.1, 0.0, 0.1])
    with pytest.raises(ValueError, match="same folds"):
        paired_differences(reference, scores([0.6, 0.7], [0.9, 0.8]))
