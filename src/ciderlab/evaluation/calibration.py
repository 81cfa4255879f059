"""How far the classifier's probabilities can be trusted: calibration maps and their scores.

Two maps, each fitted on validation spectra: temperature scaling (one number; Guo et al. 2017)
and a top-label isotonic map (Zadrozny & Elkan 2002; top-label form of Gupta & Ramdas 2022):
the top probability is replaced by the accuracy an isotonic regression on validation spectra
gives it, the other classes share the rest in their old proportions, and the answer (the argmax)
never changes. ``choose_calibration`` picks one by its expected calibration error on validation
objects it was not fitted on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import precision_recall_curve

# Search range of the temperature (our choice): wide enough for any network we train, and
# bounded so a degenerate validation set cannot send T to 0 or infinity.
T_MIN, T_MAX = 0.05, 20.0


def _scores_and_labels(scores, y, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``scores`` (N, K) as floats and ``y`` (N,) as ints, or a ValueError saying what is wrong."""
    scores, y = np.asarray(scores, float), np.asarray(y)
    if scores.ndim != 2 or len(scores) == 0:
        raise ValueError(f"{name} must be a non-empty (N, K) array; got shape {scores.shape}")
    if y.shape != (len(scores),):
        raise ValueError(f"y must have shape ({len(scores)},) to match {name}; got {y.shape}")
    if not np.isfinite(scores).all():
        raise ValueError(f"{name} contains NaN/inf; clip probabilities before taking logs, "
                         "e.g. np.log(np.clip(proba, 1e-12, 1))")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= scores.shape[1]:
        raise ValueError(f"y must hold integer class indices in [0, {scores.shape[1]})")
    return scores, y


def _top_label(proba, y) -> tuple[np.ndarray, np.ndarray]:
    """Confidence (N,) of the predicted class and whether that prediction is right (N,)."""
    proba, y = _scores_and_labels(proba, y, "proba")
    return proba.max(axis=1), proba.argmax(axis=1) == y


def fit_temperature(log_proba, y) -> float:
    """Temperature T > 0 minimising the mean negative log-likelihood of softmax(log_proba / T).

    Parameters
    ----------
    log_proba : array-like, shape (N, K)
        Log-probabilities or logits of the validation spectra (the same up to a constant per
        row, which the softmax removes).
    y : array-like of int, shape (N,)
        True class indices.

    Returns
    -------
    float
        T in [0.05, 20]; T > 1 softens an overconfident classifier, T < 1 sharpens it.
    """
    log_proba, y = _scores_and_labels(log_proba, y, "log_proba")
    rows = np.arange(len(y))

    def nll(log_t: float) -> float:
        return -float(np.mean(log_softmax(log_proba / np.exp(log_t), axis=1)[rows, y]))

    # Searched in log T: the likelihood is far closer to symmetric in log T than in T.
    result = minimize_scalar(nll, bounds=(np.log(T_MIN), np.log(T_MAX)), method="bounded",
                             options={"xatol": 1e-6})
    return float(np.exp(result.x))


def apply_temperature(log_proba, temperature: float) -> np.ndarray:
    """Probabilities (N, K) = softmax(log_proba / temperature) of log-probabilities or logits
    ``log_proba`` (N, K), computed stably."""
    if not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0; got {temperature}")
    return softmax(np.asarray(log_proba, float) / temperature, axis=1)


def fit_top_label_map(proba, y) -> dict[str, list[float]]:
    """The isotonic map from top probability to accuracy of validation spectra.

    ``proba`` (N, K) probabilities, ``y`` (N,) true class indices. Returns {confidence,
    calibrated}: the map's breakpoints (increasing confidence, non-decreasing calibrated), read
    by :func:`apply_top_label_map` with linear interpolation and constant beyond the ends.
    """
    confidence, correct = _top_label(proba, y)
    fit = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
        confidence, correct.astype(float))
    return {"confidence": [float(x) for x in fit.X_thresholds_],
            "calibrated": [float(x) for x in fit.y_thresholds_]}


