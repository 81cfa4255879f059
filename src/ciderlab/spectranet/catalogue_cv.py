"""SpectraNet on a catalogue of labelled real spectra (``data.spectra_catalogue``): the
classifier cross-validated over the catalogue's objects, trained from scratch and fine-tuned
from the template-trained classifier, the same recipe and folds for both (one switch).

Each spectrum is prepared by the one preprocessing path at its catalogue redshift, with the
checkpoint's own preprocessing settings (so the fine-tuned network reads what it was trained
on). Training sees ``augment.n_variants`` variants of every spectrum (``augment``): the
spectrum as observed (realisation 0, the only one ever scored), then each under a smooth random
instrument response, extra noise down to a random S/N and a redshift jittered within the
catalogue's error; edge masks come from the training loop as for realised spectra. Folds are grouped by object and stratified by class (``data.split.assign_folds``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from ciderlab.data.split import assign_folds
from ciderlab.errors import InputError
from ciderlab.params import section_config
from ciderlab.provenance import fingerprint
from ciderlab.spectra.preprocess import PreprocessConfig
from ciderlab.spectranet.augment import (AugmentConfig, jittered_redshift, variant_rng,
                                         vary_observed)
from ciderlab.spectranet.model import SpectraNet, SpectraNetConfig
from ciderlab.training.folds import cross_validate
from ciderlab.training.heads import CLASSIFIER
from ciderlab.training.loop import TrainConfig, recipe_dict

STARTS = ("from scratch", "fine-tuned")  # the two initial weights compared
AS_TRAINED = "template-trained, not tuned"  # the reference: the classifier as it is


@dataclass(frozen=True)
class CatalogueCVConfig:
    """params.yaml ``catalogue_cv``: every number of the catalogue run."""

    min_objects: int           # a class with fewer objects in the catalogue is left out
    n_folds: int
    salt: str
    val_fraction: float
    recipe: dict               # train_classifier's recipe with these overrides, for both starts
    workers: int

    @classmethod
    def from_params(cls, section: dict) -> "CatalogueCVConfig":
        return section_config(cls, section, "catalogue_cv")


def usable_rows(table: pd.DataFrame, min_objects: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """The catalogue rows a classifier can learn from, and why each other row is left out.

    Kept: a row whose class maps to a trained class (``label``), with a known redshift, of a
    class with at least ``min_objects`` objects.
    """
    reasons = {}
    for _, row in table.iterrows():
        if not isinstance(row["label"], str):
            reasons[row["file"]] = f"class {row['class']!r} is not one of the classes"
        elif not np.isfinite(row["redshift"]):
            reasons[row["file"]] = "no redshift"
    kept = table[~table["file"].isin(reasons)]
    objects = kept.groupby("label")["object"].nunique()
    few = objects[objects < min_objects]
    for _, row in kept[kept["label"].isin(few.index)].iterrows():
        reasons[row["file"]] = (f"{row['label']}: {few[row['label']]} object(s), fewer than "
                                f"catalogue_cv.min_objects ({min_objects})")
    return table[~table["file"].isin(reasons)].reset_index(drop=True), reasons


def catalogue_inputs(table: pd.DataFrame, folder: Path, preprocess: PreprocessConfig,
                     augment: AugmentConfig) -> tuple[np.ndarray, pd.DataFrame]:
    """Rest-frame classifier inputs (N * R, L) of every row's R variants, and their metadata
    (object_id, label, file, realisation, redshift: the one the variant was prepared at).

    Each variant's generator depends on the seed, the file and the variant alone.
    """
    from ciderlab.spectra.preprocess import prepare_observed, to_model_grid, to_rest_frame
    from ciderlab.spectra.readers import read_spectrum

    errors = (table["redshift_error"].astype(float) if "redshift_error" in table
              else pd.Series(np.nan, index=table.index)).fillna(augment.redshift_error)
    flux_rest, rows = [], []
    for (_, row), z_error in zip(table.iterrows(), errors):
        spectrum = read_spectrum(folder / row["file"])
        flux, covered = to_model_grid(spectrum.wave_aa, spectrum.flux, preprocess)
        for r in range(augment.n_variants):
            rng = variant_rng(augment, row["file"], r)
            redshift = float(row["redshift"])
            varied = flux
            if r:
                varied, _ = vary_observed(preprocess.wave_obs_aa, flux, covered, augment,
                                          preprocess.fwhm_lnwave, rng)
                redshift = jittered_redshift(redshift, z_error, rng)
            flat, _ = prepare_observed(varied, covered, preprocess)
            rest, _ = to_rest_frame(flat, covered, redshift, preprocess)
            flux_rest.append(rest)
            rows.append({"object_id": row["object"], "label": row["label"], "file": row["file"],
                         "realisation": r, "redshift": redshift})
    return np.asarray(flux_rest, np.float32), pd.DataFrame(rows)


def fine_tune_builder(pretrained: SpectraNet, pretrained_classes: list[str],
                      classes: list[str]):
    """``build_model`` for the fine-tuned start: the pretrained weights, the last layer's rows
    of the classes both share copied and the catalogue's new classes' rows left as initialised."""
    state = pretrained.state_dict()

    def build(config: SpectraNetConfig) -> SpectraNet:
        model = SpectraNet(config)
        own = model.state_dict()
        for key, value in state.items():
            if own[key].shape == value.shape:
                own[key] = value.clone()
                continue
            for k, name in enumerate(classes):  # the output layer: one row per class
                if name in pretrained_classes:
                    own[key][k] = value[pretrained_classes.index(name)]
        model.load_state_dict(own)
        return model

    return build


def label_scores(true, predicted, classes: list[str]) -> dict:
    """Accuracy, macro-F1 over ``classes`` (a class never true nor predicted counts 0) and each
    class's F1, of string labels."""
    from sklearn.metrics import f1_score

    per_class = f1_score(list(true), list(predicted), labels=classes, average=None,
                         zero_division=0)
    return {"accuracy": float(np.mean(np.asarray(true) == np.asarray(predicted))),
            "macro_f1": float(np.mean(per_class)),
            "per_class_f1": {c: float(f) for c, f in zip(classes, per_class)}}


