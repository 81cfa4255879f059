"""Training variants of a real observed spectrum, varied the way realised spectra vary.

A catalogue of labelled real spectra (``data.spectra_catalogue``) holds one observation per
spectrum; training sees ``n_variants`` of each: the spectrum as observed (variant 0, the only
one ever scored), then copies under a smooth random instrument response (as ``realise`` draws
it, ``continua.legendre_response``), extra noise down to a random S/N, and a redshift jittered
within the catalogue's error. Edge masks come from the training loop, as for realised spectra.
Used by the catalogue source of the main pipeline (``catalogue_source``) and by
``catalogue_cv``; params.yaml section ``augment``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ciderlab.params import section_config
from ciderlab.spectra.continua import legendre_response


@dataclass(frozen=True)
class AugmentConfig:
    """params.yaml ``augment``."""

    n_variants: int            # per spectrum, the spectrum as observed included
    redshift_error: float      # the jitter's std where the catalogue has no redshift_error
    snr_min: float             # extra noise: the S/N per resolution element drawn log-uniform
    snr_max: float             # between these (a spectrum already noisier keeps its own)
    response_amplitude: float  # std of ln(response)'s Legendre coefficients
    response_order: int
    seed: int

    @classmethod
    def from_params(cls, params: dict) -> "AugmentConfig":
        return section_config(cls, params["augment"], "augment")


def variant_rng(cfg: AugmentConfig, file: str, variant: int) -> np.random.Generator:
    """The generator of one variant: fixed by the seed, the file name and the variant alone."""
    return np.random.default_rng([cfg.seed, variant, *str(file).encode()])


def vary_observed(wave_obs_aa: np.ndarray, flux: np.ndarray, covered: np.ndarray,
                  cfg: AugmentConfig, fwhm_lnwave: float, rng: np.random.Generator
                  ) -> tuple[np.ndarray, float]:
    """One varied copy of an observed spectrum on the model grid, and the S/N drawn for it.

    The response multiplies the flux; the noise is white, per model bin, scaled so that the
    added noise alone gives the drawn S/N per resolution element over the covered bins.
    """
    coefficients = rng.normal(0.0, cfg.response_amplitude, cfg.response_order)
    varied = flux * legendre_response(wave_obs_aa, coefficients)
    snr = float(np.exp(rng.uniform(np.log(cfg.snr_min), np.log(cfg.snr_max))))
    bins_per_resolution = fwhm_lnwave / np.log(wave_obs_aa[1] / wave_obs_aa[0])
    level = np.median(np.abs(varied[covered]))
    sigma = level / snr * np.sqrt(bins_per_resolution)  # per bin, for S/N `snr` per element
    noisy = np.where(covered, varied + sigma * rng.standard_normal(len(wave_obs_aa)), 0.0)
    return noisy, snr


def jittered_redshift(redshift: float, error: float, rng: np.random.Generator) -> float:
    """The redshift a variant is prepared at: the catalogue's, jittered by its error."""
    return max(float(redshift) + float(rng.normal(0.0, error)), 0.0)
