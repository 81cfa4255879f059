"""GalSpecNet's input (AppleCiDEr paper I, SPEC §7): a 1 Angstrom linear grid, mean/MAD-normalised.

SpectraNet reads the flattened spectrum on the log-lambda grid (``preprocess.py``); GalSpecNet
reads the observation itself, continuum included, linearly interpolated onto an observed-frame
grid of 1 Angstrom bins (4500-7980 AA: 3,481 bins) and normalised as (f - mean) / MAD over the
covered bins, MAD = median(|f - median(f)|). Both start from the same realised observation
(``SpectraSet.flux_raw_obs`` on ``PreprocessConfig.wave_obs_aa``), so the two models see the
same spectra. ``GalSpecInputs`` prepares rows on demand: 49k spectra x 3,481 float32 bins
(680 MB) are never held at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GalSpecInputConfig:
    """The input grid of ``train_galspecnet`` in params.yaml (observed frame, Angstrom)."""

    wave_min_aa: float = 4500.0
    wave_max_aa: float = 7980.0
    step_aa: float = 1.0

    @classmethod
    def from_params(cls, section: dict) -> "GalSpecInputConfig":
        return cls(**{k: v for k, v in section.items() if k in cls.__dataclass_fields__})

    @property
    def wave_aa(self) -> np.ndarray:
        """(L,) bin centres from ``wave_min_aa`` to ``wave_max_aa`` inclusive."""
        n_bins = int(round((self.wave_max_aa - self.wave_min_aa) / self.step_aa)) + 1
        if n_bins < 2:
            raise ValueError(f"bad GalSpecNet grid: {self.wave_min_aa}-{self.wave_max_aa} AA "
                             f"in steps of {self.step_aa} AA")
        return self.wave_min_aa + self.step_aa * np.arange(n_bins)


def interpolation_weights(wave_in_aa: np.ndarray,
                          wave_out_aa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left input bin, weight of the right one) of each output bin, for linear interpolation.

    Raises ValueError if an output bin lies outside the input grid (no extrapolation).
    """
    if wave_out_aa[0] < wave_in_aa[0] or wave_out_aa[-1] > wave_in_aa[-1]:
        raise ValueError(f"the GalSpecNet grid {wave_out_aa[0]:.0f}-{wave_out_aa[-1]:.0f} AA "
                         f"reaches outside the observed grid {wave_in_aa[0]:.0f}-"
                         f"{wave_in_aa[-1]:.0f} AA; narrow train_galspecnet's wave range")
    left = np.clip(np.searchsorted(wave_in_aa, wave_out_aa, side="right") - 1, 0,
                   len(wave_in_aa) - 2)
    weight = (wave_out_aa - wave_in_aa[left]) / (wave_in_aa[left + 1] - wave_in_aa[left])
    return left, weight


def make_galspec_input(flux_obs: np.ndarray, covered_obs: np.ndarray, wave_obs_aa: np.ndarray,
                       wave_aa: np.ndarray) -> np.ndarray:
    """Observed spectra -> GalSpecNet's input: linear interpolation, then (f - mean) / MAD.

    Parameters
    ----------
    flux_obs : (B, L_obs) array
        Observed flux density with its continuum (any units), on ``wave_obs_aa``.
    covered_obs : (B, L_obs) bool array
        Bins holding data. An output bin is covered when both input bins it is interpolated
        from are.
    wave_obs_aa, wave_aa : (L_obs,), (L,) arrays
        Input and output bin centres [Angstrom].

    Returns
    -------
    (B, L) float32
        Zero mean and unit MAD over each spectrum's covered output bins; zero elsewhere, and
        all zero for a spectrum with no covered bin in the window.
    """
    left, weight = interpolation_weights(wave_obs_aa, wave_aa)
    # float32 throughout: the sorts behind the medians take half the time of float64's.
    weight = weight.astype(np.float32)
    flux = np.asarray(flux_obs, dtype=np.float32)
    covered_in = np.asarray(covered_obs, dtype=bool)
    values = flux[:, left] * (1.0 - weight) + flux[:, left + 1] * weight  # (B, L)
    covered = ((covered_in[:, left] | (weight == 1))
               & (covered_in[:, left + 1] | (weight == 0)))  # (B, L)
    n_covered = covered.sum(axis=1)
    mean = (np.where(covered, values, np.float32(0)).sum(axis=1, dtype=np.float64)
            / np.maximum(n_covered, 1)).astype(np.float32)
    mad = masked_median(np.abs(values - masked_median(values, covered)[:, None]), covered)
    # A flat spectrum (MAD 0) stays at zero rather than blowing up.
    scale = np.where(mad > 0, mad, np.inf).astype(np.float32)
    out = np.where(covered, (values - mean[:, None]) / scale[:, None], np.float32(0))
    return out.astype(np.float32, copy=False)


def masked_median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(B,) median of each row's ``mask``-ed entries of (B, L) ``values`` (0 for an empty row).

    One sort of the whole batch, the masked-out entries pushed to the end: far quicker than
    ``np.nanmedian`` row by row.
    """
    ordered = np.sort(np.where(mask, values, np.inf), axis=1)  # (B, L)
    count = mask.sum(axis=1)
    lo = np.clip((count - 1) // 2, 0, None)
    hi = np.clip(count // 2, 0, values.shape[1] - 1)
    rows = np.arange(len(values))
    median = 0.5 * (ordered[rows, lo] + ordered[rows, hi])
    return np.where(count > 0, median, 0.0)


CHUNK_ROWS = 256


class GalSpecInputs:
    """GalSpecNet's inputs for every realised spectrum, prepared when rows are indexed.

    Indexing with an array of rows (or a slice) returns those rows' (len, L) float32 inputs;
    the training code treats it like the (N, L) array of SpectraNet's inputs.
    """

    def __init__(self, flux_obs: np.ndarray, covered_obs: np.ndarray, wave_obs_aa: np.ndarray,
                 cfg: GalSpecInputConfig):
        if flux_obs.shape != covered_obs.shape or flux_obs.shape[1] != len(wave_obs_aa):
            raise ValueError(f"flux {flux_obs.shape}, coverage {covered_obs.shape} and grid "
                             f"({len(wave_obs_aa)},) do not match")
        self.flux_obs, self.covered_obs = flux_obs, covered_obs
        self.wave_obs_aa, self.wave_aa = np.asarray(wave_obs_aa), cfg.wave_aa

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.flux_obs), len(self.wave_aa)

    def __len__(self) -> int:
        return len(self.flux_obs)

    def __getitem__(self, rows) -> np.ndarray:  # (B, L)
        if isinstance(rows, slice):
            rows = np.arange(len(self))[rows]
        rows = np.asarray(rows)
        out = np.empty((len(rows), len(self.wave_aa)), dtype=np.float32)
        # A validation or test set in chunks: the float temporaries stay a few MB each.
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start:start + CHUNK_ROWS]
            out[start:start + len(chunk)] = make_galspec_input(
                self.flux_obs[chunk], self.covered_obs[chunk], self.wave_obs_aa, self.wave_aa)
        return out
