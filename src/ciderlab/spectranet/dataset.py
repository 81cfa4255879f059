"""The data set the pipeline learns from: usable template spectra, one id per object, and folds.

``build_dataset`` is the library half of ``ciderlab split``: the template bank and params in;
the catalogue (one row per template spectrum, with the reason it is dropped, if it is), the
objects with their fold and fixed split, and what was merged or dropped, out.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ciderlab.spectranet.catalogue import build_catalogue, drop_rare_classes
from ciderlab.spectranet.duplicates import find_duplicate_objects, merge_duplicate_objects
from ciderlab.data.labels import EXTENDED_CLASSES
from ciderlab.data.split import assign_folds, check_disjoint, split_for_fold
from ciderlab.spectranet.templates import TemplateBank
from ciderlab.provenance import fingerprint


@dataclass
class Dataset:
    catalogue: pd.DataFrame  # one row per template spectrum; ``reason`` is empty where used
    split: pd.DataFrame  # one row per object: object_id, label, fold, split (the fixed fold)
    classes: list[str]  # the classes trained
    dropped_classes: dict[str, str]  # class -> why it is not trained
    duplicates: pd.DataFrame  # object pairs merged as one object filed under two names

    @property
    def class_info(self) -> dict:
        return {"classes": self.classes, "dropped_classes": self.dropped_classes,
                "split_hash": fingerprint(self.split.to_dict("records"))}


def configured_classes(params: dict) -> tuple[str, ...]:
    """The class list of params.yaml (``labels``), with the extended taxonomy if switched on."""
    classes = tuple(params["labels"]["classes"])
    if params["labels"].get("extended_taxonomy"):
        classes += tuple(c for c in EXTENDED_CLASSES if c not in classes)
    return classes


def bank_catalogue(bank: TemplateBank, params: dict) -> pd.DataFrame:
    """One row per template spectrum: its class, object and why it is left out, if it is."""
    grid, realise = params["grid"], params["realise"]
    # The rest-frame range an SEDM spectrum can show over the redshift range.
    window = (grid["obs_wave_min_aa"] / (1 + realise["redshift_max"]),
              grid["obs_wave_max_aa"] / (1 + realise["redshift_min"]))
    return build_catalogue(bank, configured_classes(params), window,
                           params["labels"]["min_coverage_fraction"])


def build_dataset(bank: TemplateBank, params: dict) -> Dataset:
    """Catalogue -> merged duplicates -> rare classes dropped -> folds and the fixed split."""
    labels, cfg = params["labels"], params["split"]
    classes = configured_classes(params)
    catalogue = bank_catalogue(bank, params)
    duplicates = find_duplicate_objects(
        bank.wave_rest_aa, [bank.spectra[i].flux for i in catalogue["spectrum_index"]], catalogue,
        min_correlation=cfg["duplicate_min_correlation"],
        max_age_difference_days=cfg["duplicate_max_age_difference_days"],
        min_overlap_bins=cfg["duplicate_min_overlap_bins"])
    catalogue = merge_duplicate_objects(catalogue, duplicates)
    catalogue, dropped = drop_rare_classes(catalogue, classes, labels["min_objects"])
    usable = catalogue[catalogue["reason"] == ""]
    conflicting = usable.groupby("object_id")["label"].nunique()
    if (conflicting > 1).any():
        raise ValueError(f"objects with two labels: {list(conflicting[conflicting > 1].index)}")
    objects = usable.drop_duplicates("object_id")[["object_id", "label"]]
    folds = assign_folds(objects, cfg["n_folds"], cfg["salt"], cfg.get("max_objects_per_class"))
    split = split_for_fold(folds, cfg["fixed_fold"], cfg["val_fraction"], cfg["salt"])
    check_disjoint(split)
    kept = [c for c in classes if c not in dropped]
    return Dataset(catalogue, split, kept, dropped, duplicates)
