"""Tables of the real ZTF alerts: objects per class and what the training uses."""

from __future__ import annotations

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


def table_multimodal_modes(metrics: dict) -> pd.DataFrame:
    """Macro-F1 and accuracy per training mode, mean ± std over the folds (object-level
    cross-validation), with the pooled scores over every alert.

    Parameters
    ----------
    metrics : dict
        ``results/train_multimodal/metrics.json``.
    """
    from ciderlab.evaluation.tables.display import mean_std

    rows = [{"mode": mode, "inputs": MODE_NAMES.get(mode, mode),
             "macro-F1 (folds)": mean_std(scores["macro_f1"]),
             "accuracy (folds)": mean_std(scores["accuracy"]),
             "macro-F1 (pooled)": scores["pooled"]["macro_f1"],
             "alerts": scores["n_alerts"]}
            for mode, scores in metrics["modes"].items()]
    rows += [{"mode": mode, "inputs": MODE_NAMES.get(mode, mode), "macro-F1 (folds)": "-",
              "accuracy (folds)": "-", "macro-F1 (pooled)": None, "alerts": 0,
              "skipped": why} for mode, why in metrics.get("skipped_modes", {}).items()]
    return pd.DataFrame(rows)
