"""Classify an astronomer's own spectrum: redshift model, then classifier, with warnings.

The library half of ``ciderlab classify``. A spectrum on any wavelength grid goes through the
one preprocessing path (``ciderlab.spectra.preprocess``, with the settings stored in the
checkpoints), exactly as the realised test spectra do in ``evaluate``: ``to_model_grid`` ->
``prepare_observed`` (the redshift model's observed-frame input) -> ``to_rest_frame`` at the
predicted or given redshift (the classifier's input).

Warnings (``Classification.warnings``) say where the input lies outside what the models saw
in training; each threshold is our choice:

* coverage: the share of the model's observed window (``grid.obs_wave_*``) the spectrum
  covers. Realised training spectra cover 20-100 % of it (1 % of them less than
  ``WARN_COVERAGE`` = 50 %); below 50 % warns, below ``MIN_COVERAGE`` = 20 % is an error;
* resolution: pixels coarser than the model's line-spread function needs (FWHM taken as two
  pixels; more than ``COARSE_FACTOR`` = 1.5 times the model's ``fwhm_lnwave``) warn; finer input
  is degraded to the model's resolution, as the templates were;
* redshift outside the training range (``realise.redshift_min/max``) warns;
* S/N per resolution element (from the errors, or estimated with DER_SNR when there are none)
  below the training range's lowest (``realise.snr_min``) warns.

With the ``reliability`` stage's settings (``results/reliability/reliability.json``, all fitted
on validation objects; see ``ciderlab.spectranet.reliability``) the answer also carries:

* calibrated probabilities (the classifier's logits divided by the fitted temperature, then,
  when the stage chose it, the top-label isotonic map of ``evaluation.calibration``);
* "none of the trained classes" when the out-of-class score falls below its threshold (the
  top classes are still given);
* a redshift interval at the fitted level, from the S/N; a warning when it is wider than
  ``wide``; with a predicted redshift the class probabilities are averaged over redshifts
  across that interval (weights of a normal distribution whose 68 % range is the interval),
  not read at the point estimate alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ciderlab.errors import InputError
from ciderlab.spectra.preprocess import (PreprocessConfig, prepare_observed, to_model_grid,
                                         to_rest_frame)
from ciderlab.spectra.readers import ObservedSpectrum, read_spectrum
from ciderlab.spectranet.answer import Classification, ModelInputs
from ciderlab.spectranet.shipped import Models, TrainingDomain

MIN_COVERAGE = 0.2
WARN_COVERAGE = 0.5
COARSE_FACTOR = 1.5

# Offsets across the redshift interval, in units of its half-width, at which the classifier is
# evaluated when the redshift is predicted (our choice: five points span +-1 sigma of a normal).
REDSHIFT_OFFSETS = (-1.0, -0.5, 0.0, 0.5, 1.0)


def interval_redshifts(z, half) -> tuple[np.ndarray, np.ndarray]:
    """Where the classifier is evaluated across a predicted redshift's interval, and how much
    each point weighs: redshifts (..., M) at ``REDSHIFT_OFFSETS`` half-widths (``half`` in
    dz/(1+z)) about ``z``, and weights (M,) of a normal distribution whose 68 % range is the
    interval, summing to one. ``classify`` and ``benchmarks/redshift_averaging.py`` share it."""
    z = np.asarray(z, dtype=float)[..., None]
    offsets = np.asarray(REDSHIFT_OFFSETS)
    weights = np.exp(-0.5 * np.square(offsets))
    return z + offsets * np.asarray(half, dtype=float)[..., None] * (1 + z), weights / weights.sum()


def estimate_snr(flux: np.ndarray) -> float:
    """Median S/N per pixel without errors: DER_SNR (Stoehr et al. 2008).

    Noise from the second difference of every other pixel, which cancels features broader than
    a few pixels; exact for white noise on a smooth spectrum.
    """
    flux = np.asarray(flux, dtype=np.float64)
    if flux.size < 5:
        return float("nan")
    noise = 1.482602 / np.sqrt(6.0) * np.median(np.abs(2.0 * flux[2:-2] - flux[:-4] - flux[4:]))
    signal = np.median(np.abs(flux))
    return float(signal / noise) if noise > 0 else float("inf")


def snr_per_resolution_element(wave_aa: np.ndarray, flux: np.ndarray, flux_err: np.ndarray | None,
                               cfg: PreprocessConfig) -> tuple[float, str]:
    """Median S/N per model resolution element over the model's window, and how it was found.

    Per-pixel S/N times sqrt(pixels per resolution element), the way ``realise`` defines S/N.
    """
    inside = (wave_aa >= cfg.obs_wave_min_aa) & (wave_aa <= cfg.obs_wave_max_aa)
    if inside.sum() < 5:
        inside = np.ones_like(wave_aa, dtype=bool)
    dlnwave = float(np.median(np.diff(np.log(wave_aa))))
    pixels = max(1.0, cfg.fwhm_lnwave / dlnwave)
    if flux_err is not None:
        snr_pixel, source = float(np.median(np.abs(flux[inside]) / flux_err[inside])), "errors"
    else:
        snr_pixel, source = estimate_snr(flux[inside]), "estimated (DER_SNR)"
    return snr_pixel * np.sqrt(pixels), source


def _check_arrays(wave_aa, flux, flux_err) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    wave_aa = np.asarray(wave_aa, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    if wave_aa.ndim != 1 or wave_aa.shape != flux.shape:
        raise InputError(f"need 1-D wavelength and flux arrays of one length; got "
                         f"{wave_aa.shape} and {flux.shape}")
    if flux_err is not None:
        flux_err = np.asarray(flux_err, dtype=np.float64)
        if flux_err.shape != flux.shape:
            raise InputError(f"flux_err {flux_err.shape} does not match flux {flux.shape}")
    return wave_aa, flux, flux_err


def classify_spectrum(wave_aa: np.ndarray, flux: np.ndarray, classifier: tuple,
                      redshift_model: tuple, *, redshift: float | None = None, top: int = 3,
                      flux_err: np.ndarray | None = None,
                      domain: TrainingDomain | None = None,
                      reliability: dict | None = None) -> Classification:
    """Class probabilities and redshift of one observed spectrum.

    Parameters
    ----------
    wave_aa : (N,) observed-frame wavelength in Angstrom, any grid, increasing
    flux : (N,) F_lambda in any units (or counts), with its continuum
    classifier, redshift_model : ``(model, payload)`` as ``load_checkpoint`` returns them
    redshift : a known redshift; None (default) uses the redshift model's prediction
    top : how many classes to report, most probable first
    flux_err : (N,) one-sigma errors of ``flux`` (for the S/N check), or None to estimate
    domain : the training domain for the warnings; default: from the classifier's grid
    reliability : the ``reliability`` stage's settings (calibration, "none of these", redshift
        interval); None gives the uncalibrated softmax at the point redshift

    Raises ``InputError`` (without a file name; ``classify_file`` adds it) for a spectrum the
    models cannot use: too little of it inside the model's window, or nothing left in the
    rest-frame window at the redshift.
    """
    from ciderlab.prediction import outputs, probabilities, redshifts

    wave_aa, flux, flux_err = _check_arrays(wave_aa, flux, flux_err)
    model_c, payload_c = classifier
    model_z, payload_z = redshift_model
    cfg = PreprocessConfig.from_dict(payload_c["preprocess"])
    domain = domain or TrainingDomain.from_preprocess(cfg)
    classes = list(payload_c["classes"])
    warnings = []
    window = f"{cfg.obs_wave_min_aa:.0f}-{cfg.obs_wave_max_aa:.0f} AA"
    try:
        flux_grid, covered = to_model_grid(wave_aa, flux, cfg)
    except ValueError as error:
        raise InputError(f"cannot put the spectrum on the model's grid ({error})") from error
    coverage = float(covered.mean())
    if coverage < MIN_COVERAGE:
        raise InputError(
            f"the spectrum ({wave_aa.min():.0f}-{wave_aa.max():.0f} AA) covers "
            f"{100 * coverage:.0f}% of the model's window {window}; it needs at least "
            f"{100 * MIN_COVERAGE:.0f}%. Check the wavelength unit, or use a spectrum of that range")
    if coverage < WARN_COVERAGE:
        warnings.append(f"covers only {100 * coverage:.0f}% of the model's window {window} "
                        f"(99% of training spectra cover more than {100 * WARN_COVERAGE:.0f}%)")
    fwhm_in = 2.0 * float(np.median(np.diff(np.log(wave_aa))))
    if fwhm_in > COARSE_FACTOR * cfg.fwhm_lnwave:
        warnings.append(f"resolution coarser than the model's: pixels of {fwhm_in / 2:.4f} in "
                        f"ln(lambda) (R ~ {1 / fwhm_in:.0f}) against the model's R ~ "
                        f"{1 / cfg.fwhm_lnwave:.0f}")
    snr, snr_source = snr_per_resolution_element(wave_aa, flux, flux_err, cfg)
    if domain.snr_min is not None and snr < domain.snr_min:
        warnings.append(f"S/N {snr:.1f} per resolution element ({snr_source}) is below the "
                        f"training range's lowest, {domain.snr_min:g}")
    try:
        flat, flux_obs = prepare_observed(flux_grid, covered, cfg)
    except ValueError as error:
        raise InputError(f"cannot remove the continuum ({error})") from error
    if redshift is None:
        z = float(redshifts(model_z, flux_obs[None, :])[0])
        source = "predicted"
    else:
        z, source = float(redshift), "given"
    if not (domain.redshift_min <= z <= domain.redshift_max):
        warnings.append(f"{source} redshift {z:.3f} is outside the training range "
                        f"{domain.redshift_min:g}-{domain.redshift_max:g}"
                        + ("; give a known redshift (--redshift) if you have one"
                           if source == "predicted" else ""))
    try:
        flux_rest, covered_rest = to_rest_frame(flat, covered, z, cfg)
    except ValueError as error:
        raise InputError(f"at the {source} redshift {z:.3f}: {error}") from error
    extra = {}
    if reliability is None:
        proba = probabilities(model_c, flux_rest[None, :])[0].astype(float)
    else:
        logits = outputs(model_c, flux_rest[None, :]).numpy()
        proba, extra = _reliable_answer(logits, flux_rest, flat, covered, z, source, snr, cfg,
                                        model_c, reliability, warnings)
    order = np.argsort(proba)[::-1][:top]
    inputs = ModelInputs(cfg.wave_obs_aa, flux_obs, covered, cfg.wave_rest_aa, flux_rest,
                         covered_rest)
    return Classification(z, source, [(classes[k], float(proba[k])) for k in order],
                          dict(zip(classes, map(float, proba))), float(snr), snr_source,
                          coverage, inputs, warnings, **extra)


def _reliable_answer(logits: np.ndarray, flux_rest: np.ndarray, flat: np.ndarray,
                     covered: np.ndarray, z: float, source: str, snr: float,
                     cfg: PreprocessConfig, model_c, reliability: dict,
                     warnings: list[str]) -> tuple[np.ndarray, dict]:
    """Calibrated probabilities (K,), averaged over the redshift interval when ``z`` is
    predicted, and the "none of these" verdict and interval (see the module docstring)."""
    from scipy.special import softmax

    from ciderlab.evaluation import intervals
    from ciderlab.evaluation.calibration import apply_top_label_map
    from ciderlab.prediction import outputs
    from ciderlab.spectranet import out_of_class

    calibration = reliability["calibration"]
    temperature = float(calibration["temperature"])
    ood = reliability["none_of_these"]
    fits = ood.get("fits")
    embedding = None if fits is None else embed(model_c, flux_rest[None, :])
    score = float(out_of_class.ood_scores(logits, embedding, fits)[ood["score"]][0])
    none_of_these = score < float(ood["threshold"])
    if none_of_these:
        warnings.insert(0, f"none of the trained classes: its out-of-class score "
                        f"({out_of_class.score_label(ood['score'])}) {score:.3g} is below the "
                        f"threshold {float(ood['threshold']):.3g} that keeps "
                        f"{100 * float(ood['retain']):.0f}% of validation "
                        "spectra; the top classes below are the nearest, not an answer")
    band = reliability["redshift_interval"]
    edges = np.concatenate([[-np.inf], band["snr_inner_edges"], [np.inf]])
    half = float(intervals.halfwidth_for([snr], edges, np.asarray(band["halfwidths"]))[0])
    low, high = intervals.interval(np.array([z]), np.array([half]))
    if half > float(band["wide"]):
        warnings.append(f"the {100 * band['level']:.0f}% redshift interval is wide "
                        f"({low[0]:.3f}-{high[0]:.3f}: +-{half:.3f} in dz/(1+z)) at S/N "
                        f"{snr:.0f}")
    proba = softmax(logits[0] / temperature)
    if source == "predicted":
        rows, weights = [], []
        for z_t, weight in zip(*interval_redshifts(z, half)):
            try:
                rows.append(to_rest_frame(flat, covered, z_t, cfg)[0])
                weights.append(weight)
            except ValueError:  # nothing left in the rest-frame window at that redshift
                continue
        if rows:
            batch = outputs(model_c, np.stack(rows)).numpy()
            weights = np.asarray(weights) / np.sum(weights)
            proba = weights @ softmax(batch / temperature, axis=1)
    if calibration.get("top_label_map"):
        proba = apply_top_label_map(proba[None, :], calibration["top_label_map"])[0]
    return proba.astype(float), {"none_of_these": bool(none_of_these),
                                 "out_of_class_score": score,
                                 "redshift_interval": (float(low[0]), float(high[0]))}


def embed(model, flux: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """(N, C_last) pooled features the classifier's head reads, for inputs (N, L), in eval mode."""
    import torch

    from ciderlab.prediction import to_tensor

    was_training = model.training
    model.eval()
    with torch.no_grad():
        parts = [model.embed(to_tensor(flux[i:i + batch_size])).float().numpy()
                 for i in range(0, len(flux), batch_size)]
    model.train(was_training)
    return np.concatenate(parts)


def classify_file(path: str | Path, models: Models, *, redshift: float | None = None,
                  top: int = 3) -> tuple[ObservedSpectrum, Classification]:
    """Read one spectrum file and classify it; the reader's warnings come first.

    Every ``InputError`` names the file.
    """
    spectrum = read_spectrum(path)
    try:
        result = classify_spectrum(spectrum.wave_aa, spectrum.flux, models.classifier,
                                   models.redshift_model, redshift=redshift, top=top,
                                   flux_err=spectrum.flux_err, domain=models.domain,
                                   reliability=models.reliability)
    except InputError as error:
        raise InputError(f"{path}: {error}") from error
    result.warnings[:0] = spectrum.meta.get("warnings", [])
    return spectrum, result


