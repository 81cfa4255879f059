"""Telling "none of the trained classes" from the classifier's logits and embedding: scores and
thresholds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit, logsumexp, softmax
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
        outlier detector (``fit_outlier_detector``) also its scores (``DETECTOR_SCORES``).
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
            scores.update(outlier_detector_scores(embeddings, fits))
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


@dataclass(frozen=True)
class DetectorConfig:
    """How the outlier detector is fitted (``reliability.outlier_detector`` in params.yaml)."""

    c: float             # the logistic regression's inverse L2 strength
    hidden: int          # units of the one-hidden-layer network beside it (0: none)
    alpha: float         # that network's L2 strength
    seed: int = 0        # its initial weights and early-stopping split


#: The detector's scores in ``ood_scores``: its two parts, and their mean (the detector).
DETECTOR_SCORES = ("outlier_detector_linear", "outlier_detector_network", "outlier_detector")

# How each score is named to a reader (the book's tables and figures, ``classify``'s warning).
SCORE_LABELS = {"max_softmax": "max softmax", "energy": "energy", "mahalanobis": "Mahalanobis",
                "outlier_detector_linear": "outlier detector: linear",
                "outlier_detector_network": "outlier detector: network",
                "outlier_detector": "outlier detector: mean of both"}


def score_label(name: str) -> str:
    """A score's name for a reader (``SCORE_LABELS``; an unknown name with spaces for _)."""
    return SCORE_LABELS.get(name, name.replace("_", " "))


def fit_outlier_detector(in_embeddings, out_embeddings, cfg: DetectorConfig
                         ) -> dict[str, np.ndarray]:
    """Classifiers telling out-of-class embeddings from in-class ones.

    Outlier exposure (Hendrycks et al. 2019) on the frozen network's embedding: the
    standardised embeddings of in-class (N_in, D) and known out-of-class spectra (N_out, D) fit
    a logistic regression (the two groups weighted equally, L2 strength 1 / ``cfg.c``) and,
    when ``cfg.hidden`` > 0, a one-hidden-layer ReLU network (scikit-learn's MLPClassifier,
    L2 strength ``cfg.alpha``, early stopping on a tenth of the spectra). Returns their arrays
    (``detector_mean``, ``detector_scale``, ``detector_coef``, ``detector_intercept`` and the
    network's ``detector_w1``, ``detector_b1``, ``detector_w2``, ``detector_b2``) for
    :func:`outlier_detector_scores`, saved beside the class Gaussians: no pickle is shipped.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    x = np.concatenate([np.asarray(in_embeddings, float), np.asarray(out_embeddings, float)])
    is_out = np.concatenate([np.zeros(len(in_embeddings)), np.ones(len(out_embeddings))])
    if not (0 < is_out.sum() < len(is_out)):
        raise ValueError("the outlier detector needs in-class and out-of-class embeddings")
    scaler = StandardScaler().fit(x)
    x = scaler.transform(x)
    linear = LogisticRegression(C=cfg.c, max_iter=5000, class_weight="balanced").fit(x, is_out)
    fitted = {"detector_mean": scaler.mean_, "detector_scale": scaler.scale_,
              "detector_coef": linear.coef_[0], "detector_intercept": linear.intercept_}
    if cfg.hidden > 0:
        network = MLPClassifier((cfg.hidden,), alpha=cfg.alpha, max_iter=300,
                                early_stopping=True, random_state=cfg.seed).fit(x, is_out)
        fitted.update(detector_w1=network.coefs_[0], detector_b1=network.intercepts_[0],
                      detector_w2=network.coefs_[1][:, 0], detector_b2=network.intercepts_[1])
    return fitted


def outlier_detector_scores(embeddings, detector: dict) -> dict[str, np.ndarray]:
    """(N,) scores of the detector's parts and of the detector, each higher for spectra more like
    the trained classes (as the other scores): ``outlier_detector_linear`` and
    ``outlier_detector_network``, minus the log-odds of "out of class" of each part, and
    ``outlier_detector``, minus the log-odds of the parts' mean probability (the linear part's
    alone when there is no network)."""
    x = (np.asarray(embeddings, float) - detector["detector_mean"]) / detector["detector_scale"]
    log_odds = {"outlier_detector_linear": x @ np.asarray(detector["detector_coef"])
                + float(detector["detector_intercept"][0])}
    if "detector_w1" in detector:
        hidden = np.maximum(x @ np.asarray(detector["detector_w1"]) + detector["detector_b1"], 0)
        log_odds["outlier_detector_network"] = (hidden @ np.asarray(detector["detector_w2"])
                                                + float(detector["detector_b2"][0]))
    probability = np.mean([expit(v) for v in log_odds.values()], axis=0)
    log_odds["outlier_detector"] = logit(np.clip(probability, 1e-12, 1 - 1e-12))
    return {name: -value for name, value in log_odds.items()}


def cross_fitted_detector_scores(in_embeddings, out_embeddings, in_groups, out_groups,
                                 cfg: DetectorConfig, n_splits: int
                                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Scores of :func:`outlier_detector_scores` for every given spectrum from a detector fitted
    without its object: grouped ``n_splits``-fold cross-fitting over ``in_groups``/``out_groups``
    (one object id per spectrum). Returns (in_scores, out_scores), each a dict of score name ->
    (N_in,) or (N_out,)."""
    from sklearn.model_selection import GroupKFold

    n_in = len(in_embeddings)
    x = np.concatenate([np.asarray(in_embeddings, float), np.asarray(out_embeddings, float)])
    groups = np.concatenate([np.char.add("in:", np.asarray(in_groups, str)),
                             np.char.add("out:", np.asarray(out_groups, str))])
    scores: dict[str, np.ndarray] = {}
    for fit_rows, score_rows in GroupKFold(n_splits).split(x, groups=groups):
        fit_in, fit_out = fit_rows[fit_rows < n_in], fit_rows[fit_rows >= n_in]
        detector = fit_outlier_detector(x[fit_in], x[fit_out], cfg)
        for name, value in outlier_detector_scores(x[score_rows], detector).items():
            scores.setdefault(name, np.empty(len(x)))[score_rows] = value
    return ({name: v[:n_in] for name, v in scores.items()},
            {name: v[n_in:] for name, v in scores.items()})


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
