"""From rest-frame templates to SEDM-like observations (SPEC §5; our reconstruction).

One template spectrum becomes several observations, each with its own redshift, host-galaxy
fraction, continuum, reddening, instrument response and S/N, all drawn from a generator keyed
by the template's name, epoch and realisation index: a spectrum's realisations do not depend on
which others are realised alongside it (the smoke profile sees the same spectra as the default).
The realised observation then goes through the one preprocessing path (``preprocess``) that
real spectra take at inference.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from tqdm import tqdm

from ciderlab.spectranet.templates import TemplateSpectrum
from ciderlab.io import SpectraSet
from ciderlab.spectra.continua import (ContinuumConfig, draw_continuum)
from ciderlab.spectra.preprocess import PreprocessConfig
from ciderlab.spectranet.observe import draw_conditions, realise_one, rng_for
from ciderlab.workers import resolve_workers


@dataclass(frozen=True)
class RealiseConfig:
    """The ``realise`` section of params.yaml, with the preprocessing it feeds."""

    seed: int
    n_realisations: int
    min_realisations_per_class: int
    max_realisations_per_spectrum: int
    redshift_min: float
    redshift_max: float
    host_fraction_max: float
    snr_min: float
    snr_max: float
    template_fwhm_lnwave: float
    preprocess: PreprocessConfig
    continuum: ContinuumConfig = ContinuumConfig()
    # Width in ln(lambda) of the detector pixels the noise is drawn on (0: independent noise
    # in every model bin). Real spectra reach the model grid resampled from their own pixels,
    # so their noise is correlated over a pixel's width.
    noise_pixel_lnwave: float = 0.0

    @classmethod
    def from_resolved(cls, params: dict) -> "RealiseConfig":
        """From resolved params.yaml: the ``realise``, ``grid`` and ``preprocess`` sections."""
        section = params["realise"]
        known = {k: v for k, v in section.items()
                 if k in cls.__dataclass_fields__ and k not in ("preprocess", "continuum")}
        return cls(**known, preprocess=PreprocessConfig.from_resolved(params),
                   continuum=ContinuumConfig.from_dict(section.get("continuum")))

    @property
    def wave_obs_aa(self) -> np.ndarray:
        return self.preprocess.wave_obs_aa

    @property
    def wave_rest_aa(self) -> np.ndarray:
        return self.preprocess.wave_rest_aa


def realisations_per_spectrum(labels: pd.Series, n_realisations: int,
                              min_per_class: int, max_per_spectrum: int) -> np.ndarray:
    """How many realisations each spectrum gets (``labels``: the class of each spectrum).

    Every spectrum gets ``n_realisations``; spectra of rare classes get more (independent
    redshift, host, continuum, noise), up to ``max_per_spectrum``, until their class has
    ``min_per_class``. Whatever fold an object falls in, only its first ``n_realisations`` are
    ever scored (validation and test), so every template spectrum weighs the same there.
    """
    labels = pd.Series(np.asarray(labels))
    counts = np.full(len(labels), n_realisations, dtype=int)
    for label, n_spectra in labels.value_counts().items():
        wanted = int(np.ceil(min_per_class / n_spectra))
        counts[(labels == label).to_numpy()] = int(
            np.clip(wanted, n_realisations, max(max_per_spectrum, n_realisations)))
    return counts


def chunk_bounds(counts: np.ndarray, per_chunk: int) -> list[tuple[int, int]]:
    """Consecutive spectrum ranges ``[start, stop)`` of about ``per_chunk`` realisations each."""
    bounds, start, size = [], 0, 0
    for s, n in enumerate(counts):
        size += int(n)
        if size >= per_chunk:
            bounds.append((start, s + 1))
            start, size = s + 1, 0
    if start < len(counts):
        bounds.append((start, len(counts)))
    return bounds


def realise_chunk(wave_template_aa: np.ndarray, spectra: list[TemplateSpectrum],
                  label_rows: list[dict], counts: np.ndarray, hosts: list[TemplateSpectrum],
                  cfg: RealiseConfig) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Realise ``spectra[i]`` ``counts[i]`` times, in order: one worker's share of the work.

    ``label_rows[i]`` holds spectrum ``i``'s object_id, label and columns to carry along.
    Returns the arrays (``flux_obs``, ``flux_rest``, ``raw_obs``, ``covered_obs``,
    ``covered_rest``, each (sum(counts), L)) and one metadata row per realisation.
    """
    n_bins, n_out = cfg.preprocess.n_bins, int(np.sum(counts))
    arrays = {name: np.zeros((n_out, n_bins), np.float32)
              for name in ("flux_obs", "flux_rest", "raw_obs")}
    arrays.update({name: np.zeros((n_out, n_bins), bool)
                   for name in ("covered_obs", "covered_rest")})
    rows = []
    pairs = [(s, r) for s in range(len(spectra)) for r in range(int(counts[s]))]
    for row, (s, r) in enumerate(pairs):
        spectrum, label_row = spectra[s], label_rows[s]
        rng = rng_for(cfg.seed, spectrum.name, spectrum.epoch, r)
        draw = draw_conditions(rng, cfg, len(hosts))
        continuum = draw_continuum(rng, label_row["label"], spectrum.age_days, cfg.continuum)
        try:
            steps = realise_one(wave_template_aa, spectrum.flux, hosts[draw.host_index].flux,
                                draw, continuum, rng, cfg)
        except ValueError as error:
            raise ValueError(f"template {spectrum.name} (epoch {spectrum.epoch}), realisation "
                             f"{r} at z = {draw.redshift:.3f}: {error}") from error
        for name in arrays:
            arrays[name][row] = steps[name]
        rows.append({"object_id": label_row["object_id"], "template": spectrum.name,
                     "epoch": spectrum.epoch, "label": label_row["label"],
                     **{c: v for c, v in label_row.items() if c not in ("object_id", "label")},
                     "age_days": spectrum.age_days,
                     "realisation": r, "redshift": draw.redshift, "snr": draw.snr,
                     "host_fraction": draw.host_fraction,
                     "host_template": hosts[draw.host_index].name,
                     "continuum_sed": continuum.sed,
                     "temperature_k": continuum.temperature_k,
                     "power_index": continuum.power_index, "ebv_mw": continuum.ebv_mw,
                     "ebv_host": continuum.ebv_host, "telluric_depth": continuum.telluric_depth,
                     "sky_blue_boost": continuum.sky_blue_boost})
    return arrays, rows


