"""One realisation of one template spectrum: its observing conditions (redshift, host light,
S/N) drawn from a generator keyed by the template, then the observation with its noise
(SPEC §5; our reconstruction). ``realise`` runs this over the whole bank."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ciderlab.spectra.continua import (ContinuumDraw, blackbody_shape, instrument_response,
                                       redden, sky_variance, source_sed, telluric_transmission,
                                       unit_mean)
from ciderlab.spectra.grid import coverage_of, degrade_resolution, resample_flux
from ciderlab.spectra.preprocess import prepare_observed, to_rest_frame

if TYPE_CHECKING:
    from ciderlab.spectranet.realise import RealiseConfig


@dataclass(frozen=True)
class Draw:
    """The random observing conditions of one realisation."""

    redshift: float
    host_fraction: float
    host_index: int
    snr: float


def rng_for(seed: int, name: str, epoch: int, realisation: int) -> np.random.Generator:
    """A generator that depends only on the template spectrum and realisation index."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), epoch, realisation])


def draw_conditions(rng: np.random.Generator, cfg: RealiseConfig, n_hosts: int) -> Draw:
    # Log-uniform S/N: SEDM spectra pile up at low S/N with a tail of bright objects.
    log_snr = rng.uniform(np.log(cfg.snr_min), np.log(cfg.snr_max))
    return Draw(redshift=float(rng.uniform(cfg.redshift_min, cfg.redshift_max)),
                host_fraction=float(rng.uniform(0.0, cfg.host_fraction_max)),
                host_index=int(rng.integers(n_hosts)), snr=float(np.exp(log_snr)))


def add_noise(observed: np.ndarray, covered: np.ndarray, snr: float, wave_obs_aa: np.ndarray,
              cfg: RealiseConfig, rng: np.random.Generator,
              blue_boost: float = 0.0) -> np.ndarray:
    """Gaussian noise that follows the flux (photon noise) plus a sky term rising to the red.

    Scaled so that the median S/N per resolution element over the covered bins is ``snr``
    (quoted per resolution element, so it does not depend on the grid's bin count).
    """
    mean = observed[covered].mean()
    sky = sky_variance(wave_obs_aa, cfg.continuum, blue_boost)
    variance_shape = np.maximum(observed, 0.0) * mean + sky * mean**2
    bins_per_resolution = cfg.preprocess.fwhm_lnwave / np.log(wave_obs_aa[1] / wave_obs_aa[0])
    snr_shape = observed * np.sqrt(bins_per_resolution) / np.sqrt(variance_shape)
    scale = np.median(snr_shape[covered]) / snr
    sigma = scale * np.sqrt(variance_shape)
    return np.where(covered, observed + sigma * unit_noise(wave_obs_aa, cfg.noise_pixel_lnwave,
                                                          rng), 0.0)


def unit_noise(wave_obs_aa: np.ndarray, pixel_lnwave: float,
               rng: np.random.Generator) -> np.ndarray:
    """(L,) noise of unit variance per resolution element's worth of bins, as it reaches the grid.

    With ``pixel_lnwave`` wider than a model bin, independent noise is drawn per detector pixel
    (at a random pixel phase) and interpolated linearly onto the bins, scaled by the square root
    of the pixels per bin: a resolution element averages fewer, independent pixels, so each
    carries less noise for the S/N per resolution element to stay what was drawn;
    otherwise every bin gets its own independent draw.
    """
    lnwave = np.log(wave_obs_aa)
    bin_lnwave = lnwave[1] - lnwave[0]
    if pixel_lnwave <= bin_lnwave:
        return rng.standard_normal(lnwave.shape)
    start = lnwave[0] - rng.uniform(0.0, pixel_lnwave)
    centres = np.arange(start, lnwave[-1] + 2 * pixel_lnwave, pixel_lnwave)
    pixels = rng.standard_normal(centres.shape) * np.sqrt(bin_lnwave / pixel_lnwave)
    return np.interp(lnwave, centres, pixels)


def realise_one(wave_template_aa, flux_template, host_flux, draw: Draw,
                continuum: ContinuumDraw, rng, cfg: RealiseConfig) -> dict[str, np.ndarray]:
    """One SEDM-like observation of a flattened rest-frame template.

    Returns the intermediate steps (for the preprocessing figure) and the model inputs:
    ``raw_obs`` (the observation with its continuum and noise), ``flux_obs``/``covered_obs``
    (observed frame) and ``flux_rest``/``covered_rest`` (rest frame).
    """
    covered = coverage_of(flux_template)
    # Flattened spectra are (F / continuum - 1): one plus them is the spectrum on a flat
    # continuum, which the drawn SEDs give back a shape.
    sed = unit_mean(source_sed(wave_template_aa, continuum), covered)
    host_sed = unit_mean(blackbody_shape(wave_template_aa, continuum.host_temperature_k), covered)
    mixed = ((1.0 - draw.host_fraction) * (1.0 + flux_template) * sed
             + draw.host_fraction * (1.0 + host_flux) * host_sed)
    mixed = np.where(covered, mixed * redden(wave_template_aa, continuum.ebv_host), 0.0)
    dlnwave = np.log(wave_template_aa[1] / wave_template_aa[0])
    degraded = degrade_resolution(mixed, covered, cfg.preprocess.fwhm_lnwave, dlnwave,
                                  cfg.template_fwhm_lnwave)
    wave_obs = cfg.wave_obs_aa
    observed, covered_obs = resample_flux(wave_template_aa * (1.0 + draw.redshift), degraded,
                                          covered, wave_obs)
    observed = np.where(covered_obs, observed * redden(wave_obs, continuum.ebv_mw)
                        * instrument_response(wave_obs, continuum), 0.0)
    if continuum.telluric_depth > 0:
        observed = observed * telluric_transmission(wave_obs, continuum.telluric_depth,
                                                    cfg.preprocess.fwhm_lnwave,
                                                    cfg.continuum.telluric_b_strength)
    noisy = add_noise(observed, covered_obs, draw.snr, wave_obs, cfg, rng,
                      continuum.sky_blue_boost)
    flat, flux_obs = prepare_observed(noisy, covered_obs, cfg.preprocess)
    flux_rest, covered_rest = to_rest_frame(flat, covered_obs, draw.redshift, cfg.preprocess)
    return {"template": flux_template, "mixed": mixed, "degraded": degraded,
            "observed": observed, "raw_obs": noisy, "flat": flat, "flux_obs": flux_obs,
            "covered_obs": covered_obs, "flux_rest": flux_rest, "covered_rest": covered_rest}
