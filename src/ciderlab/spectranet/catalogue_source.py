"""The main pipeline on a catalogue of labelled spectra instead of the template bank.

``params.yaml`` ``spectra.source`` names either the template bank (the SNID-SAGE wheel; the
default) or a folder holding a catalogue CSV (``spectra.csv``; ``data.spectra_catalogue``). For
a folder, ``ciderlab split`` and ``ciderlab realise`` write what they write for the bank, in the
same layout, so every later stage (training, cross-validation, evaluation, the book) runs
unchanged:

* ``split``: one catalogue row per spectrum with the reason it is left out, if it is (a type
  outside the classes, no redshift, a class with fewer than ``labels.min_objects`` objects);
  objects grouped by the ``object`` column, folds and the fixed split exactly as for the bank
  (``data.split``).
* ``realise``: each spectrum read by the reader ``ciderlab classify`` uses, put on the model grid
  by the one preprocessing path, as observed (realisation 0, the only one scored) and as
  ``augment.n_variants - 1`` varied copies for training (``augment``). Its ``redshift`` is the
  catalogue's (the redshift model's target); a varied copy's rest-frame input is prepared at a
  jittered redshift (``redshift_used``). ``snr`` is the S/N per resolution element as
  ``classify`` measures it; the realisation draws that do not apply (host, continuum) are empty.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ciderlab.errors import InputError
from ciderlab.io import SpectraSet
from ciderlab.spectranet.augment import (AugmentConfig, jittered_redshift, variant_rng,
                                         vary_observed)

# The catalogue.csv columns `split` writes for the bank (spectranet.catalogue.build_catalogue).
CATALOGUE_COLUMNS = ["spectrum_index", "template", "epoch", "object_id", "original_object_id",
                     "snid_type", "subtype", "label", "age_days", "coverage_fraction",
                     "label_fix", "reason"]
DUPLICATE_COLUMNS = ["object_id", "duplicate_of", "label", "duplicate_of_label",
                     "n_matching_spectra", "max_correlation"]


def catalogue_table(csv_path: Path, classes: tuple[str, ...], min_objects: int
                    ) -> tuple[pd.DataFrame, dict[str, str]]:
    """``split``'s catalogue table for a catalogue CSV, and the classes dropped (with why)."""
    from ciderlab.data.spectra_catalogue import read_spectra_catalogue

    table = read_spectra_catalogue(csv_path, classes)
    phase = table["phase"] if "phase" in table else pd.Series(np.nan, index=table.index)
    reasons = np.where(table["label"].isna(),
                       [f"class {c!r} is not one of the configured classes" for c in table["class"]],
                       np.where(table["redshift"].notna(), "", "no redshift"))
    catalogue = pd.DataFrame({
        "spectrum_index": np.arange(len(table)), "template": table["file"], "epoch": 0,
        "object_id": table["object"], "original_object_id": table["object"],
        "snid_type": table["class"], "subtype": table["class"], "label": table["label"],
        "age_days": phase.astype(float), "coverage_fraction": np.nan, "label_fix": "",
        "reason": reasons, "redshift": table["redshift"],
        "redshift_error": pd.to_numeric(table.get("redshift_error"), errors="coerce")
        if "redshift_error" in table else np.nan})
    usable = catalogue[catalogue["reason"] == ""]
    conflicting = usable.groupby("object_id")["label"].nunique()
    if (conflicting > 1).any():
        raise InputError(f"{csv_path}: objects with spectra of two classes: "
                         f"{list(conflicting[conflicting > 1].index)[:5]}; one class per object")
    objects = usable.groupby("label")["object_id"].nunique()
    dropped = {c: (f"{int(objects.get(c, 0))} object(s) in {csv_path.name}, fewer than the "
                   f"{min_objects} needed (labels.min_objects)")
               for c in classes if objects.get(c, 0) < min_objects}
    rare = catalogue["label"].isin(list(dropped)) & (catalogue["reason"] == "")
    catalogue.loc[rare, "reason"] = "class dropped: too few objects"
    return catalogue, dropped


def build_catalogue_dataset(csv_path: Path, params: dict):
    """``split`` for a catalogue: the same ``Dataset`` ``build_dataset`` makes of the bank."""
    from ciderlab.data.split import assign_folds, check_disjoint, split_for_fold
    from ciderlab.spectranet.dataset import Dataset, configured_classes

    classes, cfg = configured_classes(params), params["split"]
    catalogue, dropped = catalogue_table(csv_path, classes, params["labels"]["min_objects"])
    usable = catalogue[catalogue["reason"] == ""]
    if usable.empty:
        raise InputError(f"{csv_path}: no spectrum of a class with {params['labels']['min_objects']}"
                         " objects and a known redshift; nothing to train on")
    objects = usable.drop_duplicates("object_id")[["object_id", "label"]]
    folds = assign_folds(objects, cfg["n_folds"], cfg["salt"], cfg.get("max_objects_per_class"))
    split = split_for_fold(folds, cfg["fixed_fold"], cfg["val_fraction"], cfg["salt"])
    check_disjoint(split)
    kept = [c for c in classes if c not in dropped]
    return Dataset(catalogue, split, kept, dropped, pd.DataFrame(columns=DUPLICATE_COLUMNS))


