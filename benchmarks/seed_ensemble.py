"""One classifier or the mean of the seeds' classifiers? Measured on the fixed fold's validation
objects.

    python benchmarks/seed_ensemble.py --out benchmarks/results/seed_ensemble.jsonl

The main command trains ``train_classifier.seeds`` classifiers on the fixed fold's training
objects; the first is *the* classifier (``classify``, ``real_spectra``, the reliability
stage's fits). An ensemble averaging the seeds' class probabilities is the usual remedy for a
network that varies from seed to seed, at the seeds' cost in every classification. This scores
each seed's classifier and the ensemble on the fold's scored validation spectra at their
catalogue redshifts: accuracy and macro-F1 over the headline classes. Validation objects only:
test objects choose nothing. Needs a built pipeline. One JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ciderlab.checkpoint import load_checkpoint
from ciderlab.data.labels import class_indices
from ciderlab.data.spectra_source import scored_realisations
from ciderlab.data.split import scored_rows
from ciderlab.evaluation.metrics import classification_metrics, headline_classes
from ciderlab.io import load_json, load_spectra
from ciderlab.params import load_params
from ciderlab.prediction import probabilities
from ciderlab.provenance import git_revision


def seed_checkpoints(results: Path, seeds: list[int]) -> dict[int, Path]:
    """Each seed's classifier as ``train_classifier`` writes them (the first is the shipped one)."""
    return {seed: results / ("train_classifier/classifier.pt" if i == 0 else
                             f"train_classifier/seeds/seed_{seed}/classifier.pt")
            for i, seed in enumerate(seeds)}


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
    flux_rest = spectra.flux_rest[rows]
    y = class_indices(spectra.meta["label"].iloc[rows], classes)
    seeds = list(params["train_classifier"]["seeds"])
    proba = {seed: probabilities(load_checkpoint(path)[0], flux_rest)
             for seed, path in seed_checkpoints(results, seeds).items()}
    proba["mean of the seeds"] = np.mean(list(proba.values()), axis=0)
    scores = {}
    for name, p in proba.items():
        metrics = classification_metrics(y, p, classes, headline)
        label = f"seed {name}" if isinstance(name, int) else name
        scores[label] = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"]}
        print(f"{label:20s} accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}")
    record = {"n_spectra": int(len(rows)), "seeds": seeds, "scores": scores,
              "seconds": time.perf_counter() - started, "commit": git_revision(),
              "date": time.strftime("%Y-%m-%d")}
    if args.out:
        with open(args.out, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
