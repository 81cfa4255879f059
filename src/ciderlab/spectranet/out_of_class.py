"""Telling "none of the trained classes" from the classifier's logits: scores and thresholds."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, softmax
from sklearn.metrics import roc_auc_score

from ciderlab.evaluation.metrics import finite_array


def ood_scores(logits, embeddings=None, gaussians: dict | None = None) -> dict[str, np.ndarray]:
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
        (Liu et al. 2020); with ``embeddings`` (N, D) and ``gaussians``
        (``fit_class_gaussians``) also ``mahalanobis`` (``mahalanobis_score``).
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
    if embeddings is not None and gaussians is not None:
        scores["mahalanobis"] = mahalanobis_score(embeddings, gaussians)
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