def apply_top_label_map(proba, top_label_map: dict) -> np.ndarray:
    """Probabilities (N, K) with each row's top probability replaced by the map's value and the
    other classes scaled to share the rest in their old proportions.

    The top class stays the top: its new probability is never below what would tie it with
    the runner-up after the rescaling, so the answer and the accuracy are unchanged.
    """
    proba = np.asarray(proba, float)
    if proba.ndim != 2 or not np.isfinite(proba).all():
        raise ValueError(f"proba must be a finite (N, K) array; got shape {proba.shape}")
    rows, top_class = np.arange(len(proba)), proba.argmax(axis=1)
    top = proba[rows, top_class]
    runner_up = np.partition(proba, -2, axis=1)[:, -2] if proba.shape[1] > 1 else 0 * top
    new_top = np.interp(top, top_label_map["confidence"], top_label_map["calibrated"])
    # new_top / (1 - new_top) >= runner_up / (1 - top): the runner-up cannot overtake.
    tie = runner_up / np.maximum(1.0 - top + runner_up, 1e-12) * (1 + 1e-9)
    new_top = np.clip(np.maximum(new_top, tie), 1e-6, 1.0)
    rest = 1.0 - top
    scale = np.where(rest > 0, (1.0 - new_top) / np.where(rest > 0, rest, 1.0), 0.0)
    out = proba * scale[:, None]
    out[rows, top_class] = new_top
    return out / out.sum(axis=1, keepdims=True)


CALIBRATION_METHODS = ("temperature", "top-label isotonic")


def fit_calibration(method: str, log_proba, y) -> dict:
    """Calibration settings of ``method`` fitted on validation ``log_proba`` (N, K) and ``y``.

    Returns {method, temperature} and, for ``top-label isotonic``, ``top_label_map``
    (the map is fitted on the probabilities at temperature 1).
    """
    if method == "temperature":
        return {"method": method, "temperature": fit_temperature(log_proba, y)}
    if method == "top-label isotonic":
        return {"method": method, "temperature": 1.0,
                "top_label_map": fit_top_label_map(softmax(np.asarray(log_proba, float), axis=1),
                                                   y)}
    raise ValueError(f"unknown calibration method {method!r}; expected one of "
                     f"{', '.join(CALIBRATION_METHODS)}")


def apply_calibration(settings: dict, log_proba) -> np.ndarray:
    """Calibrated probabilities (N, K) of log-probabilities or logits (N, K)."""
    proba = apply_temperature(log_proba, float(settings["temperature"]))
    if settings.get("top_label_map"):
        proba = apply_top_label_map(proba, settings["top_label_map"])
    return proba


def choose_calibration(log_proba, y, in_first_half, n_bins: int = 15) -> dict[str, float]:
    """Each method's ECE on one half of the validation spectra when fitted on the other,
    averaged over the two ways round.

    ``in_first_half`` (N,) bool splits the spectra, by object, so that no object's spectra are
    on both sides. Returns {method: ECE}; the lowest is the one to use.
    """
    log_proba, y = _scores_and_labels(log_proba, y, "log_proba")
    first = np.asarray(in_first_half, bool)
    if first.all() or not first.any():
        raise ValueError("both halves of the validation spectra must hold spectra")
    return {method: float(np.mean([
        expected_calibration_error(
            apply_calibration(fit_calibration(method, log_proba[a], y[a]), log_proba[b]), y[b],
            n_bins) for a, b in ((first, ~first), (~first, first))]))
        for method in CALIBRATION_METHODS}


def reliability_table(proba, y, n_bins: int = 15) -> pd.DataFrame:
    """Mean confidence and accuracy of the top label in equal-width confidence bins.

    Parameters
    ----------
    proba : array-like, shape (N, K)
        Class probabilities.
    y : array-like of int, shape (N,)
        True class indices.
    n_bins : int
        Bins (lo, hi] over [0, 1] (the first also holds confidence 0).

    Returns
    -------
    DataFrame, n_bins rows
        bin_low, bin_high, confidence (mean), accuracy, count; an empty bin keeps its row with
        count 0 and NaN confidence and accuracy.
    """
    confidence, correct = _top_label(proba, y)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Compared with the edges themselves, not ceil(confidence * n_bins), so that a confidence
    # of 0.3 falls in (0.2, 0.3] as the table's bin_high says, whatever the rounding.
    index = np.searchsorted(edges[1:-1], confidence, side="left")  # (N,) in [0, n_bins)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, confidence, minlength=n_bins) / count
        accuracy = np.bincount(index, correct.astype(float), minlength=n_bins) / count
    return pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:],
                         "confidence": mean_confidence, "accuracy": accuracy, "count": count})


