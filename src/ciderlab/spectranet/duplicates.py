"""Find objects filed under two names in the template bank, and merge them before splitting.

A supernova can be filed under its IAU designation (``sn2011fe``) and under a survey name
(``PTF11kly``); split by name, it would sit in two splits and leak (SPEC §6). Two templates are
taken to be the same object when their flattened spectra are near-identical over their common
wavelengths at the same phase. (On SNID-SAGE 0.9.0 no such pair exists at the defaults.)
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ciderlab.spectra.grid import coverage_of

# Defaults measured on the SNID-SAGE 0.9.0 bank (all 5,557 spectra): the same data filed twice
# (found within single templates) correlates at >= 0.9995 with ages up to 1.0 d apart, while the
# best pair of distinct objects at any phase reaches only 0.9951 (normal SNe Ia such as 1998dm
# and 2003du). 0.98 would merge 91 pairs of distinct objects (567 usable objects into 515).
DEFAULT_MIN_CORRELATION = 0.998
# The same spectrum is filed at ages 1.0 d apart (sn1996L, 322.8 and 323.8 d); 1.0 itself
# would miss such a pair by rounding, and maxima from B or V differ by a day or two.
DEFAULT_MAX_AGE_DIFFERENCE_DAYS = 2.0
# 200 bins of the bank's grid span 0.27 in ln(lambda), a quarter of the rest-frame SEDM window:
# enough features that a chance match is impossible, and 99.9 % of usable pairs overlap more.
DEFAULT_MIN_OVERLAP_BINS = 200

# An IAU-style designation after normalise_object_id ("2011fe", "1987a"): kept in preference
# to survey names, because it is the name the literature uses.
_IAU_OBJECT_ID = re.compile(r"^(sn|at)?\d{4}[a-z]{1,3}$")

_MATCH_COLUMNS = ["row_a", "row_b", "object_a", "object_b", "template_a", "template_b",
                  "label_a", "label_b", "age_days_a", "age_days_b", "correlation", "overlap_bins"]


def _check_inputs(wave_aa: np.ndarray, flux: np.ndarray, catalogue: pd.DataFrame) -> None:
    missing = {"object_id", "template", "label", "age_days"} - set(catalogue.columns)
    if missing:
        raise ValueError(f"catalogue lacks column(s) {sorted(missing)}; pass the table "
                         "build_catalogue returns")
    if flux.ndim != 2 or flux.shape[1] != wave_aa.shape[0]:
        raise ValueError(f"spectra_flux has shape {flux.shape}; expected (n_spectra, "
                         f"{wave_aa.shape[0]}) on the wave_aa grid")
    if flux.shape[0] != len(catalogue):
        raise ValueError(f"{flux.shape[0]} spectra but {len(catalogue)} catalogue rows; pass one "
                         "flux array per catalogue row, in the same order")


def _usable(catalogue: pd.DataFrame) -> np.ndarray:
    """Rows that enter the data set: those without a drop ``reason`` (all, if no such column)."""
    if "reason" not in catalogue.columns:
        return np.ones(len(catalogue), dtype=bool)
    return (catalogue["reason"].fillna("") == "").to_numpy()


def _pearson_block(x_a, m_a, x_b, m_b):
    """Pearson correlation of every row of ``x_a`` with every row of ``x_b`` over common bins.

    Each pair is standardised over its own common coverage (not over each spectrum's full
    coverage), using sums over the intersection that are matrix products: shapes (A, L) and
    (B, L) in, (A, B) correlation and (A, B) common-bin counts out.
    """
    n = m_a @ m_b.T
    sum_a, sum_b = x_a @ m_b.T, m_a @ x_b.T
    sum_aa, sum_bb = (x_a * x_a) @ m_b.T, m_a @ (x_b * x_b).T
    sum_ab = x_a @ x_b.T
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sum_ab - sum_a * sum_b / n
        var = (sum_aa - sum_a**2 / n) * (sum_bb - sum_b**2 / n)
        r = cov / np.sqrt(var)
    return np.where(var > 0, r, np.nan), n


def _phase_blocks(group: np.ndarray, ages: np.ndarray, max_age_difference_days: float,
                  block_size: int):
    """(rows, candidate columns) blocks covering every pair of ``group`` at a similar phase.

    Spectra sorted by age are compared in blocks with only the columns whose age lies within
    the tolerance of the block's age range, so most of the (N, N) matrix is never computed.
    Undefined ages (NaN) are compared only with each other.
    """
    undefined = group[np.isnan(ages[group])]
    for start in range(0, len(undefined), block_size):
        yield undefined[start:start + block_size], undefined
    defined = group[~np.isnan(ages[group])]
    defined = defined[np.argsort(ages[defined], kind="stable")]
    sorted_ages = ages[defined]
    for start in range(0, len(defined), block_size):
        rows = defined[start:start + block_size]
        lo = np.searchsorted(sorted_ages, ages[rows[0]] - max_age_difference_days, "left")
        hi = np.searchsorted(sorted_ages, ages[rows[-1]] + max_age_difference_days, "right")
        yield rows, defined[lo:hi]


def compute_spectrum_matches(wave_aa: np.ndarray, spectra_flux, catalogue: pd.DataFrame,
                             min_correlation: float = DEFAULT_MIN_CORRELATION,
                             max_age_difference_days: float = DEFAULT_MAX_AGE_DIFFERENCE_DAYS,
                             min_overlap_bins: int = DEFAULT_MIN_OVERLAP_BINS,
                             same_label_only: bool = True, block_size: int = 256) -> pd.DataFrame:
    """Every pair of spectra of different objects that are near-identical at a similar phase.

    Parameters
    ----------
    wave_aa : ndarray, shape (n_wave,)
        Rest-frame wavelength grid of the spectra, Angstrom.
    spectra_flux : sequence of ndarray, each shape (n_wave,), or ndarray (n_spectra, n_wave)
        Flattened flux (mean ~0, zero outside coverage), one per ``catalogue`` row, same order.
    catalogue : DataFrame
        ``build_catalogue`` output (columns object_id, template, label, age_days and, if present,
        reason: rows with a non-empty reason are skipped).
    min_correlation : float
        Pearson correlation over the common covered bins at or above which two spectra match.
    max_age_difference_days : float
        Largest |age_a - age_b| in days; two undefined (NaN) ages also match, one does not.
    min_overlap_bins : int
        Fewest common covered bins for a correlation to count.
    same_label_only : bool
        Compare only spectra of the same ``label``; False compares across classes.
    block_size : int
        Spectra per block of rows, compared with those of similar phase at once (memory
        ~ 10 * block_size * n_candidates * 8 bytes).

    Returns
    -------
    DataFrame
        One row per matching pair (row_a < row_b, positional catalogue rows): object, template,
        label and age of each, ``correlation`` and ``overlap_bins``.
    """
    wave_aa = np.asarray(wave_aa, dtype=np.float64)
    flux = np.asarray(spectra_flux, dtype=np.float64).reshape(len(spectra_flux), -1)
    _check_inputs(wave_aa, flux, catalogue)
    covered = np.array([coverage_of(f) for f in flux], dtype=np.float64)  # (N, L)
    flux = np.where(covered > 0, np.nan_to_num(flux), 0.0)
    objects = pd.factorize(catalogue["object_id"])[0]
    ages = catalogue["age_days"].to_numpy(dtype=np.float64)
    labels = catalogue["label"].fillna("").to_numpy()
    usable = np.flatnonzero(_usable(catalogue))
    groups = ([usable[labels[usable] == lab] for lab in sorted(set(labels[usable]))]
              if same_label_only else [usable])

    pairs, correlations, overlaps = [], [], []
    for group in groups:
        for rows, cols in _phase_blocks(group, ages, max_age_difference_days, block_size):
            r, n = _pearson_block(flux[rows], covered[rows], flux[cols], covered[cols])
            age_a, age_b = ages[rows][:, None], ages[cols][None, :]
            same_phase = ((np.abs(age_a - age_b) <= max_age_difference_days)
                          | (np.isnan(age_a) & np.isnan(age_b)))
            keep = ((rows[:, None] < cols[None, :])  # each unordered pair once
                    & (objects[rows][:, None] != objects[cols][None, :])
                    & same_phase & (n >= min_overlap_bins) & (r >= min_correlation))
            i, j = np.nonzero(keep)
            pairs.append(np.stack([rows[i], cols[j]], axis=1))
            correlations.append(r[i, j])
            overlaps.append(n[i, j])
    if not pairs:
        return pd.DataFrame(columns=_MATCH_COLUMNS)
    pairs = np.concatenate(pairs).reshape(-1, 2)
    a, b = pairs[:, 0], pairs[:, 1]
    column = {name: catalogue[name].to_numpy() for name in ("object_id", "template", "label")}
    matches = pd.DataFrame({
        "row_a": a, "row_b": b,
        "object_a": column["object_id"][a], "object_b": column["object_id"][b],
        "template_a": column["template"][a], "template_b": column["template"][b],
        "label_a": column["label"][a], "label_b": column["label"][b],
        "age_days_a": ages[a], "age_days_b": ages[b],
        "correlation": np.concatenate(correlations),
        "overlap_bins": np.concatenate(overlaps).round().astype(int)})
    return matches.sort_values(["row_a", "row_b"]).reset_index(drop=True)


def _n_spectra(catalogue: pd.DataFrame) -> pd.Series:
    return catalogue.loc[_usable(catalogue)].groupby("object_id").size()


def preference_key(object_id: str, n_spectra: int) -> tuple:
    """Sort key of the name kept when objects merge: smallest wins.

    An IAU designation first (the name the literature uses), then the object with more spectra,
    then alphabetical order, so the choice never depends on the order of the bank.
    """
    return (_IAU_OBJECT_ID.match(object_id) is None, -int(n_spectra), object_id)


def find_duplicate_objects(wave_aa: np.ndarray, spectra_flux, catalogue: pd.DataFrame,
                           min_correlation: float = DEFAULT_MIN_CORRELATION,
                           max_age_difference_days: float = DEFAULT_MAX_AGE_DIFFERENCE_DAYS,
                           min_overlap_bins: int = DEFAULT_MIN_OVERLAP_BINS,
                           same_label_only: bool = True) -> pd.DataFrame:
    """Pairs of object ids whose spectra are near-identical: one object under two names.

    Parameters are those of `compute_spectrum_matches`. The defaults come from the real bank:
    the same spectrum filed twice correlates at >= 0.9995, distinct objects at <= 0.9951
    (see DEFAULT_MIN_CORRELATION).

    Returns
    -------
    DataFrame
        One row per matched object pair, columns ``object_id`` (the name merged away),
        ``duplicate_of`` (the name kept, see `preference_key`), ``label``,
        ``duplicate_of_label``, ``n_matching_spectra`` (matching spectrum pairs),
        ``max_correlation`` and, for the best-matching pair, ``template``,
        ``duplicate_of_template``, ``age_days``, ``duplicate_of_age_days`` (days from maximum)
        and ``overlap_bins``. Sorted by duplicate_of, then object_id. Chains (A -> B, B -> C)
        can occur; `merge_duplicate_objects` resolves them.
    """
    columns = ["object_id", "duplicate_of", "label", "duplicate_of_label", "n_matching_spectra",
               "max_correlation", "template", "duplicate_of_template", "age_days",
               "duplicate_of_age_days", "overlap_bins"]
    matches = compute_spectrum_matches(wave_aa, spectra_flux, catalogue, min_correlation,
                                       max_age_difference_days, min_overlap_bins, same_label_only)
    if matches.empty:
        return pd.DataFrame(columns=columns)
    # One object pair can appear with either object first: order each pair by name.
    swap = (matches["object_a"] > matches["object_b"]).to_numpy()
    for name in ("row", "object", "template", "label", "age_days"):
        a, b = matches[f"{name}_a"].copy(), matches[f"{name}_b"].copy()
        matches.loc[swap, f"{name}_a"], matches.loc[swap, f"{name}_b"] = b[swap], a[swap]
    n_spectra = _n_spectra(catalogue)
    rows = []
    for (object_a, object_b), group in matches.groupby(["object_a", "object_b"], sort=True):
        best = group.sort_values(["correlation", "row_a", "row_b"],
                                 ascending=[False, True, True]).iloc[0]
        keep_b = (preference_key(object_b, n_spectra.get(object_b, 0))
                  < preference_key(object_a, n_spectra.get(object_a, 0)))
        drop, keep = ("a", "b") if keep_b else ("b", "a")
        rows.append({"object_id": best[f"object_{drop}"], "duplicate_of": best[f"object_{keep}"],
                     "label": best[f"label_{drop}"], "duplicate_of_label": best[f"label_{keep}"],
                     "n_matching_spectra": len(group),
                     "max_correlation": float(best["correlation"]),
                     "template": best[f"template_{drop}"],
                     "duplicate_of_template": best[f"template_{keep}"],
                     "age_days": float(best[f"age_days_{drop}"]),
                     "duplicate_of_age_days": float(best[f"age_days_{keep}"]),
                     "overlap_bins": int(best["overlap_bins"])})
    table = pd.DataFrame(rows, columns=columns).sort_values(["duplicate_of", "object_id"])
    return table[columns].reset_index(drop=True)


def resolve_duplicates(duplicates: pd.DataFrame, n_spectra: pd.Series | dict) -> dict[str, str]:
    """Map every merged object id to the id it ends up under, following chains.

    Objects linked by ``duplicates`` rows (in either direction) form one group. The group's kept
    name is one that is never merged away (the end of a chain A -> B -> C is C); where there are
    several (A -> B and A -> C) or none (a cycle), the one `preference_key` prefers.
    """
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for object_id, duplicate_of in zip(duplicates["object_id"], duplicates["duplicate_of"]):
        parent[root(object_id)] = root(duplicate_of)
    groups: dict[str, list[str]] = {}
    for node in sorted(parent):
        groups.setdefault(root(node), []).append(node)
    merged_away = set(duplicates["object_id"])
    mapping = {}
    for members in groups.values():
        candidates = [m for m in members if m not in merged_away] or members
        kept = min(candidates, key=lambda m: preference_key(m, n_spectra.get(m, 0)))
        mapping.update({m: kept for m in members if m != kept})
    return mapping


def merge_duplicate_objects(catalogue: pd.DataFrame, duplicates: pd.DataFrame) -> pd.DataFrame:
    """The catalogue with each duplicate object filed under the name it is merged into.

    Parameters
    ----------
    catalogue : DataFrame
        ``build_catalogue`` output (needs ``object_id``).
    duplicates : DataFrame
        ``find_duplicate_objects`` output (needs ``object_id`` and ``duplicate_of``); chains and
        cycles are resolved by `resolve_duplicates`.

    Returns
    -------
    DataFrame
        A copy of ``catalogue`` whose ``object_id`` is the kept name, with the name before merging
        in ``original_object_id`` (kept from an earlier merge if already there), so the split
        puts all spectra of one object together. Labels are left as they are: objects of two
        classes merge only if found with ``same_label_only=False``.
    """
    missing = {"object_id", "duplicate_of"} - set(duplicates.columns)
    if missing:
        raise ValueError(f"duplicates lacks column(s) {sorted(missing)}; pass the table "
                         "find_duplicate_objects returns")
    merged = catalogue.copy()
    if "original_object_id" not in merged.columns:
        merged.insert(merged.columns.get_loc("object_id") + 1, "original_object_id",
                      merged["object_id"])
    mapping = resolve_duplicates(duplicates, _n_spectra(catalogue))
    merged["object_id"] = merged["object_id"].map(lambda oid: mapping.get(oid, oid))
    return merged
