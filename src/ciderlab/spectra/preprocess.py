"""The one preprocessing path: an observed spectrum -> the redshift model's and the classifier's input.

Real spectra (any grid, any resolution, with a real continuum) and realised training spectra
go through the same functions:

1. ``to_model_grid``: finite, positive-width data resampled (flux-conserving) onto the
   observed log-lambda grid, after degrading finer input to the model's resolution;
2. ``remove_continuum``: the method chosen in params.yaml (``preprocess.continuum``);
3. ``normalise_spectrum``: zero mean, unit variance over covered bins -> the redshift model's
   observed-frame input;
4. ``to_rest_frame``: with a redshift, the flattened spectrum de-redshifted onto the rest-frame
   grid and normalised -> the classifier's input.

Every checkpoint stores ``PreprocessConfig.to_dict()``, so a checkpoint alone can prepare a
real spectrum (``PreprocessConfig.from_dict``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.interpolate import make_lsq_spline
from scipy.ndimage import gaussian_filter1d, median_filter

from ciderlab.spectra.grid import (check_spectrum, degrade_resolution, make_log_grid,
                                   resample_flux)

CONTINUUM_METHODS = ("spline", "median", "none")
MIN_CONTINUUM_KNOTS = 2  # a single cubic over the covered span


@dataclass(frozen=True)
class PreprocessConfig:
    """The ``grid`` and ``preprocess`` sections of params.yaml (which hold every value):
    everything input preparation needs."""

    obs_wave_min_aa: float
    obs_wave_max_aa: float
    rest_wave_min_aa: float
    rest_wave_max_aa: float
    n_bins: int
    fwhm_lnwave: float  # the model's line-spread function; finer input is degraded to it
    continuum: str  # one of CONTINUUM_METHODS
    knot_spacing_lnwave: float  # spline: distance between knots in ln(lambda)
    median_window_lnwave: float  # median: width of the running median in ln(lambda)

    def __post_init__(self):
        if self.continuum not in CONTINUUM_METHODS:
            raise ValueError(f"preprocess.continuum {self.continuum!r} is not one of "
                             f"{', '.join(CONTINUUM_METHODS)}")

    @classmethod
    def from_resolved(cls, params: dict) -> "PreprocessConfig":
        """From resolved params.yaml: its ``grid`` and ``preprocess`` sections together (a config
        of one section has ``from_params(section)``; one of several, ``from_resolved``)."""
        return cls.from_dict({**params["grid"], **params.get("preprocess", {})})

    @classmethod
    def from_dict(cls, values: dict) -> "PreprocessConfig":
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def wave_obs_aa(self) -> np.ndarray:
        return make_log_grid(self.obs_wave_min_aa, self.obs_wave_max_aa, self.n_bins)

    @property
    def wave_rest_aa(self) -> np.ndarray:
        return make_log_grid(self.rest_wave_min_aa, self.rest_wave_max_aa, self.n_bins)


def fit_spline_continuum(wave_aa: np.ndarray, flux: np.ndarray, covered: np.ndarray,
                         knot_spacing_lnwave: float) -> np.ndarray:
    """Least-squares cubic spline with knots every ``knot_spacing_lnwave`` in ln(lambda).

    Fitted over covered bins only; returns the continuum on all bins (zero off coverage). A
    spectrum with fewer than four covered bins per knot gets fewer knots, down to two (a single
    cubic); below eight covered bins it is an error.
    """
    check_spectrum(flux, covered)
    x = np.log(wave_aa[covered])
    y = flux[covered]
    if x.size < 4 * MIN_CONTINUUM_KNOTS:
        raise ValueError(f"only {x.size} covered bins; a continuum fit needs at least "
                         f"{4 * MIN_CONTINUUM_KNOTS}")
    n_knots = max(MIN_CONTINUUM_KNOTS, int(round((x[-1] - x[0]) / knot_spacing_lnwave)) + 1)
    n_knots = min(n_knots, x.size // 4)
    inner = np.linspace(x[0], x[-1], n_knots)[1:-1]
    knots = np.concatenate([[x[0]] * 4, inner, [x[-1]] * 4])
    continuum = np.zeros_like(flux, dtype=np.float64)
    continuum[covered] = make_lsq_spline(x, y, knots, k=3)(x)
    return continuum


def fit_median_continuum(wave_aa: np.ndarray, flux: np.ndarray, covered: np.ndarray,
                         window_lnwave: float) -> np.ndarray:
    """Running median over ``window_lnwave`` in ln(lambda), smoothed by a Gaussian of half that.

    The median ignores narrow lines and noise spikes; the smoothing removes its steps. Works on
    the covered bins in order (a log-uniform grid, so a fixed number of bins).
    """
    check_spectrum(flux, covered)
    dlnwave = float(np.median(np.diff(np.log(wave_aa))))
    values = flux[covered]
    size = max(3, int(round(window_lnwave / dlnwave)) | 1)
    size = min(size, values.size if values.size % 2 else values.size - 1)
    smooth = median_filter(values, size=max(size, 1), mode="nearest")
    smooth = gaussian_filter1d(smooth, sigma=size / 4.0, mode="nearest")
    continuum = np.zeros_like(flux, dtype=np.float64)
    continuum[covered] = smooth
    return continuum


def fit_power_law(wave_aa: np.ndarray, flux: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """A power law F ~ lambda^a fitted in log-log over the covered bins with positive flux."""
    check_spectrum(flux, covered)
    positive = covered & (flux > 0)
    if positive.sum() < 2:
        raise ValueError("fewer than two positive flux values; is this a flux spectrum?")
    slope, offset = np.polyfit(np.log(wave_aa[positive]), np.log(flux[positive]), 1)
    return np.where(covered, np.exp(offset + slope * np.log(wave_aa)), 0.0)


def remove_continuum(wave_aa: np.ndarray, flux: np.ndarray, covered: np.ndarray,
                     cfg: PreprocessConfig) -> np.ndarray:
    """Continuum-divided flux minus one (SNID's flattened form), zero off coverage.

    ``cfg.continuum`` picks the method: ``spline`` (knots every ``knot_spacing_lnwave``),
    ``median`` (running median over ``median_window_lnwave``) or ``none`` (no continuum
    removal, only a slope-robust normalisation: divide by a power law fitted to the flux, so an
    overall tilt from temperature or reddening goes and every curved shape stays).
    """
    check_spectrum(flux, covered)
    if cfg.continuum == "spline":
        continuum = fit_spline_continuum(wave_aa, flux, covered, cfg.knot_spacing_lnwave)
    elif cfg.continuum == "median":
        continuum = fit_median_continuum(wave_aa, flux, covered, cfg.median_window_lnwave)
    else:
        continuum = fit_power_law(wave_aa, flux, covered)
    floor = 1e-3 * np.median(np.abs(continuum[covered]))
    if not floor > 0:
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


def to_model_grid(wave_aa: np.ndarray, flux: np.ndarray, cfg: PreprocessConfig,
                  fwhm_lnwave: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Any observed spectrum -> (flux, covered) on the model's observed log-lambda grid.

    Non-finite points are masked: the bins they fall in stay uncovered. Input finer than the
    model's resolution is degraded to it first; its own resolution (``fwhm_lnwave``) defaults
    to two of its pixels per FWHM (Nyquist).
    """
    wave_aa = np.asarray(wave_aa, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    if wave_aa.ndim != 1 or wave_aa.shape != flux.shape or wave_aa.size < 8:
        raise ValueError(f"need 1-D wavelength and flux arrays of equal length (>= 8 points); "
                         f"got {wave_aa.shape} and {flux.shape}")
    order = np.argsort(wave_aa)
    wave_aa, flux = wave_aa[order], flux[order]
    good = np.isfinite(wave_aa) & np.isfinite(flux) & (wave_aa > 0)
    if good.sum() < 8:
        raise ValueError(f"only {good.sum()} finite points; a spectrum needs at least 8")
    if np.any(np.diff(wave_aa[good]) <= 0):
        raise ValueError("wavelengths repeat; a spectrum needs strictly increasing wavelengths")
    # A fine log-uniform working grid, so the line-spread function has one width in pixels.
    dln_in = float(np.median(np.diff(np.log(wave_aa[good]))))
    step = min(dln_in, cfg.fwhm_lnwave / 4.0)
    lo, hi = np.log(wave_aa[good][0]), np.log(wave_aa[good][-1])
    fine = np.exp(np.arange(lo, hi, step))
    covered_in = good.copy()
    fine_flux, fine_covered = resample_flux(wave_aa, np.where(good, flux, 0.0), covered_in, fine)
    if not fine_covered.any():
        raise ValueError("no wavelength range with valid data")
    intrinsic = 2.0 * dln_in if fwhm_lnwave is None else fwhm_lnwave
    degraded = degrade_resolution(fine_flux, fine_covered, cfg.fwhm_lnwave, step, intrinsic)
    return resample_flux(fine, degraded, fine_covered, cfg.wave_obs_aa)


def prepare_observed(flux_grid: np.ndarray, covered: np.ndarray,
                     cfg: PreprocessConfig) -> tuple[np.ndarray, np.ndarray]:
    """(flattened, model input) for a spectrum already on ``cfg.wave_obs_aa``.

    The flattened spectrum is what ``to_rest_frame`` takes; the model input (flattened,
    normalised) is the redshift model's observed-frame input.
    """
    flat = remove_continuum(cfg.wave_obs_aa, flux_grid, covered, cfg)
    return flat, normalise_spectrum(flat, covered)


def to_rest_frame(flat_obs: np.ndarray, covered_obs: np.ndarray, redshift: float,
                  cfg: PreprocessConfig) -> tuple[np.ndarray, np.ndarray]:
    """De-redshift a flattened observed spectrum onto the rest-frame grid and normalise it.

    Used with the true redshift in training and with a predicted or known one at inference.
    Returns (flux_rest, covered_rest); too little rest-frame coverage is an error.
    """
    if not np.isfinite(redshift) or redshift <= -1:
        raise ValueError(f"redshift {redshift} is not physical")
    flux_rest, covered_rest = resample_flux(cfg.wave_obs_aa / (1.0 + redshift), flat_obs,
                                            covered_obs, cfg.wave_rest_aa)
    if covered_rest.sum() < 2:
        raise ValueError(f"at z = {redshift:.3f} the spectrum falls outside the rest-frame grid "
                         f"{cfg.rest_wave_min_aa:.0f}-{cfg.rest_wave_max_aa:.0f} AA")
    return normalise_spectrum(flux_rest, covered_rest), covered_rest


def rest_frame_inputs(flux_obs: np.ndarray, covered_obs: np.ndarray, redshifts: np.ndarray,
                      cfg: PreprocessConfig) -> np.ndarray:
    """(N, L) classifier inputs for (N, L) observed-frame model inputs at ``redshifts``.

    The observed-frame input is an affine map of the flattened spectrum over its coverage, so
    re-normalising after de-redshifting gives exactly ``to_rest_frame`` of the flattened one.
    A spectrum left with under two rest-frame bins is all zeros (it carries no information).
    """
    out = np.zeros((len(flux_obs), cfg.n_bins), np.float32)
    for i, (flux, covered, z) in enumerate(zip(flux_obs, covered_obs, redshifts)):
        if covered.sum() >= 2:
            try:
                out[i] = to_rest_frame(flux, covered, float(z), cfg)[0]
            except ValueError:
                pass  # no rest-frame coverage at this redshift: zeros
    return out


def narrow_coverage(wave_aa: np.ndarray, flux: np.ndarray, covered: np.ndarray,
                    window_aa: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Cut (N, L) spectra to ``window_aa`` and re-normalise each over what is left.

    Emulates an instrument with narrower wavelength coverage, the way training's edge masking
    emulates lost spectrum ends (both re-normalise the kept bins). A spectrum left with fewer
    than two covered bins keeps only zeros.
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