# Realisations per unit of work: a few seconds each, so the progress bar moves and the last
# worker to finish waits little for the others (our choice).
REALISATIONS_PER_CHUNK = 500


def realise_spectra(wave_template_aa: np.ndarray, spectra: list[TemplateSpectrum],
                    labels: pd.DataFrame, hosts: list[TemplateSpectrum],
                    cfg: RealiseConfig, counts: np.ndarray | None = None,
                    progress: bool = True, workers: int = 1,
                    realisations_per_chunk: int = REALISATIONS_PER_CHUNK) -> SpectraSet:
    """Realise template spectrum ``i`` ``counts[i]`` times (default ``cfg.n_realisations``).

    ``labels`` has one row per spectrum (same order) with object_id, label and any columns to
    carry along (split, fold). ``workers`` processes (0: one per available CPU) share the
    spectra; each realisation's generator depends only on its template and index, so the
    result is identical, byte for byte, whatever the number of workers. The spectra go to the
    workers in consecutive chunks of about ``realisations_per_chunk`` realisations.
    """
    if len(spectra) != len(labels):
        raise ValueError(f"{len(spectra)} spectra but {len(labels)} label rows")
    if not hosts:
        raise ValueError("no host-galaxy templates: host contamination needs at least one")
    if counts is None:
        counts = np.full(len(spectra), cfg.n_realisations, dtype=int)
    counts = np.asarray(counts, dtype=int)
    label_rows = labels.to_dict("records")
    bounds = chunk_bounds(counts, realisations_per_chunk)
    work = partial(realise_chunk, wave_template_aa, hosts=hosts, cfg=cfg)
    tasks = [(spectra[a:b], label_rows[a:b], counts[a:b]) for a, b in bounds]
    n_out, n_bins = int(counts.sum()), cfg.preprocess.n_bins
    out = {name: np.zeros((n_out, n_bins), np.float32) for name in ("flux_obs", "flux_rest",
                                                                  "raw_obs")}
    out.update({name: np.zeros((n_out, n_bins), bool) for name in ("covered_obs",
                                                                  "covered_rest")})
    rows: list[dict] = []
    workers = min(resolve_workers(workers, "realise.workers"), max(len(tasks), 1))
    with contextlib.ExitStack() as stack, tqdm(total=n_out, desc="realise", unit="spectrum",
                                               disable=not progress, mininterval=2) as bar:
        if workers == 1:
            results = (work(*task) for task in tasks)
        else:
            pool = stack.enter_context(ProcessPoolExecutor(workers))
            results = pool.map(work, *zip(*tasks))  # in submission order: the serial order
        for arrays, chunk_rows in results:
            start = len(rows)
            for name, array in arrays.items():
                out[name][start:start + len(array)] = array
            rows.extend(chunk_rows)
            bar.update(len(chunk_rows))
    return SpectraSet(cfg.wave_obs_aa, cfg.wave_rest_aa, out["flux_obs"], out["flux_rest"],
                      out["covered_obs"], out["covered_rest"], pd.DataFrame(rows),
                      flux_raw_obs=out["raw_obs"])


