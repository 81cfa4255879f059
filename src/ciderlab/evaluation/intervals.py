"""Redshift intervals with guaranteed coverage: split conformal prediction on Delta z / (1 + z).

The residual of a spectrum is Delta = (z_pred - z_true) / (1 + z_true). Split conformal
prediction takes the validation residuals, exchangeable with the test ones, and returns the
half-width h such that |Delta| <= h holds for at least a share ``level`` of test spectra
(on average over validation sets). Binning by S/N (Mondrian conformal) gives each S/N range
its own h, so the guarantee holds within each range and noisy spectra get wider intervals.
"""

from __future__ import annotations

import numpy as np

from ciderlab.evaluation.metrics import finite_array


def conformal_halfwidth(delta_val, level: float = 0.68) -> float:
    """Split-conformal half-width of |Delta| at coverage ``level``.

    Parameters
    ----------
    delta_val : array-like, shape (N,)
        Validation residuals (z_pred - z_true) / (1 + z_true).
    level : float
        Target coverage in (0, 1).

    Returns
    -------
    float
        The ceil((N + 1) level)-th smallest |delta_val|, i.e. its ceil((N + 1) level) / N
        empirical quantile: the finite-sample correction that makes coverage at least ``level``.
    """
    delta_val = finite_array(delta_val, "delta_val", 1)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    n = len(delta_val)
    # Rounded first so that e.g. 75 * 0.68 = 51.00000000000001 is rank 51, not 52.
    rank = int(np.ceil(round((n + 1) * level, 9)))
    if rank > n:
        needed = residuals_needed(level)
        raise ValueError(f"{n} validation residuals cannot give {level:.0%} coverage; "
                         f"at least {needed} are needed (use fewer S/N bins or a lower level)")
    # Taken by rank: np.quantile(..., rank / n, method="higher") interpolates on (n - 1) and
    # would return the next larger value, one rank too conservative.
    return float(np.partition(np.abs(delta_val), rank - 1)[rank - 1])


def residuals_needed(level: float) -> int:
    """The fewest residuals :func:`conformal_halfwidth` can reach coverage ``level`` with."""
    return int(np.ceil(round(level / (1 - level), 9)))


def _bin_of(snr: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index (N,) of each S/N: bin i holds edges[i] <= snr < edges[i + 1]."""
    return np.searchsorted(edges, snr, side="right") - 1


def binned_halfwidths(delta_val, snr_val, level: float = 0.68,
                      n_bins: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Mondrian conformal half-widths in S/N bins holding equal shares of the validation set.

    Parameters
    ----------
    delta_val, snr_val : array-like, shape (N,)
        Validation residuals (z_pred - z_true) / (1 + z_true) and S/N of the same spectra.
    level : float
        Target coverage in (0, 1), within each bin.
    n_bins : int
        S/N bins, cut at the validation S/N quantiles; fewer where the validation set is too
        small for each of ``n_bins`` to hold the residuals ``level`` needs (one bin at least).

    Returns
    -------
    edges : ndarray, shape (bins used + 1,)
        Bin edges, -inf first and +inf last so that every S/N falls in a bin.
    halfwidths : ndarray, shape (bins used,)
        :func:`conformal_halfwidth` of the residuals in each bin.
    """
    delta_val = finite_array(delta_val, "delta_val", 1)
    snr_val = finite_array(snr_val, "snr_val", 1)
    if delta_val.shape != snr_val.shape:
        raise ValueError(f"delta_val {delta_val.shape} and snr_val {snr_val.shape} differ")
    n_bins = max(1, min(n_bins, len(delta_val) // residuals_needed(level)))
    inner = np.quantile(snr_val, np.linspace(0, 1, n_bins + 1)[1:-1])
    edges = np.concatenate([[-np.inf], inner, [np.inf]])
    index = _bin_of(snr_val, edges)
    halfwidths = []
    for i in range(n_bins):
        if not np.any(index == i):
            raise ValueError(f"S/N bin {i} [{edges[i]:g}, {edges[i + 1]:g}) is empty (tied "
                             f"S/N values); use fewer than {n_bins} bins")
        halfwidths.append(conformal_halfwidth(delta_val[index == i], level))
    return edges, np.array(halfwidths)


def halfwidth_for(snr, edges, halfwidths) -> np.ndarray:
    """Half-width (N,) for spectra of S/N ``snr`` (N,), from :func:`binned_halfwidths`'s
    ``edges`` (n_bins + 1,) and ``halfwidths`` (n_bins,)."""
    snr = finite_array(np.atleast_1d(snr), "snr", 1)
    return np.asarray(halfwidths, float)[_bin_of(snr, np.asarray(edges, float))]


def interval(z_pred, halfwidth) -> tuple[np.ndarray, np.ndarray]:
    """The redshifts z_true consistent with |z_pred - z_true| <= h (1 + z_true).

    Because Delta is relative to the unknown 1 + z_true, the interval is not z_pred +- h (1 +
    z_pred). For z_true > -1, solving each side for z_true gives

        (z_pred - h) / (1 + h) <= z_true <= (z_pred + h) / (1 - h),

    which is asymmetric (wider above), and unbounded above when h >= 1. The lower end is not
    clipped at 0.

    Parameters
    ----------
    z_pred : array-like, shape (N,)
        Predicted redshifts.
    halfwidth : float or array-like, shape (N,)
        h from :func:`conformal_halfwidth` or :func:`halfwidth_for`.

    Returns
    -------
    z_low, z_high : ndarray, shape (N,)
    """
    z_pred, h = np.asarray(z_pred, float), np.asarray(halfwidth, float)
    if np.any(h < 0):
        raise ValueError("halfwidth must be >= 0")
    z_high = np.where(h < 1, (z_pred + h) / np.where(h < 1, 1 - h, 1.0), np.inf)
    return (z_pred - h) / (1 + h), z_high


def coverage(z_true, z_low, z_high) -> float:
    """Share of spectra (all arrays (N,)) whose true redshift lies in [z_low, z_high]."""
    z_true, z_low, z_high = (np.asarray(a, float) for a in (z_true, z_low, z_high))
    if len(z_true) == 0:
        raise ValueError("no redshifts to score")
    return float(np.mean((z_low <= z_true) & (z_true <= z_high)))
