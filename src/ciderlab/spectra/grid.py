"""Log-lambda grids, coverage, resolution and flux-conserving resampling of 1-D spectra.

Every function takes and returns arrays; wavelengths are in Angstrom (``*_aa``), and a boolean
``covered`` array marks the bins that hold data (everything else is zero).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def make_log_grid(wave_min_aa: float, wave_max_aa: float, n_bins: int) -> np.ndarray:
    """Bin centres, uniform in ln(lambda), from ``wave_min_aa`` to ``wave_max_aa`` inclusive."""
    if not (0 < wave_min_aa < wave_max_aa) or n_bins < 2:
        raise ValueError(f"bad grid: {wave_min_aa}-{wave_max_aa} AA in {n_bins} bins")
    return np.exp(np.linspace(np.log(wave_min_aa), np.log(wave_max_aa), n_bins))


def bin_edges(wave_aa: np.ndarray) -> np.ndarray:
    """(n+1,) bin edges for (n,) log-spaced bin centres (geometric midpoints)."""
    log_wave = np.log(wave_aa)
    mid = 0.5 * (log_wave[1:] + log_wave[:-1])
    first, last = 2 * log_wave[0] - mid[0], 2 * log_wave[-1] - mid[-1]
    return np.exp(np.concatenate([[first], mid, [last]]))


def coverage_of(flux: np.ndarray) -> np.ndarray:
    """Covered bins of a template: the span from its first to its last non-zero bin."""
    nonzero = np.flatnonzero(flux)
    covered = np.zeros(flux.shape, dtype=bool)
    if nonzero.size:
        covered[nonzero[0]:nonzero[-1] + 1] = True
    return covered


def check_spectrum(flux: np.ndarray, covered: np.ndarray, what: str = "spectrum") -> None:
    """Raise ValueError, saying what is wrong, for a spectrum no later step can use."""
    if flux.ndim != 1 or flux.shape != covered.shape:
        raise ValueError(f"{what}: flux {flux.shape} and coverage {covered.shape} must be equal 1-D")
    if not covered.any():
        raise ValueError(f"{what}: no covered bins")
    bad = ~np.isfinite(flux[covered])
    if bad.any():
        raise ValueError(f"{what}: {bad.sum()} NaN/inf flux values in covered bins; "
                         "mask them out (covered=False) before processing")


def resample_flux(wave_in_aa: np.ndarray, flux_in: np.ndarray, covered_in: np.ndarray,
                  wave_out_aa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flux-conserving resampling of a flux density onto new bins, without extrapolation.

    The input is treated as piecewise constant over its bins; each output bin gets the mean
    flux density over its extent, so the integral of flux over any union of whole output bins
    equals that of the input. An output bin is covered only if covered input spans all of it;
    uncovered bins are zero.

    Returns
    -------
    flux_out, covered_out : (n_out,) float64, (n_out,) bool
    """
    edges_in, edges_out = bin_edges(wave_in_aa), bin_edges(wave_out_aa)
    width_in = np.diff(edges_in)
    covered_in = covered_in.astype(bool)
    flux_masked = np.where(covered_in, flux_in, 0.0)
    cum_flux = np.concatenate([[0.0], np.cumsum(flux_masked * width_in)])
    cum_cover = np.concatenate([[0.0], np.cumsum(covered_in * width_in)])
    width_out = np.diff(edges_out)
    flux_out = np.diff(np.interp(edges_out, edges_in, cum_flux)) / width_out
    cover_frac = np.diff(np.interp(edges_out, edges_in, cum_cover)) / width_out
    inside = (edges_out[:-1] >= edges_in[0]) & (edges_out[1:] <= edges_in[-1])
    covered_out = inside & (cover_frac > 1.0 - 1e-6)
    return np.where(covered_out, flux_out, 0.0), covered_out


def degrade_resolution(flux: np.ndarray, covered: np.ndarray, fwhm_lnwave: float,
                       dlnwave: float, intrinsic_fwhm_lnwave: float = 0.0) -> np.ndarray:
    """Convolve to a Gaussian line-spread function of ``fwhm_lnwave`` in ln(lambda).

    The grid must be uniform in ln(lambda) with step ``dlnwave``; the input's own resolution
    (``intrinsic_fwhm_lnwave``) is subtracted in quadrature. Only covered bins contribute, so
    the zeros outside coverage do not darken the edges.
    """
    extra = fwhm_lnwave**2 - intrinsic_fwhm_lnwave**2
    if extra <= 0:
        return np.where(covered, flux, 0.0)
    sigma_pix = np.sqrt(extra) / FWHM_PER_SIGMA / dlnwave
    weight = gaussian_filter1d(covered.astype(np.float64), sigma_pix, mode="constant")
    smooth = gaussian_filter1d(np.where(covered, flux, 0.0), sigma_pix, mode="constant")
    return np.where(covered, smooth / np.maximum(weight, 1e-12), 0.0)