def realise_examples(wave_template_aa: np.ndarray, spectra: list[TemplateSpectrum],
                     labels: pd.DataFrame, hosts: list[TemplateSpectrum],
                     cfg: RealiseConfig) -> dict[str, np.ndarray]:
    """One spectrum per class through every step (the book's preprocessing figure).

    The middle spectrum of each class (in ``labels`` order), realisation 0, exactly as
    ``realise_spectra`` realises it.
    """
    examples = {}
    for label, group in labels.reset_index(drop=True).groupby("label"):
        position = group.index[len(group) // 2]
        spectrum = spectra[position]
        rng = rng_for(cfg.seed, spectrum.name, spectrum.epoch, 0)
        draw = draw_conditions(rng, cfg, len(hosts))
        continuum = draw_continuum(rng, label, spectrum.age_days, cfg.continuum)
        steps = realise_one(wave_template_aa, spectrum.flux, hosts[draw.host_index].flux, draw,
                            continuum, rng, cfg)
        key = label.replace(" ", "_")
        examples.update({f"{key}/{name}": value for name, value in steps.items()})
        examples[f"{key}/info"] = np.array([spectrum.name, str(spectrum.age_days),
                                            f"{draw.redshift:.4f}", f"{draw.snr:.1f}",
                                            f"{draw.host_fraction:.2f}"])
    examples.update(wave_template_aa=wave_template_aa, wave_obs_aa=cfg.wave_obs_aa,
                    wave_rest_aa=cfg.wave_rest_aa)
    return examples


def select_spectra(catalogue: pd.DataFrame, split: pd.DataFrame,
                   max_spectra_per_object: int | None) -> pd.DataFrame:
    """The usable catalogue rows of the split's objects, with their split and fold.

    ``max_spectra_per_object`` keeps each object's spectra nearest maximum light (the phases
    SEDM classifies most often), for the small smoke profile.
    """
    used = catalogue[catalogue["reason"].fillna("") == ""].merge(
        split[["object_id", "split", "fold"]], on="object_id")
    if max_spectra_per_object:
        used = (used.assign(_phase=used["age_days"].abs().fillna(1e9))
                .sort_values(["object_id", "_phase", "epoch"]).groupby("object_id")
                .head(max_spectra_per_object).drop(columns="_phase"))
    return used.sort_values("spectrum_index").reset_index(drop=True)


def realise_dataset(bank, catalogue: pd.DataFrame, split: pd.DataFrame, cfg: RealiseConfig,
                    max_spectra_per_object: int | None = None, progress: bool = True,
                    workers: int = 1) -> tuple[SpectraSet, dict[str, np.ndarray]]:
    """Every used template spectrum realised (rare classes more often), and the figure's examples.

    ``bank`` is the ``TemplateBank``; its galaxy templates are the hosts. ``workers``: processes
    sharing the work (0: one per available CPU); the result does not depend on it.
    """
    used = select_spectra(catalogue, split, max_spectra_per_object)
    hosts = [s for s in bank.spectra if s.sn_type == "Galaxy"]
    spectra = [bank.spectra[i] for i in used["spectrum_index"]]
    counts = realisations_per_spectrum(used["label"], cfg.n_realisations,
                                       cfg.min_realisations_per_class,
                                       cfg.max_realisations_per_spectrum)
    labels = used[["object_id", "label", "split", "fold"]]
    realised = realise_spectra(bank.wave_rest_aa, spectra, labels, hosts, cfg, counts, progress,
                               workers)
    return realised, realise_examples(bank.wave_rest_aa, spectra, labels, hosts, cfg)
