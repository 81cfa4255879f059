"""What the benchmarks that score a built pipeline's shipped models share: their command line
(``--params``, ``--results``, ``--out``), the fixed fold's scored validation spectra with their
labels and headline classes, and appending one JSON record. Validation objects only: test
objects choose nothing."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ciderlab.data.labels import class_indices
from ciderlab.data.spectra_source import scored_realisations
from ciderlab.data.split import scored_rows
from ciderlab.evaluation.metrics import classification_metrics, headline_classes
from ciderlab.io import SpectraSet, load_json, load_spectra
from ciderlab.params import load_params
from ciderlab.provenance import git_revision


@dataclass
class ValidationSet:
    """The fixed fold's scored validation spectra of a built pipeline, and what scores them."""

    params: dict
    results: Path
    classes: list[str]
    headline: list[str]
    spectra: SpectraSet  # the scored validation rows only
    y: np.ndarray        # their class indices in ``classes``


def begin(doc: str) -> tuple[argparse.Namespace, float, ValidationSet]:
    """A validation benchmark's start: its command line (:func:`parse_args`), the time it
    started and its validation set (:func:`load_validation_set`)."""
    args = parse_args(doc)
    started = time.perf_counter()
    return args, started, load_validation_set(args.params, args.results)


def record_scores(out: str | None, val: ValidationSet, proba_by_name: dict[str, np.ndarray],
                  started: float, **fields) -> None:
    """Accuracy and macro-F1 over the headline classes of each named set of class probabilities
    (N, K) of ``val``'s spectra, printed and appended as one record with ``fields``
    (:func:`append_record`)."""
    scores = {}
    for name, proba in proba_by_name.items():
        metrics = classification_metrics(val.y, proba, val.classes, val.headline)
        scores[name] = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"]}
        print(f"{name:48s} accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}")
    append_record(out, {"n_spectra": int(len(val.y)), **fields, "scores": scores}, started)


def parse_args(doc: str) -> argparse.Namespace:
    """``--params``, ``--results`` and ``--out`` (append the record there), described by the
    first line of the benchmark's ``doc``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--results", default="results")
    parser.add_argument("--out", default=None, help="append the JSON line here")
    return parser.parse_args()


def load_validation_set(params_path: str, results: str) -> ValidationSet:
    """The first ``n_realisations`` of each validation spectrum (as every score weighs them)."""
    params, results = load_params(params_path), Path(results)
    classes = load_json(results / "split/classes.json")["classes"]
    spectra = load_spectra(results / "realise/spectra.h5", lazy=True)
    rows = scored_rows(spectra.meta, "val", scored_realisations(params))
    validation = spectra.select(rows)
    return ValidationSet(params, results, classes,
                         headline_classes(classes, params["labels"]["separate_classes"]),
                         validation, class_indices(validation.meta["label"], classes))


def append_record(out: str | None, fields: dict, started: float) -> None:
    """One JSON line with ``fields``, the seconds since ``started``, the commit and the date,
    appended to ``out`` (nothing when ``out`` is None)."""
    record = {**fields, "seconds": time.perf_counter() - started, "commit": git_revision(),
              "date": time.strftime("%Y-%m-%d")}
    if out:
        with open(out, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
