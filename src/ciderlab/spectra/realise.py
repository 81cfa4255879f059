"""From rest-frame templates to SEDM-like observations (SPEC §5; our reconstruction).

One template spectrum becomes ``n_realisations`` observations, each with its own redshift,
host-galaxy fraction and S/N, all drawn from a seeded generator keyed by the template's name,
epoch and realisation index, so a spectrum's realisations do not depend on which others are
realised alongside it (the smoke profile sees the same spectra as the default one).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm import tqdm

from ciderlab.io import SpectraSet
from ciderlab.spectra.grid import (coverage_of, degrade_resolution, flatten_spectrum, make_log_grid,
                      normalise_spectrum, resample_flux)
from ciderlab.data.templates import TemplateSpectrum


@dataclass(frozen=True)
class RealiseConfig:
    """The ``realise`` section of params.yaml, plus the ``grid`` section."""

    seed: int
    n_realisations: int
    min_train_per_class: int
    max_realisations_per_spectrum: int
    redshift_min: float
    redshift_max: float
    host_fraction_max: float
    snr_min: float
    snr_max: float
    fwhm_lnwave: float
    template_fwhm_lnwave: float
    continuum_knots: int
    obs_wave_min_aa: float
    obs_wave_max_aa: float
    rest_wave_min_aa: float
    rest_wave_max_aa: float
    n_bins: int

    @classmethod
    def from_params(cls, params: dict) -> "RealiseConfig":
        """From resolved params.yaml: the ``realise`` and ``grid`` sections."""
        realise = {k: v for k, v in params["realise"].items() if k in cls.__dataclass_fields__}
        return cls(**realise, **params["grid"])

    @property
    def wave_obs_aa(self) -> np.ndarray:
        return make_log_grid(self.obs_wave_min_aa, self.obs_wave_max_aa, self.n_bins)

    @property
    def wave_rest_aa(self) -> np.ndarray:
        return make_log_grid(self.rest_wave_min_aa, self.rest_wave_max_aa, self.n_bins)


@dataclass(frozen=True)
class Draw:
    """The random choices behind one realisation."""

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


def to_rest_frame(wave_obs_aa, flux_obs, covered_obs, redshift, wave_rest_aa):
    """De-redshift a flattened observed spectrum onto the rest-frame grid and normalise it.

    Used with the true redshift in training and with the predicted one end to end.
    """
    flux_rest, covered_rest = resample_flux(wave_obs_aa / (1.0 + redshift), flux_obs,
                                            covered_obs, wave_rest_aa)
    return normalise_spectrum(flux_rest, covered_rest), covered_rest


def realise_one(wave_template_aa, flux_template, host_flux, draw: Draw, rng, cfg: RealiseConfig):
    """One SEDM-like observation of a flattened rest-frame template.

    Returns a dict of the intermediate steps (for the preprocessing figure) and the two model
    inputs: ``flux_obs``/``covered_obs`` (observed frame) and ``flux_rest``/``covered_rest``.
    """
    covered = coverage_of(flux_template)
    # Flattened spectra are (F / continuum - 1); adding one gives continuum-normalised flux, the
    # only form in which a SN and its host can be mixed when the continua are not recoverable.
    mixed = 1.0 + (1.0 - draw.host_fraction) * flux_template + draw.host_fraction * host_flux
    mixed = np.where(covered, mixed, 0.0)
    dlnwave = np.log(wave_template_aa[1] / wave_template_aa[0])
    degraded = degrade_resolution(mixed, covered, cfg.fwhm_lnwave, dlnwave,
                                  cfg.template_fwhm_lnwave)
    wave_obs = cfg.wave_obs_aa
    observed, covered_obs = resample_flux(wave_template_aa * (1.0 + draw.redshift), degraded,
                                          covered, wave_obs)
    # S/N is quoted per resolution element, so the noise does not depend on the grid's bin count.
    bins_per_resolution = cfg.fwhm_lnwave / np.log(wave_obs[1] / wave_obs[0])
    sigma = np.sqrt(bins_per_resolution) / draw.snr
    noisy = np.where(covered_obs, observed + rng.normal(0.0, sigma, observed.shape), 0.0)
    flat = flatten_spectrum(wave_obs, noisy, covered_obs, cfg.continuum_knots)
    flux_obs = normalise_spectrum(flat, covered_obs)
    flux_rest, covered_rest = to_rest_frame(wave_obs, flat, covered_obs, draw.redshift,
                                            cfg.wave_rest_aa)
    return {"template": flux_template, "mixed": mixed, "degraded": degraded,
            "observed": observed, "noisy": noisy, "flux_obs": flux_obs,
            "covered_obs": covered_obs, "flux_rest": flux_rest, "covered_rest": covered_rest}


def realisations_per_spectrum(labels: pd.DataFrame, n_realisations: int,
                              min_train_per_class: int, max_per_spectrum: int) -> np.ndarray:
    """How many realisations each spectrum gets (labels: one row per spectrum).

    Every spectrum gets ``n_realisations``; in the training split, spectra of rare classes get
    more (independent redshift, host, noise), up to ``max_per_spectrum``, until their class
    has ``min_train_per_class`` realisations. Validation and test are never oversampled, so
    their metrics weigh every template spectrum equally.
    """
    counts = np.full(len(labels), n_realisations, dtype=int)
    train = (labels["split"] == "train").to_numpy()
    per_class = labels[train].groupby("label").size()
    for label, n_spectra in per_class.items():
        wanted = int(np.ceil(min_train_per_class / n_spectra))
        rows = train & (labels["label"] == label).to_numpy()
        counts[rows] = int(np.clip(wanted, n_realisations, max(max_per_spectrum, n_realisations)))
    return counts


def realise_spectra(wave_template_aa: np.ndarray, spectra: list[TemplateSpectrum],
                    labels: pd.DataFrame, hosts: list[TemplateSpectrum],
                    cfg: RealiseConfig, counts: np.ndarray | None = None,
                    progress: bool = True) -> SpectraSet:
    """Realise template spectrum ``i`` ``counts[i]`` times (default ``cfg.n_realisations``).

    ``labels`` has one row per spectrum (same order) with object_id, label and split.
    """
    if len(spectra) != len(labels):
        raise ValueError(f"{len(spectra)} spectra but {len(labels)} label rows")
    if not hosts:
        raise ValueError("no host-galaxy templates: host contamination needs at least one")
    if counts is None:
        counts = np.full(len(spectra), cfg.n_realisations, dtype=int)
    n_out = int(np.sum(counts))
    flux_obs = np.zeros((n_out, cfg.n_bins), np.float32)
    flux_rest = np.zeros((n_out, cfg.n_bins), np.float32)
    covered_obs = np.zeros((n_out, cfg.n_bins), bool)
    covered_rest = np.zeros((n_out, cfg.n_bins), bool)
    rows = []
    pairs = [(s, r) for s in range(len(spectra)) for r in range(int(counts[s]))]
    for row, (s, r) in enumerate(tqdm(pairs, desc="realise", unit="spectrum",
                                      disable=not progress, mininterval=2)):
        spectrum = spectra[s]
        rng = rng_for(cfg.seed, spectrum.name, spectrum.epoch, r)
        draw = draw_conditions(rng, cfg, len(hosts))
        try:
            steps = realise_one(wave_template_aa, spectrum.flux, hosts[draw.host_index].flux,
                                draw, rng, cfg)
        except ValueError as error:
            raise ValueError(f"template {spectrum.name} (epoch {spectrum.epoch}), realisation "
                             f"{r} at z = {draw.redshift:.3f}: {error}") from error
        flux_obs[row], covered_obs[row] = steps["flux_obs"], steps["covered_obs"]
        flux_rest[row], covered_rest[row] = steps["flux_rest"], steps["covered_rest"]
        label_row = labels.iloc[s]
        rows.append({"object_id": label_row["object_id"], "template": spectrum.name,
                     "epoch": spectrum.epoch, "label": label_row["label"],
                     "split": label_row["split"], "age_days": spectrum.age_days,
                     "realisation": r, "redshift": draw.redshift, "snr": draw.snr,
                     "host_fraction": draw.host_fraction,
                     "host_template": hosts[draw.host_index].name})
    return SpectraSet(cfg.wave_obs_aa, cfg.wave_rest_aa, flux_obs, flux_rest, covered_obs,
                      covered_rest, pd.DataFrame(rows))
