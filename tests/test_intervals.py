import numpy as np
import pytest

from ciderlab.evaluation.intervals import (binned_halfwidths, conformal_halfwidth, coverage,
                                           halfwidth_for, interval)


def test_halfwidth_is_the_finite_sample_conformal_rank():
    delta = np.array([0.03, -0.01, 0.1, -0.05, 0.02, 0.07, -0.09, 0.04, 0.06, -0.08])
    # ceil(11 * 0.68) = 8: the 8th smallest |delta| of 0.01 ... 0.10
    assert conformal_halfwidth(delta, 0.68) == pytest.approx(0.08)
    assert conformal_halfwidth(delta, 0.9) == pytest.approx(0.10)  # ceil(9.9) = 10


def test_rank_is_not_pushed_up_by_rounding():
    # 75 * 0.68 = 51.00000000000001 in floating point; the rank is 51
    assert conformal_halfwidth(np.arange(1, 75) / 100, 0.68) == pytest.approx(0.51)


def test_too_few_residuals_for_the_level_are_refused():
    with pytest.raises(ValueError, match="at least 3"):
        conformal_halfwidth([0.1, 0.2], 0.68)


def test_coverage_on_exchangeable_draws_is_close_to_the_level():
    rng = np.random.default_rng(0)
    covered = []
    for _ in range(50):
        delta = 0.02 * rng.standard_t(3, size=1200)  # heavy tails, as photometric-like outliers
        h = conformal_halfwidth(delta[:200], 0.68)
        covered.append(np.mean(np.abs(delta[200:]) <= h))
    # guaranteed >= 0.68 on average, and at most 0.68 + 1/(n + 1) for continuous residuals
    assert 0.665 < np.mean(covered) < 0.70


def test_noisier_spectra_get_wider_intervals_and_each_bin_is_covered():
    rng = np.random.default_rng(1)
    snr = rng.uniform(5, 100, size=6000)
    delta = rng.normal(0, 0.1 / snr)
    edges, halfwidths = binned_halfwidths(delta[:3000], snr[:3000], level=0.68, n_bins=3)
    assert edges[0] == -np.inf and edges[-1] == np.inf and len(halfwidths) == 3
    assert halfwidths[0] > halfwidths[1] > halfwidths[2]
    h_test = halfwidth_for(snr[3000:], edges, halfwidths)
    for i in range(3):
        inside = (snr[3000:] >= edges[i]) & (snr[3000:] < edges[i + 1])
        assert np.mean(np.abs(delta[3000:][inside]) <= h_test[inside]) == pytest.approx(
            0.68, abs=0.04)
    # S/N beyond the validation range falls in the outer bins
    np.testing.assert_array_equal(halfwidth_for([0.1, 1e6], edges, halfwidths),
                                  halfwidths[[0, 2]])


def test_a_small_validation_set_gets_fewer_bins_each_with_the_residuals_it_needs():
    rng = np.random.default_rng(2)
    snr, delta = rng.uniform(5, 100, size=7), rng.normal(0, 0.01, size=7)
    edges, halfwidths = binned_halfwidths(delta, snr, level=0.68, n_bins=3)
    assert len(halfwidths) == 2  # 7 residuals: two bins of at least 3, not three
    assert np.sum(snr < edges[1]) >= 3 and np.sum(snr >= edges[1]) >= 3
    _, single = binned_halfwidths(delta[:4], snr[:4], level=0.68, n_bins=3)
    assert len(single) == 1
    with pytest.raises(ValueError, match="at least 3 are needed"):
        binned_halfwidths(delta[:2], snr[:2], level=0.68, n_bins=3)


def test_tied_snr_leaving_a_bin_empty_is_refused():
    with pytest.raises(ValueError, match="fewer than 3 bins"):
        binned_halfwidths(np.zeros(12), np.ones(12), n_bins=3)


def test_interval_edges_are_exactly_at_the_halfwidth_in_delta():
    z_pred, h = np.array([0.0, 0.05, 0.3, 1.2]), 0.1
    z_low, z_high = interval(z_pred, h)
    for z_true in (z_low, z_high):
        np.testing.assert_allclose(np.abs(z_pred - z_true) / (1 + z_true), h, rtol=1e-12)
    assert np.all(z_high - z_pred > z_pred - z_low)  # wider above: Delta is relative to 1 + z_true
    # a halfwidth of 1 or more allows any higher redshift
    assert np.all(np.isinf(interval(z_pred, 1.0)[1]))


def test_coverage_of_the_interval_equals_the_share_within_the_halfwidth():
    rng = np.random.default_rng(2)
    z_true = rng.uniform(0.01, 0.3, size=500)
    delta = rng.normal(0, 0.02, size=500)
    z_pred = z_true + delta * (1 + z_true)
    h = np.where(np.arange(500) % 2 == 0, 0.01, 0.03)  # per-spectrum half-widths
    z_low, z_high = interval(z_pred, h)
    assert coverage(z_true, z_low, z_high) == pytest.approx(np.mean(np.abs(delta) <= h))
    assert coverage([0.1, 0.2], [0.0, 0.25], [0.2, 0.3]) == 0.5