def _unit_level(flux: np.ndarray, covered: np.ndarray, what: str) -> np.ndarray:
    """The flux scaled to a median |flux| of one over its coverage (cgs fluxes of ~1e-16 would
    otherwise reach SNID-SAGE, which fails on them; the model inputs are normalised anyway)."""
    level = float(np.median(np.abs(flux[covered]))) if covered.any() else 0.0
    if not np.isfinite(level) or level <= 0:
        raise InputError(f"{what}: the flux is zero over the model's wavelength range")
    return np.where(covered, flux / level, 0.0)


def realise_catalogue(folder: Path, catalogue: pd.DataFrame, split: pd.DataFrame,
                      preprocess, augment: AugmentConfig, progress: bool = True
                      ) -> tuple[SpectraSet, dict[str, np.ndarray]]:
    """Every used catalogue spectrum as observed and varied (see the module docstring), and one
    spectrum per class through the preprocessing steps (the book's preprocessing figure)."""
    from tqdm import tqdm

    from ciderlab.spectra.preprocess import prepare_observed, to_model_grid, to_rest_frame
    from ciderlab.spectra.readers import read_spectrum
    from ciderlab.spectranet.classify import snr_per_resolution_element

    unused = catalogue["reason"].notna() & (catalogue["reason"].astype(str) != "")
    used = catalogue[~unused].merge(
        split[["object_id", "split", "fold"]], on="object_id")
    used = used.sort_values("spectrum_index").reset_index(drop=True)
    if "redshift" not in used:
        raise InputError("the split's catalogue.csv has no redshift column: it was written for "
                         "the template bank; rerun `ciderlab split` with the catalogue source")
    arrays = {name: [] for name in ("flux_obs", "flux_rest", "flux_raw_obs", "covered_obs",
                                    "covered_rest")}
    rows, examples, shown = [], {}, set()
    for _, row in tqdm(used.iterrows(), total=len(used), desc="realise", unit="spectrum",
                       disable=not progress, mininterval=2):
        path = folder / row["template"]
        try:
            spectrum = read_spectrum(path)
            grid_flux, covered = to_model_grid(spectrum.wave_aa, spectrum.flux, preprocess)
            observed = _unit_level(grid_flux, covered, str(path))
        except ValueError as error:
            raise InputError(f"{path}: {error}") from error
        snr, _ = snr_per_resolution_element(spectrum.wave_aa, spectrum.flux,
                                            spectrum.flux_err, preprocess)
        for r in range(augment.n_variants):
            rng = variant_rng(augment, row["template"], r)
            raw, redshift, variant_snr = observed, float(row["redshift"]), snr
            if r:
                raw, drawn = vary_observed(preprocess.wave_obs_aa, observed, covered, augment,
                                           preprocess.fwhm_lnwave, rng)
                error = row.get("redshift_error", np.nan)
                redshift = jittered_redshift(
                    redshift, augment.redshift_error if not np.isfinite(error) else error, rng)
                variant_snr = min(snr, drawn)
            flat, flux_obs = prepare_observed(raw, covered, preprocess)
            flux_rest, covered_rest = to_rest_frame(flat, covered, redshift, preprocess)
            for name, value in zip(arrays, (flux_obs, flux_rest, raw, covered, covered_rest)):
                arrays[name].append(value)
            rows.append({"object_id": row["object_id"], "template": row["template"],
                         "epoch": 0, "label": row["label"], "split": row["split"],
                         "fold": row["fold"], "age_days": row["age_days"], "realisation": r,
                         "redshift": float(row["redshift"]), "redshift_used": redshift,
                         "snr": variant_snr, "host_fraction": np.nan, "host_template": "",
                         "continuum_sed": "observed"})
            if r == 0 and row["label"] not in shown:  # the first spectrum of each class
                shown.add(row["label"])
                key = row["label"].replace(" ", "_")
                examples.update({f"{key}/observed": observed, f"{key}/raw_obs": raw,
                                 f"{key}/flat": flat, f"{key}/flux_obs": flux_obs,
                                 f"{key}/covered_obs": covered, f"{key}/flux_rest": flux_rest,
                                 f"{key}/covered_rest": covered_rest,
                                 f"{key}/info": np.array([row["template"], str(row["age_days"]),
                                                          f"{float(row['redshift']):.4f}",
                                                          f"{snr:.1f}", "nan"])})
    examples.update(wave_obs_aa=preprocess.wave_obs_aa, wave_rest_aa=preprocess.wave_rest_aa)
    out = {name: np.asarray(values, bool if name.startswith("covered") else np.float32)
           for name, values in arrays.items()}
    spectra = SpectraSet(preprocess.wave_obs_aa, preprocess.wave_rest_aa, out["flux_obs"],
                         out["flux_rest"], out["covered_obs"], out["covered_rest"],
                         pd.DataFrame(rows), flux_raw_obs=out["flux_raw_obs"])
    return spectra, examples