@dataclass
class CatalogueCVResult:
    predictions: pd.DataFrame  # one row per start and scored test spectrum
    metrics: dict
    skipped: dict[str, str]


def cross_validate_catalogue(catalogue_path: str | Path, checkpoint_path: str | Path,
                             params: dict, state_dir: Path | None = None,
                             models_dir: Path | None = None,
                             progress: bool = True) -> CatalogueCVResult:
    """Both starts cross-validated over the catalogue's objects; predictions and scores.

    The network is the template-trained classifier's (``checkpoint_path``) with one output per
    catalogue class; the recipe ``train_classifier`` with ``catalogue_cv.recipe`` overrides.
    Each fold model is saved to ``models_dir/<start>_fold<k>.pt`` (a classifier checkpoint
    ``ciderlab classify --classifier`` reads, with the pretrained model's preprocessing).
    """
    from ciderlab.checkpoint import load_checkpoint, save_checkpoint
    from ciderlab.data.spectra_catalogue import read_spectra_catalogue
    from ciderlab.params import merge
    from ciderlab.workers import resolve_workers

    cfg = CatalogueCVConfig.from_params(params["catalogue_cv"])
    table = read_spectra_catalogue(catalogue_path)
    kept, skipped = usable_rows(table, cfg.min_objects)
    if kept.empty:
        raise InputError(f"{catalogue_path}: no spectrum of a class with {cfg.min_objects} "
                         "objects and a known redshift; nothing to cross-validate")
    classes = sorted(kept["label"].unique())
    pretrained, payload = load_checkpoint(checkpoint_path)
    preprocess = PreprocessConfig.from_dict(payload["preprocess"])
    flux, meta = catalogue_inputs(kept, Path(catalogue_path).parent, preprocess,
                                  AugmentConfig.from_params(params))
    objects = kept.drop_duplicates("object")[["object", "label"]].rename(
        columns={"object": "object_id"})
    folds = assign_folds(objects, cfg.n_folds, cfg.salt)
    recipe = TrainConfig.from_params(merge(params["train_classifier"], cfg.recipe))
    model_config = replace(pretrained.config, n_outputs=len(classes))
    target = CLASSIFIER.targets(meta, classes)
    data_id = fingerprint(hashlib.sha256(flux.tobytes()).hexdigest(), meta.to_csv(index=False),
                          classes)
    builders = {"from scratch": SpectraNet,
                "fine-tuned": fine_tune_builder(pretrained, list(payload["classes"]), classes)}
    workers = resolve_workers(cfg.workers, "catalogue_cv.workers")
    pieces = []
    for start in STARTS:
        def save(fold, trained, start=start):
            if models_dir is not None:
                save_checkpoint(Path(models_dir) / f"{start.replace(' ', '-')}_fold{fold}.pt",
                                trained.model, classes=classes, fold=fold, start=start,
                                recipe=recipe_dict(trained.recipe), epoch=trained.best_epoch,
                                preprocess=payload["preprocess"], input_frame="rest",
                                catalogue=str(catalogue_path), data_hash=data_id,
                                pretrained=str(checkpoint_path), run_id=trained.run_id)

        try:
            predicted = cross_validate(
                CLASSIFIER, flux, target, meta, folds, cfg.val_fraction, cfg.salt, 1,
                model_config, recipe, fingerprint(data_id, start), state_dir=state_dir,
                progress=progress, build_model=builders[start], name=f"catalogue {start}",
                workers=workers, on_trained=save)
        except ValueError as error:
            if "validation set is empty" not in str(error):
                raise
            raise InputError(f"{catalogue_path}: a fold has no validation objects (a class "
                             "needs at least 3 objects outside the test fold for one to stop "
                             "training early on); add objects, or lower catalogue_cv.n_folds"
                             ) from error
        test = predicted[predicted["split"] == "test"].reset_index(drop=True)
        probabilities = test[[f"p_{k}" for k in range(len(classes))]].to_numpy()
        rows = meta.iloc[test["row"]].reset_index(drop=True)
        pieces.append(pd.DataFrame({
            "start": start, "fold": test["fold"], "file": rows["file"],
            "object": rows["object_id"], "true": rows["label"],
            "predicted": np.asarray(classes)[probabilities.argmax(axis=1)],
            "probability": probabilities.max(axis=1), "best_epoch": test["best_epoch"],
            **{f"p_{c}": probabilities[:, k] for k, c in enumerate(classes)}}))
    # The reference: the template-trained classifier as it is, on the same test spectra
    # (its own classes; a catalogue class it lacks is always missed).
    scored = pieces[0][["fold", "file"]].merge(meta[meta["realisation"] == 0].reset_index()
                                               [["index", "file"]], on="file")
    proba = CLASSIFIER.predict(pretrained, flux[scored["index"].to_numpy()])
    own = list(payload["classes"])
    rows = meta.iloc[scored["index"]].reset_index(drop=True)
    pieces.insert(0, pd.DataFrame({
        "start": AS_TRAINED, "fold": scored["fold"], "file": rows["file"],
        "object": rows["object_id"], "true": rows["label"],
        "predicted": np.asarray(own)[proba.argmax(axis=1)], "probability": proba.max(axis=1),
        "best_epoch": -1}))
    predictions = pd.concat(pieces, ignore_index=True)
    metrics = {"catalogue": str(catalogue_path), "classes": classes,
               "n_spectra": int(len(kept)), "n_objects": int(len(objects)),
               "n_skipped": len(skipped), "n_folds": cfg.n_folds,
               "pretrained": {"checkpoint": str(checkpoint_path),
                              "classes": list(payload["classes"])},
               "starts": {}}
    for start, group in predictions.groupby("start", sort=False):
        per_fold = [label_scores(g["true"], g["predicted"], classes)  # the catalogue's classes
                    for _, g in group.groupby("fold")]
        pooled = label_scores(group["true"], group["predicted"], classes)
        metrics["starts"][start] = {
            "accuracy": pooled["accuracy"], "macro_f1": pooled["macro_f1"],
            "per_class_f1": pooled["per_class_f1"],
            "fold_accuracy": {"mean": float(np.mean([f["accuracy"] for f in per_fold])),
                              "std": float(np.std([f["accuracy"] for f in per_fold]))},
            "fold_macro_f1": {"mean": float(np.mean([f["macro_f1"] for f in per_fold])),
                              "std": float(np.std([f["macro_f1"] for f in per_fold]))}}
    return CatalogueCVResult(predictions, metrics, skipped)
