"""Operations on 1-D spectra: log-lambda grids, resolution, flux-conserving resampling, flattening.

Every function takes and returns arrays; wavelengths are in Angstrom (``*_aa``), and a boolean
``covered`` array marks the bins that hold data (everything else is zero).
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import make_lsq_spline
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


MIN_CONTINUUM_KNOTS = 2  # a single cubic over the covered span


def fit_continuum(wave_aa: np.ndarray, flux: np.ndarray, covered: np.ndarray,
                  n_knots: int) -> np.ndarray:
    """SNID-style continuum: a cubic spline with ``n_knots`` even knots in ln(lambda).

    Fitted over covered bins only; returns the continuum on all bins (zero off coverage).
    A spectrum with fewer than four covered bins per knot (a narrow template on a coarse grid)
    gets fewer knots, down to two (a single cubic); below eight covered bins it is an error.
    """
    check_spectrum(flux, covered)
    x = np.log(wave_aa[covered])
    y = flux[covered]
    if x.size < 4 * MIN_CONTINUUM_KNOTS:
        raise ValueError(f"only {x.size} covered bins; a continuum fit needs at least "
                         f"{4 * MIN_CONTINUUM_KNOTS}")
    n_knots = min(n_knots, x.size // 4)
    inner = np.linspace(x[0], x[-1], n_knots)[1:-1]
    knots = np.concatenate([[x[0]] * 4, inner, [x[-1]] * 4])
    spline = make_lsq_spline(x, y, knots, k=3)
    continuum = np.zeros_like(flux, dtype=np.float64)
    continuum[covered] = spline(x)
    return continuum


def flatten_spectrum(wave_aa: np.ndarray, flux: np.ndarray, covered: np.ndarray,
                     n_knots: int) -> np.ndarray:
    """Continuum-divide and subtract one (SNID's flattened form); zero off coverage.

    The same function prepares realised training spectra and real SEDM spectra at inference.
    """
    continuum = fit_continuum(wave_aa, flux, covered, n_knots)
    floor = 1e-3 * np.median(np.abs(continuum[covered]))
    if floor <= 0:
        raise ValueError("the continuum is zero everywhere; is this a flux spectrum?")
    safe = np.where(covered, np.maximum(continuum, floor), 1.0)
    return np.where(covered, flux / safe - 1.0, 0.0)


def normalise_spectrum(flux: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Zero mean, unit standard deviation over covered bins; zero elsewhere."""
    check_spectrum(flux, covered)
    values = flux[covered]
    scale = values.std()
    if scale == 0 or not np.isfinite(scale):
        raise ValueError("the spectrum is constant over its coverage; nothing to normalise")
    return np.where(covered, (flux - values.mean()) / scale, 0.0)


def narrow_coverage(wave_aa: np.ndarray, flux: np.ndarray, covered: np.ndarray,
                    window_aa: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Cut (N, L) spectra to ``window_aa`` and re-normalise each over what is left.

    Emulates an instrument with narrower wavelength coverage. A spectrum left with fewer than
    two covered bins keeps only zeros (it carries no information there).
    """
    inside = (wave_aa >= window_aa[0]) & (wave_aa <= window_aa[1])
    cut_covered = covered & inside[None, :]
    out = np.zeros_like(flux)
    for i in range(len(flux)):
        if cut_covered[i].sum() >= 2 and np.ptp(flux[i][cut_covered[i]]) > 0:
            out[i] = normalise_spectrum(flux[i], cut_covered[i])
        else:
            cut_covered[i] = False
    return out, cut_covered
