"""Continuum removal chosen by measurement: each option trains the same classifier, scored on
validation objects, and says how far its real inputs sit from its realised ones.

The realised observations keep their continuum (``SpectraSet.flux_raw_obs``), so every option
prepares the very same noisy spectra its own way; the one preprocessing path does the work.
Each option also prepares the real files of ``real_spectra/`` (no labels read) and measures
the realism AUC of its inputs (``domain_gap.realism_auc``): among the options whose validation
score is within the tolerance of the best, the one whose real inputs are hardest to tell from
its realised ones is chosen (``choose_option``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from ciderlab.data.spectra_source import scored_realisations
from ciderlab.checkpoint import save_checkpoint
from ciderlab.evaluation.metrics import classification_metrics, headline_classes
from ciderlab.io import SpectraSet
from ciderlab.spectranet.model import SpectraNetConfig
from ciderlab.spectra.preprocess import PreprocessConfig, prepare_observed, to_rest_frame
from ciderlab.training.loop import TrainConfig, recipe_dict
from ciderlab.data.labels import class_indices
from ciderlab.spectranet.domain_gap import mean_realism_auc
from ciderlab.data.split import scored_rows
from ciderlab.prediction import probabilities
from ciderlab.training.heads import CLASSIFIER
from ciderlab.training.runs import model_config_from_params, train_one
from ciderlab.workers import fork_map, resolve_workers


def prepare_rest_inputs(spectra: SpectraSet, rows: np.ndarray, cfg: PreprocessConfig,
                        progress: bool = False) -> np.ndarray:
    """(len(rows), L) classifier inputs: the raw observations of ``rows`` prepared with ``cfg``."""
    if spectra.flux_raw_obs is None:
        raise ValueError("the realised spectra hold no raw observations (flux_raw_obs); "
                         "re-run `ciderlab realise`")
    out = np.zeros((len(rows), cfg.n_bins), np.float32)
    for k, row in enumerate(tqdm(rows, desc=f"preprocess ({cfg.continuum})", unit="spectrum",
                                 disable=not progress, mininterval=2)):
        covered = spectra.covered_obs[row]
        flat, _ = prepare_observed(spectra.flux_raw_obs[row].astype(np.float64), covered, cfg)
        out[k] = to_rest_frame(flat, covered, float(spectra.meta["redshift"].iloc[row]), cfg)[0]
    return out


def compare_preprocessing(spectra: SpectraSet, options: dict[str, dict], base: PreprocessConfig,
                          classes: list[str], headline: list[str],
                          model_config: SpectraNetConfig, recipe: TrainConfig, n_scored: int,
                          data_id: str,
                          max_train_spectra: int | None = None,
                          progress: bool = True, workers: int = 1,
                          models_dir: Path | None = None,
                          real: tuple[pd.DataFrame, Path] | None = None) -> pd.DataFrame:
    """One row per option: validation scores of a classifier trained on spectra so prepared.

    ``options`` maps a name to overrides of ``base`` (e.g. ``{"continuum": "median"}``).
    Training and validation follow the ``split`` column (one fold); validation scores the first
    ``n_scored`` realisations of each validation spectrum, over the ``headline`` classes. The
    test objects are never used.
    ``max_train_spectra`` caps the training pool (a fixed random subset, the same for every
    option): each option prepares its own copy of every spectrum, which costs more than the
    short training itself. ``workers`` > 1 scores that many options at once, in forked
    processes of one torch thread each (``ciderlab.workers.fork_map``). Each option's model
    goes to ``models_dir/<option>.pt`` with the preprocessing it was trained on.
    """
    meta = spectra.meta
    train_rows = np.flatnonzero(meta["split"].to_numpy() == "train")
    if max_train_spectra and len(train_rows) > max_train_spectra:
        chosen = np.random.default_rng(recipe.seed).choice(len(train_rows), max_train_spectra,
                                                           replace=False)
        train_rows = train_rows[np.sort(chosen)]
    rows = np.concatenate([train_rows, scored_rows(meta, "val", n_scored)])
    job = {"spectra": spectra, "rows": rows, "n_train": len(train_rows),
           "target": torch.as_tensor(class_indices(meta["label"], classes))[rows], "base": base,
           "classes": classes, "headline": headline, "model_config": model_config,
           "recipe": recipe,
           "data_id": data_id, "progress": progress and workers <= 1, "models_dir": models_dir,
           "real": real}
    results = tqdm(fork_map(_score_option, job, options.items(), workers), total=len(options),
                   desc="compare_preprocessing", unit="option", disable=not progress)
    return pd.DataFrame(list(results))


def _score_option(job: dict, option: tuple[str, dict]) -> dict:
    """Prepare the spectra of ``job`` as ``option`` (name, overrides) says, train, score."""
    name, overrides = option
    started = time.perf_counter()
    n_train, target = job["n_train"], job["target"]
    cfg = replace(job["base"], **overrides)
    flux = prepare_rest_inputs(job["spectra"], job["rows"], cfg, job["progress"])
    trained = train_one(CLASSIFIER, flux, target, np.arange(n_train),
                        np.arange(n_train, len(flux)), job["model_config"], job["recipe"],
                        f"{job['data_id']}:{name}", progress=job["progress"],
                        headline=[job["classes"].index(c) for c in job["headline"]])
    if job["models_dir"] is not None:
        save_checkpoint(Path(job["models_dir"]) / f"{name}.pt", trained.model,
                        recipe=recipe_dict(trained.recipe), classes=list(job["classes"]),
                        preprocess=cfg.to_dict(),
                        input_frame=CLASSIFIER.frame, epoch=trained.best_epoch,
                        best_metric={CLASSIFIER.metric: trained.best_score},
                        run_id=trained.run_id, option=name)
    proba = probabilities(trained.model, flux[n_train:])
    scores = classification_metrics(target[n_train:].numpy(), proba, job["classes"],
                                    job["headline"])
    return {"option": name, **{f"preprocess.{k}": v for k, v in overrides.items()},
            "val_macro_f1": scores["macro_f1"], "val_accuracy": scores["accuracy"],
            "val_ia_vs_non_ia_accuracy": scores["ia_vs_non_ia"]["accuracy"],
            "best_epoch": trained.best_epoch,
            **({} if job["real"] is None else real_vs_realised(job["real"], cfg, flux[n_train:],
                                                               trained.model)),
            "minutes": (time.perf_counter() - started) / 60}


# Shuffles of the realism AUC's cross-validation averaged per option (our choice, as
# benchmarks/realism_switches.py): one shuffle of ~60 real spectra moves the AUC by ~0.01.
REALISM_REPEATS = 5


def real_vs_realised(real: tuple[pd.DataFrame, Path], cfg: PreprocessConfig,
                     realised_inputs: np.ndarray, model: torch.nn.Module | None = None) -> dict:
    """The realism AUC of the real files prepared with ``cfg`` against ``realised_inputs``
    (mean and spread over ``REALISM_REPEATS`` shuffles); no label of the files is read.

    With the option's trained ``model`` also the same AUC on its embedding of both
    (``embedding_realism_auc``): how far apart the network itself sees them, a measure that
    removing information from the inputs does not lower by itself.
    """
    from ciderlab.spectranet.classify import embed
    from ciderlab.spectranet.real_spectra import model_inputs

    truth, folder = real
    real_inputs = model_inputs(truth, folder, cfg)["flux_rest"]
    auc = mean_realism_auc(real_inputs, realised_inputs, REALISM_REPEATS)
    out = {"realism_auc": auc["auc_mean"], "realism_auc_shuffle_std": auc["auc_shuffle_std"],
           "n_real": auc["n_real"]}
    if model is not None:
        seen = mean_realism_auc(embed(model, real_inputs), embed(model, realised_inputs),
                                REALISM_REPEATS)
        out.update(embedding_realism_auc=seen["auc_mean"],
                   embedding_realism_auc_shuffle_std=seen["auc_shuffle_std"])
    return out


def choose_option(table: pd.DataFrame, tolerance: float) -> str:
    """The option to use: of those whose validation macro-F1 is within ``tolerance`` of the
    best, the one with the lowest realism AUC (real inputs most like realised ones); the best
    by validation alone where there is no realism AUC."""
    close = table[table["val_macro_f1"] >= table["val_macro_f1"].max() - tolerance]
    if "realism_auc" not in close or close["realism_auc"].isna().all():
        return str(close.loc[close["val_macro_f1"].idxmax(), "option"])
    return str(close.loc[close["realism_auc"].idxmin(), "option"])


def default_option(table: pd.DataFrame, preprocess: dict) -> str | None:
    """The option that matches ``preprocess`` (every setting it overrides equals the one in
    ``preprocess``), if any."""
    settings = [c for c in table.columns if c.startswith("preprocess.")]
    for _, row in table.iterrows():
        overrides = {c.split(".", 1)[1]: row[c] for c in settings if pd.notna(row[c])}
        if all(preprocess.get(key) == value for key, value in overrides.items()):
            return str(row["option"])
    return None


def rank_of_default(table: pd.DataFrame, preprocess: dict) -> int | None:
    """Rank (1 = best validation macro-F1) of the option that matches ``preprocess``, if any."""
    name = default_option(table, preprocess)
    if name is None:
        return None
    score = table.loc[table["option"] == name, "val_macro_f1"].iloc[0]
    return int((table["val_macro_f1"] > score).sum()) + 1


def compare_stage(params: dict, classes: list[str], spectra: SpectraSet, data_hash: str,
                  models_dir: Path | None = None,
                  real: tuple[pd.DataFrame, Path] | None = None) -> tuple[pd.DataFrame, dict]:
    """The ``compare_preprocessing`` stage: every option of its section scored on validation
    objects (and, with ``real``, its realism AUC), and a summary (per option, the best on
    validation, the one ``choose_option`` picks, the default's rank)."""
    section = params["compare_preprocessing"]
    table = compare_preprocessing(
        spectra, section["options"], PreprocessConfig.from_resolved(params), classes,
        headline_classes(classes, params["labels"]["separate_classes"]),
        # The network of `model` and the section's own recipe: an edit of train_classifier
        # (an experiment) does not re-rank the preprocessing.
        model_config_from_params(params, CLASSIFIER, classes, head_overrides=False),
        TrainConfig.from_params(section["recipe"]),
        scored_realisations(params), data_hash,
        max_train_spectra=section.get("max_train_spectra"),
        workers=resolve_workers(section["workers"], "compare_preprocessing.workers"),
        models_dir=models_dir, real=real)
    best = table.loc[table["val_macro_f1"].idxmax()]
    return table, {"options": table.set_index("option").to_dict("index"),
                   "best_option": best["option"],
                   "tolerance": section["tolerance"],
                   "chosen_option": choose_option(table, section["tolerance"]),
                   "default": params["preprocess"],
                   "default_option": default_option(table, params["preprocess"]),
                   "default_rank": rank_of_default(table, params["preprocess"])}
