"""Tables of the real ZTF alerts: objects per class and what the training uses."""

from __future__ import annotations

import numpy as np
import pandas as pd


def table_alert_classes(summary: dict, metadata: pd.DataFrame) -> pd.DataFrame:
    """Objects and alerts per SIMBAD group, and whether the group is trained on (and why not).

    Parameters
    ----------
    summary : dict
        The ``alerts`` stage's summary.json (objects_per_label, trained_classes,
        dropped_classes).
    metadata : DataFrame
        One row per alert with objectId and label.
    """
    alerts = metadata.groupby("label").size()
    rows = []
    for label, n_objects in summary["objects_per_label"].items():
        if label in summary["trained_classes"]:
            use = "trained on"
        elif label in summary["dropped_classes"]:
            use = f"not trained: {summary['dropped_classes'][label]}"
        else:
            use = "not trained: no SIMBAD type"
        rows.append({"class": label, "objects": int(n_objects),
                     "alerts": int(alerts.get(label, 0)), "use": use})
    return pd.DataFrame(rows)


MODE_NAMES = {"photo": "photometry (transformer)", "image": "cutouts (AstroMiNN CNN)",
              "meta": "metadata (AstroMiNN towers)", "ztf": "photometry + cutouts + metadata",
              "all": "ZTF + spectra"}


REFERENCE_BASELINE = "logistic regression (metadata)"


def paired_mode_difference(metrics: dict, mode: str, reference: str) -> dict:
    """Macro-F1 of ``mode`` minus ``reference``, fold by fold (both scored on the same test
    alerts of each fold): mean, standard deviation and the per-fold values."""
    from ciderlab.evaluation.metrics import spread

    a, b = (metrics["modes"][m]["macro_f1"]["values"] for m in (mode, reference))
    if len(a) != len(b):
        raise ValueError(f"{mode} and {reference} were scored on different folds")
    return spread(np.subtract(a, b))


def table_multimodal_modes(metrics: dict) -> pd.DataFrame:
    """Macro-F1 and accuracy per training mode and per baseline (chance, a simple model), mean
    ± std over the folds (object-level cross-validation), the pooled scores over every alert,
    and each mode's macro-F1 minus the logistic regression's, paired fold by fold.

    Parameters
    ----------
    metrics : dict
        ``results/train_multimodal/metrics.json``.
    """
    from ciderlab.evaluation.tables.display import mean_std

    baselines = metrics.get("baselines", [])
    has_reference = REFERENCE_BASELINE in metrics["modes"]
    rows = [{"mode": mode, "inputs": MODE_NAMES.get(mode, "baseline"),
             "macro-F1 (folds)": mean_std(scores["macro_f1"]),
             "accuracy (folds)": mean_std(scores["accuracy"]),
             "macro-F1 (pooled)": scores["pooled"]["macro_f1"],
             f"macro-F1 − {REFERENCE_BASELINE} (paired)":
                 mean_std(paired_mode_difference(metrics, mode, REFERENCE_BASELINE))
                 if has_reference and mode != REFERENCE_BASELINE else "–",
             "alerts": scores["n_alerts"]}
            for mode, scores in metrics["modes"].items()]
    rows.sort(key=lambda row: row["mode"] in baselines)  # the networks first
    rows += [{"mode": mode, "inputs": MODE_NAMES.get(mode, mode), "macro-F1 (folds)": "-",
              "accuracy (folds)": "-", "macro-F1 (pooled)": None, "alerts": 0,
              "skipped": why} for mode, why in metrics.get("skipped_modes", {}).items()]
    return pd.DataFrame(rows)


def table_multimodal_per_class(metrics: dict) -> pd.DataFrame:
    """F1 per class and mode (networks and baselines), pooled over every fold's test alerts."""
    rows = {mode: {name: values["f1"] for name, values in scores["pooled"]["per_class"].items()}
            for mode, scores in metrics["modes"].items()}
    table = pd.DataFrame(rows).T.round(3)
    table.index.name = "mode"
    return table
