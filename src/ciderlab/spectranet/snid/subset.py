"""Which test spectra the baseline comparison runs on: a deterministic, class-balanced subset."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _class_quotas(available: pd.Series, n_total: int) -> dict[str, int]:
    """Share ``n_total`` over classes as evenly as ``available`` (rows per class) allows."""
    quotas = dict.fromkeys(available.index, 0)
    remaining = min(n_total, int(available.sum()))
    while remaining > 0:
        open_classes = [c for c in sorted(quotas) if quotas[c] < available[c]]
        share = max(remaining // len(open_classes), 1)
        for label in open_classes:
            take = min(share, available[label] - quotas[label], remaining)
            quotas[label] += take
            remaining -= take
    return quotas


def select_baseline_subset(meta: pd.DataFrame, n_spectra: int, seed: int) -> pd.DataFrame:
    """A deterministic, class-balanced subset of the test rows of realised-spectra metadata.

    Classes share ``n_spectra`` as evenly as their rows allow. Within a class, rows are taken
    one realisation per template spectrum, in rounds across objects (each object's first
    spectrum, then each one's second, ...); only when a class runs out of template spectra
    does it take second realisations. The order depends on ``seed`` and the rows' keys, not on
    the table's order.

    Parameters
    ----------
    meta : one row per realised spectrum: object_id, template, epoch, label, split, realisation
    n_spectra : how many rows to select (all test rows if there are fewer)
    seed : picks which rows

    Returns
    -------
    DataFrame
        The selected rows of ``meta`` with their original index (so ``spectra.select(
        subset.index.to_numpy())`` picks the same spectra), ordered by label and object.
    """
    if n_spectra < 1:
        raise ValueError(f"n_spectra must be at least 1, got {n_spectra}")
    keys = ["label", "object_id", "template", "epoch", "realisation"]
    test = meta[meta["split"] == "test"].sort_values(keys)
    if test.empty:
        raise ValueError("no rows with split == 'test'; is this the realised-spectra metadata?")
    rng = np.random.default_rng(seed)
    test = test.assign(_key=rng.permutation(len(test)))
    spectrum = ["object_id", "template", "epoch"]
    test["_round"] = test.groupby(spectrum)["_key"].rank(method="first")
    first = test.groupby(spectrum)["_key"].transform("min")
    test["_turn"] = first.groupby(test["object_id"]).rank(method="dense")
    test["_object"] = test.groupby("object_id")["_key"].transform("min")
    ranked = test.sort_values(["_round", "_turn", "_object"], kind="stable")
    quotas = _class_quotas(test.groupby("label").size(), n_spectra)
    chosen = pd.concat([ranked[ranked["label"] == label].head(quota)
                        for label, quota in quotas.items() if quota])
    return meta.loc[chosen.sort_values(keys).index]
