"""AppleCiDEr's scores from per-alert predictions: macro-F1 per mode over folds, the history
cuts, and every mode on the alerts issued within N days of first detection."""

from __future__ import annotations

import pandas as pd

from ciderlab.evaluation.metrics import classification_metrics, spread


def issued_by(predictions: pd.DataFrame, classes: list[str], days: tuple[float, ...]) -> dict:
    """Every mode (and baseline) scored on the alerts issued within N days of the object's
    first detection in its alert history: the same alerts for every mode at each date.

    Unlike the history cut of ``early_modes`` (photometry only, every alert), nothing is
    hidden from an alert: its light curve, metadata and stamps are all those of its own time,
    so every mode can be cut at the same dates. Macro-F1 runs over every trained class (one
    with no alert issued yet scores zero); folds without such an alert are left out.
    Returns mode -> days (as str) -> {"macro_f1": spread over folds, "n_alerts"}.
    """
    index = {c: k for k, c in enumerate(classes)}
    columns = [f"p_{c}" for c in classes]
    out = {}
    for mode, rows in predictions[predictions["history_days"].isna()].groupby("mode", sort=False):
        out[mode] = {}
        for cut in days:
            part = rows[rows["days_since_first_detection"] <= cut]
            scores = [classification_metrics(r["true"].map(index).to_numpy(),
                                             r[columns].to_numpy(), classes, classes)["macro_f1"]
                      for _, r in part.groupby("fold")]
            if scores:
                out[mode][f"{cut:g}"] = {"macro_f1": spread(scores), "n_alerts": int(len(part))}
    return out


def multimodal_metrics(predictions: pd.DataFrame, classes: list[str], folds: pd.DataFrame,
                       skipped: dict) -> dict:
    """Macro-F1 and accuracy per mode over folds (mean, std, values), pooled reports, early cuts."""
    index = {c: k for k, c in enumerate(classes)}
    columns = [f"p_{c}" for c in classes]

    def score(rows: pd.DataFrame) -> dict:  # every class trained on is a headline class
        return classification_metrics(rows["true"].map(index).to_numpy(),
                                      rows[columns].to_numpy(), classes, classes)

    modes, early = {}, {}
    for mode, rows in predictions.groupby("mode", sort=False):
        full = rows[rows["history_days"].isna()]
        per_fold = [score(r) for _, r in full.groupby("fold")]
        pooled = score(full)
        modes[mode] = {"macro_f1": spread([m["macro_f1"] for m in per_fold]),
                       "accuracy": spread([m["accuracy"] for m in per_fold]),
                       "n_alerts": int(len(full)), "pooled": pooled}
        cut = rows[rows["history_days"].notna()]
        if len(cut):
            early[mode] = {f"{days:g}": {"macro_f1": spread([score(r)["macro_f1"]
                                                             for _, r in part.groupby("fold")])}
                           for days, part in cut.groupby("history_days")}
    counts = folds["label"].value_counts()
    return {"classes": classes, "objects_per_class": {c: int(counts.get(c, 0)) for c in classes},
            "alerts_per_class": predictions[predictions["history_days"].isna()]
            .drop_duplicates("candid")["true"].value_counts().reindex(classes, fill_value=0)
            .astype(int).to_dict(),
            "n_folds": int(folds["fold"].nunique()), "modes": modes, "early": early,
            "skipped_modes": skipped}
