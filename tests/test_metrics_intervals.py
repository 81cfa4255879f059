"""Intervals and paired tests for scores measured on few spectra (evaluation.metrics)."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ciderlab.evaluation.metrics import (grouped_bootstrap_interval, paired_exact_test,
                                         proportion_interval)


def test_wilson_interval_matches_the_textbook_values():
    k, n, z = 34, 58, 1.959964  # Wilson's formula, written out
    centre = (k / n + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(k / n * (1 - k / n) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert proportion_interval(k, n) == pytest.approx([centre - half, centre + half], abs=1e-6)
    assert proportion_interval(0, 10)[0] == 0.0 and proportion_interval(10, 10)[1] == 1.0
    assert np.isnan(proportion_interval(0, 0)).all()
    narrow, wide = proportion_interval(50, 100, 0.68), proportion_interval(50, 100, 0.95)
    assert wide[0] < narrow[0] < 0.5 < narrow[1] < wide[1]


def test_paired_test_counts_only_the_items_that_tell_the_methods_apart():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 0], bool)
    b = np.array([1, 1, 0, 0, 0, 1, 1, 0], bool)
    result = paired_exact_test(a, b)
    assert result["a_only"] == 2 and result["b_only"] == 1
    assert result["p_value"] == pytest.approx(1.0)  # 2 vs 1 of 3: no evidence
    lopsided = paired_exact_test(np.ones(12, bool), np.zeros(12, bool))
    assert lopsided["p_value"] == pytest.approx(2 * 0.5 ** 12)
    assert paired_exact_test(a, a)["p_value"] == 1.0
    with pytest.raises(ValueError, match="shape"):
        paired_exact_test(a, b[:-1])


def test_grouped_bootstrap_resamples_objects_and_brackets_the_statistic():
    rng = np.random.default_rng(1)
    in_objects, out_objects = np.repeat(np.arange(40), 5), np.repeat(np.arange(30), 3)
    in_scores = rng.normal(1.0, 1.0, len(in_objects)) + np.repeat(rng.normal(0, 0.5, 40), 5)
    out_scores = rng.normal(-0.5, 1.0, len(out_objects))

    def auroc(rows_in, rows_out):
        y = np.r_[np.zeros(len(rows_in)), np.ones(len(rows_out))]
        return roc_auc_score(y, -np.r_[in_scores[rows_in], out_scores[rows_out]])

    point = auroc(np.arange(len(in_scores)), np.arange(len(out_scores)))
    low, high = grouped_bootstrap_interval(auroc, [in_objects, out_objects], 300, seed=0)
    assert low < point < high and 0.02 < high - low < 0.3
    again = grouped_bootstrap_interval(auroc, [in_objects, out_objects], 300, seed=0)
    assert again == [low, high]  # seeded: the same interval every run
    # one group per sample: every resample is the whole sample, the interval collapses
    single = grouped_bootstrap_interval(auroc, [np.zeros(len(in_scores)),
                                                np.zeros(len(out_scores))], 20, seed=0)
    assert single == pytest.approx([point, point])
