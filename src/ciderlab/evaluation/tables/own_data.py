"""Tables of the book's "Your own data" page: a catalogue's cross-validation by start."""

from __future__ import annotations

import pandas as pd


def table_catalogue_starts(metrics: dict) -> pd.DataFrame:
    """One row per start (the template-trained classifier as it is, from scratch, fine-tuned):
    accuracy and macro-F1 over the catalogue's classes, pooled over the test folds and as the
    folds' mean and spread."""
    rows = []
    for start, scores in metrics["starts"].items():
        rows.append({"start": start, "accuracy": scores["accuracy"],
                     "macro-F1": scores["macro_f1"],
                     "accuracy per fold": f"{scores['fold_accuracy']['mean']:.2f} ± "
                                          f"{scores['fold_accuracy']['std']:.2f}",
                     "macro-F1 per fold": f"{scores['fold_macro_f1']['mean']:.2f} ± "
                                          f"{scores['fold_macro_f1']['std']:.2f}"})
    return pd.DataFrame(rows).set_index("start")


def table_catalogue_classes(metrics: dict, predictions: pd.DataFrame) -> pd.DataFrame:
    """Each catalogue class: its test spectra and each start's F1."""
    one = predictions[predictions["start"] == next(iter(metrics["starts"]))]
    table = pd.DataFrame({"spectra": one["true"].value_counts()}).reindex(metrics["classes"])
    for start, scores in metrics["starts"].items():
        table[f"F1, {start}"] = pd.Series(scores["per_class_f1"])
    table.index.name = "class"
    return table.fillna(0)