def expected_calibration_error(proba, y, n_bins: int = 15) -> float:
    """Top-label ECE: |accuracy - mean confidence| per equal-width bin, weighted by the share of
    spectra in the bin (``proba`` (N, K), ``y`` (N,); bins as in :func:`reliability_table`)."""
    table = reliability_table(proba, y, n_bins).query("count > 0")
    gap = (table["accuracy"] - table["confidence"]).abs()
    return float(np.sum(gap * table["count"]) / table["count"].sum())


def accuracy_coverage(proba, y) -> pd.DataFrame:
    """Accuracy against coverage when the classifier answers only if its top probability is at
    least a threshold.

    Parameters
    ----------
    proba : array-like, shape (N, K)
        Class probabilities.
    y : array-like of int, shape (N,)
        True class indices.

    Returns
    -------
    DataFrame
        threshold (0, then each distinct top probability, ascending), coverage (share of spectra
        answered) and accuracy (of those answered).
    """
    confidence, correct = _top_label(proba, y)
    order = np.argsort(confidence, kind="stable")
    confidence, correct = confidence[order], correct[order]
    thresholds = np.unique(confidence)
    if thresholds[0] > 0:
        thresholds = np.concatenate([[0.0], thresholds])
    first = np.searchsorted(confidence, thresholds, side="left")  # first spectrum answered
    correct_from = np.concatenate([np.cumsum(correct[::-1])[::-1], [0]])  # correct in [i:]
    answered = len(confidence) - first
    return pd.DataFrame({"threshold": thresholds, "coverage": answered / len(confidence),
                         "accuracy": correct_from[first] / answered})


def purity_completeness(score, positive) -> pd.DataFrame:
    """Purity (precision) and completeness (recall) of calling a spectrum positive when its
    ``score`` is at least a threshold.

    Parameters
    ----------
    score : array-like, shape (N,)
        Probability of the positive class (e.g. p(SN Ia)).
    positive : array-like of bool, shape (N,)
        Whether each spectrum truly is of the positive class.

    Returns
    -------
    DataFrame
        threshold (each distinct score, ascending), purity, completeness.
    """
    score, positive = np.asarray(score, float), np.asarray(positive, bool)
    if score.shape != positive.shape or score.ndim != 1:
        raise ValueError(f"score {score.shape} and positive {positive.shape} must be (N,) each")
    if not positive.any():
        raise ValueError("no positive spectrum: completeness is undefined")
    if not np.isfinite(score).all():
        raise ValueError("score contains NaN/inf")
    purity, completeness, thresholds = precision_recall_curve(positive, score)
    # The last point (purity 1, completeness 0) has no threshold: it is "call nothing".
    return pd.DataFrame({"threshold": thresholds, "purity": purity[:-1],
                         "completeness": completeness[:-1]})


def completeness_at_contamination(score, positive, max_contamination: float = 0.01) -> dict:
    """The largest completeness whose purity is at least 1 - ``max_contamination``.

    ``score`` (N,) and ``positive`` (N,) as in :func:`purity_completeness`. Returns
    {completeness, threshold, purity}; completeness 0 and NaN threshold and purity when no
    threshold is pure enough.
    """
    table = purity_completeness(score, positive)
    # The tolerance keeps an exact 99/100 from failing a 1 % limit by rounding.
    pure = table[table["purity"] >= 1 - max_contamination - 1e-12]
    if pure.empty:
        return {"completeness": 0.0, "threshold": float("nan"), "purity": float("nan")}
    best = pure.sort_values(["completeness", "purity"], ascending=False).iloc[0]
    return {"completeness": float(best["completeness"]), "threshold": float(best["threshold"]),
            "purity": float(best["purity"])}
