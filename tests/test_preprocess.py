from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from recipes import preprocess_config
from ciderlab.params import load_params
from ciderlab.spectra.continua import blackbody_shape, redden
from ciderlab.spectra.grid import make_log_grid
from ciderlab.spectra.preprocess import (PreprocessConfig, fit_spline_continuum,
                                         narrow_coverage, normalise_spectrum, prepare_observed,
                                         remove_continuum, to_model_grid, to_rest_frame)

CFG = preprocess_config(n_bins=512, continuum="spline", knot_spacing_lnwave=0.22)
# What the pipeline ships: params.yaml's default profile.
DEFAULT = PreprocessConfig.from_resolved(load_params(Path(__file__).parents[1] / "params.yaml"))


def broad_features(wave_rest_aa):
    """Supernova-like broad absorptions (FWHM ~150-250 AA) and one P-Cygni emission peak."""
    features = np.zeros_like(wave_rest_aa)
    for centre, depth, sigma in ((3950, 0.35, 90), (4800, 0.25, 110), (5400, 0.2, 80),
                                 (6150, 0.4, 95), (7600, 0.2, 100), (8300, 0.3, 130)):
        features -= depth * np.exp(-0.5 * ((wave_rest_aa - centre) / sigma) ** 2)
    features += 0.3 * np.exp(-0.5 * ((wave_rest_aa - 6500) / 90) ** 2)
    return features


def observed_sn(redshift=0.05):
    """A real-looking observed spectrum: SEDM-like linear 2 AA pixels, steep reddened continuum."""
    wave = np.arange(3700.0, 9300.0, 2.0)
    rest = wave / (1 + redshift)
    continuum = blackbody_shape(rest, 9000.0) * redden(rest, 0.3) * redden(wave, 0.1)
    return wave, 1e-16 * continuum * (1.0 + broad_features(rest)) / continuum.mean()


def features_kept(cfg, redshift=0.05):
    """Correlation of the classifier's input with the true features, through the one path."""
    wave, flux = observed_sn(redshift)
    grid_flux, covered = to_model_grid(wave, flux, cfg)
    flat, _ = prepare_observed(grid_flux, covered, cfg)
    rest, covered_rest = to_rest_frame(flat, covered, redshift, cfg)
    # The truth as the model can see it: at the model's resolution.
    dln = np.log(cfg.wave_rest_aa[1] / cfg.wave_rest_aa[0])
    truth = gaussian_filter1d(broad_features(cfg.wave_rest_aa), cfg.fwhm_lnwave / 2.355 / dln)
    return np.corrcoef(rest[covered_rest], truth[covered_rest])[0, 1]


def test_broad_features_survive_a_steep_real_continuum():
    # The whole path (any grid -> model grid -> continuum removal -> rest frame) with the shipped
    # settings keeps the broad P-Cygni features the classes differ by, on a spectrum whose
    # reddened continuum falls several-fold across it (correlation with the true features at
    # the model's resolution; 13 knots over the window give 0.67 here).
    assert features_kept(DEFAULT) > 0.85


def test_snid_spacing_over_the_sedm_window_eats_broad_features():
    # 13 knots over 3800-9200 AA (0.074 apart in ln lambda) fit the features as continuum.
    tight = preprocess_config(n_bins=512, continuum="spline", knot_spacing_lnwave=0.074)
    assert features_kept(tight) < features_kept(CFG) - 0.15


def test_running_median_also_keeps_broad_features():
    median = preprocess_config(n_bins=512, continuum="median", median_window_lnwave=0.2)
    assert features_kept(median) > 0.9


def test_no_removal_takes_out_only_the_overall_slope():
    wave = CFG.wave_obs_aa
    covered = np.ones(512, bool)
    none = preprocess_config(n_bins=512, continuum="none")
    tilt = (wave / 5000.0) ** -2
    assert np.allclose(remove_continuum(wave, tilt, covered, none), 0.0, atol=1e-9)
    # a curved continuum (a blackbody peaking inside the window) keeps its curvature
    curved = blackbody_shape(wave, 6000.0)
    flat = remove_continuum(wave, curved, covered, none)
    assert flat.max() > 0.1 and flat[0] < -0.1 and flat[-1] < -0.1
    assert np.allclose(remove_continuum(wave, curved, covered, CFG), 0.0, atol=2e-3)


