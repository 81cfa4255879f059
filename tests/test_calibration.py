import numpy as np
import pandas as pd
import pytest
from scipy.special import log_softmax, softmax

from ciderlab.evaluation.calibration import (accuracy_coverage, apply_temperature,
                                             apply_top_label_map, choose_calibration,
                                             fit_calibration, fit_top_label_map,
                                             completeness_at_contamination,
                                             expected_calibration_error, fit_temperature,
                                             purity_completeness, reliability_table)


def draws(n=4000, k=5, temperature=2.0, seed=0):
    """Logits and labels drawn from softmax(logits / temperature): calibrated at that T."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, size=(n, k))
    proba = softmax(logits / temperature, axis=1)
    y = (proba.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)  # one draw per row
    return logits, y


def test_temperature_scaling_recovers_the_generating_temperature_and_lowers_ece():
    logits, y = draws(temperature=2.0)
    temperature = fit_temperature(logits, y)
    assert temperature == pytest.approx(2.0, rel=0.08)
    before = expected_calibration_error(softmax(logits, axis=1), y)
    after = expected_calibration_error(apply_temperature(logits, temperature), y)
    assert before > 0.1 and after < 0.03


def test_log_probabilities_and_logits_give_the_same_temperature():
    logits, y = draws(n=500, temperature=0.5, seed=1)
    assert fit_temperature(log_softmax(logits, axis=1), y) == pytest.approx(
        fit_temperature(logits + 7.0, y), rel=1e-4)
    assert fit_temperature(logits, y) < 1  # underconfident logits are sharpened


def test_apply_temperature_is_a_stable_softmax():
    proba = apply_temperature(np.array([[1000.0, 0.0, -1000.0], [1.0, 1.0, 1.0]]), 2.0)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba[1], 1 / 3)
    np.testing.assert_allclose(apply_temperature(np.log([[0.2, 0.8]]), 1.0), [[0.2, 0.8]])
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(proba, 0.0)


def test_bad_inputs_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="non-empty"):
        fit_temperature(np.zeros((0, 3)), np.zeros(0, int))
    with pytest.raises(ValueError, match=r"np\.clip"):
        fit_temperature(np.array([[-np.inf, 0.0]]), np.array([1]))
    with pytest.raises(ValueError, match="class indices"):
        expected_calibration_error(np.array([[0.5, 0.5]]), np.array([2]))


def test_ece_is_small_for_calibrated_draws_and_large_for_overconfident_ones():
    rng = np.random.default_rng(2)
    proba = rng.dirichlet(np.ones(4), size=20000)
    y = (proba.cumsum(axis=1) < rng.random((len(proba), 1))).sum(axis=1)
    sharpened = proba**4 / (proba**4).sum(axis=1, keepdims=True)
    assert expected_calibration_error(proba, y) < 0.02
    assert expected_calibration_error(sharpened, y) > 0.1


def test_ece_hand_case():
    # confidence 0.9 twice, right once: one bin, |0.5 - 0.9| = 0.4
    proba = np.array([[0.9, 0.1], [0.9, 0.1]])
    assert expected_calibration_error(proba, np.array([0, 1])) == pytest.approx(0.4)


def test_reliability_table_keeps_empty_bins():
    proba = np.array([[0.95, 0.05], [0.55, 0.45], [0.45, 0.55], [0.92, 0.08]])
    table = reliability_table(proba, np.array([0, 1, 1, 0]), n_bins=10)
    assert list(table.columns) == ["bin_low", "bin_high", "confidence", "accuracy", "count"]
    assert len(table) == 10 and table["count"].sum() == 4
    assert table["count"].tolist() == [0, 0, 0, 0, 0, 2, 0, 0, 0, 2]
    assert table["confidence"].iloc[9] == pytest.approx(0.935)
    assert table["accuracy"].tolist()[5] == 0.5 and table["accuracy"].iloc[9] == 1.0
    assert table["confidence"].iloc[:5].isna().all() and table["accuracy"].iloc[:5].isna().all()


def test_accuracy_rises_as_coverage_falls_when_confident_answers_are_right():
    proba = np.array([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.6, 0.2, 0.2]])
    table = accuracy_coverage(proba, np.array([0, 0, 1, 2]))
    expected = pd.DataFrame({"threshold": [0.0, 0.6, 0.7, 0.8, 0.9],
                             "coverage": [1.0, 1.0, 0.75, 0.5, 0.25],
                             "accuracy": [0.5, 0.5, 2 / 3, 1.0, 1.0]})
    pd.testing.assert_frame_equal(table, expected)


def test_purity_completeness_hand_case():
    table = purity_completeness([0.9, 0.8, 0.7, 0.4], [True, False, True, False])
    np.testing.assert_allclose(table["threshold"], [0.4, 0.7, 0.8, 0.9])
    np.testing.assert_allclose(table["purity"], [0.5, 2 / 3, 0.5, 1.0])
    np.testing.assert_allclose(table["completeness"], [1.0, 1.0, 0.5, 0.5])
    with pytest.raises(ValueError, match="no positive"):
        purity_completeness([0.9, 0.1], [False, False])


def test_completeness_at_contamination_picks_the_most_complete_pure_enough_threshold():
    score, positive = [0.9, 0.8, 0.7, 0.4], [True, False, True, False]
    strict = completeness_at_contamination(score, positive, max_contamination=0.01)
    assert strict == {"completeness": 0.5, "threshold": 0.9, "purity": 1.0}
    loose = completeness_at_contamination(score, positive, max_contamination=0.4)
    assert loose == {"completeness": 1.0, "threshold": 0.7, "purity": pytest.approx(2 / 3)}
    none = completeness_at_contamination([0.9, 0.5], [False, True])
    assert none["completeness"] == 0.0 and np.isnan(none["threshold"])


def test_a_contamination_exactly_at_the_limit_is_allowed():
    # 9 contaminants in 50: calling all gives purity 41/50, which floating point puts just
    # below 1 - 0.18; dropping the contaminants would cost one positive (completeness 40/41)
    score = np.arange(50) / 50.0
    positive = np.ones(50, bool)
    positive[1:10] = False
    assert 41 / 50 < 1 - 0.18
    result = completeness_at_contamination(score, positive, max_contamination=0.18)
    assert result == {"completeness": 1.0, "threshold": 0.0, "purity": pytest.approx(0.82)}


def test_a_confidence_on_a_bin_edge_falls_in_the_bin_it_closes():
    proba = np.array([[0.3, 0.3, 0.2, 0.2], [0.7, 0.1, 0.1, 0.1]])  # 0.3 * 10 rounds up
    table = reliability_table(proba, np.array([0, 0]), n_bins=10)
    assert table["count"].tolist() == [0, 0, 1, 0, 0, 0, 1, 0, 0, 0]


def right_at_the_top_overconfident_below(n=20000, k=4, seed=2):
    """Probabilities whose top value is honest above 0.9 and 15 points too high below it: a
    miscalibration no single temperature fixes (softening the middle spoils the top)."""
    rng = np.random.default_rng(seed)
    top = rng.uniform(1 / k + 0.05, 1.0, n)
    accuracy = np.where(top > 0.9, top, top - 0.15)
    predicted = rng.integers(0, k, n)
    y = np.where(rng.random(n) < accuracy, predicted,
                 (predicted + rng.integers(1, k, n)) % k)
    proba = np.tile(((1 - top) / (k - 1))[:, None], (1, k))
    proba[np.arange(n), predicted] = top
    return proba, y


def test_the_top_label_map_fixes_what_a_temperature_cannot_and_keeps_every_answer():
    proba, y = right_at_the_top_overconfident_below()
    fit, held = slice(0, 10000), slice(10000, None)
    mapped = apply_top_label_map(proba[held], fit_top_label_map(proba[fit], y[fit]))
    tempered = apply_calibration_at(fit_calibration("temperature", np.log(proba[fit]), y[fit]),
                                    proba[held])
    before = expected_calibration_error(proba[held], y[held])
    assert before > 0.08
    assert expected_calibration_error(mapped, y[held]) < 0.03
    assert expected_calibration_error(mapped, y[held]) < expected_calibration_error(tempered,
                                                                                    y[held])
    assert (mapped.argmax(axis=1) == proba[held].argmax(axis=1)).all()
    np.testing.assert_allclose(mapped.sum(axis=1), 1.0)


def apply_calibration_at(settings, proba):
    from ciderlab.evaluation.calibration import apply_calibration

    return apply_calibration(settings, np.log(proba))


def test_choose_calibration_prefers_the_map_that_calibrates_the_other_half():
    proba, y = right_at_the_top_overconfident_below(seed=3)
    halves = np.arange(len(y)) % 2 == 0
    ece = choose_calibration(np.log(proba), y, halves)
    assert set(ece) == {"temperature", "top-label isotonic"}
    assert min(ece, key=ece.get) == "top-label isotonic"
    with pytest.raises(ValueError, match="both halves"):
        choose_calibration(np.log(proba), y, np.ones(len(y), bool))
    with pytest.raises(ValueError, match="unknown calibration method"):
        fit_calibration("histogram", np.log(proba), y)


def test_the_runner_up_never_overtakes_when_the_map_lowers_a_close_top():
    proba = np.array([[0.50, 0.45, 0.05], [0.9, 0.05, 0.05]])
    lowered = apply_top_label_map(proba, {"confidence": [0.0, 1.0], "calibrated": [0.0, 0.6]})
    assert (lowered.argmax(axis=1) == [0, 0]).all()
    assert lowered[0, 0] > lowered[0, 1]
    np.testing.assert_allclose(lowered.sum(axis=1), 1.0)
    # The second row keeps the map's value (0.54) and its runner-ups share the rest equally.
    np.testing.assert_allclose(lowered[1], [0.54, 0.23, 0.23])
