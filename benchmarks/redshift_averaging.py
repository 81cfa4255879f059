"""Classifying at the predicted redshift: one point, or class probabilities averaged across its
interval (what ``ciderlab classify`` does), measured on the fixed fold's validation objects.

    python benchmarks/redshift_averaging.py \
        --out benchmarks/results/redshift_averaging.jsonl

The shipped classifier and redshift model on the fixed fold's scored validation spectra, each
de-redshifted through the one preprocessing path (``rest_frame_inputs``) at the catalogue
redshift, at the predicted one, and at ``classify.interval_redshifts`` across the predicted one's
interval (the reliability stage's half-width for the spectrum's S/N; the realisation's S/N
stands in for ``classify``'s estimate), probabilities weighted as ``classify`` weights them
(the same function). One JSON line: accuracy and macro-F1 over the headline classes
for each. Validation objects only: test objects choose nothing. Needs a built pipeline.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.special import softmax

from ciderlab.checkpoint import load_checkpoint
from ciderlab.data.labels import class_indices
from ciderlab.data.spectra_source import scored_realisations
from ciderlab.data.split import scored_rows
from ciderlab.evaluation import intervals
from ciderlab.evaluation.metrics import classification_metrics, headline_classes
from ciderlab.io import load_json, load_spectra
from ciderlab.params import load_params
from ciderlab.prediction import outputs, redshifts
from ciderlab.provenance import git_revision
from ciderlab.spectra.preprocess import PreprocessConfig, rest_frame_inputs
from ciderlab.spectranet.classify import interval_redshifts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--results", default="results")
    parser.add_argument("--out", default=None, help="append the JSON line here")
    args = parser.parse_args()
    started = time.perf_counter()
    params, results = load_params(args.params), Path(args.results)
    classes = load_json(results / "split/classes.json")["classes"]
    headline = headline_classes(classes, params["labels"]["separate_classes"])
    spectra = load_spectra(results / "realise/spectra.h5", lazy=True)
    rows = scored_rows(spectra.meta, "val", scored_realisations(params))
    flux_obs, covered = spectra.flux_obs[rows], spectra.covered_obs[rows]
    meta = spectra.meta.iloc[rows]
    y = class_indices(meta["label"], classes)
    classifier = load_checkpoint(results / "train_classifier/classifier.pt")[0]
    z_pred = redshifts(load_checkpoint(results / "train_redshift/redshift.pt")[0], flux_obs)
    reliability = load_json(results / "reliability/reliability.json")
    band, temperature = reliability["redshift_interval"], reliability["calibration"]["temperature"]
    edges = np.concatenate([[-np.inf], band["snr_inner_edges"], [np.inf]])
    half = intervals.halfwidth_for(meta["snr"].to_numpy(), edges, np.asarray(band["halfwidths"]))
    cfg = PreprocessConfig.from_resolved(params)

    def proba_at(z: np.ndarray) -> np.ndarray:
        logits = outputs(classifier, rest_frame_inputs(flux_obs, covered, z, cfg)).numpy()
        return softmax(logits / temperature, axis=1)  # tempered, as classify averages them

    points, weights = interval_redshifts(z_pred, half)
    averaged = sum(w * proba_at(points[:, j]) for j, w in enumerate(weights))
    conditions = {"catalogue redshift": proba_at(meta["redshift"].to_numpy(float)),
                  "predicted redshift, one point": proba_at(z_pred),
                  "predicted redshift, averaged over its interval": averaged}
    scores = {}
    for name, proba in conditions.items():
        metrics = classification_metrics(y, proba, classes, headline)
        scores[name] = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"]}
        print(f"{name:48s} accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}")
    record = {"n_spectra": int(len(rows)), "scores": scores,
              "seconds": time.perf_counter() - started, "commit": git_revision(),
              "date": time.strftime("%Y-%m-%d")}
    if args.out:
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