def test_continuum_removal_zeroes_uncovered_bins_and_needs_enough_bins():
    wave = CFG.wave_obs_aa
    covered = np.zeros(512, bool)
    covered[100:400] = True
    flux = np.where(covered, 2.0, 0.0)
    assert np.all(remove_continuum(wave, flux, covered, CFG)[~covered] == 0)
    tiny = np.zeros(512, bool)
    tiny[:6] = True
    with pytest.raises(ValueError, match="only 6 covered bins"):
        remove_continuum(wave, flux, tiny, CFG)


def test_a_narrow_spectrum_gets_fewer_knots_and_still_follows_its_continuum():
    wave = CFG.wave_obs_aa
    covered = np.zeros(512, bool)
    covered[200:220] = True
    continuum = (wave / 5000.0) ** -2.0
    fitted = fit_spline_continuum(wave, np.where(covered, continuum, 0.0), covered, 0.01)
    assert np.allclose(fitted[covered], continuum[covered], rtol=1e-6)


def test_to_model_grid_masks_nan_sorts_and_refuses_what_it_cannot_use():
    wave, flux = observed_sn()
    flux = flux.copy()
    flux[1000:1010] = np.nan
    order = np.random.default_rng(0).permutation(len(wave))
    grid_flux, covered = to_model_grid(wave[order], flux[order], CFG)
    gap = (CFG.wave_obs_aa > wave[1000]) & (CFG.wave_obs_aa < wave[1009])
    assert gap.any() and not covered[gap].any()
    assert np.isfinite(grid_flux).all() and covered.sum() > 400
    with pytest.raises(ValueError, match="at least 8"):
        to_model_grid(wave[:20], np.full(20, np.nan), CFG)
    with pytest.raises(ValueError, match="repeat"):
        to_model_grid(np.r_[wave[:10], wave[:10]], np.ones(20), CFG)
    with pytest.raises(ValueError, match="equal length"):
        to_model_grid(wave, flux[:-1], CFG)


def test_to_model_grid_degrades_fine_input_to_the_model_resolution():
    wave = np.exp(np.arange(np.log(3800), np.log(9200), 1e-4))
    line = 1.0 + np.exp(-0.5 * ((np.log(wave) - np.log(6000)) / 1e-4) ** 2)  # unresolved
    grid_flux, covered = to_model_grid(wave, line, CFG)
    dln = np.log(CFG.wave_obs_aa[1] / CFG.wave_obs_aa[0])
    excess = grid_flux - 1.0
    fwhm_bins = (excess > excess.max() / 2).sum()
    assert fwhm_bins * dln == pytest.approx(CFG.fwhm_lnwave, rel=0.35)


def test_to_rest_frame_refuses_a_redshift_with_nothing_left():
    flux = np.random.default_rng(1).normal(size=512)
    covered = np.ones(512, bool)
    with pytest.raises(ValueError, match="outside the rest-frame grid"):
        to_rest_frame(flux, covered, 5.0, CFG)
    with pytest.raises(ValueError, match="not physical"):
        to_rest_frame(flux, covered, float("nan"), CFG)


def test_config_round_trips_and_refuses_unknown_methods():
    assert PreprocessConfig.from_dict(CFG.to_dict()) == CFG
    assert PreprocessConfig.from_dict({**CFG.to_dict(), "unrelated": 1}) == CFG
    with pytest.raises(ValueError, match="continuum 'wavelet'"):
        preprocess_config(continuum="wavelet")


def test_normalise_gives_zero_mean_unit_std_on_coverage():
    rng = np.random.default_rng(0)
    covered = np.r_[np.zeros(10, bool), np.ones(80, bool), np.zeros(10, bool)]
    out = normalise_spectrum(np.where(covered, rng.normal(3, 2, 100), 0), covered)
    assert out[covered].mean() == pytest.approx(0, abs=1e-12)
    assert out[covered].std() == pytest.approx(1)
    assert np.all(out[~covered] == 0)
    with pytest.raises(ValueError, match="constant"):
        normalise_spectrum(np.ones(50), np.ones(50, bool))


def test_narrow_coverage_cuts_and_renormalises():
    wave = make_log_grid(3800, 9200, 200)
    rng = np.random.default_rng(2)
    flux = rng.normal(0, 1, (3, 200))
    covered = np.ones((3, 200), bool)
    covered[2] = wave > 8000  # nothing left inside the window
    out, cut = narrow_coverage(wave, flux, covered, (4500, 7500))
    inside = (wave >= 4500) & (wave <= 7500)
    assert np.array_equal(cut[0], inside)
    assert np.all(out[:, ~inside] == 0)
    assert out[0][inside].std() == pytest.approx(1)
    assert out[0][inside].mean() == pytest.approx(0, abs=1e-12)
    assert not cut[2].any() and np.all(out[2] == 0)
