import numpy as np
import pytest

from ciderlab.spectra.grid import (bin_edges, check_spectrum, coverage_of, degrade_resolution,
                                   make_log_grid, resample_flux)


def integral(wave, flux, covered):
    return np.sum(np.where(covered, flux, 0) * np.diff(bin_edges(wave)))


def test_log_grid_is_uniform_in_log_lambda():
    wave = make_log_grid(3800, 9200, 100)
    assert wave[0] == pytest.approx(3800) and wave[-1] == pytest.approx(9200)
    assert np.allclose(np.diff(np.log(wave)), np.log(9200 / 3800) / 99)


def test_resampling_conserves_flux():
    rng = np.random.default_rng(1)
    wave_in = make_log_grid(3000, 10000, 1024)
    flux = 1 + rng.normal(0, 0.3, wave_in.size)
    covered = np.ones(wave_in.size, bool)
    wave_out = make_log_grid(4000, 9000, 300)  # well inside the input
    out, covered_out = resample_flux(wave_in, flux, covered, wave_out)
    assert covered_out.all()
    edges = bin_edges(wave_out)
    # the same wavelength range integrated on the input grid (exact, piecewise constant)
    cum = np.concatenate([[0], np.cumsum(flux * np.diff(bin_edges(wave_in)))])
    expected = np.interp(edges[-1], bin_edges(wave_in), cum) - np.interp(edges[0], bin_edges(wave_in), cum)
    assert integral(wave_out, out, covered_out) == pytest.approx(expected, rel=1e-10)


def test_resampling_never_extrapolates():
    wave_in = make_log_grid(5000, 6000, 200)
    flux = np.full(200, 2.0)
    wave_out = make_log_grid(3800, 9200, 256)
    out, covered_out = resample_flux(wave_in, flux, np.ones(200, bool), wave_out)
    edges_in = bin_edges(wave_in)
    edges_out = bin_edges(wave_out)
    inside = (edges_out[:-1] >= edges_in[0]) & (edges_out[1:] <= edges_in[-1])
    assert np.array_equal(covered_out, inside)
    assert np.all(out[~covered_out] == 0)
    assert np.allclose(out[covered_out], 2.0)


def test_resampling_respects_input_gaps():
    wave_in = make_log_grid(4000, 8000, 400)
    covered = np.ones(400, bool)
    covered[150:250] = False
    flux = np.where(covered, 1.0, 99.0)  # values in the gap must never leak out
    out, covered_out = resample_flux(wave_in, flux, covered, make_log_grid(4000, 8000, 100))
    assert (~covered_out).sum() >= 20
    assert np.allclose(out[covered_out], 1.0)


def test_degrading_keeps_flux_and_broadens_lines():
    wave = make_log_grid(3000, 10000, 1024)
    dln = np.log(wave[1] / wave[0])
    flux = np.zeros(1024)
    flux[500] = 1.0
    covered = np.ones(1024, bool)
    smooth = degrade_resolution(flux, covered, fwhm_lnwave=0.01, dlnwave=dln)
    assert smooth.sum() == pytest.approx(1.0, rel=1e-6)
    half = smooth >= smooth.max() / 2
    fwhm_pix = half.sum()
    assert abs(fwhm_pix - 0.01 / dln) <= 2  # FWHM 0.01 in ln(lambda) ~ 7.4 pixels


def test_degrading_does_not_darken_coverage_edges():
    covered = np.zeros(300, bool)
    covered[50:250] = True
    flux = np.where(covered, 1.0, 0.0)
    smooth = degrade_resolution(flux, covered, 0.01, 1.35e-3)
    assert np.allclose(smooth[covered], 1.0)
    assert np.all(smooth[~covered] == 0)


def test_bad_spectra_get_clear_errors():
    covered = np.ones(50, bool)
    flux = np.ones(50)
    flux[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        check_spectrum(flux, covered)
    with pytest.raises(ValueError, match="no covered bins"):
        check_spectrum(np.zeros(50), np.zeros(50, bool))


def test_coverage_is_first_to_last_nonzero_bin():
    flux = np.array([0, 0, 1.0, 0, -2.0, 0])
    assert coverage_of(flux).tolist() == [False, False, True, True, True, False]
