"""Verdicts of the validation measurements behind the recipe's choices, on hand-made records."""

import numpy as np
import pytest

from ciderlab.evaluation.selection import (recipe_price, selection_runs, verdict_sentence,
                                         verdicts)


def record(variant, head, seed, score, scored_on="validation"):
    key = "macro_f1" if head == "classifier" else "rms"
    return {"variant": variant, "head": head, "seed": seed, key: score, "best_epoch": 7,
            "minutes": 1.0, "scored_on": scored_on, "epochs": 7, "samples_per_epoch": 5000}


RECORDS = [
    record("classifier, as params.yaml, seed 42", "classifier", 42, 0.64),
    record("classifier, as params.yaml, seed 777", "classifier", 777, 0.66),
    record("classifier, as params.yaml, seed 888", "classifier", 888, 0.65),
    record("classifier, focal loss, seed 42", "classifier", 42, 0.60),
    record("classifier, 12 epochs, seed 42", "classifier", 42, 0.655),
    record("classifier, wider, seed 42", "classifier", 42, 0.70),
    record("redshift, as params.yaml, seed 42", "redshift", 42, 0.010),
    record("redshift, as params.yaml, seed 777", "redshift", 777, 0.011),
    record("redshift, dropout 0.5, seed 42", "redshift", 42, 0.013),
    record("redshift, lr 1e-3, seed 42", "redshift", 42, 0.009),
]


def test_runs_group_seeds_of_one_choice():
    runs = selection_runs(RECORDS).set_index(["head", "choice"])
    chosen = runs.loc[("classifier", "as params.yaml")]
    assert chosen["seeds"] == [42, 777, 888] and chosen["mean"] == pytest.approx(0.65)
    assert chosen["std"] == pytest.approx(0.01)
    assert chosen["training_spectra"] == 35000
    assert np.isnan(runs.loc[("classifier", "focal loss"), "std"])


def test_verdicts_need_the_mean_outside_the_chosen_seeds_range():
    table = verdicts(RECORDS).set_index("choice")
    assert table.loc["focal loss", "verdict"] == "worse"
    assert table.loc["focal loss", "difference"] == pytest.approx(-0.05)
    assert table.loc["12 epochs", "verdict"] == "within the seeds' range"
    assert table.loc["wider", "verdict"] == "better"
    # redshift: lower RMS is better, so the sign flips
    assert table.loc["lr 1e-3", "verdict"] == "better"
    assert table.loc["lr 1e-3", "difference"] == pytest.approx(0.0105 - 0.009)
    assert table.loc["dropout 0.5", "verdict"] == "worse"


def test_records_scored_on_test_objects_or_without_a_reference_are_refused():
    with pytest.raises(ValueError, match="validation"):
        verdicts([record("classifier, as params.yaml, seed 42", "classifier", 42, 0.6,
                         scored_on="test")])
    with pytest.raises(ValueError, match="as params.yaml"):
        verdicts([record("classifier, focal loss, seed 42", "classifier", 42, 0.6)])
    with pytest.raises(ValueError, match="no selection records"):
        verdicts([])


def test_verdict_sentence_lists_every_alternative_of_one_model():
    redshift = [r for r in RECORDS if r["head"] == "redshift"]
    assert verdict_sentence(redshift, 4) == ("dropout 0.5: worse (-0.0025); "
                                             "lr 1e-3: better (+0.0015)")


def test_recipe_price_names_each_better_alternative_with_its_training_time():
    longer = dict(record("classifier, wider, seed 42", "classifier", 42, 0.70), epochs=14)
    records = [r for r in RECORDS if "wider" not in r["variant"]] + [longer]
    assert recipe_price(records) == (
        "Beyond the range of the chosen recipe's seeds, these alternatives score better: "
        "classifier, wider (+0.050, at 2.0x the training); redshift, lr 1e-3 (+0.001, at 1.0x "
        "the training). params.yaml keeps the cheaper recipe where the better one costs "
        "training time the main command does not have; the difference is that price. Better "
        "at no extra time, and not yet followed by params.yaml: redshift, lr 1e-3.")
    only_worse = [r for r in RECORDS if "wider" not in r["variant"] and "lr 1e-3" not in
                  r["variant"]]
    assert recipe_price(only_worse) == ("No alternative beats the chosen recipe beyond the "
                                        "range of its seeds.")
