"""Telling "none of the trained classes" from the classifier's logits and embedding: scores and
thresholds."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, softmax
from sklearn.metrics import roc_auc_score

from ciderlab.evaluation.metrics import finite_array


def ood_scores(logits, embeddings=None, fits: dict | None = None) -> dict[str, np.ndarray]:
    """In-distribution scores of each spectrum; higher means more like the trained classes.

    Parameters
    ----------
    logits : array-like, shape (N, K)
        The classifier's raw logits (not log-probabilities: their logsumexp is 0 in every row,
        so the energy score would carry no information).

    Returns
    -------
    dict of str to ndarray, shape (N,) each
        ``max_softmax``: the largest softmax probability (Hendrycks & Gimpel 2017);
        ``energy``: logsumexp of the logits at temperature 1, i.e. minus the free energy
        (Liu et al. 2020); with ``embeddings`` (N, D) and ``fits`` holding the class Gaussians
        (``fit_class_gaussians``) also ``mahalanobis`` (``mahalanobis_score``), and holding an
        outlier detector (``fit_outlier_detector``) also ``outlier_detector``.
    """
    logits = np.asarray(logits, float)
    if logits.ndim != 2 or len(logits) == 0:
        raise ValueError(f"logits must be a non-empty (N, K) array; got shape {logits.shape}")
    if not np.isfinite(logits).all():
        raise ValueError("logits contain NaN/inf")
    energy = logsumexp(logits, axis=1)
    if np.allclose(energy, 0.0, atol=1e-6):
        raise ValueError("logits look like log-probabilities (every row's logsumexp is 0); "
                         "pass the model's raw logits, before the softmax")
    scores = {"max_softmax": softmax(logits, axis=1).max(axis=1), "energy": energy}
    if embeddings is not None and fits is not None:
        if "means" in fits:
            scores["mahalanobis"] = mahalanobis_score(embeddings, fits)
        if "detector_coef" in fits:
            scores["outlier_detector"] = outlier_detector_score(embeddings, fits)
    return scores


def fit_class_gaussians(embeddings, y) -> dict[str, np.ndarray]:
    """Class means (K, D) and one shared precision matrix (D, D) of training embeddings.

    The class-conditional Gaussians of Lee et al. (2018), with the shared covariance of the
    class-centred embeddings estimated by Ledoit-Wolf shrinkage (scikit-learn), which stays
    invertible with few spectra per dimension.
    """
    from sklearn.covariance import LedoitWolf

    embeddings, y = np.asarray(embeddings, float), np.asarray(y)
    classes = np.unique(y)
    means = np.stack([embeddings[y == k].mean(axis=0) for k in classes])  # (K, D)
    centred = embeddings - means[np.searchsorted(classes, y)]
    return {"means": means, "precision": LedoitWolf().fit(centred).precision_}


def mahalanobis_score(embeddings, gaussians: dict) -> np.ndarray:
    """(N,) minus the smallest squared Mahalanobis distance to a class mean: higher means
    closer to some trained class, like the other scores."""
    embeddings = np.asarray(embeddings, float)
    means, precision = np.asarray(gaussians["means"]), np.asarray(gaussians["precision"])
    diff = embeddings[:, None, :] - means[None, :, :]  # (N, K, D)
    distances = np.einsum("nkd,de,nke->nk", diff, precision, diff)  # (N, K)
    return -distances.min(axis=1)


def fit_outlier_detector(in_embeddings, out_embeddings, c: float) -> dict[str, np.ndarray]:
    """A logistic regression telling out-of-class embeddings from in-class ones.

    Outlier exposure (Hendrycks et al. 2019) on the frozen network's embedding: the
    standardised embeddings of in-class (N_in, D) and known out-of-class spectra (N_out, D),
    the two groups weighted equally, L2 strength 1 / ``c``. Returns its arrays
    (``detector_mean``, ``detector_scale``, ``detector_coef``, ``detector_intercept``) for
    :func:`outlier_detector_score`, saved beside the class Gaussians.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.concatenate([np.asarray(in_embeddings, float), np.asarray(out_embeddings, float)])
    is_out = np.concatenate([np.zeros(len(in_embeddings)), np.ones(len(out_embeddings))])
    if not (0 < is_out.sum() < len(is_out)):
        raise ValueError("the outlier detector needs in-class and out-of-class embeddings")
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(
        scaler.transform(x), is_out)
    return {"detector_mean": scaler.mean_, "detector_scale": scaler.scale_,
            "detector_coef": model.coef_[0], "detector_intercept": model.intercept_}


