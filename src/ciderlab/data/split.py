"""Object-level, stratified, deterministic train/val/test split (SPEC §6)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")


def stable_hash(object_id: str, salt: str) -> float:
    """A number in [0, 1) fixed by the object id alone (not by any list order or Python seed)."""
    digest = hashlib.sha256(f"{salt}:{object_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _counts(n_objects: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Objects for (val, test): at least one each when the class has three or more."""
    if n_objects < 3:
        return 0, 0
    n_test = max(1, int(round(n_objects * test_fraction)))
    n_val = max(1, int(round(n_objects * val_fraction)))
    return n_val, n_test


def split_objects(objects: pd.DataFrame, val_fraction: float, test_fraction: float,
                  salt: str, max_objects_per_class: int | None = None) -> pd.DataFrame:
    """Assign each object (one row per object_id, with its label) to train, val or test.

    Within each class objects are ordered by ``stable_hash``; the first go to test, the next to
    val, the rest to train. ``max_objects_per_class`` keeps only the first objects in that order
    (the smoke profile's subset), so the subset is deterministic too.
    """
    if objects["object_id"].duplicated().any():
        raise ValueError("split_objects needs one row per object")
    rows = []
    for label, group in objects.groupby("label", sort=True):
        ranked = sorted(group["object_id"], key=lambda oid: stable_hash(oid, salt))
        if max_objects_per_class:
            ranked = ranked[:max_objects_per_class]
        n_val, n_test = _counts(len(ranked), val_fraction, test_fraction)
        for rank, object_id in enumerate(ranked):
            split = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
            rows.append({"object_id": object_id, "label": label, "split": split})
    table = pd.DataFrame(rows, columns=["object_id", "label", "split"])
    return table.sort_values(["label", "split", "object_id"]).reset_index(drop=True)


def check_disjoint(split_table: pd.DataFrame) -> None:
    """Raise if any object appears in more than one split."""
    per_object = split_table.groupby("object_id")["split"].nunique()
    shared = per_object[per_object > 1]
    if len(shared):
        raise ValueError(f"objects in more than one split: {sorted(shared.index)[:5]}")


def split_counts(split_table: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """Objects and spectra per class per split (the data-set table)."""
    spectra = catalogue.merge(split_table[["object_id", "split"]], on="object_id")
    objects = split_table.pivot_table(index="label", columns="split", values="object_id",
                                      aggfunc="count", fill_value=0)
    n_spectra = spectra.pivot_table(index="label", columns="split", values="template",
                                    aggfunc="count", fill_value=0)
    table = pd.DataFrame(index=objects.index)
    for split in SPLITS:
        table[f"{split}_objects"] = objects.get(split, 0)
        table[f"{split}_spectra"] = n_spectra.get(split, 0)
    table["total_objects"] = objects.sum(axis=1)
    table["total_spectra"] = n_spectra.sum(axis=1)
    return table.reset_index().astype({c: int for c in table.columns})
