import numpy as np
import pytest
from scipy.special import log_softmax, logsumexp

from ciderlab.spectranet.out_of_class import (false_alarm_and_detection, ood_scores,
                                              out_of_class_auroc, threshold_for_retention)


def test_a_confident_spectrum_scores_higher_than_a_flat_one():
    logits = np.array([[8.0, 0.0, 0.0], [1.0, 1.0, 1.0]])  # one clear class; none
    scores = ood_scores(logits)
    assert set(scores) >= {"max_softmax", "energy"}
    for values in scores.values():
        assert values.shape == (2,) and values[0] > values[1]
    np.testing.assert_allclose(scores["max_softmax"][1], 1 / 3)
    np.testing.assert_allclose(scores["energy"], logsumexp(logits, axis=1))


def test_energy_is_finite_for_large_logits():
    scores = ood_scores(np.array([[1000.0, 0.0], [-1000.0, -1000.0]]))
    np.testing.assert_allclose(scores["energy"], [1000.0, -1000.0 + np.log(2)])
    np.testing.assert_allclose(scores["max_softmax"], [1.0, 0.5])


def test_log_probabilities_are_refused_for_the_energy_score():
    logits = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(ValueError, match="raw logits"):
        ood_scores(log_softmax(logits, axis=1))


def test_threshold_keeps_the_requested_share_of_in_class_spectra():
    rng = np.random.default_rng(1)
    in_val, in_test = rng.normal(size=2000), rng.normal(size=20000)
    threshold = threshold_for_retention(in_val, retain=0.9)
    assert np.mean(in_val >= threshold) == pytest.approx(0.9, abs=1e-3)
    flagged = false_alarm_and_detection(in_test, rng.normal(-3, 1, size=1000), threshold)
    assert flagged["in_flagged_fraction"] == pytest.approx(0.1, abs=0.015)
    assert flagged["out_flagged_fraction"] > 0.9
    with pytest.raises(ValueError, match="retain"):
        threshold_for_retention(in_val, retain=1.5)


def test_auroc_is_chance_for_one_distribution_and_one_for_separated_ones():
    rng = np.random.default_rng(2)
    in_scores = rng.normal(size=3000)
    assert out_of_class_auroc(in_scores, rng.normal(size=3000)) == pytest.approx(0.5, abs=0.03)
    # out-of-class spectra score LOW: found with AUROC near 1, not near 0
    assert out_of_class_auroc(in_scores, rng.normal(-6, 1, size=3000)) > 0.99


def test_false_alarm_and_detection_hand_case():
    result = false_alarm_and_detection([0.9, 0.8, 0.4, 0.3], [0.1, 0.6, 0.2], threshold=0.5)
    assert result == {"in_flagged_fraction": 0.5, "out_flagged_fraction": pytest.approx(2 / 3)}
    with pytest.raises(ValueError, match="NaN"):
        false_alarm_and_detection([np.nan], [0.1], threshold=0.5)
