"""Smooth random continua for realised spectra: the templates are flattened, real spectra are not.

A realised spectrum is (template + 1) x SED, with a host (galaxy template + 1) x its own redder
SED, reddened by the host and the Milky Way and multiplied by a smooth instrument response, so
that continuum removal meets in training what it meets on real data (SPEC §5 step 3). Every
number comes from ``ContinuumConfig`` (params.yaml ``realise.continuum``); every draw is
recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import erf

H_C_OVER_K_AA_K = 1.438777e8  # h c / k_B in Angstrom Kelvin


@dataclass(frozen=True)
class ContinuumConfig:
    """``realise.continuum`` in params.yaml: ranges of the random continuum's ingredients."""

    sn_temperature_k: tuple[float, float] = (5000.0, 15000.0)  # colour temperature, late..early
    tde_temperature_k: tuple[float, float] = (15000.0, 40000.0)
    agn_power_index: tuple[float, float] = (-2.0, -0.5)  # F_lambda ~ lambda^index
    host_temperature_k: tuple[float, float] = (3500.0, 6500.0)
    temperature_scatter: float = 0.2  # fractional scatter of the SN temperature at a phase
    ebv_mw_max: float = 0.15  # Milky Way E(B-V) ~ U(0, max)
    ebv_host_mean: float = 0.1  # host E(B-V) ~ exponential(mean)
    response_amplitude: float = 0.1  # std of the smooth response's Legendre coefficients
    response_order: int = 3
    sky_level: float = 0.2  # sky variance per unit mean-flux variance, blue end
    sky_red_boost: float = 4.0  # how much stronger the sky is above sky_red_wave_aa
    sky_red_wave_aa: float = 7500.0
    # How much stronger the noise is below sky_blue_wave_aa: ~ U(0, max) per realisation
    # (0 = flat in the blue; ``sky_variance``).
    sky_blue_boost_max: float = 0.0
    sky_blue_wave_aa: float = 4100.0
    # Residual O2 absorption of an imperfect telluric correction: the A band's depth at the
    # model's resolution ~ U(0, max) per realisation (0 = none; ``telluric_transmission``).
    telluric_depth_max: float = 0.0
    # The B band's depth relative to the A band's (``telluric_transmission``).
    telluric_b_strength: float = 0.4

    @classmethod
    def from_dict(cls, values: dict | None) -> "ContinuumConfig":
        values = values or {}
        known = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()
                 if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class ContinuumDraw:
    """The random continuum of one realisation."""

    sed: str  # "blackbody" or "power_law"
    temperature_k: float  # blackbody colour temperature (NaN for a power law)
    power_index: float  # F_lambda ~ lambda^index (NaN for a blackbody)
    host_temperature_k: float
    ebv_mw: float
    ebv_host: float
    response: tuple[float, ...]  # Legendre coefficients of ln(response), observed frame
    telluric_depth: float = 0.0  # residual O2 A-band depth (``telluric_transmission``)
    sky_blue_boost: float = 0.0  # the noise's rise to the blue end (``sky_variance``)


def draw_continuum(rng: np.random.Generator, label: str, age_days: float,
                   cfg: ContinuumConfig) -> ContinuumDraw:
    """A random continuum for a spectrum of class ``label`` at ``age_days`` from maximum.

    Supernovae cool: the colour temperature falls from the top of its range two weeks before
    maximum to the bottom two months after, with scatter. TDEs stay hot; AGN get a power law.
    """
    temperature, index, sed = np.nan, np.nan, "blackbody"
    if label == "AGN":
        sed, index = "power_law", float(rng.uniform(*cfg.agn_power_index))
    elif label == "TDE":
        temperature = float(np.exp(rng.uniform(*np.log(cfg.tde_temperature_k))))
    else:
        t_late, t_early = cfg.sn_temperature_k
        age = 0.0 if not np.isfinite(age_days) or age_days < -90 else float(age_days)
        cooled = np.clip((age + 15.0) / 75.0, 0.0, 1.0)
        centre = t_early - (t_early - t_late) * cooled
        temperature = float(centre * np.exp(rng.normal(0.0, cfg.temperature_scatter)))
    return ContinuumDraw(
        sed=sed, temperature_k=temperature, power_index=index,
        host_temperature_k=float(rng.uniform(*cfg.host_temperature_k)),
        ebv_mw=float(rng.uniform(0.0, cfg.ebv_mw_max)),
        ebv_host=float(rng.exponential(cfg.ebv_host_mean)),
        response=tuple(float(c) for c in rng.normal(0.0, cfg.response_amplitude,
                                                    cfg.response_order)),
        # drawn only when switched on, so that the other draws stay those of earlier versions
        telluric_depth=(float(rng.uniform(0.0, cfg.telluric_depth_max))
                        if cfg.telluric_depth_max > 0 else 0.0),
        sky_blue_boost=(float(rng.uniform(0.0, cfg.sky_blue_boost_max))
                        if cfg.sky_blue_boost_max > 0 else 0.0))


def blackbody_shape(wave_aa: np.ndarray, temperature_k: float) -> np.ndarray:
    """Planck B_lambda(T) up to a constant (shape only), finite for any T > 0."""
    x = H_C_OVER_K_AA_K / (wave_aa * temperature_k)
    return wave_aa ** -5.0 / np.expm1(np.minimum(x, 700.0))


