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

import time
from pathlib import Path

import numpy as np

from ciderlab.checkpoint import load_checkpoint
from ciderlab.evaluation.metrics import classification_metrics
from ciderlab.prediction import probabilities
from validation_set import append_record, load_validation_set, parse_args


def seed_checkpoints(results: Path, seeds: list[int]) -> dict[int, Path]:
    """Each seed's classifier as ``train_classifier`` writes them (the first is the shipped one)."""
    return {seed: results / ("train_classifier/classifier.pt" if i == 0 else
                             f"train_classifier/seeds/seed_{seed}/classifier.pt")
            for i, seed in enumerate(seeds)}


def main() -> None:
    args = parse_args(__doc__)
    started = time.perf_counter()
    val = load_validation_set(args.params, args.results)
    params, results, classes, headline, y = (val.params, val.results, val.classes,
                                             val.headline, val.y)
    flux_rest = val.spectra.flux_rest
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
    append_record(args.out, {"n_spectra": int(len(y)), "seeds": seeds, "scores": scores},
                  started)


if __name__ == "__main__":
    main()
