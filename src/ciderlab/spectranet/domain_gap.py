"""How far realised training spectra are from real ones: a label-free classifier two-sample test."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ciderlab.evaluation.metrics import finite_array

# At most this many realised inputs per real one (our choice): realised sets are large, and a
# very unbalanced two-sample test spends its time on one side without sharpening the AUC.
MAX_REALISED_PER_REAL = 10


def realism_auc(real_inputs, realised_inputs, seed: int = 0, n_splits: int = 5) -> dict:
    """Cross-validated AUC of a logistic regression telling real model inputs from realised ones.

    0.5 means the realised inputs cannot be told from real ones by a linear model on the
    standardised inputs; 1 means they are trivially different. No class labels are needed.

    Parameters
    ----------
    real_inputs : array-like, shape (N_real, L)
        Model inputs (e.g. preprocessed flux) of real spectra.
    realised_inputs : array-like, shape (N_realised, L)
        Model inputs of realised (simulated) spectra on the same grid.
    seed : int
        Seeds the subsampling of the realised set and the fold assignment.
    n_splits : int
        Folds of the stratified cross-validation.

    Returns
    -------
    dict
        auc_mean and auc_std (ddof = 1) over the folds, n_real, and n_realised (after
        subsampling to at most 10 per real input).
    """
    real = finite_array(real_inputs, "real_inputs", 2)
    realised = finite_array(realised_inputs, "realised_inputs", 2)
    if real.shape[1] != realised.shape[1]:
        raise ValueError(f"real inputs have {real.shape[1]} bins but realised ones "
                         f"{realised.shape[1]}; put both on the same grid")
    rng = np.random.default_rng(seed)
    n_keep = min(len(realised), MAX_REALISED_PER_REAL * len(real))
    realised = realised[rng.choice(len(realised), n_keep, replace=False)]
    if min(len(real), len(realised)) < n_splits:
        raise ValueError(f"{len(real)} real and {len(realised)} realised inputs: each needs at "
                         f"least n_splits = {n_splits}")
    features = np.concatenate([real, realised])  # (N_real + n_keep, L)
    is_real = np.concatenate([np.ones(len(real), int), np.zeros(len(realised), int)])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=int(rng.integers(2**31)))
    auc = cross_val_score(model, features, is_real, cv=folds, scoring="roc_auc")
    return {"auc_mean": float(np.mean(auc)), "auc_std": float(np.std(auc, ddof=1)),
            "n_real": len(real), "n_realised": len(realised)}


def mean_realism_auc(real_inputs, realised_inputs, repeats: int) -> dict:
    """``realism_auc`` averaged over ``repeats`` shuffles (seeds 0..repeats-1) of its folds and
    realised subsample: ``auc_mean``, ``auc_fold_std`` (the folds' spread, averaged),
    ``auc_shuffle_std`` (the means' spread over shuffles), ``n_real``, ``n_realised``."""
    runs = [realism_auc(real_inputs, realised_inputs, seed) for seed in range(repeats)]
    means = [r["auc_mean"] for r in runs]
    return {"auc_mean": float(np.mean(means)),
            "auc_fold_std": float(np.mean([r["auc_std"] for r in runs])),
            "auc_shuffle_std": float(np.std(means)),
            "n_real": runs[0]["n_real"], "n_realised": runs[0]["n_realised"]}


def realism_breakdown(real_inputs, real_covered, realised_inputs, realised_covered,
                      seed: int = 0, min_realised_coverage: float = 0.95) -> dict:
    """Where real and realised inputs differ: the realism AUC of the flux, of the coverage
    masks alone, and of the flux on the bins every real and nearly every realised spectrum covers.

    Coverage comes from the templates (their rest-frame range), not from the realisation; a
    coverage-only AUC as high as the flux's says the two sets differ first in what they cover.
    """
    real_covered = np.asarray(real_covered, bool)
    realised_covered = np.asarray(realised_covered, bool)
    common = real_covered.all(axis=0) & (realised_covered.mean(axis=0) > min_realised_coverage)
    result = {"flux": realism_auc(real_inputs, realised_inputs, seed),
              "coverage_only": realism_auc(real_covered.astype(float),
                                           realised_covered.astype(float), seed),
              "n_common_bins": int(common.sum())}
    if common.sum() >= 2:
        result["flux_common_bins"] = realism_auc(np.asarray(real_inputs)[:, common],
                                                 np.asarray(realised_inputs)[:, common], seed)
    return result


# Observed-frame regions where real inputs' scatter is compared with realised ones'
# (``region_mismatch``; our choice): the blue end, where the throughput falls; the O2 B and A
# bands of the atmosphere; and a stretch without either.
OBSERVED_REGIONS_AA = {"blue end": (3800.0, 4000.0), "O2 B": (6850.0, 6950.0),
                       "O2 A": (7590.0, 7700.0), "5000-6500": (5000.0, 6500.0)}


def region_mismatch(real_inputs, real_covered, realised_inputs, realised_covered,
                    wave_aa, regions: dict[str, tuple[float, float]]) -> dict[str, float]:
    """Per wavelength region, the mean squared z-score of real inputs against the realised ones.

    Each bin's realised inputs (covered ones only) give a mean and spread; a real input's
    z-score is its distance from that mean in those spreads. 1 means real spectra scatter in the
    region as realised ones do; far above 1, the realisation misses something there (e.g. the
    telluric A band in the observed frame). Regions are (low, high) in the inputs' wavelength.
    """
    real = finite_array(real_inputs, "real_inputs", 2)
    realised = finite_array(realised_inputs, "realised_inputs", 2)
    real_covered = np.asarray(real_covered, bool)
    realised_covered = np.asarray(realised_covered, bool)
    counts = realised_covered.sum(axis=0)
    masked = np.where(realised_covered, realised, 0.0)
    mean = masked.sum(axis=0) / np.maximum(counts, 1)
    spread = np.sqrt((np.where(realised_covered, (realised - mean) ** 2, 0.0)).sum(axis=0)
                     / np.maximum(counts - 1, 1))
    usable = (counts >= 10) & (spread > 0)  # bins the realised set describes
    z_squared = ((real - mean) / np.where(usable, spread, 1.0)) ** 2
    wave_aa = np.asarray(wave_aa, float)
    out = {}
    for name, (low, high) in regions.items():
        select = real_covered & usable & (wave_aa >= low) & (wave_aa < high)
        out[name] = float(z_squared[select].mean()) if select.any() else float("nan")
    return out


def roughness(inputs, covered) -> np.ndarray:
    """(N,) each input's RMS difference between neighbouring covered bins: its bin-scale noise.

    A linear classifier (``realism_auc``) sees where inputs differ on average, not how noisy
    they are; this statistic sees the texture of the noise (its level and its correlation
    from bin to bin) that a network's narrowest kernels feel.
    """
    values = finite_array(inputs, "inputs", 2)
    covered = np.asarray(covered, bool)
    pairs = covered[:, 1:] & covered[:, :-1]  # (N, L - 1)
    squared = np.where(pairs, np.diff(values, axis=1) ** 2, 0.0)
    return np.sqrt(squared.sum(axis=1) / np.maximum(pairs.sum(axis=1), 1))


def roughness_auc(real_inputs, real_covered, realised_inputs, realised_covered) -> dict:
    """How well the bin-scale noise alone tells real inputs from realised ones.

    The AUC of ``roughness`` as a score for "real" (0.5: the same distribution; below 0.5:
    real inputs are smoother), with each set's median roughness.
    """
    from sklearn.metrics import roc_auc_score

    real = roughness(real_inputs, real_covered)
    realised = roughness(realised_inputs, realised_covered)
    is_real = np.concatenate([np.ones(len(real)), np.zeros(len(realised))])
    return {"auc": float(roc_auc_score(is_real, np.concatenate([real, realised]))),
            "median_real": float(np.median(real)), "median_realised": float(np.median(realised))}
