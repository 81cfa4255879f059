import numpy as np
import pandas as pd
import pytest
from scipy.special import log_softmax, softmax

from ciderlab.evaluation.calibration import (accuracy_coverage, apply_temperature,
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