def ccm89_a_lambda_over_a_v(wave_aa: np.ndarray, r_v: float = 3.1) -> np.ndarray:
    """Cardelli, Clayton & Mathis (1989) extinction curve A(lambda)/A(V), 0.3-3.3 um^-1.

    Optical/near-IR branches of CCM89 (eqs. 2-3); beyond them the nearest branch is extended,
    which is smooth and adequate for the 2,500-10,000 AA the templates cover.
    """
    x = 1.0e4 / np.asarray(wave_aa, dtype=np.float64)  # inverse micron
    a, b = np.empty_like(x), np.empty_like(x)
    ir = x < 1.1
    a[ir], b[ir] = 0.574 * x[ir] ** 1.61, -0.527 * x[ir] ** 1.61
    y = x[~ir] - 1.82
    a[~ir] = np.polyval([0.32999, -0.77530, 0.01979, 0.72085, -0.02427, -0.50447, 0.17699,
                         1.0], y)
    b[~ir] = np.polyval([-2.09002, 5.30260, -0.62251, -5.38434, 1.07233, 2.28305, 1.41338,
                         0.0], y)
    return a + b / r_v


def redden(wave_aa: np.ndarray, ebv: float, r_v: float = 3.1) -> np.ndarray:
    """Multiplicative transmission 10^(-0.4 A_lambda) for E(B-V) = ``ebv``."""
    return 10.0 ** (-0.4 * ebv * r_v * ccm89_a_lambda_over_a_v(wave_aa, r_v))


def unit_mean(values: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Scaled to mean one over covered bins (an SED's shape, free of its flux scale)."""
    mean = values[covered].mean() if covered.any() else 1.0
    return values / mean


def source_sed(wave_rest_aa: np.ndarray, draw: ContinuumDraw) -> np.ndarray:
    """The transient's own rest-frame continuum shape (before reddening)."""
    if draw.sed == "power_law":
        return (wave_rest_aa / 5500.0) ** draw.power_index
    return blackbody_shape(wave_rest_aa, draw.temperature_k)


def instrument_response(wave_obs_aa: np.ndarray, draw: ContinuumDraw) -> np.ndarray:
    """A smooth multiplicative response: exp of a low-order Legendre series over the grid."""
    return legendre_response(wave_obs_aa, draw.response)


def legendre_response(wave_obs_aa: np.ndarray, coefficients) -> np.ndarray:
    """exp of the Legendre series ``coefficients`` (orders 1, 2, ...; order 0 is fixed at 0, the
    overall scale left alone) over the grid mapped onto [-1, 1]."""
    x = np.linspace(-1.0, 1.0, len(wave_obs_aa))
    return np.exp(np.polynomial.legendre.legval(x, (0.0, *coefficients)))


def sky_variance(wave_obs_aa: np.ndarray, cfg: ContinuumConfig,
                 blue_boost: float = 0.0) -> np.ndarray:
    """Relative sky variance: flat in the middle, rising smoothly by ``sky_red_boost`` to the
    red and by ``blue_boost`` (a draw's ``sky_blue_boost``) to the blue end, where the
    throughput falls (the SED Machine's spectra of 2016 are noisiest there)."""
    rise = 1.0 / (1.0 + np.exp(-(wave_obs_aa - cfg.sky_red_wave_aa) / 300.0))
    blue = 1.0 / (1.0 + np.exp((wave_obs_aa - cfg.sky_blue_wave_aa) / 100.0))
    return cfg.sky_level * (1.0 + cfg.sky_red_boost * rise + blue_boost * blue)


# The atmosphere's O2 A and B bands (observed frame, Angstrom).
TELLURIC_A_BAND_AA = (7594.0, 7684.0)
TELLURIC_B_BAND_AA = (6867.0, 6944.0)


def telluric_transmission(wave_obs_aa: np.ndarray, depth: float, fwhm_lnwave: float,
                          b_strength: float = 0.4) -> np.ndarray:
    """Residual O2 absorption: 1 - depth x (each band, a box seen at the model's resolution).

    Each band is a box in ln(wavelength) convolved with the Gaussian line-spread function of
    FWHM ``fwhm_lnwave``; ``depth`` is the A band's depth were it resolved (its peak depth at
    R ~ 100 is smaller: the band is narrower than a resolution element), the B band's is
    ``b_strength`` times that (0.4: their equivalent widths' ratio).
    """
    lnwave = np.log(np.asarray(wave_obs_aa, dtype=np.float64))
    width = fwhm_lnwave / (2.0 * np.sqrt(2.0 * np.log(2.0))) * np.sqrt(2.0)  # sigma sqrt(2)
    absorbed = np.zeros_like(lnwave)
    for (start, end), strength in ((TELLURIC_A_BAND_AA, 1.0), (TELLURIC_B_BAND_AA, b_strength)):
        absorbed += strength * 0.5 * (erf((lnwave - np.log(start)) / width)
                                      - erf((lnwave - np.log(end)) / width))
    return 1.0 - depth * absorbed
