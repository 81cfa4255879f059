import numpy as np
import pytest

from recipes import preprocess_config
from ciderlab.applecider.galspecnet_input import (GalSpecInputConfig, GalSpecInputs,
                                               make_galspec_input, masked_median)

WAVE_OBS = preprocess_config().wave_obs_aa  # 512 log-lambda bins, 3800-9200 AA
WAVE = GalSpecInputConfig().wave_aa


def test_the_grid_is_3481_one_angstrom_bins_from_4500_to_7980():
    assert len(WAVE) == 3481
    assert WAVE[0] == 4500 and WAVE[-1] == 7980
    np.testing.assert_allclose(np.diff(WAVE), 1.0)


def test_covered_bins_have_zero_mean_and_unit_mad_and_the_rest_is_zero():
    rng = np.random.default_rng(0)
    flux = 5.0 + rng.gamma(2.0, size=(3, len(WAVE_OBS)))
    covered = np.ones(flux.shape, dtype=bool)
    covered[1, WAVE_OBS > 7000] = False  # the red end lost
    covered[2, WAVE_OBS < 5000] = False  # the blue end lost
    out = make_galspec_input(flux, covered, WAVE_OBS, WAVE)
    assert out.shape == (3, 3481) and out.dtype == np.float32
    for row in out:
        kept = row != 0
        values = row[kept]
        assert values.mean() == pytest.approx(0.0, abs=1e-5)
        assert np.median(np.abs(values - np.median(values))) == pytest.approx(1.0, rel=1e-4)
    assert (out[1, WAVE > 7000] == 0).all() and (out[1, WAVE < 6900] != 0).all()
    assert (out[2, WAVE < 5000] == 0).all() and (out[2, WAVE > 5100] != 0).all()
    # statistics over the covered bins only: the lost red end does not shift them
    full = make_galspec_input(flux[1:2], np.ones((1, len(WAVE_OBS)), bool), WAVE_OBS, WAVE)
    assert not np.allclose(out[1, WAVE < 6900], full[0, WAVE < 6900])


def test_a_feature_lands_in_the_bin_of_its_wavelength():
    flux = 1.0 + 0.01 * np.random.default_rng(2).random((1, len(WAVE_OBS)))
    k = int(np.argmin(np.abs(WAVE_OBS - 6563.0)))  # H-alpha's log-lambda bin
    flux[0, k] = 50.0
    out = make_galspec_input(flux, np.ones_like(flux, dtype=bool), WAVE_OBS, WAVE)
    peak = int(np.argmax(out[0]))
    assert WAVE[peak] == pytest.approx(WAVE_OBS[k], abs=0.5)
    # linear interpolation: the spike falls off to the neighbouring log-lambda bins' centres
    assert out[0, peak] > 100 * out[0, np.abs(WAVE - WAVE_OBS[k + 1]) < 0.5].max()


def test_linear_interpolation_reproduces_a_straight_line():
    flux = (2.0 + WAVE_OBS / 1000.0)[None, :]
    out = make_galspec_input(flux, np.ones_like(flux, dtype=bool), WAVE_OBS, WAVE)
    line = 2.0 + WAVE / 1000.0
    expected = (line - line.mean()) / np.median(np.abs(line - np.median(line)))
    np.testing.assert_allclose(out[0], expected, atol=1e-4)


def test_a_spectrum_without_coverage_in_the_window_is_all_zero():
    flux = np.ones((1, len(WAVE_OBS)))
    covered = (WAVE_OBS > 8500)[None, :]
    assert (make_galspec_input(flux, covered, WAVE_OBS, WAVE) == 0).all()


def test_masked_median_is_the_median_of_the_kept_entries():
    values = np.array([[5.0, 1.0, 3.0, 100.0], [4.0, 2.0, -7.0, 1.0]])
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    np.testing.assert_allclose(masked_median(values, mask), [3.0, 3.0])


def test_inputs_are_prepared_for_the_rows_asked_for():
    rng = np.random.default_rng(1)
    flux = 1.0 + rng.random((5, len(WAVE_OBS)))
    covered = np.ones(flux.shape, dtype=bool)
    inputs = GalSpecInputs(flux, covered, WAVE_OBS, GalSpecInputConfig())
    assert inputs.shape == (5, 3481) and len(inputs) == 5
    np.testing.assert_array_equal(inputs[np.array([3, 1])],
                                  make_galspec_input(flux[[3, 1]], covered[[3, 1]], WAVE_OBS, WAVE))
    np.testing.assert_array_equal(inputs[1:3], inputs[np.array([1, 2])])


def test_a_window_outside_the_observed_grid_is_refused():
    with pytest.raises(ValueError, match="outside the observed grid"):
        make_galspec_input(np.ones((1, len(WAVE_OBS))), np.ones((1, len(WAVE_OBS)), bool),
                           WAVE_OBS, GalSpecInputConfig(3000.0, 8000.0).wave_aa)
