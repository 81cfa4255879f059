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

from pathlib import Path

import numpy as np

from ciderlab.checkpoint import load_checkpoint
from ciderlab.prediction import probabilities
from validation_set import begin, record_scores


def seed_checkpoints(results: Path, seeds: list[int]) -> dict[int, Path]:
    """Each seed's classifier as ``train_classifier`` writes them (the first is the shipped one)."""
    return {seed: results / ("train_classifier/classifier.pt" if i == 0 else
                             f"train_classifier/seeds/seed_{seed}/classifier.pt")
            for i, seed in enumerate(seeds)}


def main() -> None:
    args, started, val = begin(__doc__)
    seeds = list(val.params["train_classifier"]["seeds"])
    proba = {f"seed {seed}": probabilities(load_checkpoint(path)[0], val.spectra.flux_rest)
             for seed, path in seed_checkpoints(val.results, seeds).items()}
    proba["mean of the seeds"] = np.mean(list(proba.values()), axis=0)
    record_scores(args.out, val, proba, started, seeds=seeds)


if __name__ == "__main__":
    main()
