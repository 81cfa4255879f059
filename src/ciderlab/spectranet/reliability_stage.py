"""The ``reliability`` stage as one function: calibration, "none of these" and redshift intervals
fitted on validation objects (``spectranet.reliability``), and the settings ``classify`` ships."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ciderlab.data.spectra_source import scored_realisations
from ciderlab.data.split import scored_rows
from ciderlab.io import SpectraSet
from ciderlab.prediction import outputs
from ciderlab.spectranet import reliability as rel
from ciderlab.spectranet.classify import embed
from ciderlab.spectranet.out_of_class import fit_class_gaussians, ood_scores
from ciderlab.spectranet.realise import RealiseConfig, realise_spectra
from ciderlab.spectranet.templates import TemplateBank


@dataclass
class ReliabilityOutputs:
    settings: dict                   # reliability.json, read by `ciderlab classify`
    fits: dict[str, np.ndarray]  # the embedding's class Gaussians and outlier detector
    tables: dict[str, pd.DataFrame]  # file stem -> table
    metrics: dict


def reliability_stage(params: dict, classes: list[str], spectra: SpectraSet,
                      catalogue: pd.DataFrame, bank: TemplateBank, classifier: torch.nn.Module,
                      cv: dict[str, pd.DataFrame]) -> ReliabilityOutputs:
    """Everything the stage writes. ``cv`` holds the cross-validated predictions by name:
    classifier_val, classifier_test, redshift_val, redshift_test."""
    cfg = rel.ReliabilityConfig.from_params(params["reliability"])
    meta = spectra.meta
    calibration, calibrated = rel.calibrate_folds(cv["classifier_val"], cv["classifier_test"],
                                                  meta, classes, cfg)
    interval, interval_table = rel.interval_folds(cv["redshift_val"], cv["redshift_test"], meta,
                                                  cfg)
    inputs = out_of_class_inputs(params, classes, spectra, catalogue, bank, classifier)
    halves = rel.out_of_class_halves(inputs.objects["out"], params["split"]["salt"])
    scores, detector = rel.halving_scores(inputs, halves == "choose", cfg)
    fits = {**inputs.gaussians, **detector}
    ood, ood_table = rel.none_of_these(scores["val"], scores["test"], scores["out"], halves, cfg,
                                       inputs.objects["test"], inputs.objects["out"])
    fixed = params["split"]["fixed_fold"]
    settings = rel.shipped_settings(calibration["settings_by_fold"][fixed], ood,
                                    interval["by_fold"][fixed], cfg)
    settings["none_of_these"]["fits"] = "out_of_class_fits.npz"  # beside reliability.json
    out_types = inputs.out_meta.groupby("label")["object_id"].nunique()
    tables = {"calibrated_predictions": calibrated,
              **rel.calibration_tables(cv["classifier_test"], calibrated, classes, cfg),
              "redshift_intervals": interval_table, "out_of_class_scores": ood_table}
    metrics = {"calibration": calibration, "none_of_these": ood, "redshift_interval": interval,
               "out_of_class_objects": out_types.to_dict()}
    return ReliabilityOutputs(settings, fits, tables, metrics)


def out_of_class_inputs(params: dict, classes: list[str], spectra: SpectraSet,
                        catalogue: pd.DataFrame, bank: TemplateBank,
                        classifier: torch.nn.Module) -> rel.OutOfClassInputs:
    """What "none of these" is chosen and measured from: the bank's objects of types outside
    the trained classes realised like the others, and with the fixed fold's scored in-class
    validation and test spectra, their embeddings in ``classifier`` and the scores read from
    the network alone (the class Gaussians fitted on its training spectra)."""
    cfg = rel.ReliabilityConfig.from_params(params["reliability"])
    meta, n_scored = spectra.meta, scored_realisations(params)
    other = rel.out_of_class_catalogue(catalogue, cfg.out_of_class_types,
                                       params["labels"]["min_coverage_fraction"],
                                       params["realise"].get("max_spectra_per_object"))
    realised = realise_spectra(
        bank.wave_rest_aa, [bank.spectra[i] for i in other["spectrum_index"]],
        other[["object_id", "label", "split", "fold"]],
        [s for s in bank.spectra if s.sn_type == "Galaxy"], RealiseConfig.from_resolved(params),
        np.full(len(other), cfg.out_of_class_realisations),
        workers=params["realise"].get("workers", 0))
    rows = {split: scored_rows(meta, split, n_scored) for split in ("train", "val", "test")}
    flux = {"val": spectra.flux_rest[rows["val"]], "test": spectra.flux_rest[rows["test"]],
            "out": realised.flux_rest}
    embedding = {name: embed(classifier, f) for name, f in flux.items()}
    gaussians = fit_class_gaussians(embed(classifier, spectra.flux_rest[rows["train"]]),
                                    rel.labels_of(meta, rows["train"], classes))
    network_scores = {name: ood_scores(outputs(classifier, f).numpy(), embedding[name], gaussians)
                      for name, f in flux.items()}
    objects = {"val": meta["object_id"].to_numpy()[rows["val"]],
               "test": meta["object_id"].to_numpy()[rows["test"]],
               "out": realised.meta["object_id"].to_numpy()}
    return rel.OutOfClassInputs(embedding, network_scores, objects, gaussians,
                                realised.meta[["object_id", "label"]].reset_index(drop=True))
