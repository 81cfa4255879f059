import numpy as np
import pytest
from scipy.special import log_softmax, logsumexp

from ciderlab.spectranet.out_of_class import (DETECTOR_SCORES, DetectorConfig,
                                              cross_fitted_detector_scores,
                                              false_alarm_and_detection, fit_outlier_detector,
                                              ood_scores, out_of_class_auroc,
                                              threshold_for_retention)


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


DETECTOR = DetectorConfig(c=1.0, hidden=16, alpha=1.0)


def embeddings_with_an_outlying_direction(n_in=300, n_out=120, d=16, seed=4):
    """In-class embeddings, and out-of-class ones shifted along one direction that no logit
    reads: only a score on the embedding can see them."""
    rng = np.random.default_rng(seed)
    inside = rng.normal(0, 1, (n_in, d))
    outside = rng.normal(0, 1, (n_out, d))
    outside[:, 5] += 3.0
    return inside, outside


def test_the_outlier_detector_scores_out_of_class_embeddings_lower():
    # Enough spectra for the network's early stopping to see it learn (as in the stage).
    inside, outside = embeddings_with_an_outlying_direction(n_in=1500, n_out=600)
    detector = fit_outlier_detector(inside[:1000], outside[:400], DETECTOR)
    logits = np.zeros((500 + 200, 3)) + [[2.0, 0.0, 0.0]]
    scores = ood_scores(logits, np.concatenate([inside[1000:], outside[400:]]), detector)
    assert set(DETECTOR_SCORES) <= set(scores) and "mahalanobis" not in scores
    for name in DETECTOR_SCORES:
        assert out_of_class_auroc(scores[name][:500], scores[name][500:]) > 0.95, name
    assert out_of_class_auroc(scores["energy"][:500], scores["energy"][500:]) == 0.5
    with pytest.raises(ValueError, match="in-class and out-of-class"):
        fit_outlier_detector(inside, outside[:0], DETECTOR)


def test_the_detectors_network_finds_outliers_on_both_sides_where_a_line_cannot():
    # Out-of-class embeddings shifted both ways along one direction: no single hyperplane
    # separates them from the in-class cloud between them, a hidden layer does.
    rng = np.random.default_rng(6)
    inside = rng.normal(0, 1, (2000, 8))
    outside = rng.normal(0, 1, (1000, 8))
    outside[:, 2] += np.where(np.arange(1000) % 2 == 0, 4.0, -4.0)
    detector = fit_outlier_detector(inside[:1400], outside[:700], DETECTOR)
    scores = ood_scores(np.ones((900, 2)) * [1.0, 0.0],
                        np.concatenate([inside[1400:], outside[700:]]), detector)
    auroc = {name: out_of_class_auroc(scores[name][:600], scores[name][600:])
             for name in DETECTOR_SCORES}
    assert auroc["outlier_detector_linear"] < 0.7
    assert auroc["outlier_detector_network"] > 0.95
    assert auroc["outlier_detector"] > 0.95


def test_without_a_network_the_detector_is_its_linear_part():
    inside, outside = embeddings_with_an_outlying_direction(seed=7)
    linear_only = DetectorConfig(c=1.0, hidden=0, alpha=1.0)
    detector = fit_outlier_detector(inside, outside, linear_only)
    assert "detector_w1" not in detector
    scores = ood_scores(np.ones((len(inside), 2)) * [1.0, 0.0], inside, detector)
    assert "outlier_detector_network" not in scores
    np.testing.assert_allclose(scores["outlier_detector"], scores["outlier_detector_linear"],
                               rtol=1e-9, atol=1e-9)


def test_cross_fitted_scores_come_from_detectors_that_never_saw_the_object():
    inside, outside = embeddings_with_an_outlying_direction(seed=5)
    # Ten spectra per object; each spectrum is scored by a detector fitted without its object.
    in_groups = np.arange(len(inside)) // 10
    out_groups = np.arange(len(outside)) // 10
    in_scores, out_scores = cross_fitted_detector_scores(inside, outside, in_groups, out_groups,
                                                         DETECTOR, n_splits=4)
    assert set(in_scores) == set(out_scores) == set(DETECTOR_SCORES)
    in_scores, out_scores = in_scores["outlier_detector"], out_scores["outlier_detector"]
    assert in_scores.shape == (len(inside),) and out_scores.shape == (len(outside),)
    assert out_of_class_auroc(in_scores, out_scores) > 0.9
    in_fitted = ood_scores(np.ones((len(inside), 2)) * [1.0, 0.0], inside,
                           fit_outlier_detector(inside, outside, DETECTOR))["outlier_detector"]
    # In-sample scores of the in-class spectra sit higher than cross-fitted ones.
    assert np.mean(in_fitted) > np.mean(in_scores)
