"""Object-level, class-stratified, deterministic folds and train/val/test splits (SPEC §6)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")


def stable_hash(object_id: str, salt: str) -> float:
    """A number in [0, 1) fixed by the object id alone (not by any list order or Python seed)."""
    digest = hashlib.sha256(f"{salt}:{object_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_folds(objects: pd.DataFrame, n_folds: int, salt: str,
                 max_objects_per_class: int | None = None) -> pd.DataFrame:
    """Grouped, class-stratified k-fold assignment: each object gets a fold in 0..n_folds-1.

    Within each class objects are ordered by ``stable_hash`` and dealt out to the folds in
    turn, so every fold holds a class's objects in equal shares (to within one) and the
    assignment depends on the object ids alone. ``max_objects_per_class`` keeps only the first
    objects in that order (the smoke profile's subset), so the subset is deterministic too.
    """
    if objects["object_id"].duplicated().any():
        raise ValueError("assign_folds needs one row per object")
    if n_folds < 2:
        raise ValueError(f"split.n_folds must be at least 2, not {n_folds}")
    rows = []
    for label, group in objects.groupby("label", sort=True):
        ranked = sorted(group["object_id"], key=lambda oid: stable_hash(oid, salt))
        if max_objects_per_class:
            ranked = ranked[:max_objects_per_class]
        rows += [{"object_id": oid, "label": label, "fold": rank % n_folds}
                 for rank, oid in enumerate(ranked)]
    table = pd.DataFrame(rows, columns=["object_id", "label", "fold"])
    return table.sort_values(["label", "fold", "object_id"]).reset_index(drop=True)


def split_for_fold(folds: pd.DataFrame, fold: int, val_fraction: float, salt: str) -> pd.DataFrame:
    """``folds`` with a ``split`` column for one cross-validation fold.

    Test: the objects of ``fold``. Validation (early stopping): the first ``val_fraction`` of
    each class's other objects in a second hash order (at least one where a class has three or
    more), so validation objects differ from fold to fold. Training: the rest.
    """
    if fold not in set(folds["fold"]):
        raise ValueError(f"fold {fold} is not among the folds {sorted(set(folds['fold']))}")
    table = folds.copy()
    table["split"] = np.where(table["fold"] == fold, "test", "train")
    for _, group in table[table["split"] == "train"].groupby("label"):
        ranked = sorted(group["object_id"], key=lambda oid: stable_hash(oid, f"{salt}:val"))
        n_val = max(1, int(round(len(ranked) * val_fraction))) if len(ranked) >= 3 else 0
        table.loc[table["object_id"].isin(ranked[:n_val]), "split"] = "val"
    return table


def check_disjoint(split_table: pd.DataFrame) -> None:
    """Raise if any object appears in more than one split."""
    per_object = split_table.groupby("object_id")["split"].nunique()
    shared = per_object[per_object > 1]
    if len(shared):
        raise ValueError(f"objects in more than one split: {sorted(shared.index)[:5]}")


def scored_rows(meta: pd.DataFrame, split: str, n_scored: int) -> np.ndarray:
    """Rows of ``split`` that are scored: the first ``n_scored`` realisations of each spectrum.

    Rare classes carry extra realisations for training; scoring only the first ``n_scored``
    keeps every template spectrum's weight equal in validation and test.
    """
    return np.flatnonzero((meta["split"].to_numpy() == split)
                          & (meta["realisation"].to_numpy() < n_scored))