def outlier_detector_score(embeddings, detector: dict) -> np.ndarray:
    """(N,) minus the detector's log-odds of "out of class": higher means more like the trained
    classes, like the other scores."""
    x = (np.asarray(embeddings, float) - detector["detector_mean"]) / detector["detector_scale"]
    return -(x @ np.asarray(detector["detector_coef"]) + float(detector["detector_intercept"][0]))


def cross_fitted_detector_scores(in_embeddings, out_embeddings, in_groups, out_groups,
                                 c: float, n_splits: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores of :func:`outlier_detector_score` for every given spectrum from a detector fitted
    without its object: grouped ``n_splits``-fold cross-fitting over ``in_groups``/``out_groups``
    (one object id per spectrum). Returns (in_scores (N_in,), out_scores (N_out,))."""
    from sklearn.model_selection import GroupKFold

    n_in = len(in_embeddings)
    x = np.concatenate([np.asarray(in_embeddings, float), np.asarray(out_embeddings, float)])
    groups = np.concatenate([np.char.add("in:", np.asarray(in_groups, str)),
                             np.char.add("out:", np.asarray(out_groups, str))])
    scores = np.empty(len(x))
    for fit_rows, score_rows in GroupKFold(n_splits).split(x, groups=groups):
        fit_in, fit_out = fit_rows[fit_rows < n_in], fit_rows[fit_rows >= n_in]
        detector = fit_outlier_detector(x[fit_in], x[fit_out], c)
        scores[score_rows] = outlier_detector_score(x[score_rows], detector)
    return scores[:n_in], scores[n_in:]


def threshold_for_retention(in_scores_val, retain: float = 0.95) -> float:
    """The score below which a spectrum is called "none of the trained classes", set so that a
    share ``retain`` of the in-class validation scores ``in_scores_val`` (N,) are at or above it."""
    in_scores_val = finite_array(in_scores_val, "in_scores_val", 1)
    if not 0 < retain <= 1:
        raise ValueError(f"retain must be in (0, 1]; got {retain}")
    return float(np.quantile(in_scores_val, 1 - retain))


def out_of_class_auroc(in_scores, out_scores) -> float:
    """AUROC of finding out-of-class spectra (the positives) by a low score: 0.5 is chance, 1 is
    perfect. ``in_scores`` (N_in,) and ``out_scores`` (N_out,) are scores of one kind."""
    in_scores = finite_array(in_scores, "in_scores", 1)
    out_scores = finite_array(out_scores, "out_scores", 1)
    is_out = np.concatenate([np.zeros(len(in_scores)), np.ones(len(out_scores))])
    return float(roc_auc_score(is_out, -np.concatenate([in_scores, out_scores])))


def false_alarm_and_detection(in_scores, out_scores, threshold: float) -> dict:
    """Shares of in-class (false alarms) and of out-of-class spectra (detections) whose score,
    ``in_scores`` (N_in,) and ``out_scores`` (N_out,), is below ``threshold``.

    Returns {in_flagged_fraction, out_flagged_fraction}.
    """
    in_scores = finite_array(in_scores, "in_scores", 1)
    out_scores = finite_array(out_scores, "out_scores", 1)
    return {"in_flagged_fraction": float(np.mean(in_scores < threshold)),
            "out_flagged_fraction": float(np.mean(out_scores < threshold))}
